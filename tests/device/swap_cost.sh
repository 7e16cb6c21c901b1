#!/bin/bash
# The primitives of a model swap on a GPU (tests/device/swap_cost.py, torch only, no vLLM):
# a fresh process's CUDA context and allocator set-up, weights to the GPU from disk (cold and
# from the page cache) and from pinned host memory, for 1, 3 and 8 GB. Writes to $OUT:
#   swap_cost.json   every number
#   swap_cost.txt    the table printed, with the GPU, driver and disk
# Run from the repository root: OUT=/some/dir bash tests/device/swap_cost.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${OUT:?set OUT to an output folder}"
mkdir -p "$OUT"
PY=${PYTHON:-python3}
export SWAP_COST_DIR=${SWAP_COST_DIR:-$(mktemp -d /tmp/swap_cost.XXXXXX)}
trap 'rm -rf "$SWAP_COST_DIR"' EXIT
{
	nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
	df -h "$SWAP_COST_DIR" | tail -n 1
	grep -E 'MemTotal|MemAvailable' /proc/meminfo
	"$PY" tests/device/swap_cost.py "$OUT/swap_cost.json"
} 2>&1 | tee "$OUT/swap_cost.txt"
"$PY" - "$OUT/swap_cost.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["sizes"] and all(s["pinned_to_gpu_s"] > 0 and s["disk_to_gpu_cold_s"] > 0 for s in r["sizes"]), r
print("swap_cost: PASS")
PY
