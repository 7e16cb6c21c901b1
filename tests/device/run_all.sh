#!/bin/bash
# The GPU checks in one machine lease: each script writes into its own folder, and everything
# is packed into $OUT/results.tar.gz (the device tool brings back few files).
# Run from the repository root: OUT=/some/dir bash tests/device/run_all.sh [estimator quant bench fetch]
# Binaries built on the development machine may be carried in .devlib/{bin,lib}.
set -u
cd "$(dirname "$0")/../.."
: "${OUT:?set OUT}"
export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
if [ -d .devlib ]; then
	export LD_LIBRARY_PATH="$(pwd)/.devlib/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	export BENCH_BIN="$(pwd)/.devlib/bin/bench" FETCH_BIN="$(pwd)/.devlib/bin/fetch" MODELC_BIN="$(pwd)/.devlib/bin/modelc"
fi
res=$(mktemp -d)
status=0
for t in "${@:-estimator quant bench}"; do
	for name in $t; do
		mkdir -p "$res/$name"
		echo "=== $name ($(date -u +%H:%M:%S))"
		if OUT="$res/$name" timeout 420 bash "tests/device/${name}_gpu.sh" >"$res/$name/log.txt" 2>&1; then
			echo "$name: PASS"
		else
			echo "$name: FAIL (exit $?)"; status=1
		fi
		tail -n 25 "$res/$name/log.txt"
	done
done
tar -C "$res" -czf "$OUT/results.tar.gz" .
ls -la "$OUT"
exit $status
