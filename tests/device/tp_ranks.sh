#!/bin/sh
# Per-rank weights under TP 2 against modelc's planner: sh tests/device/tp_ranks.sh on a machine
# with 2 CUDA GPUs, torch and transformers (OUT names the results folder; a temporary one
# otherwise). Skips (77) with fewer than 2 GPUs. Expectations: modelc built here when the
# toolchain allows (compared with the committed tests/device/tp_ranks_expected.json), else the
# committed file.
set -eu
cd "$(dirname "$0")/../.."
: "${OUT:=$(mktemp -d)}"
mkdir -p "$OUT"
gpus=$(python3 -c 'import torch; print(torch.cuda.device_count())' 2>/dev/null || echo 0)
if [ "$gpus" -lt 2 ]; then
	echo "tp_ranks: skipped: needs 2 CUDA GPUs, found $gpus" >&2
	exit 77
fi
expected=tests/device/tp_ranks_expected.json
if make build/bin/modelc >"$OUT/modelc-build.log" 2>&1; then
	python3 tests/device/tp_ranks.py --modelc build/bin/modelc --expected "$OUT/tp_ranks_expected.live.json"
	cmp -s "$expected" "$OUT/tp_ranks_expected.live.json" || {
		echo "tp_ranks: modelc built here DIFFERS from $expected; using the live one"
		expected="$OUT/tp_ranks_expected.live.json"
	}
fi
torchrun --standalone --nproc-per-node 2 tests/device/tp_ranks.py --expected "$expected" --out "$OUT"
