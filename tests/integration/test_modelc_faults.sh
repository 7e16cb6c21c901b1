#!/bin/sh
# modelc when the system fails it (an LD_PRELOAD shim, tests/fixtures/faults.c): memory runs out
# reading the catalog and naming an output file, open_memstream fails, /dev/null cannot be
# opened. Each says what failed, and nothing is written.
set -u
: "${BIN:?BIN must point at build/bin}"
MODELC_SCHEMA_DIR=${MODELC_SCHEMA_DIR:-$(pwd -P)/schemas}
export MODELC_SCHEMA_DIR NO_COLOR=1 LC_ALL=C
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. tests/fixtures/faults.sh
faults_build "$T"
cp tests/golden/build_ok/models.yaml tests/golden/build_ok/models.lock "$T/"
cd "$T" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect NAME EXIT CMD...: CMD's stderr (in $T/err) is the text on stdin and its status EXIT.
expect() {
	name=$1 want=$2
	shift 2
	cat >"$T/want"
	(ulimit -c 0; exec "$@") >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" -eq "$want" ] || fail "$name: exit $got, expected $want"
	diff -u "$T/want" "$T/err" || fail "$name: stderr differs"
}

# A catalog of 2 MiB (comments): the buffer it is read into cannot grow past 1 MiB. Sanitizer
# builds refuse the allocation themselves (allocator_may_return_null), with a warning of their
# own in log_path; nothing else may be there.
cp models.yaml big.yaml
/usr/bin/python3 -c 'import sys; sys.stdout.write(("# " + "x" * 1021 + "\n") * 2048)' >>big.yaml
if [ "$FAULTS_MALLOC" = yes ]; then
	expect "out of memory" 134 env LD_PRELOAD="$FAULTS" FAULT_MALLOC=1048577 "$BIN/modelc" check big.yaml <<'X'
out of memory
X
else
	expect "out of memory" 134 env ASAN_OPTIONS="${ASAN_OPTIONS:-}:allocator_may_return_null=1:max_allocation_size_mb=1:log_path=$T/asan" \
	    "$BIN/modelc" check big.yaml <<'X'
out of memory
X
	cat "$T"/asan.* 2>/dev/null | grep -v 'WARNING: AddressSanitizer failed to allocate' | grep . &&
		fail "out of memory: the sanitizer reported more than the refused allocation"
fi

# The name of a file in the new output folder cannot be allocated (sizes near its path's
# length, once the folder's temporary sibling exists).
if [ "$FAULTS_MALLOC" = yes ]; then
	out=$T/$(printf 'o%.0s' $(seq 1 200))/gen
	mkdir -p "${out%/gen}"
	n=${#out}
	expect "out of memory naming a file" 134 env LD_PRELOAD="$FAULTS" FAULT_MALLOC_ARM=gen.tmp. \
	    FAULT_MALLOC=$((n + 15))-$((n + 40)) "$BIN/modelc" build -o "$out" <<'X'
modelc: models.yaml:8:3: note: server: no calibrated case of vLLM generation v1-graphs-in-budget (the default, the newest modelled; nearest with cases: v1): every role's margin widens by 4.7% of its KV cache
modelc: out of memory
X
	[ -e "$out" ] && fail "out of memory: $out was written"
fi

expect "memstream" 3 env LD_PRELOAD="$FAULTS" FAULT_MEMSTREAM=1 "$BIN/modelc" check --json <<'X'
modelc: check: cannot capture diagnostics: Cannot allocate memory
X
expect "/dev/null" 3 env LD_PRELOAD="$FAULTS" FAULT_OPEN=/dev/null "$BIN/modelc" explain chat <<'X'
modelc: explain: /dev/null: Permission denied
X

[ $failures -eq 0 ] && echo ok
exit $((failures > 0))
