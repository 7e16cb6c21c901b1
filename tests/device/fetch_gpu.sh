#!/bin/bash
# fetch on the GPU machine: a fake Hub on loopback serves a small random-weight Llama built
# with transformers (sharded safetensors + index); fetch puts it in a fresh cache; then
# `hf cache verify` and AutoModelForCausalLM.from_pretrained(repo, local_files_only=True)
# must accept it and give the same weights. Also times `hf download` against fetch on
# 2 x 1 GiB LFS files. Results in $OUT (fetch_gpu.json, fetch_gpu.txt).
#
# The fetch binary: $FETCH_BIN if set (run_all.sh sets it from .devlib), else one built here
# with gcc when the libcurl/libsodium/libcrypto/jansson headers are present, else
# build/fetch-bundle/fetch (made by tests/device/fetch_bundle.sh on the dev machine and
# carried along: it brings its own libraries and loader).
# Run from the repository root: OUT=/some/dir bash tests/device/fetch_gpu.sh
set -u
cd "$(dirname "$0")/../.."
: "${OUT:?set OUT to a folder for the results}"
mkdir -p "$OUT"
if [ -z "${FETCH_BIN:-}" ] || [ ! -x "${FETCH_BIN:-}" ]; then
	FETCH_BIN=
	if command -v gcc >/dev/null 2>&1 && printf '#include <curl/curl.h>\n#include <sodium.h>\n#include <openssl/evp.h>\n#include <jansson.h>\n' |
		gcc -E -x c - >/dev/null 2>&1; then
		mkdir -p "$OUT/bin"
		if gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -DMODELC_VERSION='"device"' -DMODELC_DATADIR='"/usr/local/share/modelc"' \
			-Icommon -Ihub -Iruntime/fetch -o "$OUT/bin/fetch" runtime/fetch/*.c hub/*.c \
			common/*.c \
			-lcurl -lsodium -lcrypto -ljansson -lpthread -lm 2>"$OUT/build.log"; then
			FETCH_BIN="$OUT/bin/fetch"
			echo "fetch_gpu: built fetch here with gcc"
		else
			echo "fetch_gpu: building fetch here failed (see build.log)"
		fi
	fi
	if [ -z "$FETCH_BIN" ] && [ -x build/fetch-bundle/fetch ]; then
		FETCH_BIN="$(pwd)/build/fetch-bundle/fetch"
		echo "fetch_gpu: using the carried bundle build/fetch-bundle"
	fi
fi
if [ -z "$FETCH_BIN" ]; then
	echo "fetch_gpu: no fetch binary: set FETCH_BIN, install libcurl4-openssl-dev libsodium-dev libssl-dev libjansson-dev, or carry build/fetch-bundle" >&2
	exit 3
fi
"$FETCH_BIN" --version || exit 3
export FETCH_BIN
exec python3 tests/device/fetch_gpu.py
