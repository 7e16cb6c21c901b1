#!/bin/sh
# Capture real nvidia-smi output for switch's parser fixtures (tests/fixtures/nvidia-smi/).
# Run on a GPU machine (for several GPUs: nvidia-h100-x2): OUT=/some/dir bash tests/device/capture_nvidia_smi.sh
# Writes the idle queries, then (when PyTorch is there) the same while one process holds a
# 6 GiB tensor on the last GPU, plus torch's view of each GPU's memory; asserts the shapes
# switch's parser relies on, and prints every file.
set -eu
: "${OUT:?set OUT to an output folder}"
mkdir -p "$OUT"
command -v nvidia-smi >/dev/null || { echo "FAIL: nvidia-smi not found"; exit 1; }
GPU="--query-gpu=index,name,memory.total,memory.used,memory.free,memory.reserved --format=csv,noheader,nounits"
GPU5="--query-gpu=index,name,memory.total,memory.used,memory.free --format=csv,noheader,nounits"
APPS="--query-compute-apps=pid,process_name,used_memory --format=csv,noheader,nounits"

capture() { # capture SUFFIX
	# shellcheck disable=SC2086
	nvidia-smi $GPU >"$OUT/query-gpu$1.csv"
	# shellcheck disable=SC2086
	nvidia-smi $GPU5 >"$OUT/query-gpu-noreserved$1.csv"
	# shellcheck disable=SC2086
	nvidia-smi $APPS >"$OUT/compute-apps$1.csv"
	nvidia-smi --query-gpu=index,name,memory.total,memory.used,memory.free --format=csv >"$OUT/query-gpu-units$1.csv"
	nvidia-smi >"$OUT/nvidia-smi$1.txt"
}

capture ""
nvidia-smi -L >"$OUT/gpus.txt"
nvidia-smi --version >"$OUT/version.txt" 2>&1 || true
ngpu=$(grep -c '^GPU ' "$OUT/gpus.txt")

fail=0
check() { # check FILE FIELDS LINES
	lines=$(grep -c . "$1" || true)
	[ "$lines" -eq "$3" ] || { echo "FAIL: $1 has $lines lines, expected $3"; fail=1; }
	bad=$(awk -F', ' -v n="$2" 'NF != n' "$1" | head -n 1)
	[ -z "$bad" ] || { echo "FAIL: $1 has a line without $2 fields: $bad"; fail=1; }
}
check "$OUT/query-gpu.csv" 6 "$ngpu"
check "$OUT/query-gpu-noreserved.csv" 5 "$ngpu"

if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
	last=$((ngpu - 1))
	python3 - "$OUT" "$last" <<'X' &
import sys, time, torch
out, last = sys.argv[1], int(sys.argv[2])
with open(out + "/torch-mem.txt", "w") as f:
    for i in range(torch.cuda.device_count()):
        free, total = torch.cuda.mem_get_info(i)
        f.write("gpu %d: free %d total %d\n" % (i, free, total))
x = torch.empty(6 << 30, dtype=torch.uint8, device="cuda:%d" % last)
open(out + "/.held", "w").close()
time.sleep(20)
X
	holder=$!
	n=0
	while [ ! -e "$OUT/.held" ] && [ $n -lt 120 ]; do sleep 0.5; n=$((n + 1)); done
	[ -e "$OUT/.held" ] || { echo "FAIL: the PyTorch holder did not start"; fail=1; }
	capture "-busy"
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	rm -f "$OUT/.held"
	check "$OUT/query-gpu-busy.csv" 6 "$ngpu"
	apps=$(grep -c . "$OUT/compute-apps-busy.csv" || true)
	[ "$apps" -ge 1 ] || { echo "FAIL: compute-apps lists no process while one holds 6 GiB"; fail=1; }
	awk -F', ' 'NF < 3 { exit 1 }' "$OUT/compute-apps-busy.csv" || { echo "FAIL: a process line has under 3 fields"; fail=1; }
else
	echo "note: no PyTorch with CUDA; busy captures skipped"
fi

for f in "$OUT"/*; do
	echo "== ${f##*/}"
	cat "$f"
done
[ $fail -eq 0 ] && echo "PASS: $ngpu GPU(s) captured in $OUT"
exit $fail
