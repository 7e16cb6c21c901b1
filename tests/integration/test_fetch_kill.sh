#!/bin/sh
# kill -9 of fetch in the middle of a file: nothing unverified is visible in snapshots/, and
# the rerun resumes from the partial file with a Range request and completes.
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
fh_start --gen org/tiny:2000000 --manifests "$T/man" --role chat=org/tiny
C="$T/cache"
fh_fault trickle model.safetensors 1
"$BIN/fetch" --manifests "$T/man" --cache "$C" >"$T/o1" 2>&1 &
pid=$!
i=0
part=
while :; do
	part=$(ls "$C"/models--org--tiny/blobs/*.incomplete 2>/dev/null | head -n 1)
	[ -n "$part" ] && [ "$(wc -c <"$part")" -gt 100000 ] && break
	i=$((i + 1))
	[ $i -gt 300 ] && fail "no partial file appeared"
	sleep 0.05
done
kill -9 $pid
wait $pid 2>/dev/null
fh_check "$C" "$T/man"
[ -e "$C/models--org--tiny/refs/main" ] && fail "refs/main was written for an incomplete model"
have=$(wc -c <"$part")
fh_fault clear
: >"$T/fh/data.log"
"$BIN/fetch" --manifests "$T/man" --cache "$C" >"$T/o2" 2>&1 || { cat "$T/o2"; fail "rerun failed"; }
expect_in "$T/o2" "fetch: chat: model.safetensors: resuming at "
grep -q "\"range\": \"bytes=$have-\"" "$T/fh/data.log" || fail "the rerun did not ask for bytes=$have-"
fh_check "$C" "$T/man" --complete
echo ok
