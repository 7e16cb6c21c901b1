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

# One error each: expect1 NAME 'message' (the summary line is added).
expect1() {
	name=$1
	printf '%s\nmodelc: 1 error; '"'"'%s'"'"' is not adoptable\n' "$2" "$q/$name" | expect "$name" 1
}
expect1 x-no-config "modelc: $q/x-no-config/config.json: error: cannot read: No such file or directory"
expect1 x-bad-json "modelc: $q/x-bad-json/config.json:2:18: error: not valid JSON: unexpected token near '}'"
expect1 x-config-array "modelc: $q/x-config-array/config.json: error: not a JSON object"
expect1 x-no-hidden "modelc: $q/x-no-hidden/config.json: error: 'hidden_size' is missing or not a positive integer"
expect1 x-no-intermediate "modelc: $q/x-no-intermediate/config.json: error: 'intermediate_size' is missing or not a positive integer"
expect1 x-no-method "modelc: $q/x-no-method/config.json: error: quantization_config has no quant_method"
expect1 x-awq-gemv "modelc: $q/x-awq-gemv/config.json: error: quantization_config.version 'gemv' is not supported; vLLM loads AWQ 'gemm' checkpoints"
expect1 x-bnb "modelc: $q/x-bnb/config.json: error: quantization_config.quant_method 'bitsandbytes' is not supported (awq, gptq, compressed-tensors)"
expect1 x-gptq-3bit "modelc: $q/x-gptq-3bit/config.json: error: quantization_config: 3 bits is not supported (4 or 8)"
expect1 x-ct-float "modelc: $q/x-ct-float/config.json: error: quantization_config.format 'float-quantized' is not supported; expected 'pack-quantized'"
expect1 x-ct-no-groups "modelc: $q/x-ct-no-groups/config.json: error: quantization_config.config_groups has no group with quantized weights"
expect1 x-ct-two-groups "modelc: $q/x-ct-two-groups/config.json: error: quantization_config.config_groups has 2 weight groups; only one is supported"
expect1 x-ct-tensor "modelc: $q/x-ct-tensor/config.json: error: quantization_config weights strategy 'tensor' is not supported; expected 'group' or 'channel'"
expect1 x-gemma "modelc: $q/x-gemma/config.json: error: model_type 'gemma' has no known layout of linear layers (llama, mistral, qwen2, qwen3, phi3, starcoder2)"
expect1 x-no-weights "modelc: $q/x-no-weights: error: has neither model.safetensors nor model.safetensors.index.json"
expect1 x-index-no-map "modelc: $q/x-index-no-map/model.safetensors.index.json: error: has no weight_map object"
expect1 x-index-number "modelc: $q/x-index-number/model.safetensors.index.json: error: weight_map entry for 'lm_head.weight' is not a string"
expect1 x-index-path "modelc: $q/x-index-path/model.safetensors.index.json: error: shard '../elsewhere.safetensors' is not a file name in the directory"
expect1 x-index-extra "modelc: $q/x-index-extra/model-00001-of-00002.safetensors: error: tensor 'model.layers.0.extra' is listed here by the index but the shard does not hold it"
expect1 x-index-wrong-shard "modelc: $q/x-index-wrong-shard/model-00002-of-00002.safetensors: error: tensor 'lm_head.weight' is here, the index says it is in model-00001-of-00002.safetensors"
expect1 x-duplicate "modelc: $q/x-duplicate/model-00001-of-00002.safetensors: error: tensor 'model.embed_tokens.weight' is also in $q/x-duplicate/model-00002-of-00002.safetensors"
expect1 x-header-short "modelc: $q/x-header-short/model.safetensors: error: file is shorter than the 8-byte header length (2 bytes)"
expect1 x-header-cut "modelc: $q/x-header-cut/model.safetensors: error: truncated: file has 13 bytes, its header alone needs 4104"
expect1 x-header-json "modelc: $q/x-header-json/model.safetensors: error: tensor 'a': entry is not an object"
expect1 x-missing-layer "modelc: $q/x-missing-layer/model.safetensors: error: tensor 'model.layers.0.self_attn.q_proj.qweight' is missing (AWQ GEMM needs qweight, qzeros and scales for every quantized linear layer)"

# Past 20 tensor problems the rest are counted.
"$BIN/modelc" adopt --check "$q/x-wide-dtypes" >"$work/got" 2>&1; rc=$?
{
	n=0
	for l in 0 1; do for m in self_attn.q_proj self_attn.k_proj self_attn.v_proj self_attn.o_proj mlp.gate_proj mlp.up_proj mlp.down_proj; do
		[ $n -lt 20 ] || continue
		echo "modelc: $q/x-wide-dtypes/model.safetensors: error: tensor 'model.layers.$l.$m.qzeros' has dtype I64, expected I32 (AWQ GEMM)"
		echo "modelc: $q/x-wide-dtypes/model.safetensors: error: tensor 'model.layers.$l.$m.scales' has dtype F32, expected F16 (AWQ GEMM)"
		n=$((n + 2))
	done; done
	echo "modelc: $q/x-wide-dtypes: note: 8 more tensor problems not shown"
	echo "modelc: 28 errors; '$q/x-wide-dtypes' is not adoptable"
} >"$work/want"
[ $rc -eq 1 ] && diff -u "$work/want" "$work/got" && echo "ok x-wide-dtypes" || { echo "FAIL x-wide-dtypes (exit $rc)"; fail=1; }

# A 16-bit linear layer the config lists in modules_to_not_convert is accepted; it weighs more
# than the all-4-bit prediction, so it needs a wider tolerance.
expect awq-not-converted 0 --tolerance 20 <<EOF
$q/awq-not-converted: AWQ GEMM, 4-bit, group size 128, 13 quantized linear layers
weights: 1333760 bytes (0.00 GiB), predicted 1139712 (0.00 GiB), +17.0%
EOF

# A file where the directory should be.
"$BIN/modelc" adopt --check "$q/awq/config.json" >"$work/got" 2>&1; rc=$?
printf '%s\n' "modelc: $q/awq/config.json: error: cannot open directory: Not a directory" \
	"modelc: 1 error; '$q/awq/config.json' is not adoptable" >"$work/want"
[ $rc -eq 1 ] && diff -u "$work/want" "$work/got" && echo "ok file" || { echo "FAIL file (exit $rc)"; fail=1; }

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
