#!/bin/sh
# GPU check of the VRAM estimator: bash tests/device/estimator_gpu.sh (OUT names the results
# folder; a temporary one otherwise). Needs python3 with torch and transformers and a CUDA GPU.
# Predictions: modelc built here when the toolchain allows (then compared with the committed
# tests/device/estimator_expected.json), else the committed file as is; the output says which.
set -eu
cd "$(dirname "$0")/../.."
: "${OUT:=$(mktemp -d)}"
mkdir -p "$OUT"
expected=tests/device/estimator_expected.json
if make build/bin/modelc >"$OUT/modelc-build.log" 2>&1; then
	python3 tests/device/estimator_gpu.py --write-expected --modelc build/bin/modelc \
	    --expected "$OUT/estimator_expected.live.json"
	if cmp -s "$expected" "$OUT/estimator_expected.live.json"; then
		echo "predictions: modelc built on this machine; identical to $expected"
	else
		echo "predictions: modelc built on this machine DIFFERS from $expected; using the live ones"
		diff -u "$expected" "$OUT/estimator_expected.live.json" || true
		expected="$OUT/estimator_expected.live.json"
	fi
else
	echo "predictions: modelc could not be built here (see $OUT/modelc-build.log); using the committed $expected"
fi
python3 tests/device/estimator_gpu.py --expected "$expected" --out "$OUT"
