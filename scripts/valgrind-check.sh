#!/bin/sh
# Run modelc and the runtime programs under valgrind's memcheck on real work: modelc check and
# build on the seed catalog, modelc lock and fetch against the fake Hub (with a token, then a
# rerun that verifies the cache), switch list/set/serve --dry-run against the test table, and
# bench against the stand-in vLLM. Any invalid access, use of uninitialised memory, or a
# definite or indirect leak fails (valgrind exits 99). Uses the plain build (build/bin), not
# SAN=1. Exit 0 when every run is clean; 1 when one is not; 3 when valgrind is missing.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${BIN:-$ROOT/build/bin}
BUILD=${BUILD:-$ROOT/build}
command -v valgrind >/dev/null 2>&1 || { echo "valgrind-check: valgrind is not installed (scripts/deps.sh)" >&2; exit 3; }
for p in modelc fetch bench; do
	[ -x "$BIN/$p" ] || { echo "valgrind-check: no $BIN/$p; run make first" >&2; exit 3; }
done
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --num-callers=30"
W=$(mktemp -d "${TMPDIR:-/tmp}/valgrind-check.XXXXXX")
PIDS=
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$W"' EXIT INT TERM
export NO_COLOR=1 NO_PROGRESS=1 MODELC_SCHEMA_DIR="$ROOT/schemas" MODELC_HUB_BACKOFF_MS=50
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_HUB_OFFLINE MODELC_ACTIVE_ROLE MODELC_ACTIVE_FILE
export HF_HOME="$W/hfhome"
failed=0 runs=0

# vg NAME WANT_EXIT CMD...: run CMD under memcheck in the current folder; report and count.
vg() {
	name=$1 want=$2
	shift 2
	runs=$((runs + 1))
	# shellcheck disable=SC2086
	$VG --log-file="$W/$name.vg" "$@" >"$W/$name.out" 2>&1
	rc=$?
	if [ $rc -eq "$want" ] && [ ! -s "$W/$name.vg" ]; then
		echo "valgrind: $name: clean"
		return 0
	fi
	failed=$((failed + 1))
	echo "valgrind: $name: FAILED (exit $rc, expected $want)"
	sed 's/^/    /' "$W/$name.vg" | head -n 60
	tail -n 10 "$W/$name.out" | sed 's/^/    out: /'
}

# modelc on the seed catalog.
mkdir -p "$W/seed" && cp models.yaml models.lock "$W/seed/"
cd "$W/seed" || exit 3
vg modelc-check 0 "$BIN/modelc" check
vg modelc-build 0 "$BIN/modelc" build -o generated
vg modelc-explain 0 "$BIN/modelc" explain primary
cd "$ROOT" || exit 3

# modelc lock and fetch against the fake Hub, with a token.
/usr/bin/python3 tests/fixtures/fakehub/fakehub.py --state "$W/fh" --lifetime 300 --gen org/tiny:300000 &
PIDS="$PIDS $!"
n=0
while [ ! -f "$W/fh/ports.json" ]; do n=$((n + 1)); [ $n -gt 100 ] && { echo "fake hub did not start"; exit 3; }; sleep 0.1; done
export HF_ENDPOINT=$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["hub"])' "$W/fh/ports.json")
mkdir -p "$W/hub"
cat >"$W/hub/models.yaml" <<'YAML'
storage:
  hf_home: /srv/hf
gpu:
  memory: 8 GiB
roles:
  chat:
    repo: org/tiny
    quantization: none
    max_model_len: 512
YAML
cd "$W/hub" || exit 3
HF_TOKEN=hf_valgrind vg modelc-lock 0 "$BIN/modelc" lock
"$BIN/modelc" build -o generated >/dev/null 2>&1 || { echo "valgrind-check: cannot build the fake-Hub catalog"; exit 3; }
HF_TOKEN=hf_valgrind vg fetch 0 "$BIN/fetch" chat --manifests generated/manifests --cache "$W/cache"
HF_TOKEN=hf_valgrind vg fetch-verify 0 "$BIN/fetch" --verify --json --manifests generated/manifests --cache "$W/cache"
cd "$ROOT" || exit 3

# switch (static, musl) with the test catalog's table, as tests/integration/switch_lib.sh builds it,
# and switch-host beside it (serve, doctor, gpu: switch execs it, which valgrind does not follow,
# so it runs under valgrind directly too).
SW=$BUILD/test-switch/switch
make -s --no-print-directory "$SW" SWITCH_OUT="$SW" >/dev/null ||
	{ echo "valgrind-check: cannot build the test switch"; exit 3; }
mkdir -p "$W/sw/bin" "$W/sw/work" "$W/sw/catalog"
cp tests/fixtures/switch/models.yaml tests/fixtures/switch/models.lock "$W/sw/catalog/"
(cd "$W/sw/catalog" && "$BIN/modelc" build -o gen) >/dev/null 2>&1 ||
	{ echo "valgrind-check: cannot build the test table"; exit 3; }
cd "$W/sw/work" || exit 3
(
	export PATH="$W/sw/bin:/usr/bin:/bin" MODELC_HF_HOME="$W/sw/hf" LC_ALL=C MODELC_TABLE="$W/sw/catalog/gen/switch.table"
	export FAKE_NVSMI_DIR="$ROOT/tests/fixtures/nvidia-smi"
	vg switch-list 0 "$SW" list
	vg switch-set 0 "$SW" set primary
	vg switch-current 0 "$SW" current
	vg switch-serve-dry-run 0 "$SW" serve primary --dry-run
	vg switch-host-serve-dry-run 0 "$SW-host" serve primary --dry-run
	exit "$failed"
)
sfailed=$?
failed=$((failed + sfailed))
runs=$((runs + 5))
cd "$ROOT" || exit 3

# bench against the stand-in vLLM.
FAKE_VLLM_MAX_LIFETIME_S=120 FAKE_VLLM_PORT_FILE="$W/vllm.port" FAKE_VLLM_TTFT_BASE_MS=5 FAKE_VLLM_ITL_MS=1 \
	tests/fixtures/vllm serve org/model --host 127.0.0.1 --port 0 --served-model-name primary \
	--max-model-len 2048 >/dev/null 2>&1 &
PIDS="$PIDS $!"
n=0
while [ ! -f "$W/vllm.port" ]; do n=$((n + 1)); [ $n -gt 200 ] && { echo "the stand-in did not start"; exit 3; }; sleep 0.1; done
mkdir -p "$W/bench"
cd "$W/bench" || exit 3
PATH=/usr/bin:/bin vg bench 0 "$BIN/bench" primary --url "http://127.0.0.1:$(cat "$W/vllm.port")" \
	--lengths 32,256 --reps 2 --warmup 1 --max-tokens 8 --concurrency 2 --out "$W/bench/out"
cd "$ROOT" || exit 3

echo "valgrind: $runs runs, $failed failed"
[ "$failed" -eq 0 ] || exit 1
