#!/bin/sh
# modelc adopt --check on the AWQ checkpoint that tests/device/quant_gpu.sh wrote with PyTorch
# on the GPU machine (brought back as tests/fixtures/quant/device/awq-tiny, or QUANT_DEVICE_DIR).
# The size must match the prediction exactly: every tensor is one the formula counts.
set -u
: "${BIN:?BIN must point at build/bin}"
dir=${QUANT_DEVICE_DIR:-tests/fixtures/quant/device/awq-tiny}
if [ ! -f "$dir/config.json" ]; then
	echo "no device checkpoint at $dir (run tests/device/quant_gpu.sh on the GPU machine)" >&2
	exit 77
fi
dir=$(cd "$dir" && pwd -P)
out=$("$BIN/modelc" adopt --check "$dir" 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: exit $rc"; exit 1; }
first=$(echo "$out" | head -n 1)
[ "$first" = "$dir: AWQ GEMM, 4-bit, group size 128, 14 quantized linear layers" ] || { echo "FAIL: $first"; exit 1; }
echo "$out" | tail -n 1 | grep -q ', +0\.0%$' || { echo "FAIL: size differs from the prediction"; exit 1; }
# Breaking one shard is caught.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$dir" "$work/c"
shard="$work/c/model-00002-of-00002.safetensors"
size=$(wc -c <"$shard")
head -c $((size - 64)) "$shard" >"$work/t" && mv "$work/t" "$shard"
err=$("$BIN/modelc" adopt --check "$work/c" 2>&1)
rc=$?
want="modelc: $(cd "$work/c" && pwd -P)/model-00002-of-00002.safetensors: error: truncated: file has $((size - 64)) bytes, its header describes $size"
[ $rc -eq 1 ] && [ "$(echo "$err" | head -n 1)" = "$want" ] || { echo "FAIL truncated: $err"; exit 1; }
exit 0
