#!/bin/sh
# The estimator meets issue 15's targets on the grown corpus (leave-one-out, leave-one-family-out), and the committed
# constants are what scripts/calibrate-estimator fits from them (anyone can redo them).
set -u
csv=tests/fixtures/estimator/vllm-cases.csv
if [ ! -f "$csv" ]; then
	echo "skip: $csv not found" >&2
	exit 77
fi
: "${BIN:=$(pwd)/build/bin}"
out=$(/usr/bin/python3 scripts/bench-estimator --check --modelc "$BIN/modelc" "$csv") || {
	echo "$out"
	echo "FAIL: accuracy targets not met"
	exit 1
}
echo "$out" | tail -n 3
tmp=$(mktemp)
/usr/bin/python3 scripts/calibrate-estimator --modelc "$BIN/modelc" --output - "$csv" >"$tmp" 2>/dev/null
if ! diff -u common/budget_calibration.h "$tmp"; then
	rm -f "$tmp"
	echo "FAIL: common/budget_calibration.h is not what scripts/calibrate-estimator fits"
	exit 1
fi
rm -f "$tmp"
echo "calibration reproduced"
