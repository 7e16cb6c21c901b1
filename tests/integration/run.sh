#!/bin/sh
# Run every tests/integration/test_*.sh and test_*.py as one test each, $MODELC_TEST_JOBS at a
# time (default: one per CPU), then tests/check-diagnostics.py, which fails when a message format
# in the source was printed by no unit, golden or integration test. A test exits 0 (pass), 77
# (skipped, with a reason on stderr) or anything else (fail); one whose file holds the line
# "# test: alone" runs after the others, by itself. Each test's output stays together, results
# come in name order, and the last line is the summary. The programs record the formats they
# print in BUILD/diag/integration.log (or in $MODELC_DIAG_LOG when set), and each test's exit
# status and seconds go to BUILD/integration-times.txt, whose longest tests start first next time.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
: "${BUILD:=$ROOT/build}"
export BUILD

# run_tests DIR TEST...: run each TEST no other worker has claimed; DIR/ID.rc gets "EXIT SECONDS".
run_tests() {
	d=$1
	shift
	for t in "$@"; do
		id=$(echo "$t" | tr '/.' '__')
		mkdir "$d/$id.claim" 2>/dev/null || continue
		t0=$(date +%s.%N)
		case "$t" in
		*.py) /usr/bin/python3 "$t" ;;
		*) sh "$t" ;;
		esac >"$d/$id.log" 2>&1 </dev/null
		rc=$?
		echo "$rc $t0 $(date +%s.%N)" | awk '{ printf "%d %.2f\n", $1, $3 - $2 }' >"$d/$id.tmp"
		mv "$d/$id.tmp" "$d/$id.rc"
	done
}
if [ "${1:-}" = --worker ]; then
	shift
	run_tests "$@"
	exit 0
fi

jobs=${MODELC_TEST_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}
R=$(mktemp -d "${TMPDIR:-/tmp}/modelc-integration.XXXXXX")
workers=""
# Each worker is a session of its own (setsid), so an interrupt stops every test it runs.
trap 'for p in $workers; do kill -TERM -"$p" 2>/dev/null; done; rm -rf "$R"; exit 130' INT TERM
trap 'rm -rf "$R"' EXIT

mkdir -p "$BUILD/diag"
records="$BUILD/diag"
if [ -n "${MODELC_DIAG_LOG:-}" ]; then
	records=$MODELC_DIAG_LOG
else
	MODELC_DIAG_LOG=$BUILD/diag/integration.log
	: >"$MODELC_DIAG_LOG"
fi
export MODELC_DIAG_LOG

# What several tests build and then use at once is built first: the test switches of
# switch_lib.sh, with them the musl objects that other tests link, and the test switch-proxy
# (three proxy tests run make on it; one linking it while another runs it gets EACCES).
if ! { (. tests/integration/switch_lib.sh) &&
	make -s --no-print-directory "$BUILD/test-switch/switch-proxy" PROXY_OUT="$BUILD/test-switch/switch-proxy"; } \
	>"$R/setup.log" 2>&1; then
	sed 's/^/    /' "$R/setup.log"
	echo "integration: setup failed (the test switch, switch-host and switch-proxy)"
	exit 1
fi

all="" alone="" shared=""
for t in tests/integration/test_*.sh tests/integration/test_*.py; do
	[ -e "$t" ] || continue
	all="$all $t"
	if grep -qx '# test: alone' "$t"; then alone="$alone $t"; fi
done
# Longest first (by the last run's times; new tests count as long), so that no long test starts last.
times=$BUILD/integration-times.txt
for t in $(for t in $all; do
	case " $alone " in *" $t "*) continue ;; esac
	s=$( [ -f "$times" ] && awk -v t="$t" '$1 == t { print $3 }' "$times")
	echo "${s:-999} $t"
done | sort -k1,1nr -k2 | cut -d' ' -f2); do shared="$shared $t"; done

n=0
while [ $n -lt "$jobs" ]; do
	setsid sh "$ROOT/tests/integration/run.sh" --worker "$R" $shared &
	workers="$workers $!"
	n=$((n + 1))
done

pass=0 fail=0 skip=0 alone_started=0
: >"$R/times"
for t in $all; do
	id=$(echo "$t" | tr '/.' '__')
	case " $alone " in *" $t "*)
		if [ $alone_started -eq 0 ]; then
			wait
			alone_started=1
			setsid sh "$ROOT/tests/integration/run.sh" --worker "$R" $alone &
			workers=$!
		fi ;;
	esac
	while [ ! -f "$R/$id.rc" ]; do sleep 0.1; done
	read -r rc secs <"$R/$id.rc"
	echo "$t $rc $secs" >>"$R/times"
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1)); echo "PASS $t ($secs s)"
	elif [ "$rc" -eq 77 ]; then
		skip=$((skip + 1)); echo "SKIP $t: $(tail -n 1 "$R/$id.log")"
	else
		fail=$((fail + 1)); echo "FAIL $t (exit $rc, $secs s)"; sed 's/^/    /' "$R/$id.log" | tail -n 40
	fi
done
wait
cp "$R/times" "$times"

# Last, with every record written: each message format in the source was printed by a test.
t=tests/check-diagnostics.py
/usr/bin/python3 "$t" "$records" "$BUILD/bin" >"$R/diag.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
	pass=$((pass + 1)); echo "PASS $t: $(tail -n 1 "$R/diag.log")"
elif [ $rc -eq 77 ]; then
	skip=$((skip + 1)); echo "SKIP $t: $(tail -n 1 "$R/diag.log")"
else
	fail=$((fail + 1)); echo "FAIL $t (exit $rc)"; sed 's/^/    /' "$R/diag.log"
fi
echo "integration: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
