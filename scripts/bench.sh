#!/bin/sh
# make bench: every benchmark section in turn. Each prints numbers measured side by side in
# this one run, with ratios; nothing here asserts a time. $BIN is build/bin (absolute).
set -u
cd "$(dirname "$0")/.."
: "${BIN:=$(pwd)/build/bin}"
export BIN
section() { printf '\n== %s ==\n' "$1"; }

# Sections are added below, one per program.

section "switch: --set against the Python switcher and a static no-op; size"
sh scripts/bench-switch

section "modelc build: seed catalog and generated catalogs of 1,000 and 10,000 roles"
sh scripts/bench-modelc

# The grown corpus of issue 15 (frozen in cfddab8); CSV=... for another set.
: "${CSV:=tests/fixtures/estimator/vllm-cases.csv}"
section "estimator accuracy: modelc fit against vLLM start-up logs (CSV=$CSV)"
if command -v python3 >/dev/null 2>&1; then
	python3 scripts/bench-estimator --modelc "$BIN/modelc" "$CSV"
else
	echo "skipped: python3 not found"
fi

section "fetch: 2 x 1 GiB from the fake Hub on loopback against curl (+ sha256sum); verify speed; peak RSS"
if command -v python3 >/dev/null 2>&1 && [ -x "$BIN/fetch" ]; then
	python3 tests/fixtures/fakehub/bench_fetch.py
else
	echo "skipped: python3 or build/bin/fetch missing"
fi

section "switch proxy: TTFT added (p50, p99) and throughput through the proxy against direct to the stand-in vLLM; CPU shares; sizes"
if command -v python3 >/dev/null 2>&1 && [ -x "$BIN/modelc" ]; then
	make -s --no-print-directory "$BIN/switch" "$BIN/switch-proxy" >/dev/null && python3 scripts/bench-proxy
else
	echo "skipped: python3 or build/bin/modelc missing"
fi

section "bench: measurement overhead against the stand-in vLLM (TTFT 0 ms, ITL 1 ms configured)"
if command -v python3 >/dev/null 2>&1 && [ -x "$BIN/bench" ]; then
	sh scripts/bench-bench
else
	echo "skipped: python3 or build/bin/bench missing"
fi
