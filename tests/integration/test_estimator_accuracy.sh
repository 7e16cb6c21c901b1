#!/bin/sh
# The estimator meets issue 5's targets leave-one-out on the training cases, and the committed
# constants are what scripts/calibrate-estimator fits from them (anyone can redo them).
set -u
csv=tests/fixtures/estimator/vllm-cases-train.csv
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
echo "$out" | tail -n 4
tmp=$(mktemp)
/usr/bin/python3 scripts/calibrate-estimator --modelc "$BIN/modelc" --output - "$csv" >"$tmp"
if ! diff -u common/budget_calibration.h "$tmp"; then
	rm -f "$tmp"
	echo "FAIL: common/budget_calibration.h is not what scripts/calibrate-estimator fits"
	exit 1
fi
rm -f "$tmp"
echo "calibration reproduced"
