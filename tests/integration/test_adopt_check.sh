#!/bin/sh
# modelc adopt --check on the generated quant fixtures: the good layouts are accepted with their
# size against the prediction, and each broken one is rejected with its full error text.
set -u
: "${BIN:?BIN must point at build/bin}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 tests/fixtures/quant/make_fixtures.py "$work/q" || exit 1
q=$(cd "$work/q" && pwd -P)
fail=0

# expect NAME EXIT OPTIONS... : run --check on $q/NAME, compare stdout+stderr with the heredoc.
expect() {
	name=$1 code=$2
	shift 2
	cat >"$work/want"
	"$BIN/modelc" adopt --check "$@" "$q/$name" >"$work/got" 2>&1
	rc=$?
	if [ "$rc" -ne "$code" ]; then
		echo "FAIL $name: exit $rc, expected $code"; cat "$work/got"; fail=1; return
	fi
	if ! diff -u "$work/want" "$work/got"; then
		echo "FAIL $name: output differs"; fail=1; return
	fi
	echo "ok $name"
}

expect awq 0 <<EOF
$q/awq: AWQ GEMM, 4-bit, group size 128, 14 quantized linear layers
weights: 1139712 bytes (0.00 GiB), predicted 1139712 (0.00 GiB), +0.0%
EOF

expect awq-sharded 0 <<EOF
$q/awq-sharded: AWQ GEMM, 4-bit, group size 128, 14 quantized linear layers
weights: 1139712 bytes (0.00 GiB), predicted 1139712 (0.00 GiB), +0.0%
EOF

expect gptq 0 --method gptq <<EOF
$q/gptq: GPTQ, 4-bit, group size 128, 14 quantized linear layers
weights: 1156096 bytes (0.00 GiB), predicted 1156096 (0.00 GiB), +0.0%
EOF

expect ct 0 <<EOF
$q/ct: compressed-tensors pack-quantized, 4-bit, group size 128, 14 quantized linear layers
weights: 1139936 bytes (0.00 GiB), predicted 1139712 (0.00 GiB), +0.0%
EOF

expect awq-bad-shape 1 <<EOF
modelc: $q/awq-bad-shape/model.safetensors: error: tensor 'model.layers.1.self_attn.k_proj.qweight' has shape [32, 128], expected [256, 16] (AWQ GEMM for in_features 256, out_features 128, 4 bits, group size 128)
modelc: 1 error; '$q/awq-bad-shape' is not adoptable
EOF

expect awq-missing-scales 1 <<EOF
modelc: $q/awq-missing-scales/model.safetensors: error: tensor 'model.layers.0.mlp.down_proj.scales' is missing (AWQ GEMM needs qweight, qzeros and scales for every quantized linear layer)
modelc: 1 error; '$q/awq-missing-scales' is not adoptable
EOF

expect awq-group-mismatch 1 <<EOF
modelc: $q/awq-group-mismatch/model.safetensors: error: tensor 'model.layers.0.mlp.up_proj.qzeros' has shape [4, 64], expected [2, 64] (AWQ GEMM for in_features 256, out_features 512, 4 bits, group size 128)
modelc: $q/awq-group-mismatch/model.safetensors: error: tensor 'model.layers.0.mlp.up_proj.scales' has shape [4, 512], expected [2, 512] (AWQ GEMM for in_features 256, out_features 512, 4 bits, group size 128)
modelc: 2 errors; '$q/awq-group-mismatch' is not adoptable
EOF

expect awq-group64 1 <<EOF
modelc: $q/awq-group64/config.json: error: quantization_config: group_size is 64, the plan is 128
modelc: 1 error; '$q/awq-group64' is not adoptable
EOF

# The same directory is fine when the plan was groups of 64.
expect awq-group64 0 --group-size 64 <<EOF
$q/awq-group64: AWQ GEMM, 4-bit, group size 64, 14 quantized linear layers
weights: 1162752 bytes (0.00 GiB), predicted 1162752 (0.00 GiB), +0.0%
EOF

expect gptq 1 <<EOF
modelc: $q/gptq/config.json: error: quantization_config.quant_method is 'gptq', the plan is awq
modelc: 1 error; '$q/gptq' is not adoptable
EOF

expect gptq 1 --method gptq --bits 8 <<EOF
modelc: $q/gptq/config.json: error: quantization_config: bits is 4, the plan is 8
modelc: 1 error; '$q/gptq' is not adoptable
EOF

expect gptq-bad-dtype 1 --method gptq <<EOF
modelc: $q/gptq-bad-dtype/model.safetensors: error: tensor 'model.layers.1.self_attn.o_proj.scales' has dtype F32, expected F16 (GPTQ)
modelc: 1 error; '$q/gptq-bad-dtype' is not adoptable
EOF

expect awq-truncated 1 <<EOF
modelc: $q/awq-truncated/model-00002-of-00002.safetensors: error: truncated: file has 571656 bytes, its header describes 572656
modelc: 1 error; '$q/awq-truncated' is not adoptable
EOF

expect awq-missing-shard 1 <<EOF
modelc: $q/awq-missing-shard/model.safetensors.index.json: error: shard 'model-00002-of-00002.safetensors' does not exist (25 tensors are mapped to it)
modelc: 1 error; '$q/awq-missing-shard' is not adoptable
EOF

expect no-quant 1 <<EOF
modelc: $q/no-quant/config.json: error: has no quantization_config; '$q/no-quant' is not a quantized checkpoint
modelc: 1 error; '$q/no-quant' is not adoptable
EOF

expect awq-unquantized 1 <<EOF
modelc: $q/awq-unquantized/model.safetensors: error: tensor 'model.layers.1.mlp.gate_proj.weight' is F16: linear layer 'model.layers.1.mlp.gate_proj' is not quantized and not in the config's ignore list
modelc: 1 error; '$q/awq-unquantized' is not adoptable
EOF

expect awq-oversized 1 <<EOF
modelc: $q/awq-oversized: error: tensors hold 1270784 bytes, 11.5% above the 1139712 predicted for 4-bit groups of 128; 5% is allowed
modelc: 1 error; '$q/awq-oversized' is not adoptable
EOF

# A wider tolerance accepts it.
expect awq-oversized 0 --tolerance 12 <<EOF
$q/awq-oversized: AWQ GEMM, 4-bit, group size 128, 14 quantized linear layers
weights: 1270784 bytes (0.00 GiB), predicted 1139712 (0.00 GiB), +11.5%
EOF

# Usage errors exit 2 with the usage text.
"$BIN/modelc" adopt --check >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 2 ] && head -n 1 "$work/err" | grep -qx "modelc: adopt: --check takes one argument, DIR" \
	|| { echo "FAIL usage: exit $rc"; cat "$work/err"; fail=1; }
"$BIN/modelc" adopt --check --method awk "$q/awq" >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 2 ] && head -n 1 "$work/err" | grep -qx "modelc: adopt: --method: 'awk' is not awq or gptq" \
	|| { echo "FAIL --method: exit $rc"; cat "$work/err"; fail=1; }
"$BIN/modelc" adopt --check "$q/nonexistent" >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 1 ] && grep -qx "modelc: $q/nonexistent: No such file or directory" "$work/err" \
	|| { echo "FAIL nonexistent: exit $rc"; cat "$work/err"; fail=1; }
exit $fail
