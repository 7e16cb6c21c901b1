#!/bin/sh
# Gated repos, tokens and 404s: each gets a message that says what to do, the token is read
# from HF_TOKEN or the token file, sent to the Hub only, and never printed.
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
fh_start --gen org/gated:4096 --gen org/open:4096 --gated org/gated --approved-token hf_good_token \
	--manifests "$T/man" --role g=org/gated --role o=org/open
C="$T/cache"

"$BIN/fetch" g --manifests "$T/man" --cache "$C" >"$T/o1" 2>&1
[ $? -eq 1 ] || { cat "$T/o1"; fail "gated without a token: expected exit 1"; }
expect_in "$T/o1" "fetch: error: g: config.json: org/gated is a gated model: accept its licence at $FH_HUB/org/gated, then set HF_TOKEN (or run 'hf auth login') and run again"

HF_TOKEN=hf_wrong_token "$BIN/fetch" g --manifests "$T/man" --cache "$C" >"$T/o2" 2>&1
[ $? -eq 1 ] || fail "gated with a wrong token: expected exit 1"
expect_in "$T/o2" "org/gated is a gated model and the token from HF_TOKEN is not approved for it: accept its licence at $FH_HUB/org/gated (with the account the token belongs to), then run again"
grep -q hf_wrong_token "$T/o2" && fail "the token was printed"
fh_check "$C" "$T/man" --only g

# The token file huggingface_hub writes ($HF_HOME/token), with its trailing newline.
mkdir -p "$HF_HOME"
printf 'hf_good_token\n' >"$HF_HOME/token"
"$BIN/fetch" g --manifests "$T/man" --cache "$C" >"$T/o3" 2>&1 || { cat "$T/o3"; fail "approved token from the file"; }
fh_check "$C" "$T/man" --complete --only g
grep -qi authorization "$T/fh/cdn.log" && fail "the token reached the CDN host"
rm "$HF_HOME/token"
printf 'hf_good_token' >"$T/tokpath"
HF_TOKEN_PATH="$T/tokpath" "$BIN/fetch" g --verify --manifests "$T/man" --cache "$T/c2" >"$T/o3b" 2>&1 ||
	fail "approved token from HF_TOKEN_PATH"

# 404 kinds: a file the Hub does not have, and a repo it does not know.
/usr/bin/python3 - "$T/man" <<'PY'
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "o.json")))
f = dict(m["files"][0]); f["path"] = "missing.json"
f["blob_id"] = f["blob"] = "1" * 40; f["sha256"] = "2" * 64; m["files"].append(f)
json.dump(m, open(os.path.join(d, "o.json"), "w"))
m["repo"] = "org/nosuch"; m["role"] = "n"; m["files"] = m["files"][:1]
json.dump(m, open(os.path.join(d, "n.json"), "w"))
PY
"$BIN/fetch" o --manifests "$T/man" --cache "$C" >"$T/o4" 2>&1
rc=$?; [ $rc -eq 1 ] || { cat "$T/o4"; fail "missing file: expected exit 1, got $rc"; }
commit=$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["commit"])' "$T/man/o.json")
expect_in "$T/o4" "fetch: error: o: missing.json: file 'missing.json' was not found in org/open at revision '$commit'"
"$BIN/fetch" n --manifests "$T/man" --cache "$C" >"$T/o5" 2>&1
[ $? -eq 1 ] || fail "missing repo: expected exit 1"
expect_in "$T/o5" "fetch: error: n: config.json: repository 'org/nosuch' was not found on $FH_HUB (or it is private and no token is set)"

# A partial file list is fetched, with a note saying so.
/usr/bin/python3 - "$T/man" <<'PY'
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "g.json")))
m["complete"] = False; m["role"] = "part"
json.dump(m, open(os.path.join(sys.argv[1], "part.json"), "w"))
PY
HF_TOKEN=hf_good_token "$BIN/fetch" part --manifests "$T/man" --cache "$C" >"$T/o5b" 2>&1 || { cat "$T/o5b"; fail "partial list"; }
expect_in "$T/o5b" "fetch: part: the manifest's file list is partial (models.lock did not record the whole repo); files it does not name are not fetched: run 'modelc lock part' for the full list"

# HF_HUB_OFFLINE: refuse to download, say what is missing.
HF_HUB_OFFLINE=1 "$BIN/fetch" o --manifests "$T/man" --cache "$T/c3" >"$T/o6" 2>&1
[ $? -eq 1 ] || fail "offline: expected exit 1"
expect_in "$T/o6" "fetch: error: HF_HUB_OFFLINE is set and 6 files ("
expect_in "$T/o6" ") are missing from the cache; unset it to download them"

# A manifest path that would escape the cache is refused before any write.
/usr/bin/python3 - "$T/man" <<'PY'
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "o.json")))
m["role"] = "evil"; m["files"][0]["path"] = "../../../escape.txt"
json.dump(m, open(os.path.join(d, "evil.json"), "w"))
PY
"$BIN/fetch" evil --manifests "$T/man" --cache "$T/c4" >"$T/o7" 2>&1
[ $? -eq 1 ] || fail "unsafe path: expected exit 1"
expect_in "$T/o7" "files[0]: path '../../../escape.txt' contains '..'; refusing to write it"
[ -e "$T/escape.txt" ] && fail "a file escaped the cache"

# An unpinned file is refused unless --trust-hub, which pins it in the manifest.
/usr/bin/python3 - "$T/man" <<'PY'
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "o.json")))
m["files"] = [f for f in m["files"] if f["path"] != "missing.json"]
for f in m["files"]:
    if f["path"] == "model.safetensors":
        f["sha256"] = None; f["blob"] = None
json.dump(m, open(os.path.join(d, "o.json"), "w"))
PY
"$BIN/fetch" o --manifests "$T/man" --cache "$T/c5" >"$T/o8" 2>&1
[ $? -eq 1 ] || fail "unpinned: expected exit 1"
expect_in "$T/o8" "fetch: error: o: model.safetensors: the manifest pins no sha256 for this file; run 'modelc lock' and 'modelc build', or pass --trust-hub to take the Hub's"
"$BIN/fetch" o --trust-hub --manifests "$T/man" --cache "$T/c5" >"$T/o9" 2>&1 || { cat "$T/o9"; fail "--trust-hub"; }
expect_in "$T/o9" "fetch: o: model.safetensors: unpinned: trusting the Hub's sha256 "
/usr/bin/python3 - "$T/man" <<'PY' || fail "--trust-hub did not pin the manifest"
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "o.json")))
f = [f for f in m["files"] if f["path"] == "model.safetensors"][0]
assert f["sha256"] and f["blob"] == f["sha256"], f
PY
echo ok
