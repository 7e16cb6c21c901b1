# Shared by tests/integration/test_switch*.sh: switch with switch-host beside it (serve, doctor,
# gpu: switch execs it from its own folder), the runtime table modelc builds from the test catalog
# (tests/fixtures/switch/), a scratch folder, and assertions that print what differed. Sourced,
# not run.
set -u
: "${BIN:?BIN must point at build/bin}"
ROOT=$(pwd)
BUILD=${BUILD:-$ROOT/build}
SW=$BUILD/test-switch/switch
make -s --no-print-directory "$SW" "$SW-host" SWITCH_OUT="$SW" >/dev/null ||
	{ echo "cannot build the test switch"; exit 1; }
T=$(mktemp -d /tmp/modelc-switch-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
# The catalog in the scratch folder, so that a test may touch it (switch's staleness check).
mkdir -p "$T/catalog"
cp tests/fixtures/switch/models.yaml tests/fixtures/switch/models.lock "$T/catalog/"
(cd "$T/catalog" && MODELC_SCHEMA_DIR="$ROOT/schemas" "$BIN/modelc" build -o gen) >"$T/build.log" 2>&1 ||
	{ echo "cannot build the test table:"; cat "$T/build.log"; exit 1; }
# What modelc would never write: a role whose id no shell quoting reads back the same
# (modelc refuses such a value in .env), a disk budget of 100 bytes (under the downloads) and one
# of 1 EB (no volume has it).
EDIT="/usr/bin/python3 $ROOT/tests/integration/table_edit.py"
TABLE=$T/switch.table
$EDIT "$T/catalog/gen/switch.table" "$TABLE" "unexportable.model_id=/mnt/f/models/it's \"\$x\"" \
	"unexportable.local_dir=/mnt/f/models/it's \"\$x\"" || { echo "cannot edit the test table"; exit 1; }
$EDIT "$TABLE" "$T/switch-disk100.table" settings.disk_budget=100 &&
	$EDIT "$TABLE" "$T/switch-diskEB.table" settings.disk_budget=1000000000000000000 ||
	{ echo "cannot edit the test table"; exit 1; }
export MODELC_TABLE="$TABLE"
# PATH without any nvidia-smi, and a bin folder a test can fill; a `vllm` that only exits, as a GPU
# host has one on PATH (doctor checks it; tests that start a server put theirs there, or remove it).
mkdir -p "$T/bin" "$T/work"
printf '#!/bin/sh\nexit 0\n' >"$T/bin/vllm" && chmod +x "$T/bin/vllm"
BASEPATH="$T/bin:/usr/bin:/bin"
export PATH="$BASEPATH" MODELC_HF_HOME="$T/hf" NO_COLOR=1 LC_ALL=C
export FAKE_NVSMI_DIR="$ROOT/tests/fixtures/nvidia-smi"
unset MODELC_ACTIVE_FILE VLLM_MODEL_ID CUDA_VISIBLE_DEVICES
cd "$T/work"
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run NAME EXPECTED_EXIT CMD...: runs CMD with stdout in $T/out, stderr in $T/err.
run() {
	name=$1 want=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" -eq "$want" ] || { fail "$name: exit $got, expected $want"; sed 's/^/    err: /' "$T/err"; }
}

# same NAME FILE: FILE (out or err) equals the text on stdin.
same() {
	cat >"$T/want"
	diff -u "$T/want" "$T/$2" >"$T/diff" || { fail "$1: $2 differs"; cat "$T/diff"; }
}

# has NAME FILE TEXT: FILE contains the line TEXT.
has() {
	grep -qxF -- "$3" "$T/$2" || { fail "$1: $2 lacks the line: $3"; sed 's/^/    /' "$T/$2"; }
}

# contains NAME FILE TEXT: FILE contains TEXT somewhere.
contains() {
	grep -qF -- "$3" "$T/$2" || { fail "$1: $2 lacks: $3"; sed 's/^/    /' "$T/$2"; }
}

fake_nvsmi() {
	ln -sf "$ROOT/tests/fixtures/nvidia-smi/nvidia-smi" "$T/bin/nvidia-smi"
	export FAKE_NVSMI_SCENARIO=$1
}

no_nvsmi() {
	rm -f "$T/bin/nvidia-smi"
}

# A snapshot folder of primary in the scratch cache, with all (or only some) manifest files.
primary_snapshot() {
	d="$T/hf/hub/models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4/snapshots/0123456789abcdef0123456789abcdef01234567"
	mkdir -p "$d"
	printf 123456789012 >"$d/config.json"
	if [ "${1:-all}" = all ]; then
		head -c 64 /dev/zero >"$d/model.safetensors"
	else
		rm -f "$d/model.safetensors"
	fi
}

finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures failure(s)"
		exit 1
	fi
	echo "all passed"
	exit 0
}
