#!/bin/sh
# Golden tests: each tests/golden/<case>/ holds a `cmd` file (a shell command line run inside
# a scratch copy of the case folder, with $BIN pointing at the built programs), and the expected
# `stdout`, `stderr` and `exit`. Files under `expected/` must match what the command wrote to
# `out/`, byte for byte. Differences are shown with diff -u. The last line is the summary.
# The programs record the format of each message they print in BIN/../diag/golden.log (or in
# $MODELC_DIAG_LOG when set), which tests/check-diagnostics.py reads after the integration tests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${BIN:?BIN must point at build/bin}"
if [ -z "${MODELC_DIAG_LOG:-}" ]; then
	mkdir -p "$BIN/../diag" && MODELC_DIAG_LOG=$(cd "$BIN/../diag" && pwd)/golden.log && : >"$MODELC_DIAG_LOG"
fi
export BIN NO_COLOR=1 LC_ALL=C MODELC_DIAG_LOG
pass=0 fail=0
for dir in "$here"/*/; do
	name=$(basename "$dir")
	[ -f "$dir/cmd" ] || continue
	work=$(mktemp -d)
	cp -R "$dir"/. "$work"/
	rm -rf "$work/expected" "$work/out"
	(cd "$work" && sh ./cmd >"$work/.stdout" 2>"$work/.stderr"; echo $? >"$work/.exit")
	ok=1
	for f in stdout stderr exit; do
		if [ -f "$dir/$f" ]; then
			diff -u "$dir/$f" "$work/.$f" >"$work/.diff" 2>&1 || { ok=0; echo "--- $name: $f differs"; cat "$work/.diff"; }
		fi
	done
	if [ -d "$dir/expected" ]; then
		diff -ru "$dir/expected" "$work/out" >"$work/.diff" 2>&1 || { ok=0; echo "--- $name: outputs differ"; head -n 80 "$work/.diff"; }
	fi
	if [ $ok -eq 1 ]; then pass=$((pass + 1)); echo "PASS $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi
	rm -rf "$work"
done
echo "golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
