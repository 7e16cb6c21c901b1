#!/bin/sh
# On the GPU machine: write a real AWQ GEMM checkpoint of a small random Llama-style model with
# PyTorch into $OUT/awq-tiny, checking the packing and the dequantized logits on the GPU, and
# $OUT/quant_gpu.json with the numbers. Run: OUT=/some/dir bash tests/device/quant_gpu.sh
#
# The GPU machine cannot build modelc (no libyaml-dev), so adoption is checked here afterwards:
# copy $OUT/awq-tiny to tests/fixtures/quant/device/awq-tiny (or set QUANT_DEVICE_DIR) and run
# tests/integration/test_adopt_device.sh, which runs `modelc adopt --check` on it.
set -eu
: "${OUT:?OUT must name an output folder}"
mkdir -p "$OUT"
cd "$(dirname "$0")/../.."
python3 tests/device/quant_gpu.py "$OUT"
ls -l "$OUT/awq-tiny"
echo "quant_gpu: ok"
