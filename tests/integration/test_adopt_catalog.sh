#!/bin/sh
# modelc quantize and modelc adopt against a catalog: the plan, the script, the errors; adoption
# edits models.yaml in place (comments kept), records the directory in models.lock, and the
# next modelc build emits PRIMARY_MODEL_LOCAL.
set -u
: "${BIN:?BIN must point at build/bin}"
M="$BIN/modelc"
# The schemas of this tree, also for builds whose binary is deeper (SAN=1: build/san/bin).
MODELC_SCHEMA_DIR=${MODELC_SCHEMA_DIR:-$(pwd -P)/schemas}
export MODELC_SCHEMA_DIR
. tests/fixtures/faults.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 tests/fixtures/quant/make_fixtures.py "$work/q" >/dev/null || exit 1
cd "$work" || exit 1
w=$(pwd -P)
q="$w/q"
fail=0

cat >models.yaml <<'EOF'
# catalog for the adoption test
storage:
  hf_home: /srv/hf        # the cache
  models_dir: /srv/models
gpu:
  memory: 8 GiB
server: {max_num_seqs: 128}  # with 160 or more, CUDA graphs and the sampler leave the 8B model no room
roles:
  primary:
    # a tiny Llama-style model
    repo: tiny/llama   # 16-bit
    quantization: none    # until adopted
    max_model_len: 2048
  big:
    repo: meta-llama/Llama-3.1-8B-Instruct
    quantization: none
    max_model_len: 4096
  flow: {repo: tiny/llama, quantization: none, max_model_len: 1024}
EOF
/usr/bin/python3 - <<'EOF' || exit 1
import json
def entry(repo, arch, size):
    cfg = {"architecture": "LlamaForCausalLM", "model_type": "llama", "sliding_window": None,
           "sliding_layers": None, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
           "quantization_config": None}
    cfg.update(arch)
    return {"repo": repo, "revision": "main", "commit": "0123456789abcdef0123456789abcdef01234567",
            "gated": False, "config": cfg,
            "weights": {"bytes": size, "source": "safetensors-index", "dtypes": {"BF16": size}},
            "files": [], "files_complete": False, "sources": ["test"], "unknown": []}
tiny = dict(num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=64,
            hidden_size=256, intermediate_size=512, vocab_size=512, max_position_embeddings=4096)
big = dict(num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8, head_dim=128,
           hidden_size=4096, intermediate_size=14336, vocab_size=128256, max_position_embeddings=131072)
lock = {"lock_version": 1, "comment": "test", "models": {
    "tiny/llama@main": entry("tiny/llama", tiny, 3000000),
    "meta-llama/Llama-3.1-8B-Instruct@main": entry("meta-llama/Llama-3.1-8B-Instruct", big, 16060522496)}}
json.dump(lock, open("models.lock", "w"), indent=2)
EOF

# run EXIT CMD...: run CMD, compare stdout+stderr with the heredoc and the exit status with EXIT.
run() {
	code=$1
	shift
	cat >"$w/want"
	"$@" >"$w/got" 2>&1
	rc=$?
	if [ "$rc" -ne "$code" ] || ! diff -u "$w/want" "$w/got"; then
		echo "FAIL: $* (exit $rc, expected $code)"; cat "$w/got"; fail=1; return
	fi
	echo "ok: $*"
}

# The plan for Llama 3.1 8B: the lines that are quantize's own arithmetic (the serving fit is
# budget_fit's, tested with the estimator).
"$M" quantize big --plan-only >"$w/plan" 2>"$w/plan.err"; rc=$?
for line in \
	"plan: quantize big (meta-llama/Llama-3.1-8B-Instruct@main) with AWQ, 4-bit, group size 128" \
	"  weights      5.73 GB predicted (5727854592 bytes); the 16-bit source is 16.06 GB (16060522496 bytes, exact, models.lock)" \
	"  GPU memory   1.63 GiB needed, 8.00 GiB free: ok" \
	"               = max(layer 0.41, embeddings 0.98) + activations 0.12 + AWQ cache 0.03 (offloaded to CPU) + CUDA context 0.50" \
	"  host memory  23.46 GiB (16-bit weights in CPU memory + calibration inputs + AWQ cache)" \
	"  disk         21.79 GB (16-bit source in the HF cache + output)" \
	"  calibration  HuggingFaceH4/ultrachat_200k [train_sft], 256 samples x 512 tokens" \
	"  output       /srv/models/llama-3.1-8b-instruct-awq-w4g128"; do
	grep -qxF "$line" "$w/plan" || { echo "FAIL plan: missing line: $line"; cat "$w/plan"; fail=1; }
done
[ $rc -eq 0 ] || { echo "FAIL plan: exit $rc"; cat "$w/plan.err"; fail=1; }
[ ! -e quantize-big.py ] || { echo "FAIL: --plan-only wrote a script"; fail=1; }
# 128 requests on 8 GiB: the sampler (0.6 GiB) and, from v0.21, 35 captured graph sizes inside
# the budget (0.85 GiB) leave the 4-bit 8B model about 1200 tokens.
grep -qxF "modelc: models.yaml:15:5: warning: roles.big: the quantized model does not fit max_model_len 4096; set max_model_len to at most 1216 after adopting it" "$w/plan.err" \
	|| { echo "FAIL plan: warning"; cat "$w/plan.err"; fail=1; }

# The script: written, executable, valid Python, with the plan's settings.
"$M" quantize big --method gptq >"$w/out" 2>/dev/null || { echo "FAIL: quantize big --method gptq"; cat "$w/out"; fail=1; }
tail -n 4 "$w/out" >"$w/tail"
cat >"$w/want" <<'EOF'
wrote quantize-big.py
run it on the GPU host (pip install "llmcompressor>=0.6" there):
  HF_HOME=/srv/hf python3 quantize-big.py
then here: modelc adopt big --method gptq /srv/models/llama-3.1-8b-instruct-gptq-w4g128
EOF
diff -u "$w/want" "$w/tail" || { echo "FAIL: quantize output"; fail=1; }
[ -x quantize-big.py ] || { echo "FAIL: script not executable"; fail=1; }
/usr/bin/python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' quantize-big.py \
	|| { echo "FAIL: script is not valid Python"; fail=1; }
for line in 'MODEL_ID = "meta-llama/Llama-3.1-8B-Instruct"' 'REVISION = "0123456789abcdef0123456789abcdef01234567"' \
	'OUTPUT_DIR = "/srv/models/llama-3.1-8b-instruct-gptq-w4g128"' \
	'recipe = [GPTQModifier(targets=["Linear"], scheme="W4A16", ignore=["lm_head"])]'; do
	grep -qxF "$line" quantize-big.py || { echo "FAIL script: missing: $line"; fail=1; }
done

run 1 "$M" quantize nosuch <<'EOF'
modelc: models.yaml: error: no role 'nosuch' in the catalog
EOF
run 2 "$M" quantize big --group-size 100 <<'EOF'
modelc: quantize: --group-size: '100' is not 32, 64 or 128
usage: modelc quantize ROLE [FILE] [--lock FILE] [--method awq|gptq] [--bits 4|8]
                       [--group-size 32|64|128] [--dataset ID] [--split NAME] [--samples N]
                       [--seq-len N] [--output-dir DIR] [-o SCRIPT] [--plan-only] [--json]
FILE is the catalog (default models.yaml); -f FILE still works but is deprecated.
Plans the quantization of ROLE's 16-bit checkpoint: the predicted size and the context it then
fits, and the disk, host memory and GPU memory the quantization needs. Unless --plan-only,
writes SCRIPT (default quantize-ROLE.py), an llm-compressor script to run on the GPU host.
Defaults: awq, 4 bits, groups of 128, HuggingFaceH4/ultrachat_200k, 256 samples of 512 tokens.
EOF
run 1 "$M" quantize big --method awq --bits 8 --plan-only <<'EOF'
modelc: models.yaml:15:5: error: roles.big: cannot quantize 'meta-llama/Llama-3.1-8B-Instruct@main': awq supports only 4 bits
EOF

# The GPU too small for the job: nothing written.
sed 's/memory: 8 GiB/memory: 1 GiB/' models.yaml >small.yaml
"$M" quantize big small.yaml -o small.py >/dev/null 2>"$w/err"; rc=$?
cat >"$w/want" <<'EOF'
modelc: small.yaml:15:5: error: roles.big: quantizing needs 1.63 GiB of GPU memory, the GPU has 1.00 GiB free
modelc: small.yaml:15:5: note: the largest part, 0.98 GiB of 16-bit weights onloaded at once, cannot be split: quantize on a larger GPU and copy the result here
EOF
[ $rc -eq 1 ] && diff -u "$w/want" "$w/err" && [ ! -e small.py ] || { echo "FAIL: small GPU (exit $rc)"; fail=1; }
# -f FILE, the old spelling, still works and says what to write instead.
"$M" quantize -f small.yaml big --seq-len 8192 --samples 16 --plan-only >/dev/null 2>"$w/err"; rc=$?
cat >"$w/want" <<'EOF'
modelc: quantize: warning: '-f FILE' is deprecated; give the catalog after the role: modelc quantize ROLE FILE
modelc: small.yaml:15:5: error: roles.big: quantizing needs 6.88 GiB of GPU memory, the GPU has 1.00 GiB free
modelc: small.yaml:15:5: note: fewer tokens per sample lower the activations: --seq-len 4096
EOF
[ $rc -eq 1 ] && diff -u "$w/want" "$w/err" || { echo "FAIL: small GPU, long samples (exit $rc)"; fail=1; }

# Plans that cannot go ahead, and the warnings of one that can.
cat >t2.yaml <<'EOF'
storage:
  hf_home: /srv/hf
  disk_budget: 10 GB
gpu:
  memory: 3 GiB
roles:
  big:
    repo: meta-llama/Llama-3.1-8B-Instruct
    quantization: none
    max_model_len: 4096
  loc:
    local: /srv/models/x
    quantization: awq
  other:
    repo: some/model
    quantization: none
EOF
"$M" quantize big t2.yaml >/dev/null 2>"$w/err"; rc=$?
cat >"$w/want" <<'EOF'
modelc: t2.yaml:8:5: warning: roles.big: the quantized model does not fit at any context with these server settings; see the budget line above
modelc: t2.yaml: warning: quantizing big needs 21.79 GB of disk, storage.disk_budget is 10.00 GB
modelc: t2.yaml: error: storage.models_dir is not set; set it or pass --output-dir for the quantized checkpoint
EOF
[ $rc -eq 1 ] && diff -u "$w/want" "$w/err" && [ ! -e quantize-big.py.tmp ] && echo "ok: t2 big" || { echo "FAIL: t2 big (exit $rc)"; fail=1; }
run 1 "$M" quantize loc t2.yaml --plan-only <<'EOF'
modelc: t2.yaml:12:5: error: roles.loc: has no repo; quantize starts from the 16-bit checkpoint on the Hub
EOF
run 1 "$M" quantize other t2.yaml --plan-only <<'EOF'
modelc: t2.yaml:15:5: error: roles.other: models.lock has no config.json for 'some/model@main'; run 'modelc lock other' first
EOF
run 1 "$M" quantize big t2.yaml --lock nolock --plan-only <<'EOF'
modelc: t2.yaml:8:5: error: roles.big: nolock does not exist; run 'modelc lock big' first
EOF

# The role's model is no longer 16-bit.
cp models.lock models.lock.orig
/usr/bin/python3 - <<'EOF'
import json
l = json.load(open("models.lock"))
l["models"]["tiny/llama@main"]["config"]["quantization_config"] = {"quant_method": "awq"}
json.dump(l, open("models.lock", "w"))
EOF
run 1 "$M" quantize primary --plan-only <<'EOF'
modelc: models.yaml:11:5: error: roles.primary: 'tiny/llama@main' is already quantized ({"quant_method":"awq"}); quantize a 16-bit checkpoint
EOF
mv models.lock.orig models.lock

# Adoption: rejected directories change nothing.
cp models.yaml models.yaml.orig
cp models.lock models.lock.orig
run 1 "$M" adopt primary q/awq-bad-shape <<EOF
modelc: $q/awq-bad-shape/model.safetensors: error: tensor 'model.layers.1.self_attn.k_proj.qweight' has shape [32, 128], expected [256, 16] (AWQ GEMM for in_features 256, out_features 128, 4 bits, group size 128)
modelc: 1 error; '$q/awq-bad-shape' is not adoptable for role 'primary'
EOF
run 1 "$M" adopt big q/awq <<EOF
modelc: $q/awq/config.json: error: not the role's model meta-llama/Llama-3.1-8B-Instruct@main: num_hidden_layers 2 (not 32), num_attention_heads 4 (not 32), num_key_value_heads 2 (not 8), hidden_size 256 (not 4096), intermediate_size 512 (not 14336), vocab_size 512 (not 128256)
modelc: 1 error; '$q/awq' is not adoptable for role 'big'
EOF
run 1 "$M" adopt flow q/awq <<EOF
$q/awq: AWQ GEMM, 4-bit, group size 128, 14 quantized linear layers
weights: 1139712 bytes (0.00 GiB), predicted 1139712 (0.00 GiB), +0.0%
modelc: models.yaml:18:9: error: roles.flow: cannot set 'local' automatically (the role is written as a flow mapping ({...})); write 'local: $q/awq' under the role yourself
EOF
run 1 "$M" adopt nosuch q/awq <<'EOF'
modelc: models.yaml: error: no role 'nosuch' in the catalog
EOF
run 0 "$M" adopt --dry-run primary q/awq <<EOF
$q/awq: AWQ GEMM, 4-bit, group size 128, 14 quantized linear layers
weights: 1139712 bytes (0.00 GiB), predicted 1139712 (0.00 GiB), +0.0%
models.yaml: roles.primary.local: $q/awq (added)
models.yaml: roles.primary.quantization: awq (was 'none')
models.lock: local:$q/awq (3 files, sha256)
dry run: nothing written
EOF
# When the system fails (tests/fixtures/faults.c): a file that cannot be opened to hash it, an
# edited catalog that cannot be read back, no memory for the script.
faults_build "$w"
# run_err EXIT CMD...: as run, comparing stderr alone.
run_err() {
	code=$1
	shift
	cat >"$w/want"
	"$@" >/dev/null 2>"$w/got"
	rc=$?
	if [ "$rc" -ne "$code" ] || ! diff -u "$w/want" "$w/got"; then
		echo "FAIL: $* (exit $rc, expected $code)"; cat "$w/got"; fail=1; return
	fi
	echo "ok: $*"
}
run_err 3 env LD_PRELOAD="$FAULTS" FAULT_OPEN=awq/model.safetensors FAULT_OPEN_NTH=2 "$M" adopt primary q/awq <<EOF
modelc: $q/awq/model.safetensors: Permission denied
EOF
# The edited catalog is written to models.yaml.tmp.<pid> and loaded back from there (the
# second open of that name); when the load fails, nothing is written and the temp is removed.
env LD_PRELOAD="$FAULTS" FAULT_OPEN=models.yaml.tmp. FAULT_OPEN_NTH=2 "$M" adopt primary q/awq >/dev/null 2>"$w/got.raw"
rc=$?
sed 's/models\.yaml\.tmp\.[0-9][0-9]*/models.yaml.tmp.PID/' "$w/got.raw" >"$w/got"
cat >"$w/want" <<'EOF'
modelc: models.yaml.tmp.PID: error: cannot open: Permission denied
modelc: the edited models.yaml did not load back with roles.primary.local; nothing written
EOF
if [ "$rc" -ne 3 ] || ! diff -u "$w/want" "$w/got"; then
	echo "FAIL: adopt with the edited catalog unreadable (exit $rc, expected 3)"; cat "$w/got"; fail=1
else
	echo "ok: adopt with the edited catalog unreadable"
fi
ls models.yaml.tmp.* >/dev/null 2>&1 && { echo "FAIL: a models.yaml.tmp.* was left behind"; fail=1; }
run_err 3 env LD_PRELOAD="$FAULTS" FAULT_MEMSTREAM=1 "$M" quantize primary <<'EOF'
modelc: Cannot allocate memory
EOF
[ -e quantize-primary.py ] && { echo "FAIL: quantize wrote a script without memory for it"; fail=1; }
cmp -s models.yaml models.yaml.orig && cmp -s models.lock models.lock.orig \
	|| { echo "FAIL: a rejected or dry-run adoption changed models.yaml or models.lock"; fail=1; }

# Adoption of the good AWQ directory.
run 0 "$M" adopt primary q/awq <<EOF
$q/awq: AWQ GEMM, 4-bit, group size 128, 14 quantized linear layers
weights: 1139712 bytes (0.00 GiB), predicted 1139712 (0.00 GiB), +0.0%
models.yaml: roles.primary.local: $q/awq (added)
models.yaml: roles.primary.quantization: awq (was 'none')
models.lock: local:$q/awq (3 files, sha256)
next: make config (emits PRIMARY_MODEL_LOCAL), then switch primary
EOF
cat >"$w/want" <<EOF
# catalog for the adoption test
storage:
  hf_home: /srv/hf        # the cache
  models_dir: /srv/models
gpu:
  memory: 8 GiB
server: {max_num_seqs: 128}  # with 160 or more, CUDA graphs and the sampler leave the 8B model no room
roles:
  primary:
    # a tiny Llama-style model
    repo: tiny/llama   # 16-bit
    local: $q/awq
    quantization: awq     # until adopted
    max_model_len: 2048
  big:
    repo: meta-llama/Llama-3.1-8B-Instruct
    quantization: none
    max_model_len: 4096
  flow: {repo: tiny/llama, quantization: none, max_model_len: 1024}
EOF
diff -u "$w/want" models.yaml || { echo "FAIL: models.yaml after adoption"; fail=1; }
/usr/bin/python3 - "$q/awq" <<'EOF' || { echo "FAIL: models.lock entry"; fail=1; }
import hashlib, json, os, sys
d = sys.argv[1]
l = json.load(open("models.lock"))
e = l["models"]["local:" + d]
assert "tiny/llama@main" in l["models"] and "meta-llama/Llama-3.1-8B-Instruct@main" in l["models"]
assert e["repo"] is None and e["revision"] is None
assert e["config"]["hidden_size"] == 256 and e["config"]["quantization_config"]["quant_method"] == "awq"
assert e["weights"] == {"bytes": 1139712, "source": "safetensors-headers",
                        "dtypes": {"F16": 545280, "I32": 594432}}, e["weights"]
names = sorted(os.listdir(d))
assert [f["path"] for f in e["files"]] == names, e["files"]
for f in e["files"]:
    data = open(os.path.join(d, f["path"]), "rb").read()
    assert f["size"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest(), f
assert e["files_complete"] is True
EOF

# Adopting the same directory again changes nothing in models.yaml.
cp models.yaml models.yaml.adopted
run 0 "$M" adopt --no-hash primary q/awq <<EOF
$q/awq: AWQ GEMM, 4-bit, group size 128, 14 quantized linear layers
weights: 1139712 bytes (0.00 GiB), predicted 1139712 (0.00 GiB), +0.0%
models.lock: local:$q/awq (3 files)
next: make config (emits PRIMARY_MODEL_LOCAL), then switch primary
EOF
cmp -s models.yaml models.yaml.adopted || { echo "FAIL: second adoption edited models.yaml"; fail=1; }

# Replacing it by the compressed-tensors directory (what the llm-compressor script writes).
run 0 "$M" adopt primary q/ct <<EOF
$q/ct: compressed-tensors pack-quantized, 4-bit, group size 128, 14 quantized linear layers
weights: 1139936 bytes (0.00 GiB), predicted 1139712 (0.00 GiB), +0.0%
models.yaml: roles.primary.local: $q/ct (was '$q/awq')
models.yaml: roles.primary.quantization: compressed-tensors (was 'awq')
models.lock: local:$q/ct (3 files, sha256)
next: make config (emits PRIMARY_MODEL_LOCAL), then switch primary
EOF
grep -qxF "    local: $q/ct" models.yaml && grep -qxF "    quantization: compressed-tensors # until adopted" models.yaml \
	|| { echo "FAIL: models.yaml after the second adoption"; cat models.yaml; fail=1; }

# ROLE alone: the directory the role's local: already names (placed by hand) is checked and recorded.
cat >t3.yaml <<EOF
storage:
  hf_home: /srv/hf
gpu:
  memory: 8 GiB
roles:
  primary:
    repo: tiny/llama
    local: $q/gptq   # placed by hand
    quantization: none
  nodir:
    repo: tiny/llama
    local: $q/nothere
    quantization: none
  file:
    repo: tiny/llama
    local: $q/awq/config.json
    quantization: none
  bare:
    repo: tiny/llama
    quantization: none
EOF
run 0 "$M" adopt -f t3.yaml --method gptq primary <<EOF
$q/gptq: GPTQ, 4-bit, group size 128, 14 quantized linear layers
weights: 1156096 bytes (0.00 GiB), predicted 1156096 (0.00 GiB), +0.0%
t3.yaml: roles.primary.quantization: gptq (was 'none')
models.lock: local:$q/gptq (3 files, sha256)
next: make config (emits PRIMARY_MODEL_LOCAL), then switch primary
EOF
grep -qxF "    local: $q/gptq   # placed by hand" t3.yaml && grep -qxF "    quantization: gptq" t3.yaml \
	|| { echo "FAIL: t3.yaml after adopting the role's own local"; cat t3.yaml; fail=1; }
run 1 "$M" adopt -f t3.yaml nodir <<EOF
modelc: t3.yaml:12:12: error: roles.nodir.local: '$q/nothere': No such file or directory
EOF
run 1 "$M" adopt -f t3.yaml file <<EOF
modelc: t3.yaml:16:12: error: roles.file.local: '$q/awq/config.json' is not a directory
EOF
run 1 "$M" adopt -f t3.yaml bare <<'EOF'
modelc: t3.yaml:19:5: error: roles.bare: has no local directory; name it: modelc adopt bare DIR
EOF

# The next build emits the role's local directory.
grep -v '^  big:\|^    repo: meta-llama\|^    max_model_len: 4096\|^  flow:' models.yaml | \
	sed '/^    quantization: none$/d' >one.yaml
if "$M" build one.yaml -o gen >"$w/build" 2>&1; then
	grep -qxF "PRIMARY_MODEL_LOCAL='$q/ct'" gen/.env || { echo "FAIL: gen/.env lacks PRIMARY_MODEL_LOCAL"; cat gen/.env; fail=1; }
else
	echo "FAIL: modelc build after adoption"; cat one.yaml "$w/build"; fail=1
fi

# On a machine without the directory, the lock's local: entry gives the facts (not the 16-bit
# repo's): exact weights of the adopted checkpoint, compressed-tensors known, the entry in use.
mv "$q/ct" "$q/ct.away"
"$M" explain primary one.yaml --json >"$w/explain" 2>"$w/explain.err"; rc=$?
mv "$q/ct.away" "$q/ct"
/usr/bin/python3 - "$w/explain" <<'EOF' || { echo "FAIL: explain after adoption, directory absent (exit $rc)"; cat "$w/explain" "$w/explain.err"; fail=1; }
import json, sys
e = json.load(open(sys.argv[1]))
assert e["weights_bytes"] == 1139936 and e["sources"]["weights_bytes"] == "exact", e
# Only the 16-bit repo's partial file list (this test's lock) is missing; the format is known.
assert e["unverified"] == ["the complete file list (download size)"], e["unverified"]
EOF
[ $rc -eq 0 ] || { echo "FAIL: explain exit $rc"; fail=1; }
if grep -qF "entry 'local:$q/ct' is used by no role" "$w/explain.err"; then
	echo "FAIL: the local: entry is unused"; cat "$w/explain.err"; fail=1
fi
exit $fail
