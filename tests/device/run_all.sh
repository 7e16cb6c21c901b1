#!/bin/bash
# The GPU checks in one machine lease: each script writes into its own folder, and everything
# is packed into $OUT/results.tar.gz (the device tool brings back few files).
# Run from the repository root: OUT=/some/dir bash tests/device/run_all.sh [estimator quant bench fetch]
# Binaries built on the development machine may be carried in .devlib/{bin,lib}.
set -u
cd "$(dirname "$0")/../.."
: "${OUT:?set OUT}"
export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
res=$(mktemp -d)
if [ -d .devlib ]; then
	# Each carried binary gets a wrapper that points it alone at its libraries: an exported
	# LD_LIBRARY_PATH would hand the machine's own curl our libcurl and break the baselines.
	mkdir -p "$res/.bin"
	for b in bench fetch modelc; do
		printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$(pwd)/.devlib/lib" "$(pwd)/.devlib/bin/$b" >"$res/.bin/$b"
		chmod +x "$res/.bin/$b"
	done
	export BENCH_BIN="$res/.bin/bench" FETCH_BIN="$res/.bin/fetch" MODELC_BIN="$res/.bin/modelc"
fi
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
rm -rf "$res/.bin"
tar -C "$res" -czf "$OUT/results.tar.gz" .
ls -la "$OUT"
exit $status
