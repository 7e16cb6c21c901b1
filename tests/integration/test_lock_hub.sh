#!/bin/sh
# modelc lock against the fake Hub: the Qwen2.5-7B-Instruct fixture (real names, sizes, git
# oids and sha256 at a09a3545...) resolves through a paginated tree, its safetensors headers
# are read with Range requests through the CDN without the token, the lock is sorted and
# stable, and lock -> build -> fetch leaves a verified model in the cache.
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
# A repo whose safetensors index states a total_size its headers do not sum to.
/usr/bin/python3 - "$T/indexed" <<'PY' || fail "indexed repo"
import json, os, struct, sys
os.makedirs(sys.argv[1])
cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
       "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 256,
       "max_position_embeddings": 512, "torch_dtype": "float32"}
json.dump(cfg, open(os.path.join(sys.argv[1], "config.json"), "w"))
h = json.dumps({"a.weight": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
open(os.path.join(sys.argv[1], "model.safetensors"), "wb").write(struct.pack("<Q", len(h)) + h + bytes(16))
json.dump({"metadata": {"total_size": 999}, "weight_map": {"a.weight": "model.safetensors"}},
          open(os.path.join(sys.argv[1], "model.safetensors.index.json"), "w"))
PY
fh_start --gen org/tiny:100000 --gen org/gated:4096 --qwen --qwen-small-served --gated org/gated \
	--approved-token hf_good_token --dir "org/indexed=$T/indexed"
W="$T/w"
mkdir -p "$W"
cat >"$W/models.yaml" <<YAML
storage:
  hf_home: $T/srvhf
gpu:
  memory: 80 GiB
  utilization: 0.9
roles:
  chat:
    repo: org/tiny
    quantization: none
    max_model_len: 512
  qwen:
    repo: Qwen/Qwen2.5-7B-Instruct
    quantization: none
    max_model_len: 8192
YAML
cd "$W"
export HF_TOKEN=hf_lock_secret
"$BIN/modelc" lock >"$T/o1" 2>"$T/e1" || { cat "$T/o1" "$T/e1"; fail "lock failed"; }
expect_in "$T/o1" "modelc: lock: qwen: Qwen/Qwen2.5-7B-Instruct@main -> a09a35458c702b33eeacc393d103063234e8bc28 (14 files, 15231272982 bytes; weights 15231233024 bytes)"
expect_in "$T/o1" "modelc: lock: wrote models.lock (2 resolved, 2 entries)"
expect_in "$T/e1" "modelc: lock: Qwen/Qwen2.5-7B-Instruct@main is commit a09a35458c702b33eeacc393d103063234e8bc28"
/usr/bin/python3 - models.lock <<'PY' || fail "models.lock content"
import json, sys
m = json.load(open(sys.argv[1]))["models"]
q = m["Qwen/Qwen2.5-7B-Instruct@main"]
assert q["commit"] == "a09a35458c702b33eeacc393d103063234e8bc28"
assert q["files_complete"] is True and len(q["files"]) == 14
f = {x["path"]: x for x in q["files"]}
s1 = f["model-00001-of-00004.safetensors"]
assert s1["lfs"] is True and s1["size"] == 3945441440
assert s1["sha256"] == "a1333e6293854747c481288ea83b348226af178dd565c49b6f9495ba1966aba7"
assert f["model-00004-of-00004.safetensors"]["sha256"] == "1a72d403cdf0c1ec3cb7f289f17b394a01e64394c2e9b3c0f94dbce3faf879bd"
assert q["weights"] == {"bytes": 15231233024, "dtypes": {"BF16": 15231233024}, "source": "safetensors-headers"}, q["weights"]
assert q["config"]["num_key_value_heads"] == 4
assert q["gated"] is False, q["gated"]  # the Hub's false, not the string "false"
assert f["config.json"]["sha256"] and f["config.json"]["lfs"] is False
assert "(5 pages)" in q["sources"][1], q["sources"]
assert [x["path"] for x in q["files"]] == sorted(f)
t = m["org/tiny@main"]
assert t["weights"]["dtypes"] == {"F32": 100000}, t["weights"]
PY
grep -q '"Range": "bytes=0-65535"' "$T/fh/cdn.log" || fail "headers were not read with Range through the CDN"
grep -qi '"authorization"' "$T/fh/cdn.log" && fail "the token reached the CDN host"
grep -q hf_lock_secret models.lock "$T/o1" "$T/e1" && fail "the token was written or printed"
cp models.lock "$T/lock1"

# Deterministic: the same facts give the same bytes; one role relocked keeps the other entry.
"$BIN/modelc" lock chat >"$T/o2" 2>&1 || fail "lock chat failed"
expect_in "$T/o2" "modelc: lock: wrote models.lock (1 resolved, 2 entries)"
cmp -s models.lock "$T/lock1" || { diff -u "$T/lock1" models.lock | head -20; fail "models.lock is not stable"; }

# lock -> build -> fetch: the manifests modelc writes are what fetch reads.
"$BIN/modelc" build -o gen >"$T/o3" 2>&1 || { cat "$T/o3"; fail "build after lock failed"; }
"$BIN/fetch" chat --manifests gen/manifests --cache "$T/cache" >"$T/o4" 2>&1 || { cat "$T/o4"; fail "fetch after build failed"; }
fh_check "$T/cache" gen/manifests --complete --only chat
# With no cache in the environment, fetch uses the catalog's (HF_HUB_CACHE in generated/.env).
env -u HF_HOME -u HF_HUB_CACHE "$BIN/fetch" chat --manifests gen/manifests >"$T/o4a" 2>&1 || { cat "$T/o4a"; fail "fetch into the catalog's cache"; }
expect_in "$T/o4a" "is complete in $T/srvhf/hub/models--org--tiny"

# A file the lock does not pin: fetch refuses it; --trust-hub takes the Hub's sha256 and
# records it in the manifest only (modelc alone writes models.lock); 'modelc lock' pins it.
/usr/bin/python3 - models.lock <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["models"]["org/tiny@main"]["files"]:
    if f["path"] == "model.safetensors":
        f["sha256"] = None
json.dump(d, open(sys.argv[1], "w"), indent=2, sort_keys=True)
PY
"$BIN/modelc" build -o gen >"$T/o3b" 2>&1 || { cat "$T/o3b"; fail "build with an unpinned file failed"; }
"$BIN/fetch" chat --manifests gen/manifests --cache "$T/cache2" >"$T/o4b" 2>&1
[ $? -eq 1 ] || { cat "$T/o4b"; fail "unpinned: expected exit 1"; }
cp models.lock "$T/lock_unpinned"
"$BIN/fetch" chat --trust-hub --manifests gen/manifests --cache "$T/cache2" >"$T/o4c" 2>&1 || { cat "$T/o4c"; fail "--trust-hub"; }
expect_in "$T/o4c" "fetch: chat: model.safetensors: recorded its sha256 in gen/manifests/chat.json; run 'modelc lock chat' to pin it in models.lock"
grep -q dccfe01a5179e6adc852ab05a6ac02cde12f12eb5ebb5ddde343c824d4e12b8e gen/manifests/chat.json || fail "--trust-hub did not pin the manifest"
cmp -s models.lock "$T/lock_unpinned" || fail "fetch --trust-hub changed models.lock"
"$BIN/modelc" lock chat >"$T/o4d" 2>&1 || { cat "$T/o4d"; fail "lock after --trust-hub"; }
cmp -s models.lock "$T/lock1" || { diff -u "$T/lock1" models.lock | head -20; fail "modelc lock did not restore the pin"; }

# Errors: a missing revision, a missing repo, a gated repo, offline; nothing is written.
sed 's|    repo: org/tiny|    repo: org/tiny\n    revision: v9|' models.yaml >rev.yaml
"$BIN/modelc" lock chat rev.yaml --lock "$T/rev.lock" >"$T/o5" 2>&1
[ $? -eq 1 ] || { cat "$T/o5"; fail "missing revision: expected exit 1"; }
expect_in "$T/o5" "modelc: rev.yaml:8:5: error: roles.chat: revision 'v9' was not found in org/tiny"
expect_in "$T/o5" "modelc: lock: 1 error; $T/rev.lock was not changed"
[ -e "$T/rev.lock" ] && fail "a lock was written despite an error"
sed 's|repo: org/tiny|repo: org/nosuch|' models.yaml >nosuch.yaml
"$BIN/modelc" lock chat nosuch.yaml --lock "$T/n.lock" >"$T/o6" 2>&1
[ $? -eq 1 ] || fail "missing repo: expected exit 1"
expect_in "$T/o6" "error: roles.chat: repository 'org/nosuch' was not found on $FH_HUB (or it is private and the token has no access)"
sed 's|repo: org/tiny|repo: org/gated|' models.yaml >gated.yaml
HF_TOKEN= "$BIN/modelc" lock chat gated.yaml --lock "$T/g.lock" >"$T/o7" 2>&1
[ $? -eq 1 ] || fail "gated: expected exit 1"
expect_in "$T/o7" "error: roles.chat: org/gated is a gated model: accept its licence at $FH_HUB/org/gated, then set HF_TOKEN (or run 'hf auth login') and run again"
HF_TOKEN=hf_good_token "$BIN/modelc" lock chat gated.yaml --lock "$T/g.lock" >"$T/o8" 2>&1 || { cat "$T/o8"; fail "gated with an approved token"; }
HF_HUB_OFFLINE=1 "$BIN/modelc" lock >"$T/o9" 2>&1
[ $? -eq 1 ] || fail "offline: expected exit 1"
expect_in "$T/o9" "modelc: lock: HF_HUB_OFFLINE is set, and 'modelc lock' must ask the Hub; unset it (models.lock was not changed)"
"$BIN/modelc" lock nosuchrole >"$T/o10" 2>&1
[ $? -eq 1 ] || fail "unknown role: expected exit 1"
expect_in "$T/o10" "modelc: models.yaml: error: no role 'nosuchrole' in the catalog"
"$BIN/modelc" lock --bogus >"$T/o11" 2>&1
[ $? -eq 2 ] || fail "unknown option: expected exit 2"
expect_in "$T/o11" "modelc: lock: unknown option '--bogus'"
cmp -s models.lock "$T/lock1" || fail "a failed lock changed models.lock"
# The index's total_size disagrees with the headers: the headers' sum is recorded, with a note.
sed 's|repo: org/tiny|repo: org/indexed|' models.yaml >indexed.yaml
"$BIN/modelc" lock chat indexed.yaml --lock "$T/i.lock" >"$T/o13" 2>"$T/e13" || { cat "$T/o13" "$T/e13"; fail "lock of org/indexed"; }
expect_in "$T/e13" "modelc: lock: note: org/indexed: the index's total_size is 999, the headers sum to 16; the headers are recorded"
# An HF_ENDPOINT that is no http(s) URL: nothing is asked, nothing written.
HF_ENDPOINT=ftp://hub.example "$BIN/modelc" lock >"$T/o14" 2>&1
[ $? -eq 3 ] || { cat "$T/o14"; fail "ftp HF_ENDPOINT: expected exit 3"; }
expect_in "$T/o14" "modelc: lock: HF_ENDPOINT 'ftp://hub.example' is not an http:// or https:// URL"
# A lock that cannot be read is not overwritten: the user decides.
printf '{"lock_version": 1, "models": ' >"$T/broken.lock"
"$BIN/modelc" lock --lock "$T/broken.lock" >"$T/o12" 2>&1
[ $? -eq 1 ] || { cat "$T/o12"; fail "broken lock: expected exit 1"; }
expect_in "$T/o12" "modelc: $T/broken.lock: note: fix it or delete it, then run 'modelc lock' again"
[ "$(cat "$T/broken.lock")" = '{"lock_version": 1, "models": ' ] || fail "the broken lock was changed"
echo ok
