#!/bin/sh
# Run each named libFuzzer target for $FUZZ_SECONDS on a scratch copy of its seed corpus, then
# report executions and line coverage of the code it reaches (llvm-cov). Crashes are kept in
# build/fuzz/crashes/<target>/ and fail the run: each becomes a regression seed in the corpus.
# FUZZ_RUNS=N stops a target after N executions (FUZZ_SECONDS still caps its time).
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-30}
runs=${FUZZ_RUNS:--1}
# FUZZ_BIN: where the targets are (a copy keeps a long run safe from a rebuild meanwhile).
bin=${FUZZ_BIN:-build/fuzz/bin}
prof=$(command -v llvm-profdata || echo /usr/lib/llvm-14/bin/llvm-profdata)
cov=$(command -v llvm-cov || echo /usr/lib/llvm-14/bin/llvm-cov)
fail=0 pass=0
for t in "$@"; do
	work=$(mktemp -d)
	# Targets that parse files write their scratch file here: tmpfs when there is one.
	FUZZ_TMP=$(mktemp -d /dev/shm/fuzz.XXXXXX 2>/dev/null || mktemp -d)
	export FUZZ_TMP
	mkdir -p "$work/corpus" "build/fuzz/crashes/$t"
	cp -R "tests/fuzz/corpus/$t/." "$work/corpus/" 2>/dev/null || true
	start=$(date +%s)
	LLVM_PROFILE_FILE="$work/%p.profraw" "$bin/fuzz_$t" -max_total_time="$secs" -runs="$runs" \
		-rss_limit_mb=1024 -max_len=65536 -artifact_prefix="build/fuzz/crashes/$t/" -print_final_stats=1 \
		"$work/corpus" >"$work/log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	# Coverage over the whole corpus the run produced, restricted to the project's sources.
	LLVM_PROFILE_FILE="$work/cov.profraw" "$bin/fuzz_$t" -runs=0 "$work/corpus" >/dev/null 2>&1
	# The code a target is for is named on its first line: "fuzz-covers: FILE[:FUNCTION] ...".
	covers=$(sed -n '1s/.*fuzz-covers: *\(.*\) *\*\/.*/\1/p' "tests/fuzz/fuzz_$t.c")
	line=""
	if "$prof" merge -sparse -o "$work/cov.profdata" "$work/cov.profraw" 2>/dev/null; then
		files="" funcs=""
		for c in $covers; do
			case "$c" in
			*:*) files="$files ${c%%:*}"; funcs="$funcs ${c#*:}" ;;
			*) files="$files $c" ;;
			esac
		done
		if [ -n "$funcs" ]; then
			# Line coverage of the named functions only, from the per-function report.
			line=$("$cov" report -show-functions "$bin/fuzz_$t" -instr-profile="$work/cov.profdata" $files 2>/dev/null |
				awk -v want="$funcs" 'BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) keep[w[i]] = 1 }
				$1 in keep { lines += $(NF-2); missed += $(NF-1) }
				END { if (lines) printf "%.2f%%", 100 * (lines - missed) / lines }')
		else
			# shellcheck disable=SC2086
			line=$("$cov" report "$bin/fuzz_$t" -instr-profile="$work/cov.profdata" $files 2>/dev/null |
				awk '/^TOTAL/ {print $(NF-3)}')
		fi
	fi
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); echo "fuzz $t: ok, ${execs:-?} executions in ${took}s, line coverage ${line:-?}"
	else
		fail=$((fail + 1)); echo "fuzz $t: FAILED (exit $rc), artifacts in build/fuzz/crashes/$t/"
		tail -n 30 "$work/log"
	fi
	rm -rf "$work" "$FUZZ_TMP"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
