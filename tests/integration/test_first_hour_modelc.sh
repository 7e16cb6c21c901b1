#!/bin/sh
# The first hour of a new user, modelc's side (issue 12): the commands as the README and the
# issue write them, against a copy of the shipped catalog, the fake Hub and the stand-in
# nvidia-smi. One section per numbered item of the issue, named after it.
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
ROOT=$(pwd)
M=$BIN/modelc
NVSMI=$ROOT/tests/fixtures/nvidia-smi
# A repo without config.json, for fit's message.
mkdir -p "$T/noconfig" && printf 'a model card\n' >"$T/noconfig/README.md"
fh_start --gen org/tiny:100000 --qwen --qwen-small-served --dir "org/noconfig=$T/noconfig"
W=$T/w
mkdir -p "$W"
cp models.yaml models.lock "$W"/
cd "$W"
unset CLICOLOR_FORCE

section() { echo "== $*"; }
# not_in FILE TEXT: the file does not contain TEXT.
not_in() { ! grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "did not expect '$2' in $1"; }; }

section "4. No development notes in what users see"
"$M" check >"$T/c4" 2>&1 || { cat "$T/c4"; fail "check of the shipped catalog"; }
expect_in "$T/c4" "roles.primary: unverified: "
expect_in "$T/c4" "the GPU's total (profile 'rtx3070-8gb' is an estimate; give gpu.memory); run 'modelc lock primary' on a machine that reaches the Hugging Face Hub; 'switch gpu' measures gpu.memory on the GPU host"
grep 'unverified' "$T/c4" | grep -v "on a machine that reaches the Hugging Face Hub\|'switch gpu' measures gpu.memory" && fail "an unverified warning does not say what verifies it"
"$M" explain primary >"$T/e4" 2>&1 || { cat "$T/e4"; fail "explain primary"; }
expect_in "$T/e4" "outside the budget; estimated: it varies with GPU, driver and CUDA"
expect_in "$T/e4" "(estimated from the card's nominal size; set gpu.memory for an exact budget)"
expect_in "$T/e4" "gpu.safety_margin + 4.7% of the KV cache (outside the calibrated evidence): KV cache that max_model_len leaves unused"
not_in "$T/e4" "H100 figure"
not_in "$T/e4" "ours, taken"

section "6. One GPU total, measured in one command"
# The README's fit example gives the build's context: CUDA's total of the profile, the catalog's max_num_seqs.
python3 -c 'import json; json.dump(json.load(open("models.lock"))["models"]["meta-llama/Llama-3.1-8B-Instruct@main"]["config"], open("llama.json", "w"))'
"$M" fit --config llama.json --quantization awq --gpu-memory 8086618112 --utilization 0.9 --max-model-len auto \
	--max-num-seqs 8 >"$T/f6" || fail "the README's fit example"
# 6608 under the newest vLLM generation's rules (graphs inside the budget, the margin widened
# where no calibrated case exists: docs/budget.md).
grep -q '"max_model_len_fit": 6608,' "$T/f6" || { cat "$T/f6"; fail "fit with the profile's total should give the build's 6608"; }
grep -q '"gpu_total_bytes": 8086618112' "$T/f6" || fail "fit's JSON does not name the total it used"
"$M" build -o gen >"$T/b6" 2>&1 || { cat "$T/b6"; fail "build"; }
grep -q "^PRIMARY_MAX_MODEL_LEN='6608'" gen/.env || fail "the build's primary is not 6608"
# switch gpu's snippet (docs/formats.md), written into the catalog; the profile stays.
cat >gpu.yaml <<'EOF'
# switch gpu: GPU 0, from nvidia-smi; for modelc gpu --from FILE
gpu:
  memory: 7792 MiB
  memory_in_use: 512 MiB
measured:
  index: 0
  name: 'NVIDIA GeForce RTX 3070'
  memory_source: 'nvidia-smi memory.total minus memory.reserved'
  memory_exact: true
  total: 8192 MiB
  reserved: 400 MiB
  used: 512 MiB
  free: 7280 MiB
EOF
cp models.yaml "$T/before6.yaml"
"$M" gpu --from gpu.yaml >"$T/g6" 2>&1 || { cat "$T/g6"; fail "modelc gpu --from"; }
expect_in "$T/g6" "modelc: gpu: models.yaml: gpu.memory 7792 MiB (7.61 GiB, CUDA's total: nvidia-smi memory.total minus memory.reserved), gpu.memory_in_use 512 MiB; GPU 0 'NVIDIA GeForce RTX 3070', from gpu.yaml"
expect_in "$T/g6" "modelc: gpu: it overrides the number of profile 'rtx3070-8gb' (7.53 GiB, an estimate)"
expect_line models.yaml "  memory: 7792 MiB"
# The comment keeps its column: aligned with the profile's, as before the edit.
col() { grep "^  $1:" "$2" | awk '{ print index($0, "#") }'; }
[ "$(col memory_in_use models.yaml)" = "$(col memory_in_use "$T/before6.yaml")" ] && [ "$(col memory_in_use models.yaml)" = "$(col profile models.yaml)" ] ||
	{ grep -n "^  [a-z_]*:" models.yaml >&2; fail "memory_in_use's comment moved"; }
expect_line models.yaml "  memory_in_use: 512 MiB                # what the desktop holds; measure with nvidia-smi"
diff "$T/before6.yaml" models.yaml | grep '^[<>]' | grep -v "memory" && fail "modelc gpu changed more than gpu.memory"
"$M" check >"$T/c6" 2>&1 || { cat "$T/c6"; fail "check after modelc gpu"; }
expect_in "$T/c6" "note: gpu.memory 7.61 GiB is the total the budget uses; profile 'rtx3070-8gb' says 7.53 GiB (an estimate)"
not_in "$T/c6" "is an estimate; give gpu.memory"
"$M" explain primary >"$T/e6" 2>&1
expect_in "$T/e6" "(gpu.memory, over the profile's number)"
"$M" build -o gen6 >/dev/null 2>&1 || fail "build after modelc gpu"
expect_in gen6/budget.txt "gpu: rtx3070-8gb, CUDA total 7.61 GiB (8170504192 bytes, gpu.memory, over the profile's number), in use by other processes 0.50 GiB"
# Directly, where nvidia-smi runs: total minus reserved; used plus free without reserved.
cp "$T/before6.yaml" models.yaml
PATH=$NVSMI:$PATH "$M" gpu >"$T/g6b" 2>&1 || { cat "$T/g6b"; fail "modelc gpu with nvidia-smi"; }
expect_in "$T/g6b" "gpu.memory 81079 MiB (79.18 GiB, CUDA's total: nvidia-smi memory.total minus memory.reserved), gpu.memory_in_use 0 MiB; GPU 0 'NVIDIA H100 80GB HBM3', from nvidia-smi on this machine"
PATH=$NVSMI:$PATH FAKE_NVSMI_SCENARIO=busy "$M" gpu >"$T/g6c" 2>&1 || { cat "$T/g6c"; fail "modelc gpu, busy"; }
expect_in "$T/g6c" "CUDA's total: nvidia-smi memory.used plus memory.free"
PATH=$NVSMI:$PATH FAKE_NVSMI_SCENARIO=two-gpus "$M" gpu >"$T/g6d" 2>&1; rc=$?
[ $rc -eq 2 ] || fail "two GPUs without --index: expected exit 2, got $rc"
expect_in "$T/g6d" "modelc: gpu: error: this machine has 2 GPUs; pick the server's with --index N"
PATH=$NVSMI:$PATH FAKE_NVSMI_SCENARIO=two-gpus "$M" gpu --index 1 >"$T/g6e" 2>&1 || { cat "$T/g6e"; fail "--index 1"; }
expect_in "$T/g6e" "; GPU 1 '"
PATH=$NVSMI:$PATH FAKE_NVSMI_SCENARIO=two-gpus "$M" gpu --index 7 >"$T/g6f" 2>&1
expect_in "$T/g6f" "modelc: gpu: error: nvidia-smi has no GPU 7"
cp models.yaml "$T/before6g.yaml"
PATH=$NVSMI:$PATH FAKE_NVSMI_SCENARIO=missing "$M" gpu >"$T/g6g" 2>&1; rc=$?
[ $rc -eq 3 ] || fail "no nvidia-smi: expected exit 3, got $rc"
expect_in "$T/g6g" "modelc: gpu: error: nvidia-smi did not answer here; on the GPU host run 'switch gpu > FILE', then 'modelc gpu --from FILE' here"
cmp -s models.yaml "$T/before6g.yaml" || fail "a failed modelc gpu changed models.yaml"
echo 'gpu: {}' >bad.yaml
"$M" gpu --from bad.yaml >"$T/g6h" 2>&1 && fail "a snippet without memory was accepted"
expect_in "$T/g6h" "bad.yaml: error: expected the output of 'switch gpu': a gpu: block with memory and memory_in_use in MiB (docs/formats.md)"
"$M" gpu --from nosuch.yaml >"$T/g6i" 2>&1
expect_in "$T/g6i" "modelc: gpu: nosuch.yaml: No such file or directory"
"$M" gpu --index x >"$T/g6j" 2>&1
expect_in "$T/g6j" "modelc: gpu: --index: 'x' is not a GPU index"
# A driver that reports neither memory.reserved nor memory.free: memory.total is an upper bound.
mkdir -p "$T/smi"
cat >"$T/smi/nvidia-smi" <<'SMI'
#!/bin/sh
case "$*" in
*memory.reserved*) echo 'Field "memory.reserved" is not a valid field to query.'; exit 2 ;;
esac
echo "0, Fake GPU, 8192, ${FAKE_USED:-100}, [N/A]"
SMI
chmod +x "$T/smi/nvidia-smi"
PATH=$T/smi:$PATH "$M" gpu >"$T/g6k" 2>&1 || { cat "$T/g6k"; fail "modelc gpu, total only"; }
expect_in "$T/g6k" "CUDA's total: nvidia-smi memory.total), gpu.memory_in_use 100 MiB; GPU 0 'Fake GPU'"
expect_in "$T/g6k" "modelc: gpu: warning: nvidia-smi memory.total is an upper bound: CUDA's total is smaller by the driver's reservation (a few hundred MiB); measure torch.cuda.mem_get_info()[1] for the exact number"
PATH=$T/smi:$PATH FAKE_USED='[N/A]' "$M" gpu >"$T/g6l" 2>&1 && fail "modelc gpu without memory.used"
expect_in "$T/g6l" "modelc: gpu: error: nvidia-smi does not report memory.used for GPU 0; give gpu.memory_in_use by hand"
printf 'storage:\n  hf_home: /srv/hf\ngpu: {memory: 8 GiB}\nroles:\n  a:\n    repo: x/y\n    quantization: none\n' >flowgpu.yaml
"$M" gpu --from gpu.yaml flowgpu.yaml >"$T/g6m" 2>&1 && fail "modelc gpu into a flow mapping"
expect_in "$T/g6m" "modelc: gpu: cannot edit flowgpu.yaml: gpu is written as a flow mapping ({...}); set gpu.memory: 7792 MiB and gpu.memory_in_use: 512 MiB by hand"
cp "$T/before6.yaml" models.yaml
# A snippet whose numbers the catalog refuses (more in use than the total): nothing written.
sed 's/memory: 7792 MiB/memory: 100 MiB/' gpu.yaml >gpu-small.yaml
"$M" gpu --from gpu-small.yaml >"$T/g6n" 2>&1 && fail "a total smaller than the memory in use was written"
expect_in "$T/g6n" "modelc: gpu: the edited models.yaml did not load back with the new gpu.memory; nothing written"
cmp -s models.yaml "$T/before6.yaml" || fail "a refused modelc gpu changed models.yaml"

section "7. Show the levers"
# Numbers under the newest vLLM generation (graphs inside the budget: no lowering for them).
sed 's/memory_in_use: 0 MiB/memory_in_use: 700 MiB/' models.yaml >desk.yaml
"$M" explain primary desk.yaml --want 8192 >"$T/e7" 2>&1 || { cat "$T/e7"; fail "explain --want"; }
expect_in "$T/e7" "levers: the largest context that fits with each change alone (now 2272 tokens; the model's limit is 131072)"
expect_in "$T/e7" "kv_cache_dtype: fp8"
expect_in "$T/e7" "gpu.memory_in_use: 0 (free 0.68 GiB)"
expect_in "$T/e7" "(the weights are already 4-bit: awq)"
expect_in "$T/e7" "to reach 8192 tokens: kv_cache_dtype: fp8 and gpu.memory_in_use: 0 (free 0.68 GiB) (fits 13232 tokens)"
"$M" explain primary desk.yaml --want 8192 --json >"$T/j7" || fail "explain --json"
python3 - "$T/j7" <<'PY' || fail "explain --json levers"
import json, sys
l = json.load(open(sys.argv[1]))["levers"]
assert l["want"] == 8192 and l["max_model_len_fit"] == 2272, l
assert l["reach"] == {"changes": ["kv_cache_dtype", "gpu.memory_in_use"], "max_model_len_fit": 13232}, l["reach"]
fp8 = [x for x in l["levers"] if x["key"] == "kv_cache_dtype"][0]
assert fp8["applies"] and fp8["max_model_len_fit"] == 4560, fp8
PY
# Every lever's number is what the build gives with that change made in the catalog.
sed 's/kv_cache_dtype: auto/kv_cache_dtype: fp8/' desk.yaml >desk-fp8.yaml
"$M" build desk-fp8.yaml -o gen7 >/dev/null 2>&1 || fail "build with fp8"
grep -q "^PRIMARY_MAX_MODEL_LEN='4560'" gen7/.env || { grep PRIMARY_MAX gen7/.env; fail "the fp8 lever disagrees with the build"; }
"$M" explain primary desk.yaml --want 999999 >"$T/e7b" 2>&1
expect_in "$T/e7b" "999999 tokens: no combination of these changes reaches it; the most is"
"$M" explain primary --want 4096 >"$T/e7c" 2>&1
expect_in "$T/e7c" "4096 tokens fit as configured; no change needed"

section "9. The commands people expect from neighbouring tools"
# Quick fit from the Hub.
"$M" fit Qwen/Qwen2.5-7B-Instruct --gpu rtx3070-8gb --quantization bitsandbytes >"$T/f9" 2>&1 || { cat "$T/f9"; fail "fit REPO"; }
expect_in "$T/f9" "Qwen/Qwen2.5-7B-Instruct@main fits rtx3070-8gb at max_model_len 12240 (auto: memory decides)"
expect_in "$T/f9" "server: server settings of models.yaml: utilization 0.90, max_num_seqs 8"
expect_in "$T/f9" "GPU: CUDA total 7.53 GiB from profile rtx3070-8gb"
expect_in "$T/f9" "context: the model's limit is 32768; memory allows 12240"
"$M" fit Qwen/Qwen2.5-7B-Instruct --gpu rtx3070-8gb >"$T/f9o" 2>&1 || fail "fit REPO, 16-bit"
expect_in "$T/f9o" "Qwen/Qwen2.5-7B-Instruct@main does not fit rtx3070-8gb at any context"
grep -q "^  a 4-bit AWQ checkpoint of this model would fit [0-9]* tokens (--quantization awq; 'modelc add' then 'modelc quantize ROLE' makes one)" "$T/f9o" || { cat "$T/f9o"; fail "fit does not say what 4 bits would fit"; }
"$M" fit Qwen/Qwen2.5-7B-Instruct@main --gpu 80GiB --max-model-len auto --json >"$T/f9j" || fail "fit REPO --json"
python3 - "$T/f9j" <<'PY' || fail "fit REPO --json contract"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["fits"] is True and d["max_model_len_fit"] >= 32768 and d["weights_bytes"] == 15231233024, d
assert d["gpu_total_bytes"] == 80 * 2**30 and d["sources"]["weights"] == "exact", d
PY
"$M" fit Qwen/Qwen2.5-7B-Instruct --gpu 80GiB >"$T/f9k" 2>&1
expect_in "$T/f9k" "(auto: the model's own limit decides; more would fit)"
(cd "$T" && "$M" fit Qwen/Qwen2.5-7B-Instruct --gpu 24GiB --max-model-len 8192) >"$T/f9b" 2>&1 || fail "fit REPO without a catalog"
expect_in "$T/f9b" "server: vLLM's defaults (no models.yaml here; --catalog FILE takes a catalog's): utilization 0.90, max_num_seqs 256"
"$M" fit Qwen/Qwen2.5-7B-Instruct --gpu rtx4090 >"$T/f9c" 2>&1; rc=$?
[ $rc -eq 2 ] || fail "an unknown profile: expected exit 2, got $rc"
expect_in "$T/f9c" "modelc: fit: error: --gpu: 'rtx4090' is neither a size (8GiB, 8192MiB) nor a known GPU profile (did you mean 'rtx4090-24gb'?); known profiles: "
"$M" fit org/nosuch --gpu 8GiB >"$T/f9d" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "fit of a missing repo: expected exit 1, got $rc"
expect_in "$T/f9d" "modelc: fit: error: org/nosuch@main: repository 'org/nosuch' was not found"
HF_HUB_OFFLINE=1 "$M" fit org/tiny --gpu 8GiB >"$T/f9e" 2>&1
expect_in "$T/f9e" "modelc: fit: HF_HUB_OFFLINE is set, and 'modelc fit org/tiny' must ask the Hub; unset it, or use --config PATH with a config.json on disk"
"$M" fit org/tiny >"$T/f9f" 2>&1
expect_in "$T/f9f" "modelc: fit: missing --gpu PROFILE|SIZE"
"$M" fit org/tiny@ --gpu 8GiB >"$T/f9h" 2>&1
expect_in "$T/f9h" "modelc: fit: 'org/tiny@' is not ORG/REPO or ORG/REPO@REVISION"
"$M" fit org/tiny --gpu zzzzzzzzzzzzzzzzzzzz >"$T/f9i" 2>&1
expect_in "$T/f9i" "modelc: fit: error: --gpu: 'zzzzzzzzzzzzzzzzzzzz' is neither a size (8GiB, 8192MiB) nor a known GPU profile; known profiles: "
(cd "$T" && MODELC_SCHEMA_DIR=$T/none "$M" fit org/tiny --gpu rtx3070-8gb) >"$T/f9j2" 2>&1
expect_in "$T/f9j2" "modelc: fit: cannot read gpu-profiles.json (looked in "
HF_ENDPOINT=ftp://example "$M" fit org/tiny --gpu 8GiB >"$T/f9l" 2>&1
expect_in "$T/f9l" "modelc: fit: HF_ENDPOINT 'ftp://example' is not an http:// or https:// URL"
"$M" fit org/tiny --gpu 8GiB --bogus >"$T/f9m" 2>&1
expect_in "$T/f9m" "modelc: fit: unknown argument '--bogus'"
"$M" fit org/noconfig --gpu 8GiB >"$T/f9n" 2>&1; rc=$?
[ $rc -eq 1 ] || { cat "$T/f9n"; fail "fit of a repo without config.json: expected exit 1, got $rc"; }
expect_in "$T/f9n" "modelc: fit: error: org/noconfig@main: config.json is missing; the budget needs num_hidden_layers, num_attention_heads, num_key_value_heads and hidden_size"
# The --config interface keeps working unchanged (9904 under the newest generation's rules).
"$M" fit --config llama.json --quantization awq --gpu-memory 8GiB --utilization 0.9 --max-model-len 8192 \
	--max-num-seqs 8 >"$T/f9g" || fail "fit --config"
grep -q '"max_model_len_fit": 9904,' "$T/f9g" || fail "fit --config changed"

# Add a model in one step, then fetch it, then the cache view.
cp models.yaml "$T/before9.yaml"
"$M" add org/tiny --role tiny --max-model-len 512 >"$T/a9" 2>&1 || { cat "$T/a9"; fail "modelc add"; }
expect_in "$T/a9" "modelc: add: models.yaml: roles.tiny: org/tiny, quantization none"
expect_in "$T/a9" "modelc: add: models.lock: org/tiny@main -> "
expect_in "$T/a9" "modelc: add: built generated; roles.tiny: max_model_len 512, "
expect_in "$T/a9" "next: fetch tiny (downloads it into the Hub cache), then switch --set tiny"
head -c "$(wc -c <"$T/before9.yaml")" models.yaml | cmp -s - "$T/before9.yaml" || true
python3 - "$T/before9.yaml" models.yaml <<'PY' || fail "add did not keep the catalog as it was"
import sys
a, b = open(sys.argv[1]).read(), open(sys.argv[2]).read()
role = "  tiny:\n    repo: org/tiny\n    quantization: none\n    max_model_len: 512\n"
assert role in b, b[-600:]
assert b.replace(role, "", 1) == a, "more than the role changed"
PY
grep -q '"org/tiny@main"' models.lock || fail "add did not lock"
grep -q '^TINY_MAX_MODEL_LEN=' generated/.env || fail "add did not build"
"$M" add org/tiny --role tiny >"$T/a9b" 2>&1 && fail "adding a role twice"
expect_in "$T/a9b" "error: roles.tiny already exists; pick another --role, or edit it in models.yaml"
cp models.yaml "$T/before9b.yaml"; cp models.lock "$T/lock9b"
"$M" add org/nosuch --role nos >"$T/a9c" 2>&1 && fail "adding a repo that does not exist"
expect_in "$T/a9c" "modelc: add: error: org/nosuch: repository 'org/nosuch' was not found"
cmp -s models.yaml "$T/before9b.yaml" && cmp -s models.lock "$T/lock9b" || fail "a refused add wrote something"
"$M" add org/tiny >"$T/a9f" 2>&1
expect_in "$T/a9f" "modelc: add: missing --role NAME"
"$M" add 'not a repo' --role x >"$T/a9g" 2>&1
expect_in "$T/a9g" "modelc: add: 'not a repo' is neither a model directory nor a Hugging Face repository id (ORG/REPO[@REV])"
"$M" add /nonexistent/dir --role x >"$T/a9h" 2>&1
expect_in "$T/a9h" "modelc: add: '/nonexistent/dir' is not a model directory on this machine"
echo '{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 256, "max_position_embeddings": 512, "torch_dtype": "float16", "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}}' >"$T/cfg.json"
mkdir -p "$T/localmodel" && cp "$T/cfg.json" "$T/localmodel/config.json"
"$M" add "$T/localmodel" --role mine >"$T/a9i" 2>&1 || { cat "$T/a9i"; fail "add DIR"; }
expect_in "$T/a9i" "modelc: add: models.yaml: roles.mine: $T/localmodel, quantization awq"
"$M" add org/noconfig --role nc >"$T/a9r" 2>&1 || { cat "$T/a9r"; fail "add of a repo without config.json"; }
expect_in "$T/a9r" "modelc: add: built generated; roles.nc: max_model_len not computed (facts are missing; vLLM's default applies), unverified"
# Without the Hub: the role is added unlocked (the build then waits for 'modelc lock').
cp models.lock "$T/lock9d"
HF_ENDPOINT=http://127.0.0.1:9 MODELC_HUB_RETRIES=0 "$M" add org/elsewhere --role later --quantization awq >"$T/a9d" 2>&1 || { cat "$T/a9d"; fail "add without the Hub"; }
expect_in "$T/a9d" "modelc: add: models.yaml: roles.later: org/elsewhere, quantization awq"
expect_in "$T/a9d" "run 'modelc lock later' on a machine that reaches the Hugging Face Hub, then 'modelc build'"
cmp -s models.lock "$T/lock9d" || fail "add without the Hub changed models.lock"
HF_ENDPOINT=http://127.0.0.1:9 "$M" add org/other --role other2 >"$T/a9e" 2>&1
expect_in "$T/a9e" "modelc: add: warning: config.json could not be read, so quantization: none (16-bit weights) is assumed; give --quantization Q for a quantized checkpoint"
"$M" add org/tiny --role Bad >"$T/a9j" 2>&1 && fail "a bad role name was accepted"
expect_in "$T/a9j" "modelc: add: the edited models.yaml did not load back with roles.Bad; nothing written"
echo 'roles: {a: {repo: x/y, quantization: none}}' >flow.yaml
printf 'storage:\n  hf_home: /srv/hf\ngpu:\n  memory: 8 GiB\nroles: {a: {repo: x/y, quantization: none}}\n' >flow.yaml
"$M" add org/tiny --role b flow.yaml >"$T/a9k" 2>&1 && fail "add into a flow mapping"
expect_in "$T/a9k" "modelc: add: cannot add roles.b to flow.yaml: roles is written as a flow mapping ({...}); nothing written"
"$M" add org/tiny --role c nosuch.yaml >"$T/a9l" 2>&1
expect_in "$T/a9l" "modelc: add: nosuch.yaml must load before a role is added; nothing written"
"$M" add org/tiny --role c --frob >"$T/a9m" 2>&1
expect_in "$T/a9m" "modelc: add: unknown option '--frob'"
"$M" add org/tiny --role c --quantization int3 >"$T/a9n" 2>&1
expect_in "$T/a9n" "modelc: add: --quantization: 'int3' is not one of awq, gptq, fp8, bitsandbytes, compressed-tensors, none"
"$M" add org/tiny --role c --max-model-len x >"$T/a9o" 2>&1
expect_in "$T/a9o" "modelc: add: --max-model-len: 'x' is not a positive integer or 'auto'"
# The role is added and locked, but the build refuses it (a 64 MiB GPU holds no model).
mkdir -p "$T/small"
printf 'storage:\n  hf_home: /srv/hf\ngpu:\n  memory: 64 MiB\nroles:\n  a:\n    local: /srv/models/a\n    quantization: none\n' >"$T/small/models.yaml"
(cd "$T/small" && "$M" add org/tiny --role tiny) >"$T/a9p" 2>&1; rc=$?
[ $rc -eq 1 ] || { cat "$T/a9p"; fail "add with a build that fails: expected exit 1, got $rc"; }
expect_in "$T/a9p" "modelc: add: the catalog has the role, but the build was refused; 'modelc build' says why"
grep -q "^  tiny:" "$T/small/models.yaml" || fail "add with a refused build lost the role"
# A lock that does not load: nothing is written.
mkdir -p "$T/badlock" && echo '{' >"$T/badlock/models.lock"
cp "$T/before9.yaml" "$T/badlock/models.yaml"
(cd "$T/badlock" && "$M" add org/tiny --role tiny2) >"$T/a9q" 2>&1 && fail "add with a broken lock"
expect_in "$T/a9q" "modelc: add: models.lock does not load; fix it or run 'modelc lock'; nothing written"
cmp -s "$T/badlock/models.yaml" "$T/before9.yaml" || fail "add with a broken lock changed models.yaml"

# The cache view, before and after fetch.
"$BIN/fetch" scan --cache "$T/cache" >"$T/s9" 2>&1 || { cat "$T/s9"; fail "fetch scan"; }
grep -q '^tiny .* missing ' "$T/s9" || { cat "$T/s9"; fail "scan: tiny should be missing"; }
grep -q "^primary .*(not locked) .*run 'modelc lock primary', then 'modelc build'" "$T/s9" || { cat "$T/s9"; fail "scan: primary is not locked"; }
grep -q "^secondary .* unknown .*no file list: run 'modelc lock secondary'" "$T/s9" || { cat "$T/s9"; fail "scan: secondary has no file list"; }
expect_in "$T/s9" "for these roles; 'fetch prune' cannot tell what is unused yet (it says why)"
"$BIN/fetch" tiny --cache "$T/cache" >"$T/ft9" 2>&1 || { cat "$T/ft9"; fail "fetch tiny"; }
mkdir -p "$T/cache/models--org--gone/blobs" && head -c 4096 /dev/zero >"$T/cache/models--org--gone/blobs/x"
mkdir -p "$T/man9" && cp generated/manifests/tiny.json "$T/man9/"
"$BIN/fetch" scan --cache "$T/cache" --manifests "$T/man9" >"$T/s9b" 2>&1 || { cat "$T/s9b"; fail "fetch scan after fetch"; }
grep -q '^tiny .* complete  yes, every file present' "$T/s9b" || { cat "$T/s9b"; fail "scan: tiny should be complete and verified"; }
expect_in "$T/s9b" "pruning would free 4.0 KiB ('fetch prune' lists it)"
"$BIN/fetch" scan --cache "$T/cache" --manifests "$T/man9" --json >"$T/s9j" || fail "fetch scan --json"
python3 - "$T/s9j" <<'PY' || fail "fetch scan --json content"
import json, sys
d = json.load(open(sys.argv[1]))
t = [r for r in d["roles"] if r["role"] == "tiny"][0]
assert t["state"] == "complete" and t["present"] == t["files"] == t["verified"] and t["bytes_on_disk"] > 100000, t
assert d["prune_frees"] == 4096, d["prune_frees"]
PY
"$BIN/fetch" scan --cache "$T/cache" --json >"$T/s9k" || fail "fetch scan --json, unlocked roles"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["prune_frees"] is None; assert {"role": "primary", "state": "not locked"} in d["roles"]' "$T/s9k" || fail "scan --json: unlocked"
blob=$(ls "$T/cache/models--org--tiny/blobs" | head -1)
rm "$T/cache/models--org--tiny/blobs/$blob"
"$BIN/fetch" scan --cache "$T/cache" --manifests "$T/man9" >"$T/s9c" 2>&1
grep -q '^tiny .* partial ' "$T/s9c" || { cat "$T/s9c"; fail "scan: tiny should be partial after a blob went"; }
"$BIN/fetch" scan --manifests "$T/none" >"$T/s9d" 2>&1
[ $? -eq 1 ] || fail "scan without manifests: expected exit 1"
"$BIN/fetch" scan --bogus >"$T/s9e" 2>&1
expect_in "$T/s9e" "fetch: scan: unknown option '--bogus'"
mkdir -p "$T/empty"
"$BIN/fetch" scan --manifests "$T/empty" >"$T/s9f" 2>&1
expect_in "$T/s9f" "fetch: scan: $T/empty has no manifests; run 'modelc build' first"

section "10. Pictures and words"
# generated/ is the build of the catalog with the roles added above (tiny, mine, nc without config.json).
grep -q '<title>CUDA context (outside the budget) 0.62 GiB</title>' generated/budget.svg || fail "budget.svg does not draw the CUDA context"
grep -q 'font-weight="bold">7.53</text>' generated/budget.svg || fail "budget.svg has no GPU total on the axis"
grep -q '; peak 7.4[0-9] GiB</text>' generated/budget.svg || fail "budget.svg does not give the physical peak"
# Non-torch memory, when the calibration gives any (V1's constant is 0), is drawn at least 3 px wide.
if grep -q "non-torch  *0.00  *0  " generated/budget.txt; then :; else
	grep -q '<rect [^>]*width="[3-9][.0-9]*" [^>]*fill="#CC79A7"><title>non-torch' generated/budget.svg || fail "non-torch is not visible"
fi
grep -q ">no bar: not computed, missing config.json (architecture unknown) (budget.txt lists all)</text>" generated/budget.svg || { grep "no bar" generated/budget.svg; grep -B3 -A12 "^role " generated/budget.txt | grep -A14 "mine\|later\|other2" | head -40; fail "a role without a bar does not say why"; }
if command -v xmllint >/dev/null 2>&1; then xmllint --noout generated/budget.svg || fail "budget.svg is not XML"; fi
expect_in generated/budget.txt "16384  auto; the model's limit decides (max_position_embeddings 16384; memory would allow any length: the sliding window bounds the KV cache)"
expect_in generated/budget.txt "6608  auto; memory decides: the largest that fits is 6608"
"$M" explain code >"$T/e10" 2>&1
expect_in "$T/e10" "= 16384 (the model's limit decides)"
# The benchmark chart: what was measured, and both concurrency lines readable.
"$BIN/bench" --chart "$ROOT/docs/device/bench_stub.csv" --title "random-weight Llama-architecture model, transformers stand-in server" >"$T/b10.svg" || fail "bench --chart"
expect_in "$T/b10.svg" ">random-weight Llama-architecture model, transformers stand-in server on NVIDIA H100 80GB HBM3</text>"
expect_in "$T/b10.svg" "time to first token, ms (median; band: min to max) (log scale)</text>"
not_in "$T/b10.svg" "stub (stub)"
cmp -s "$T/b10.svg" "$ROOT/docs/bench-gpu.svg" || fail "docs/bench-gpu.svg is not what bench --chart draws from docs/device/bench_stub.csv"
"$BIN/bench" --chart "$ROOT/docs/device/bench_stub.csv" >"$T/b10b.svg" || fail "bench --chart without --title"
expect_in "$T/b10b.svg" ">stub (stub) on NVIDIA H100 80GB HBM3</text>"
echo "not,a,csv" >bad.csv
"$BIN/bench" --chart bad.csv >"$T/b10c" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "bench --chart of a foreign CSV: expected exit 1, got $rc"
expect_in "$T/b10c" "bench: bad.csv:1: not a CSV that bench wrote (its header differs)"
head -1 "$ROOT/docs/device/bench_stub.csv" >empty.csv
"$BIN/bench" --chart empty.csv >"$T/b10d" 2>&1
expect_in "$T/b10d" "bench: empty.csv: no rows"
(head -1 "$ROOT/docs/device/bench_stub.csv"; echo "a,b,c") >short.csv
"$BIN/bench" --chart short.csv >"$T/b10e" 2>&1
expect_in "$T/b10e" "bench: short.csv:2: expected 17 fields"
(head -1 "$ROOT/docs/device/bench_stub.csv"; echo "r,m,,g,f,0,256,256,1,0,1,1,1,1,1,1,1") >zero.csv
"$BIN/bench" --chart zero.csv >"$T/b10f" 2>&1
expect_in "$T/b10f" "bench: zero.csv:2: concurrency '0' is not a positive integer"
"$BIN/bench" --chart nosuch.csv >"$T/b10g" 2>&1
expect_in "$T/b10g" "bench: nosuch.csv: No such file or directory"

section "11. Small inconsistencies"
: >empty.yaml
"$M" check empty.yaml >"$T/k11" 2>&1
expect_in "$T/k11" "modelc: empty.yaml:1:1: error: the catalog is empty: it needs the keys storage, gpu and roles (docs/catalog.md; the shipped models.yaml is an example)"
sed 's/^\(    rationale: Strong balanced reasoning\), broad ecosystem/\1: broad ecosystem/' "$T/before9.yaml" >colon.yaml
"$M" check colon.yaml >"$T/k11b" 2>&1
expect_in "$T/k11b" "error: a ':' followed by a space starts a new key here, where no key can start; quote the value if it holds ': ' (why: 'a: b'), or indent the key like the keys beside it"
not_in "$T/k11b" "mapping values are not allowed"
grep -v 'quantization: awq$' "$T/before9.yaml" >noquant.yaml
"$M" check noquant.yaml >"$T/k11c" 2>&1
expect_in "$T/k11c" "missing required key 'quantization': give the weight format: 'none' for unquantized (16-bit) weights"
grep -q '"gated": "false"' models.lock && fail "a lock entry has the string \"false\" for gated"
python3 -c 'import json,sys; g=json.load(open("models.lock"))["models"]["org/tiny@main"]["gated"]; sys.exit(0 if g is False else 1)' || fail "gated is not false"
"$M" quantize -f "$T/before9.yaml" math --plan-only >"$T/k11d" 2>&1
expect_in "$T/k11d" "modelc: quantize: warning: '-f FILE' is deprecated; give the catalog after the role: modelc quantize ROLE FILE"
"$M" quantize math "$T/before9.yaml" --plan-only >"$T/k11e" 2>&1
not_in "$T/k11e" "deprecated"
# Colour: on a terminal (or CLICOLOR_FORCE), never with NO_COLOR or into a file (lib.sh sets NO_COLOR).
env -u NO_COLOR CLICOLOR_FORCE=1 "$M" check empty.yaml 2>&1 | grep -q "$(printf '\033')\[1;31merror:$(printf '\033')\[0m" || fail "no colour with CLICOLOR_FORCE"
NO_COLOR=1 CLICOLOR_FORCE=1 "$M" check empty.yaml 2>&1 | grep -q "$(printf '\033')" && fail "colour despite NO_COLOR"
grep -q "$(printf '\033')" "$T/k11" && fail "colour into a file"
env -u NO_COLOR CLICOLOR_FORCE=1 "$M" quantize -f "$T/before9.yaml" math --plan-only 2>&1 | grep -q "quantize: $(printf '\033')\[1;35mwarning:" || fail "diag_print's warning is not coloured"
if command -v script >/dev/null 2>&1; then
	env -u NO_COLOR script -qec "$M check $W/empty.yaml" /dev/null >"$T/tty" 2>&1 </dev/null
	grep -q "$(printf '\033')\[1;31merror:" "$T/tty" || { cat -v "$T/tty"; fail "no colour on a terminal"; }
fi
section "12. The README's fit numbers come from the README's commands"
# The fit example as README.md writes it (continuation lines joined, comment dropped), on the
# config it names; each number its paragraph states is compared with the run it describes.
R=$T/readme
mkdir -p "$R" && cp "$ROOT/models.yaml" "$ROOT/models.lock" "$R"/
python3 - "$ROOT/README.md" "$R" <<'PY' || fail "README's fit section"
import json, re, subprocess, sys
readme, R = sys.argv[1], sys.argv[2]
text = open(readme).read()
sec = text[text.index("## Estimating whether a model fits"):]
sec = sec[:sec.index("\n## ", 3)]
lines = sec.splitlines()
i = next(k for k, l in enumerate(lines) if l.startswith("build/bin/modelc fit --config"))
cmd = ""
while True:
    l = lines[i].split("#")[0].rstrip()
    cmd += l.rstrip("\\") + " "
    if not l.endswith("\\"):
        break
    i += 1
prose = " ".join(sec[sec.index("`--gpu-memory` is CUDA's total"):].split())
m = re.search(r"models\.lock's entry for ([\w./-]+[\w])", prose)
lock = json.load(open(R + "/models.lock"))["models"]
key = next(k for k in lock if k.split("@")[0] == m.group(1))
json.dump(lock[key]["config"], open(R + "/config.json", "w"))
argv = cmd.replace("path/to/config.json", "config.json").split()
import os
argv[0] = os.environ["BIN"] + "/modelc"
def fit(extra_from, extra_to):
    a = [extra_to if x == extra_from else x for x in argv] if extra_from else argv + extra_to
    out = subprocess.run(a, cwd=R, capture_output=True, text=True)
    return json.loads(out.stdout)["max_model_len_fit"]
def stated(pattern):
    g = re.search(pattern, prose)
    if not g:
        sys.exit("README no longer states: " + pattern)
    return int(g.group(1).replace(",", ""))
checks = [
    ("the example", stated(r"the fit gives the build's ([\d,]+) tokens"), fit(None, [])),
    ("--gpu-memory 8GiB", stated(r"--gpu-memory 8GiB` would .*? say ([\d,]+)"), fit("8086618112", "8GiB")),
    ("--vllm-version 0.10.2", stated(r"`--vllm-version 0.10.2` [^`]*? says ([\d,]+)"), fit(None, ["--vllm-version", "0.10.2"])),
]
build = subprocess.run([argv[0], "build", "-o", "gen"], cwd=R, capture_output=True, text=True)
env = open(R + "/gen/.env").read()
checks.append(("the build", stated(r"the fit gives the build's ([\d,]+) tokens"),
    int(re.search(r"^PRIMARY_MAX_MODEL_LEN='(\d+)'", env, re.M).group(1))))
c = re.search(r"on 8 GB the budget gives about ([\d.]+)k", open(R + "/models.yaml").read())
checks.append(("models.yaml's comment", float(c.group(1)), round(checks[-1][2] / 1000, 1)))
# auto reports the KV that one request of the length it chose needs, as a given length does.
def run(a):
    return json.loads(subprocess.run(a, cwd=R, capture_output=True, text=True).stdout)
auto = run(argv)
given = run([str(auto["max_model_len_fit"]) if x == "auto" else x for x in argv])
checks.append(("kv_at_max_model_len with auto", given["kv_at_max_model_len"], auto["kv_at_max_model_len"]))
if not auto["kv_at_max_model_len"]:
    sys.exit("fit --max-model-len auto reports kv_at_max_model_len 0")
bad = [f"{what}: README says {said}, the run gives {got}" for what, said, got in checks if said != got]
if bad:
    sys.exit("\n".join(bad))
PY
# One wording for how to measure the GPU total and for what the safety margin is, in every output.
advice="'switch gpu' measures gpu.memory on the GPU host"
margin="gpu.safety_margin + 4.7% of the KV cache (outside the calibrated evidence): KV cache that max_model_len leaves unused"
expect_in "$T/c4" "$advice"
expect_in "$R/gen/.env" "# to verify the GPU total: $advice"
expect_in "$R/gen/budget.txt" "$advice"
expect_in "$R/gen/budget.txt" "$margin"
expect_in "$T/e4" "$margin"
grep -q "mem_get_info" "$R/gen/.env" "$R/gen/budget.txt" && fail "a generated file still gives a second way to measure the GPU total"
"$M" explain primray >"$T/e12" 2>&1 && fail "explain of a misspelt role"
expect_in "$T/e12" "modelc: explain: models.yaml has no role or group 'primray'; did you mean 'primary'?"

echo ok
