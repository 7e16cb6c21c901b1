#!/bin/sh
# fetch prune lists what no role uses (a repo, another commit's snapshot, a stray blob, a
# stale partial file), removes it only with --yes, reports the bytes, and never touches the
# active model even when the catalog no longer names it.
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
fh_start --gen org/a:50000 --gen org/b:60000 --gen org/c:70000 --manifests "$T/man" \
	--role a=org/a --role b=org/b --role c=org/c
C="$T/cache"
export HF_HUB_CACHE="$C"
"$BIN/fetch" --manifests "$T/man" >"$T/o1" 2>&1 || { cat "$T/o1"; fail "fetch failed"; }
A="$C/models--org--a"
mkdir -p "$A/snapshots/0000000000000000000000000000000000000000"
ln -s ../../blobs/deadbeef "$A/snapshots/0000000000000000000000000000000000000000/old.json"
printf 'old bytes' >"$A/blobs/deadbeef"
printf 'partial' >"$A/blobs/feedface.incomplete"
rm "$T/man/b.json" "$T/man/c.json"
printf '# written by switch --set; do not edit\nrole=c\nmodel_id=org/c\n' >"$T/active"

"$BIN/fetch" prune --manifests "$T/man" --active "$T/active" >"$T/o2" 2>&1 || { cat "$T/o2"; fail "prune listing failed"; }
expect_in "$T/o2" "fetch: $C/models--org--b "
expect_in "$T/o2" "(no role uses this repo)"
expect_in "$T/o2" "fetch: $A/snapshots/0000000000000000000000000000000000000000 0 B (a commit no role pins)"
expect_in "$T/o2" "fetch: $A/blobs/deadbeef 9 B (a blob no pinned file uses)"
expect_in "$T/o2" "fetch: $A/blobs/feedface.incomplete 7 B (a partial download no role needs)"
expect_in "$T/o2" "could be freed; run 'fetch prune --yes' to remove it"
grep -q "models--org--c" "$T/o2" && { cat "$T/o2"; fail "prune listed the active model"; }
[ -d "$C/models--org--b" ] || fail "prune without --yes removed something"

"$BIN/fetch" prune --yes --manifests "$T/man" --active "$T/active" >"$T/o3" 2>&1 || { cat "$T/o3"; fail "prune --yes failed"; }
expect_in "$T/o3" "fetch: freed "
[ -e "$C/models--org--b" ] && fail "org/b was not removed"
[ -e "$C/.locks/models--org--b" ] && fail "org/b's locks were not removed"
[ -e "$A/blobs/deadbeef" ] && fail "the stray blob was not removed"
[ -d "$C/models--org--c" ] || fail "the active model was removed"
"$BIN/fetch" a --manifests "$T/man" >"$T/o4" 2>&1 || fail "role a is damaged after prune"
expect_in "$T/o4" "5 files: 0 downloaded"

# Without manifests everything would look unused: refuse.
mkdir "$T/empty"
"$BIN/fetch" prune --yes --manifests "$T/empty" >"$T/o5" 2>&1
[ $? -eq 1 ] || fail "prune without manifests should refuse"
expect_in "$T/o5" "fetch: error: $T/empty: no manifests, so no way to tell what is used; run 'modelc build' first"
[ -d "$A" ] || fail "prune without manifests removed something"
echo ok
