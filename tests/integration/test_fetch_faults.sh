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

# The pinned sha256 of model.safetensors: its blob's name and the tail of its CDN URL.
SHA=$(/usr/bin/python3 -c 'import json,sys;print([f["sha256"] for f in json.load(open(sys.argv[1]))["files"] if f["path"] == "model.safetensors"][0])' "$M/chat.json")

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
# A Content-Length 1000 bytes over the body, the whole body, then close: every pinned byte is
# there, so fetch verifies them rather than asking for bytes=SIZE- (which servers answer 416).
run_fault overlength model.safetensors -1 0 \
	"fetch: chat: model.safetensors: verified 2.9 MiB (sha256 $SHA)" "5 files: 5 downloaded"
expect_line "$T/o$n" "fetch: chat: model.safetensors: $FH_CDN/cdn/$SHA: transfer closed with 1000 bytes remaining to read; all 2.9 MiB the manifest pins have arrived, so they are verified instead of resumed"
grep '"fault": "overlength"' "$T/fh/data.log" | grep -v '"range": null' && fail "overlength: fetch asked for a range"
grep -q '"fault": "overlength"' "$T/fh/data.log" || fail "overlength: the fault never fired"
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

# A 416 that remains: the first MiB of the file as a partial file, and a server that refuses
# every ranged request. The error says what the 416 means and what to do; the partial file is
# kept; without the fault a rerun resumes it.
n=$((n + 1))
C="$T/c$n"
B="$C/models--org--tiny/blobs"
mkdir -p "$B"
head -c 1048576 "$T/c1/models--org--tiny/blobs/$SHA" >"$B/$SHA.incomplete"
fh_fault clear
fh_fault 416 model.safetensors -1
"$BIN/fetch" --manifests "$M" --cache "$C" >"$T/o$n" 2>&1
rc=$?
[ $rc -eq 3 ] || { cat "$T/o$n" >&2; fail "416: exit $rc, expected 3"; }
expect_line "$T/o$n" "fetch: chat: model.safetensors: resuming at 1.0 MiB of 2.9 MiB"
expect_line "$T/o$n" "fetch: error: chat: model.safetensors: $FH_CDN/cdn/$SHA: HTTP 416 (range not satisfiable): the server refused to send the file from byte 1048576 (1.0 MiB of 2.9 MiB), a range the pinned file has; the partial file $B/$SHA.incomplete is kept: run fetch again to retry, or delete it to download the file from the start"
expect_line "$T/o$n" "fetch: error: chat: incomplete: fix the errors above and run fetch again"
[ "$(wc -c <"$B/$SHA.incomplete")" -eq 1048576 ] || fail "416: the partial file changed"
fh_check "$C" "$M"
# The same 416 where the server's size (Content-Range: bytes */SIZE) is not the pinned one:
# another file than the pinned one, exit 1.
mkdir "$T/m416"
/usr/bin/python3 - "$M/chat.json" "$T/m416/chat.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for f in m["files"]:
    if f["path"] == "model.safetensors":
        f["size"] += 10
m["total_bytes"] += 10
json.dump(m, open(sys.argv[2], "w"), indent=2)
PY
"$BIN/fetch" --manifests "$T/m416" --cache "$C" >"$T/p$n" 2>&1
rc=$?
[ $rc -eq 1 ] || { cat "$T/p$n" >&2; fail "416 with another size: exit $rc, expected 1"; }
expect_line "$T/p$n" "fetch: error: chat: model.safetensors: $FH_CDN/cdn/$SHA: HTTP 416 (range not satisfiable): the server refused to resume at 1.0 MiB because its file has 3000192 bytes (2.9 MiB) and the manifest pins 3000202 (2.9 MiB): it serves another file than the one pinned (check HF_ENDPOINT, or run 'modelc lock chat' and 'modelc build' if the pin is wrong); the partial file is kept"
fh_fault clear
"$BIN/fetch" --manifests "$M" --cache "$C" >"$T/r$n" 2>&1 || { cat "$T/r$n" >&2; fail "416: rerun failed"; }
expect_line "$T/r$n" "fetch: chat: model.safetensors: resuming at 1.0 MiB of 2.9 MiB"
fh_check "$C" "$M" --complete
echo ok
