#!/bin/sh
# Path safety: a file path from a manifest (that is, from the lock and the Hub) that is absolute,
# contains '..', a backslash, a NUL or another control byte, or an empty or '.' component is
# refused before anything is downloaded or written; models.lock and the Hub's tree are held to
# the same rule; and fetch never writes through a symlinked folder it did not make.
# (test_fetch_hub_errors.sh covers '../../../escape.txt' in a manifest as well.)
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
fh_start --gen org/tiny:20000 --manifests "$T/man" --role chat=org/tiny
commit=$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["commit"])' "$T/man/chat.json")

# 1. fetch: each hostile manifest path is refused with exit 1 and nothing reaches the cache.
i=0
while IFS='|' read -r path why; do
	i=$((i + 1))
	mkdir -p "$T/m$i"
	/usr/bin/python3 - "$T/man/chat.json" "$T/m$i/evil.json" "$path" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["role"] = "evil"
# The shell hands \x01 and \x00 over spelt out; JSON carries them as \u0001 and \u0000.
m["files"][0]["path"] = sys.argv[3].replace("\\x01", "\x01").replace("\\x00", "\x00")
json.dump(m, open(sys.argv[2], "w"))
PY
	: >"$T/fh/hub.log"
	"$BIN/fetch" evil --manifests "$T/m$i" --cache "$T/c$i" >"$T/o$i" 2>&1
	rc=$?
	[ $rc -eq 1 ] || { cat "$T/o$i"; fail "path '$path': expected exit 1, got $rc"; }
	expect_in "$T/o$i" "$why"
	[ -s "$T/fh/hub.log" ] && fail "path '$path': fetch asked the Hub before refusing"
	[ -d "$T/c$i/models--org--tiny" ] && fail "path '$path': fetch wrote into the cache"
	[ -e "$T/escape.txt" ] && fail "path '$path': a file escaped the cache"
done <<'EOF'
../escape.txt|files[0]: path '../escape.txt' contains '..'; refusing to write it
sub/../../escape.txt|files[0]: path 'sub/../../escape.txt' contains '..'; refusing to write it
/etc/passwd|files[0]: path '/etc/passwd' is absolute; refusing to write it
sub\escape.txt|files[0]: path 'sub\escape.txt' contains a backslash; refusing to write it
a\x01b|contains a control character; refusing to write it
a//b|files[0]: path 'a//b' has an empty component; refusing to write it
./a|files[0]: path './a' contains a '.' component; refusing to write it
a\x00b|not valid JSON: \u0000 is not allowed without JSON_ALLOW_NUL
EOF
echo "fetch: $i hostile manifest paths refused before any request or write"

# 2. A folder in the snapshot that is a symlink fetch did not make: refused, nothing written
#    through it. The generated repo has sub/dir/notes.txt, so snapshots/COMMIT/sub is on its way.
C="$T/cache"
mkdir -p "$C/models--org--tiny/snapshots/$commit" "$T/outside"
ln -s "$T/outside" "$C/models--org--tiny/snapshots/$commit/sub"
"$BIN/fetch" chat --manifests "$T/man" --cache "$C" >"$T/os" 2>&1
rc=$?
[ $rc -ne 0 ] || { cat "$T/os"; fail "fetch wrote through a planted symlink"; }
expect_in "$T/os" "its folder resolves outside the cache $C (a symlinked folder?); refusing to write there"
[ -z "$(ls -A "$T/outside")" ] || { ls -laR "$T/outside"; fail "something was written outside the cache"; }
# The same with the whole snapshots folder planted.
C2="$T/cache2"
mkdir -p "$C2/models--org--tiny" "$T/outside2"
ln -s "$T/outside2" "$C2/models--org--tiny/snapshots"
"$BIN/fetch" chat --manifests "$T/man" --cache "$C2" >"$T/os2" 2>&1 && fail "fetch wrote through a planted snapshots symlink"
expect_in "$T/os2" "its folder resolves outside the cache $C2 (a symlinked folder?); refusing to write there"
[ -z "$(ls -A "$T/outside2")" ] || fail "something was written outside the cache (snapshots)"
# And the blobs folder, where downloads land before they are verified.
C3="$T/cache3"
mkdir -p "$C3/models--org--tiny" "$T/outside3"
ln -s "$T/outside3" "$C3/models--org--tiny/blobs"
"$BIN/fetch" chat --manifests "$T/man" --cache "$C3" >"$T/os3" 2>&1 && fail "fetch wrote through a planted blobs symlink"
expect_in "$T/os3" "/blobs/$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["files"][0]["blob"])' "$T/man/chat.json"): its folder resolves outside the cache $C3"
[ -z "$(ls -A "$T/outside3")" ] || { cat "$T/os3"; ls -la "$T/outside3"; fail "something was written outside the cache (blobs)"; }
echo "fetch: planted folder symlinks refused"

# 3. models.lock: the same paths in a lock are refused by modelc build, nothing is generated.
W="$T/w"
mkdir -p "$W"
cp tests/golden/build_ok/models.yaml tests/golden/build_ok/models.lock "$W/" 2>/dev/null ||
	fail "tests/golden/build_ok has no models.yaml and models.lock"
key=$(/usr/bin/python3 -c 'import json,sys;print(sorted(json.load(open(sys.argv[1]))["models"])[0])' "$W/models.lock")
for bad in '../escape.txt' '/etc/passwd' 'a\\b' 'a//b' './a'; do
	/usr/bin/python3 - "$W/models.lock" "$W/evil.lock" "$key" "$bad" <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))
m = l["models"][sys.argv[3]]
m["files"] = [{"path": sys.argv[4].replace("\\\\", "\\"), "size": 1, "lfs": False, "sha256": None, "blob_id": None}]
json.dump(l, open(sys.argv[2], "w"), indent=2)
PY
	(cd "$W" && "$BIN/modelc" build --lock evil.lock -o out) >"$T/ol" 2>&1
	rc=$?
	[ $rc -eq 1 ] || { cat "$T/ol"; fail "lock path '$bad': expected exit 1, got $rc"; }
	expect_in "$T/ol" "is not a repo-relative path (no leading '/', no empty, '.' or '..' parts)"
	[ -e "$W/out" ] && fail "lock path '$bad': modelc build wrote output"
done
echo "modelc build: hostile lock paths refused"

# 4. The Hub's tree: modelc lock refuses a listed file with a hostile path and writes no lock.
kill "$FH_PID" 2>/dev/null
FH_PID=
/usr/bin/python3 tests/integration/security_hub.py --state "$T/sh" --lifetime 120 &
FH_PID=$!
n=0
while [ ! -f "$T/sh/port" ]; do n=$((n + 1)); [ $n -gt 100 ] && fail "security_hub did not start"; sleep 0.1; done
export HF_ENDPOINT="http://127.0.0.1:$(cat "$T/sh/port")"
k=0
while IFS='|' read -r why; do
	mkdir -p "$T/l$k"
	cat >"$T/l$k/models.yaml" <<YAML
storage:
  hf_home: /srv/hf
gpu:
  memory: 80 GiB
roles:
  chat:
    repo: org/evil$k
    quantization: none
    max_model_len: 512
YAML
	(cd "$T/l$k" && "$BIN/modelc" lock) >"$T/lo$k" 2>&1
	rc=$?
	[ $rc -eq 1 ] || [ $rc -eq 3 ] || { cat "$T/lo$k"; fail "evil$k: expected exit 1 or 3, got $rc"; }
	expect_in "$T/lo$k" "$why"
	[ -e "$T/l$k/models.lock" ] && fail "evil$k: modelc lock wrote a lock"
	k=$((k + 1))
done <<'EOF'
the Hub lists a file '../escape.txt' that contains '..'; refusing it
the Hub lists a file '/etc/passwd' that is absolute; refusing it
the Hub lists a file 'a\b.txt' that contains a backslash; refusing it
that contains a control character; refusing it
the Hub lists a file 'a//b.txt' that has an empty component; refusing it
the Hub lists a file './a.txt' that contains a '.' component; refusing it
the tree listing is not a JSON array (\u0000 is not allowed without JSON_ALLOW_NUL near
EOF
echo "modelc lock: $k hostile tree paths refused"

# 5. A tree that lists one file twice (fuzz target hubjson found the second copy leaking).
mkdir -p "$T/dup"
sed 's|org/evil0|org/dup|' "$T/l0/models.yaml" >"$T/dup/models.yaml"
(cd "$T/dup" && "$BIN/modelc" lock) >"$T/dupo" 2>&1 && fail "a tree with a duplicate path was accepted"
expect_in "$T/dupo" "the Hub lists the file 'model.safetensors.index.json' twice"
[ -e "$T/dup/models.lock" ] && fail "dup: modelc lock wrote a lock"
echo "modelc lock: a duplicate tree path refused"
