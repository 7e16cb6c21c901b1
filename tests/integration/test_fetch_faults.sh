#!/bin/sh
# Every fault the fake Hub can inject, one fresh cache each: after it, no unverified byte is
# visible in snapshots/, and a rerun completes. Faults hit model.safetensors (on the CDN) or
# config.json (on the Hub's resolve-cache route).
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
fh_start --gen org/tiny:3000000 --manifests "$T/man" --role chat=org/tiny
M="$T/man"
n=0

# run_fault MODE FILE COUNT EXPECTED_RC TEXT...: arm, fetch, check the exit code and texts,
# check the cache, clear, rerun, check the cache is complete.
run_fault() {
	mode=$1 file=$2 count=$3 want=$4
	shift 4
	n=$((n + 1))
	C="$T/c$n"
	fh_fault clear
	fh_fault "$mode" "$file" "$count"
	"$BIN/fetch" --manifests "$M" --cache "$C" >"$T/o$n" 2>&1
	rc=$?
	[ $rc -eq "$want" ] || { cat "$T/o$n" >&2; fail "$mode: exit $rc, expected $want"; }
	for text in "$@"; do
		expect_in "$T/o$n" "$text"
	done
	fh_check "$C" "$M"
	fh_fault clear
	"$BIN/fetch" --manifests "$M" --cache "$C" >"$T/r$n" 2>&1 || { cat "$T/r$n" >&2; fail "$mode: rerun failed"; }
	fh_check "$C" "$M" --complete
}

# Transient faults are retried within the run.
run_fault 500 model.safetensors 1 0 "fetch: chat: model.safetensors: $FH_CDN/cdn/" ": HTTP 500: fault 500; retry 1 in 0.1 s"
run_fault 503 model.safetensors 2 0 ": HTTP 503: fault 503; retry 1 in 1.0 s" ": HTTP 503: fault 503; retry 2 in 1.0 s"
run_fault 429 config.json 1 0 "fetch: chat: config.json: $FH_HUB/api/resolve-cache/models/org/tiny/" ": HTTP 429: fault 429; retry 1 in 1.0 s"
run_fault truncate model.safetensors 1 0 ": the body ended at 1.4 MiB of 2.9 MiB; retry 1 in 0.1 s" "5 files: 5 downloaded"
run_fault reset model.safetensors 1 0 "model.safetensors: $FH_CDN/cdn/" "; retry 1 in 0.1 s" "5 files: 5 downloaded"
grep -q '"range": "bytes=1' "$T/fh/data.log" || fail "reset: the retry did not resume with Range"
run_fault trickle config.json 1 0 "fetch: chat: config.json: verified"
# A fault that never stops: fetch gives up, keeps the partial file, a rerun resumes.
run_fault 500 model.safetensors -1 3 "; gave up after 6 tries without progress (the partial file is kept; run fetch again to resume)" \
	"fetch: error: chat: incomplete: fix the errors above and run fetch again" "4 downloaded"
# Corrupted bytes: the temp file is deleted, both hashes named, exit 1.
run_fault corrupt model.safetensors 1 1 "fetch: error: chat: model.safetensors: sha256 mismatch: expected " ", got " "; the download was deleted"
ls "$T/c$n/models--org--tiny/blobs/" | grep -q incomplete && fail "corrupt: the temp file was kept"
# A redirect loop stops.
run_fault loop model.safetensors -1 3 "fetch: error: chat: model.safetensors: $FH_HUB/org/tiny/resolve/" ": more than 10 redirects (a redirect loop?)"
# Range ignored: first leave a partial file (a reset that is never retried successfully), then
# a server that answers 200 to the ranged request: fetch starts again from 0.
n=$((n + 1))
C="$T/c$n"
fh_fault clear
fh_fault reset model.safetensors -1
"$BIN/fetch" --manifests "$M" --cache "$C" >"$T/o$n" 2>&1 && fail "norange setup: fetch should have failed"
[ -s "$C/models--org--tiny/blobs/$(ls "$C/models--org--tiny/blobs" | grep incomplete)" ] || fail "norange setup: no partial file"
fh_check "$C" "$M"
fh_fault clear
fh_fault norange model.safetensors 1
"$BIN/fetch" --manifests "$M" --cache "$C" >"$T/r$n" 2>&1 || { cat "$T/r$n" >&2; fail "norange rerun failed"; }
expect_in "$T/r$n" "fetch: chat: model.safetensors: resuming at "
expect_in "$T/r$n" "fetch: chat: model.safetensors: the server ignored Range; starting again from byte 0"
fh_check "$C" "$M" --complete
echo ok
