#!/bin/sh
# A role's local directory, decided when switch runs (stat), not when modelc built the table:
# set exports as VLLM_MODEL_ID exactly what serve loads, and serve answers to it (one of its --served-model-name
# names), the local directory when it exists and the repo otherwise; an adopted directory (a 'local:DIR' lock
# entry) is checked against its own files, not the 16-bit repo's. The table comes from modelc
# build on a machine without the directories, as on a laptop that builds for the GPU host.
set -u
: "${BIN:?BIN must point at build/bin}"
command -v musl-gcc >/dev/null 2>&1 || { echo "musl-gcc is missing (scripts/deps.sh installs musl-tools)"; exit 77; }
MODELC_SCHEMA_DIR=${MODELC_SCHEMA_DIR:-$(pwd -P)/schemas}
export MODELC_SCHEMA_DIR
T=$(mktemp -d /tmp/modelc-switch-local.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
commit=0123456789abcdef0123456789abcdef01234567
cat >"$T/models.yaml" <<Y
storage:
  hf_home: $T/hf
gpu:
  memory: 8 GiB
server:
  max_num_seqs: 4
roles:
  primary:
    repo: tiny/llama
    local: $T/models/tiny-awq
    quantization: awq
    max_model_len: 1024
  code:
    repo: tiny/llama
    local: $T/models/tiny-copy
    quantization: none
    max_model_len: 1024
Y
/usr/bin/python3 - "$T" "$commit" <<'PY' || exit 1
import json, sys
t, commit = sys.argv[1], sys.argv[2]
arch = dict(architecture="LlamaForCausalLM", model_type="llama", num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=64, hidden_size=256, intermediate_size=512, vocab_size=512,
            max_position_embeddings=4096, sliding_window=None, sliding_layers=None,
            tie_word_embeddings=False, torch_dtype="bfloat16", quantization_config=None)
def entry(repo, cfg, size, files):
    return {"repo": repo, "revision": "main" if repo else None, "commit": commit if repo else None,
            "gated": False if repo else None, "config": cfg,
            "weights": {"bytes": size, "source": "safetensors-headers", "dtypes": {"BF16": size}},
            "files": [{"path": p, "size": s, "lfs": None, "sha256": None, "blob_id": None} for p, s in files],
            "files_complete": True, "sources": ["test"], "unknown": []}
awq = dict(arch, quantization_config={"quant_method": "awq", "bits": 4, "group_size": 128})
lock = {"lock_version": 1, "comment": "test", "models": {
    "tiny/llama@main": entry("tiny/llama", arch, 3000000, [("config.json", 11), ("model.safetensors", 23)]),
    "local:%s/models/tiny-awq" % t: entry(None, awq, 1139712,
        [("config.json", 13), ("model.safetensors", 29), ("tokenizer.json", 7)])}}
json.dump(lock, open(t + "/models.lock", "w"), indent=2)
PY
(cd "$T" && "$BIN/modelc" build -o gen) >"$T/build.out" 2>&1 || { echo "FAIL: modelc build"; cat "$T/build.out"; exit 1; }
grep -q "used by no role" "$T/build.out" && { echo "FAIL: the local: entry is unused"; cat "$T/build.out"; exit 1; }
SW="$T/switch"
make -s --no-print-directory SWITCH_OUT="$SW" "$SW" || { echo "FAIL: cannot build switch"; exit 1; }
export MODELC_TABLE="$T/gen/switch.table"
mkdir -p "$T/bin" "$T/work"
export PATH="$T/bin:/usr/bin:/bin" NO_COLOR=1 LC_ALL=C
unset MODELC_HF_HOME MODELC_ACTIVE_FILE VLLM_MODEL_ID CUDA_VISIBLE_DEVICES
cd "$T/work" || exit 1
fail=0
check() { # NAME WANT GOT
	[ "$2" = "$3" ] || { echo "FAIL: $1:"; echo "  want: $2"; echo "  got:  $3"; fail=1; }
}
starts() { # NAME PREFIX GOT
	case "$3" in "$2"*) ;; *) echo "FAIL: $1:"; echo "  want: $2..."; echo "  got:  $3"; fail=1 ;; esac
}
# The id set exports, and the model path and served name serve would launch.
set_id() { sh -c 'eval "$("$0" --set "$1")" && printf "%s" "$VLLM_MODEL_ID"' "$SW" "$1"; }
argv() { "$SW" serve "$1" --dry-run 2>/dev/null | sed "s|HF_HOME=$T/hf ||"; }
mkfile() { # PATH SIZE
	mkdir -p "$(dirname "$1")" && head -c "$2" /dev/zero >"$1"
}
tail_flags="--max-model-len 1024 --gpu-memory-utilization 0.9"
# After a new modelc build, the same switch serves the new limits: no rebuild of switch.
rebuilt() { # MAX_MODEL_LEN
	sed "s/max_model_len: 1024/max_model_len: $1/" "$T/models.yaml" >"$T/models.yaml.new" &&
		mv "$T/models.yaml.new" "$T/models.yaml" && (cd "$T" && "$BIN/modelc" build -o gen) >/dev/null 2>&1
}

# 1. No local directories: the repo, online (the snapshot is not there either).
check "set code by its absent directory" "tiny/llama" "$(set_id "$T/models/tiny-copy")"
starts "serve code, directory absent" "vllm serve tiny/llama --revision $commit --served-model-name code tiny/llama $T/models/tiny-copy $tail_flags" \
	"$(argv code)"

# 2. The local copy appears on the GPU host: set and serve both use it, offline.
mkfile "$T/models/tiny-copy/config.json" 11
mkfile "$T/models/tiny-copy/model.safetensors" 23
check "set code by its directory" "$T/models/tiny-copy" "$(set_id "$T/models/tiny-copy")"
check "set code by role" "$T/models/tiny-copy" "$(set_id code)"
starts "serve code, directory present" \
	"HF_HUB_OFFLINE=1 vllm serve $T/models/tiny-copy --served-model-name code tiny/llama $T/models/tiny-copy $tail_flags" \
	"$(argv code)"
VLLM_MODEL_ID="$T/models/tiny-copy" "$SW" current >"$T/out" 2>"$T/err"
check "current, directory present" "code $T/models/tiny-copy|" "$(cat "$T/out")|$(cat "$T/err")"

# 3. The copy goes away again: the recorded id is stale, and set and serve fall back to the repo.
rm -rf "$T/models/tiny-copy"
"$SW" current >"$T/out" 2>"$T/err"
check "current, directory gone" "switch: warning: .active_model names model '$T/models/tiny-copy' for 'code', but the catalog now has 'tiny/llama'; run switch --set code again" \
	"$(cat "$T/err")"
check "set code, directory gone" "tiny/llama" "$(set_id code)"

# 4. The adopted checkpoint: checked against the local: entry's files (three, not the repo's two).
mkfile "$T/models/tiny-awq/config.json" 13
mkfile "$T/models/tiny-awq/model.safetensors" 29
mkfile "$T/models/tiny-awq/tokenizer.json" 7
starts "serve the adopted directory" \
	"HF_HUB_OFFLINE=1 vllm serve $T/models/tiny-awq --served-model-name primary tiny/llama $T/models/tiny-awq $tail_flags" \
	"$(argv primary)"
check "set primary" "$T/models/tiny-awq" "$(set_id primary)"
"$SW" list --json >"$T/list.json" 2>/dev/null
/usr/bin/python3 - "$T/list.json" "$T/models/tiny-awq" <<'PY' || fail=1
import json, sys
p = [r for r in json.load(open(sys.argv[1]))["roles"] if r["role"] == "primary"][0]
want = {"model_id": sys.argv[2], "files": "present", "files_present": 3, "files_total": 3}
got = {k: p[k] for k in want}
if got != want:
    print("FAIL: list --json primary: want %s, got %s" % (want, got))
    sys.exit(1)
PY
# A partial adopted directory is reported against its own list.
rm "$T/models/tiny-awq/tokenizer.json"
"$SW" serve primary --dry-run >/dev/null 2>"$T/err"
grep -qxF "switch: warning: 1 of 3 files of 'primary' are missing from '$T/models/tiny-awq'; the server will download them" "$T/err" ||
	{ echo "FAIL: partial adopted directory:"; cat "$T/err"; fail=1; }

# 5. The catalog changes and modelc builds again: switch --list shows the new context at once,
#    and warns while generated/ is older than the catalog.
echo "# edited" >>"$T/models.yaml"
"$SW" list >/dev/null 2>"$T/err"
grep -qxF "switch: warning: $T/gen/switch.table is older than $T/models.yaml (its size or modification time changed since the build); run 'modelc build'" "$T/err" ||
	{ echo "FAIL: no staleness warning:"; cat "$T/err"; fail=1; }
rebuilt 2048 || { echo "FAIL: modelc build with max_model_len 2048"; fail=1; }
"$SW" list >"$T/out" 2>"$T/err"
grep -q "^  code .* 2048  " "$T/out" || { echo "FAIL: switch --list after modelc build:"; cat "$T/out"; fail=1; }
grep -q "older than" "$T/err" && { echo "FAIL: still stale after the build:"; cat "$T/err"; fail=1; }
[ $fail -eq 0 ] && echo "set and serve agree on the local directory, present or not; a new build is served at once"
exit $fail
