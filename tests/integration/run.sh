#!/bin/sh
# Run every tests/integration/*.sh and *.py as one test each; the last line is the summary.
# An individual test exits 0 (pass), 77 (skipped, with a reason on stderr) or anything else (fail).
set -u
cd "$(dirname "$0")/../.."
pass=0 fail=0 skip=0 failed=""
for t in tests/integration/test_*.sh tests/integration/test_*.py; do
	[ -e "$t" ] || continue
	log=$(mktemp)
	case "$t" in
	*.py) /usr/bin/python3 "$t" >"$log" 2>&1 ;;
	*) sh "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); echo "PASS $t"
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); echo "SKIP $t: $(tail -n 1 "$log")"
	else
		fail=$((fail + 1)); failed="$failed $t"; echo "FAIL $t (exit $rc)"; sed 's/^/    /' "$log" | tail -n 40
	fi
	rm -f "$log"
done
echo "integration: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
