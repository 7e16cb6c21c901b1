#!/bin/sh
# fetch and fetch prune at the edges: a role argument that is a path, a folder without
# manifests, a local-only role, a cached file of the wrong size, a blob another download holds
# the lock of and finishes meanwhile, and prune with no cache, a cache that is a file, a
# manifest it cannot read, and a removal that fails (an LD_PRELOAD shim).
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
. tests/fixtures/faults.sh
fh_start --gen org/tiny:300000 --manifests "$T/man" --role chat=org/tiny
C="$T/cache"
export HF_HUB_CACHE="$C"

# expect_exit CODE FILE CMD...: run CMD with stdout and stderr in FILE; CODE is its exit status.
expect_exit() {
	want=$1 out=$2
	shift 2
	"$@" >"$out" 2>&1
	got=$?
	[ "$got" -eq "$want" ] || { cat "$out" >&2; fail "$*: exit $got, expected $want"; }
}

expect_exit 1 "$T/o1" "$BIN/fetch" --manifests "$T/man" x/y
expect_in "$T/o1" "fetch: error: x/y: not a role name"
mkdir "$T/empty"
expect_exit 1 "$T/o2" "$BIN/fetch" --manifests "$T/empty"
expect_in "$T/o2" "fetch: error: $T/empty: no manifests (run 'modelc build')"

# A role whose model is a local directory only: nothing to download.
mkdir "$T/m2"
/usr/bin/python3 - "$T/man/chat.json" "$T/m2/local.json" <<'PY' || fail "manifest edit"
import json, sys
m = json.load(open(sys.argv[1]))
json.dump(dict(m, role="local", download=False), open(sys.argv[2], "w"))
PY
expect_exit 0 "$T/o3" "$BIN/fetch" --manifests "$T/m2" local
expect_in "$T/o3" "fetch: local: local-only role: nothing to download"

# A cached blob of the wrong size is removed and downloaded again.
expect_exit 0 "$T/o4" "$BIN/fetch" --manifests "$T/man"
big=$(/usr/bin/python3 -c 'import json,sys; print([f["sha256"] for f in json.load(open(sys.argv[1]))["files"] if f["lfs"]][0])' "$T/man/chat.json")
B="$C/models--org--tiny/blobs/$big"
printf x >>"$B"
expect_exit 0 "$T/o5" "$BIN/fetch" --manifests "$T/man"
expect_in "$T/o5" "fetch: chat: model.safetensors: $B has 300185 bytes, the manifest pins 300184; removing it"
expect_in "$T/o5" "fetch: 5 files: 1 downloaded"
fh_check "$C" "$T/man"

# Another download holds the blob's lock and finishes it meanwhile: fetch waits, then verifies
# the blob it finds instead of downloading it.
C2="$T/cache2"
mkdir -p "$C2/.locks/models--org--tiny" "$C2/models--org--tiny/blobs"
flock "$C2/.locks/models--org--tiny/$big.lock" sh -c 'touch "$1.held"; sleep 1; cp "$2" "$3"' sh \
	"$T/lock" "$B" "$C2/models--org--tiny/blobs/$big" &
holder=$!
n=0
while [ ! -f "$T/lock.held" ]; do n=$((n + 1)); [ $n -gt 100 ] && fail "the lock holder did not start"; sleep 0.1; done
expect_exit 0 "$T/o6" "$BIN/fetch" --manifests "$T/man" --cache "$C2"
wait $holder
expect_in "$T/o6" "fetch: chat: model.safetensors: waiting for the blob's lock (another download of the same blob is running)"
expect_in "$T/o6" "fetch: chat: model.safetensors: already in the cache; verified"
fh_check "$C2" "$T/man"

# prune: no cache, a cache that is a file, a manifest it cannot read.
expect_exit 0 "$T/o7" "$BIN/fetch" prune --manifests "$T/man" --cache "$T/nocache"
expect_in "$T/o7" "fetch: $T/nocache does not exist; nothing to prune"
printf x >"$T/afile"
expect_exit 3 "$T/o8" "$BIN/fetch" prune --manifests "$T/man" --cache "$T/afile"
expect_in "$T/o8" "fetch: error: $T/afile: Not a directory"
mkdir "$T/m3"
printf '{' >"$T/m3/bad.json"
expect_exit 1 "$T/o9" "$BIN/fetch" prune --manifests "$T/m3"
expect_in "$T/o9" "fetch: error: bad: $T/m3/bad.json:1:1: not valid JSON: string or '}' expected near end of file; nothing pruned"

# A removal that fails is an error naming the path; the rest stays.
faults_build "$T"
printf 'stray' >"$C/models--org--tiny/blobs/deadbeef"
expect_exit 3 "$T/o10" env LD_PRELOAD="$FAULTS" FAULT_UNLINK=deadbeef "$BIN/fetch" prune --yes --manifests "$T/man"
expect_in "$T/o10" "fetch: error: $C/models--org--tiny/blobs/deadbeef: Permission denied"
[ -f "$C/models--org--tiny/blobs/deadbeef" ] || fail "the blob that could not be removed is gone"
echo ok
