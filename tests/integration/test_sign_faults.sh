#!/bin/sh
# modelc keygen when memory is short (the LD_PRELOAD shim, tests/fixtures/faults.c, makes
# libsodium's mmap fail): no locked memory for the key is an error and writes nothing; where
# scrypt cannot have minisign's 1 GiB, the key is encrypted with lower limits, as minisign does,
# with a warning, and minisign still opens it (that part skipped without minisign).
set -u
: "${BIN:?BIN must point at build/bin}"
MODELC_SCHEMA_DIR=${MODELC_SCHEMA_DIR:-$(pwd -P)/schemas}
export MODELC_SCHEMA_DIR NO_COLOR=1 LC_ALL=C
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
. tests/fixtures/faults.sh
faults_build "$T"
cd "$T" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { cat >"$T/want"; diff -u "$T/want" "$1" >&2 || fail "$1 is not as expected"; }

# No anonymous mapping at all: sodium_malloc cannot give the key its guarded, locked pages.
env LD_PRELOAD="$FAULTS" FAULT_MMAP=1 "$BIN/modelc" keygen -W -s k0.key -p k0.pub >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || { cat "$T/out" "$T/err"; fail "keygen without locked memory exited $rc, expected 3"; }
expect "$T/err" <<EOF
modelc: keygen: cannot allocate locked memory for the key
EOF
[ -e k0.key ] || [ -e k0.pub ] && fail "keygen without locked memory wrote a key"

# Mappings of 300 MB and more fail: scrypt's 1 GiB and 512 MiB do, 256 MiB (halved twice) fits.
umask 077
printf 'correct horse battery staple\n' >pass
umask 022
env LD_PRELOAD="$FAULTS" FAULT_MMAP=300000000 "$BIN/modelc" keygen -s k1.key -p k1.pub --passphrase-file pass \
    >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; fail "keygen with scrypt's memory short"; }
expect "$T/err" <<EOF
modelc: keygen: warning: not enough memory for minisign's scrypt limits; the key was encrypted with lower ones
EOF
/usr/bin/python3 - k1.key <<'PY' || fail "the key does not hold the lowered limits"
import base64, struct, sys
b = base64.b64decode(open(sys.argv[1]).read().splitlines()[1])
assert b[2:4] == b"Sc", b[:6]
ops, mem = struct.unpack("<QQ", b[38:54])
assert (ops, mem) == (1 << 23, 1 << 28), (ops, mem)
PY
if command -v minisign >/dev/null 2>&1; then
	echo "a message" >msg
	minisign -S -s k1.key -m msg <pass >/dev/null 2>&1 || fail "minisign -S with the key of lowered limits"
	minisign -V -q -m msg -p k1.pub || fail "minisign -V of that signature"
else
	echo "minisign is missing: the key of lowered limits is not opened with it"
fi
echo "keygen without locked memory refuses; with scrypt's memory short, lower limits minisign opens"
