#!/bin/sh
# fetch writes the huggingface_hub cache layout, skips verified files on a rerun, keeps the
# token away from the CDN host, rehashes with --verify, repairs a damaged blob, emits --json
# events, and copies instead of linking where symlinks are off.
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
fh_start --gen org/tiny:200000 --manifests "$T/man" --role chat=org/tiny
C="$T/cache"
export HF_HUB_CACHE="$C" HF_TOKEN=hf_test_secret_token
F=models--org--tiny
commit=$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["commit"])' "$T/man/chat.json")

"$BIN/fetch" chat --manifests "$T/man" >"$T/out1" 2>"$T/err1" || { cat "$T/err1"; fail "first fetch failed"; }
expect_in "$T/out1" "fetch: chat: model.safetensors: verified"
expect_in "$T/out1" "5 files: 5 downloaded"
fh_check "$C" "$T/man" --complete
[ "$(wc -c <"$C/$F/refs/main")" -eq 40 ] || fail "refs/main is not 40 bytes"
[ "$(cat "$C/$F/refs/main")" = "$commit" ] || fail "refs/main does not name the commit"
[ "$(readlink "$C/$F/snapshots/$commit/sub/dir/notes.txt" | cut -c1-21)" = "../../../../blobs/8d5" ] ||
	fail "nested symlink is not relative: $(readlink "$C/$F/snapshots/$commit/sub/dir/notes.txt")"
sha=$(/usr/bin/python3 -c 'import json,sys;print([f["sha256"] for f in json.load(open(sys.argv[1]))["files"] if f["lfs"]][0])' "$T/man/chat.json")
[ "$(readlink "$C/$F/snapshots/$commit/model.safetensors")" = "../../blobs/$sha" ] || fail "LFS blob is not named by sha256"
[ -f "$C/.locks/$F/$sha.lock" ] || fail "no lock file"
head -n 1 "$C/CACHEDIR.TAG" | grep -q '^Signature: 8a477f597d28d172789f06886806bc55$' || fail "CACHEDIR.TAG"
ls "$C/$F/blobs" | grep -q incomplete && fail "a partial file was left behind"

# The token went to the Hub and never to the CDN on 127.0.0.2.
grep -q '"auth": true' "$T/fh/hub.log" || fail "the Hub never saw the token"
grep -q '"method": "GET"' "$T/fh/cdn.log" || fail "the CDN was not used"
grep -qi 'authorization' "$T/fh/cdn.log" && fail "the token reached the CDN host"
grep -q hf_test_secret_token "$T/out1" "$T/err1" && fail "the token was printed"

# Rerun: nothing is downloaded or hashed again.
: >"$T/fh/data.log"
"$BIN/fetch" --manifests "$T/man" >"$T/out2" 2>&1 || fail "rerun failed"
expect_in "$T/out2" "fetch: chat: model.safetensors: already in the cache, verified"
expect_in "$T/out2" "5 files: 0 downloaded"
[ -s "$T/fh/data.log" ] && fail "the rerun downloaded something"

# --verify rehashes everything.
"$BIN/fetch" --verify --manifests "$T/man" >"$T/out3" 2>&1 || fail "--verify failed"
expect_in "$T/out3" "fetch: chat: model.safetensors: hashed: matches $sha"

# A damaged blob (its stamp no longer matches) is found, removed and fetched again.
blob="$C/$F/blobs/$sha"
/usr/bin/python3 -c 'import sys;f=open(sys.argv[1],"r+b");f.seek(100);b=f.read(1);f.seek(100);f.write(bytes([b[0]^1]))' "$blob"
"$BIN/fetch" --manifests "$T/man" >"$T/out4" 2>&1 || { cat "$T/out4"; fail "repair failed"; }
expect_in "$T/out4" "fetch: chat: model.safetensors: $blob: sha256 mismatch: expected $sha, got "
expect_in "$T/out4" "; removing it"
expect_in "$T/out4" "5 files: 1 downloaded"
fh_check "$C" "$T/man" --complete

# --json: one object per event, and a report.
"$BIN/fetch" --json --manifests "$T/man" >"$T/out5" 2>&1 || fail "--json failed"
/usr/bin/python3 - "$T/out5" <<'PY' || fail "--json output"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert ev[-1]["event"] == "report", ev[-1]
assert any(e["event"] == "skip" and e.get("file") == "model.safetensors" for e in ev)
PY

# Without symlinks files are copied into snapshots/, and fetch says so.
C2="$T/cache2"
HF_HUB_DISABLE_SYMLINKS=1 "$BIN/fetch" --cache "$C2" --manifests "$T/man" >"$T/out6" 2>&1 || fail "copy mode failed"
expect_in "$T/out6" "$C2: HF_HUB_DISABLE_SYMLINKS is set; files are copied into snapshots/ instead of linked, as huggingface_hub does"
[ -L "$C2/$F/snapshots/$commit/model.safetensors" ] && fail "copy mode made a symlink"
fh_check "$C2" "$T/man" --complete
HF_HUB_DISABLE_SYMLINKS=1 "$BIN/fetch" --cache "$C2" --manifests "$T/man" >"$T/out7" 2>&1 || fail "copy mode rerun failed"
expect_in "$T/out7" "5 files: 0 downloaded"

# Two roles of one repo at one commit: each file is downloaded once, and both roles are ready.
mkdir "$T/man2"
cp "$T/man/chat.json" "$T/man2/chat.json"
sed 's/"role": "chat"/"role": "code"/' "$T/man/chat.json" >"$T/man2/code.json"
"$BIN/fetch" --manifests "$T/man2" --cache "$T/cache3" >"$T/out8" 2>&1 || { cat "$T/out8"; fail "two roles failed"; }
expect_in "$T/out8" "10 files: 5 downloaded ("
expect_in "$T/out8" "5 shared with another role, 0 already present, 0 failed"
expect_in "$T/out8" "fetch: code: org/tiny@"
grep -q "waiting for the blob's lock" "$T/out8" && fail "a shared file was downloaded twice"

# Usage errors.
"$BIN/fetch" --jobs 0 >/dev/null 2>"$T/u1"; [ $? -eq 2 ] || fail "--jobs 0 is not a usage error"
expect_in "$T/u1" "fetch: --jobs '0' is not a number from 1 to 64"
"$BIN/fetch" --bogus >/dev/null 2>"$T/u2"; [ $? -eq 2 ] || fail "unknown option"
expect_in "$T/u2" "fetch: unknown option '--bogus'"
"$BIN/fetch" all chat >/dev/null 2>"$T/u3"; [ $? -eq 2 ] || fail "all + role"
expect_in "$T/u3" "fetch: 'all' and role names exclude each other"
# A role that is not in the catalog: rejected, the catalog's roles named, and no summary of
# a download that never started.
roles=$(cd "$T/man" && ls *.json | sed 's/\.json$//' | paste -sd, - | sed 's/,/, /g')
"$BIN/fetch" nosuch --manifests "$T/man" >"$T/u4" 2>&1; [ $? -eq 1 ] || fail "unknown role"
expect_in "$T/u4" "fetch: error: nosuch: not a role of the catalog (no $T/man/nosuch.json); roles: $roles; a role added since the last build needs 'modelc build'"
"$BIN/fetch" caht --manifests "$T/man" >"$T/u5" 2>&1; [ $? -eq 1 ] || fail "misspelt role"
expect_in "$T/u5" "fetch: error: caht: not a role of the catalog (no $T/man/caht.json); did you mean 'chat'? roles: $roles"
mkdir -p "$T/empty"
"$BIN/fetch" nosuch --manifests "$T/empty" >"$T/u6" 2>&1; [ $? -eq 1 ] || fail "role without any manifests"
expect_in "$T/u6" "fetch: error: nosuch: no manifest $T/empty/nosuch.json: $T/empty has none; run 'modelc build'"
# An unpinned role (a catalog built before 'modelc lock'): the error alone.
sed 's/"commit": *"[0-9a-f]*"/"commit": null/' "$T/man/chat.json" >"$T/unp.json"
mkdir -p "$T/unpinned" && cp "$T/unp.json" "$T/unpinned/chat.json"
"$BIN/fetch" chat --manifests "$T/unpinned" >"$T/u7" 2>&1; [ $? -eq 1 ] || fail "unpinned role"
expect_in "$T/u7" "role 'chat' has no pinned commit; run 'modelc lock' then 'modelc build'"
for f in u4 u5 u6 u7; do
	grep -q "files:" "$T/$f" && { cat "$T/$f"; fail "$f: a summary of a download that was never attempted"; }
done
echo "ok"
