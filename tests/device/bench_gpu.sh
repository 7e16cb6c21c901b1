#!/bin/bash
# bench on a GPU: start tests/device/serve_stub.py (transformers generate around a small
# random-weight Llama-style model, built here with no network), run bench against it once,
# check the results and write them to $OUT:
#   stub.csv, stub.svg   what bench wrote (measurements/<role>.* format, docs/bench.md)
#   bench.txt            bench's table and which client measured
#   env.txt              GPU, driver, torch and transformers versions
#   serve_stub.log       the server's log
# bench is compiled here when gcc, libcurl and jansson headers exist; otherwise the Python
# client tests/device/bench_fallback.py does the same measurement, and bench.txt says so.
# Run from the repository root: OUT=/some/dir bash tests/device/bench_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${OUT:?set OUT to an output folder}"
mkdir -p "$OUT"
PY=${PYTHON:-python3}
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

fail() { echo "bench_gpu: FAIL: $*" >&2; exit 1; }

{
	nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
	"$PY" -c 'import torch, transformers, tokenizers; print("torch", torch.__version__, "cuda", torch.version.cuda); print("transformers", transformers.__version__, "tokenizers", tokenizers.__version__)'
} | tee "$OUT/env.txt"
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)

# 1. The server: builds the model and tokenizer, warms up, then writes its port.
"$PY" tests/device/serve_stub.py --model-dir "$work/model" --served-model-name stub \
	--max-model-len 8192 --port-file "$work/port" --lifetime 540 >"$OUT/serve_stub.log" 2>&1 &
server=$!

# 2. The client, while the model builds.
client=""
cflags=""
if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libcurl jansson 2>/dev/null; then
	cflags="$(pkg-config --cflags libcurl jansson) "
	libs="$(pkg-config --libs libcurl jansson)"
else
	libs="-lcurl -ljansson"
fi
if [ -n "${BENCH_BIN:-}" ] && "$BENCH_BIN" --version >/dev/null 2>&1; then
	# A binary built on the development machine, carried with its libraries (LD_LIBRARY_PATH).
	client="bench (C, libcurl), built on the development machine: $BENCH_BIN"
	run_bench() { "$BENCH_BIN" "$@"; }
elif command -v gcc >/dev/null 2>&1 &&
	gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra $cflags-Icommon -Iruntime/bench -o "$work/bench" \
		runtime/bench/*.c common/activefile.c $libs -lm >"$work/cc.log" 2>&1; then
	client="bench (C, libcurl), compiled here"
	run_bench() { "$work/bench" "$@"; }
else
	client="tests/device/bench_fallback.py (Python standard library): bench could not be compiled here"
	echo "bench_gpu: NOTE: $client:" >&2
	sed 's/^/    /' "$work/cc.log" 2>/dev/null | tail -n 5 >&2 || echo "    gcc not found" >&2
	run_bench() { "$PY" tests/device/bench_fallback.py "$@"; }
fi
echo "client: $client" | tee "$OUT/bench.txt"

for _ in $(seq 1 300); do
	[ -s "$work/port" ] && break
	kill -0 "$server" 2>/dev/null || { cat "$OUT/serve_stub.log" >&2; fail "serve_stub.py exited during start-up"; }
	sleep 1
done
[ -s "$work/port" ] || fail "serve_stub.py not ready after 300 s"
url="http://127.0.0.1:$(cat "$work/port")"
tail -n 3 "$OUT/serve_stub.log"

# 3. One run: the default ladder to 8k, 5 repetitions after 2 warm-up requests, concurrency 1 and 2.
flags="serve_stub.py: transformers generate, bf16, sdpa, batch of one (concurrency 2 queues)"
run_bench stub --url "$url" --lengths 256,512,1k,2k,4k,8k --reps 5 --warmup 2 --concurrency 2 \
	--max-tokens 64 --timeout 120 --out "$work/m" --gpu "$gpu" --server-flags "$flags" \
	--title "random-weight Llama-architecture model, transformers stand-in server" \
	2>&1 | tee -a "$OUT/bench.txt"
cp "$work/m/stub.csv" "$work/m/stub.svg" "$OUT/"

# 4. Checks: every row complete and exact, the chart is XML, and the first token takes longer
# at 8k tokens than at 256 (prefill grows with the prompt).
"$PY" - "$OUT/stub.csv" "$OUT/stub.svg" <<'EOF'
import csv, sys, xml.etree.ElementTree as ET
rows = list(csv.DictReader(open(sys.argv[1])))
ET.parse(sys.argv[2])
def fail(msg):
    sys.exit("bench_gpu: FAIL: " + msg)
lens = sorted({int(r["target_tokens"]) for r in rows})
if len(rows) != len(lens) * 5 * (1 + 2):
    fail("%d rows, expected %d" % (len(rows), len(lens) * 15))
for r in rows:
    if r["exact"] != "1" or r["prompt_tokens"] != r["target_tokens"] or r["output_tokens"] != "64":
        fail("row not exact or short: %s" % r)
def med(v):
    v = sorted(v); n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
ttft = {l: med([float(r["ttft_ms"]) for r in rows if r["concurrency"] == "1" and int(r["target_tokens"]) == l])
        for l in lens}
itl = med([float(r["itl_ms"]) for r in rows if r["concurrency"] == "1"])
if not ttft[lens[-1]] > ttft[lens[0]]:
    fail("time to first token does not grow with the prompt: %s" % ttft)
print("bench_gpu: PASS: %d rows; median TTFT %s ms; median ITL %.2f ms" % (
    len(rows), ", ".join("%d: %.1f" % (l, ttft[l]) for l in lens), itl))
EOF
