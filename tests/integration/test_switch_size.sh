#!/bin/sh
# switch's size goal (issue 3: under 64 KiB), and the same for its sibling switch-host (serve),
# which building switch builds beside it. The table is a file switch reads, so the size no
# longer depends on the catalog; this also checks that the worst table the shipped catalog can
# give (every role's lock entry with a complete file list: shards, tokenizer, configs; commits,
# sha256 and blob ids, as 'modelc lock' writes it for the real repos) reads back whole.
set -u
: "${BIN:?BIN must point at build/bin}"
command -v musl-gcc >/dev/null 2>&1 || { echo "musl-gcc is missing (scripts/deps.sh installs musl-tools)"; exit 77; }
MODELC_SCHEMA_DIR=${MODELC_SCHEMA_DIR:-$(pwd -P)/schemas}
export MODELC_SCHEMA_DIR
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cp models.yaml "$work/"
/usr/bin/python3 - models.lock "$work/models.lock" <<'PY' || exit 1
import hashlib, json, sys
lock = json.load(open(sys.argv[1]))
def files(key, shards, extra):
    out = []
    for p in ["config.json", "generation_config.json", "special_tokens_map.json", "tokenizer.json",
              "tokenizer_config.json", "model.safetensors.index.json"] + extra:
        out.append({"path": p, "size": 1000 + len(p), "lfs": False, "sha256": None,
                    "blob_id": hashlib.sha1((key + p).encode()).hexdigest()})
    for i in range(1, shards + 1):
        p = "model-%05d-of-%05d.safetensors" % (i, shards)
        out.append({"path": p, "size": 4000000000 + i, "lfs": True,
                    "sha256": hashlib.sha256((key + p).encode()).hexdigest(),
                    "blob_id": hashlib.sha1((key + p + "b").encode()).hexdigest()})
    return out
shape = {"hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4@main": (2, []),
         "Qwen/Qwen2.5-7B-Instruct-AWQ@main": (2, ["merges.txt", "vocab.json", "added_tokens.json"]),
         "microsoft/Phi-3.5-mini-instruct@main": (2, ["added_tokens.json", "configuration_phi3.py",
                                                      "modeling_phi3.py", "tokenizer.model"]),
         "mistralai/Mathstral-7B-v0.1@main": (3, ["tokenizer.model", "tokenizer.model.v3", "params.json"]),
         "bigcode/starcoder2-7b@main": (3, ["merges.txt", "vocab.json"])}
for key, (n, extra) in shape.items():
    e = lock["models"][key]
    e["files"], e["files_complete"] = files(key, n, extra), True
    e["commit"] = hashlib.sha1(key.encode()).hexdigest()
json.dump(lock, open(sys.argv[2], "w"), indent=2)
PY
(cd "$work" && "$BIN/modelc" build -o gen >/dev/null 2>&1) || { echo "FAIL: modelc build of the full-lock catalog"; exit 1; }
make -s --no-print-directory SWITCH_OUT="$work/switch" "$work/switch" || { echo "FAIL: cannot build switch"; exit 1; }
"$work/switch" --table "$work/gen/switch.table" list --json >"$work/list.json" 2>/dev/null ||
	{ echo "FAIL: switch cannot read the full-lock table"; exit 1; }
nfiles=$(/usr/bin/python3 -c 'import json, sys; print(sum(r["files_total"] for r in json.load(open(sys.argv[1]))["roles"]))' "$work/list.json")
[ "$nfiles" -ge 50 ] || { echo "FAIL: the table lists $nfiles files, expected 50 or more"; exit 1; }
[ -x "$work/switch-host" ] || { echo "FAIL: building switch did not build switch-host beside it"; exit 1; }
size=$(wc -c <"$work/switch")
hsize=$(wc -c <"$work/switch-host")
echo "switch: $size bytes, switch-host: $hsize bytes (goal: each under 65536); the full-lock table ($nfiles files) is $(wc -c <"$work/gen/switch.table") bytes beside them"
[ "$size" -lt 65536 ] || { echo "FAIL: switch is $size bytes, over 64 KiB"; exit 1; }
[ "$hsize" -lt 65536 ] || { echo "FAIL: switch-host is $hsize bytes, over 64 KiB"; exit 1; }
