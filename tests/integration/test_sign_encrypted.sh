#!/bin/sh
# Encrypted secret keys at minisign's scrypt limits (opslimit 2^25, memlimit 1 GiB), the one
# test that pays for them (five derivations): a key modelc keygen encrypted signs with
# minisign -S, a key minisign -G encrypted signs with modelc sign, a wrong passphrase is
# refused; while modelc waits for the passphrase its argv is clean, core files are off and
# the key sits in locked memory. Skipped (77) without minisign (Debian: minisign).
set -u
: "${BIN:?BIN must point at build/bin}"
command -v minisign >/dev/null 2>&1 || { echo "minisign is missing (Debian package minisign)" >&2; exit 77; }
MODELC_SCHEMA_DIR=${MODELC_SCHEMA_DIR:-$(pwd -P)/schemas}
export MODELC_SCHEMA_DIR NO_COLOR=1 LC_ALL=C
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { cat >"$T/want"; diff -u "$T/want" "$1" >&2 || fail "$1 is not as expected"; }
W="$T/w"
mkdir -p "$W"
cp tests/golden/build_usage/models.yaml tests/golden/build_usage/models.lock "$W/"
cd "$W" || exit 1
"$BIN/modelc" build 2>/dev/null || fail "build"
umask 077
printf 'correct horse battery staple\n' >pass
printf 'wrong horse\n' >wrong
umask 022

# Refusals that derive nothing: a readable passphrase file, an empty passphrase.
cp pass open-pass && chmod 644 open-pass
"$BIN/modelc" keygen -s k1.key -p k1.pub --passphrase-file open-pass 2>"$T/err" && fail "open passphrase file accepted"
expect "$T/err" <<EOF
modelc: keygen: open-pass: mode 0644 lets other users at this secret; run 'chmod 600 open-pass'; nothing written
EOF
printf '\n' | "$BIN/modelc" keygen -s k1.key -p k1.pub --passphrase-fd 0 2>"$T/err" && fail "empty passphrase accepted"
expect "$T/err" <<EOF
modelc: keygen: an empty passphrase does not protect the key; give one, or pass -W for an unencrypted key; nothing written
EOF
[ -e k1.key ] && fail "a refused keygen wrote a key"

# 1: modelc keygen encrypts, as minisign -G would.
"$BIN/modelc" keygen -s k1.key -p k1.pub --passphrase-file pass >"$T/out" || fail "keygen"
grep -q '^modelc: keygen: secret key k1.key (encrypted with the passphrase; keep it secret)$' "$T/out" || fail "keygen output"
/usr/bin/python3 - k1.key <<'PY' || fail "the secret key is not minisign's encrypted format"
import base64, struct, sys
b = base64.b64decode(open(sys.argv[1]).read().splitlines()[1])
assert len(b) == 158 and b[0:2] == b"Ed" and b[2:4] == b"Sc" and b[4:6] == b"B2", b[:6]
ops, mem = struct.unpack("<QQ", b[38:54])
assert (ops, mem) == (33554432, 1073741824), (ops, mem)
PY
# 2: minisign decrypts it (the passphrase on its stdin) and signs.
echo "a message" >msg
minisign -S -s k1.key -m msg <pass >/dev/null 2>&1 || fail "minisign -S with modelc's encrypted key"
minisign -V -q -m msg -p k1.pub || fail "minisign -V of that signature"

# 3: minisign -G encrypts; 4: modelc sign decrypts it, the passphrase on an inherited descriptor.
printf 'correct horse battery staple\ncorrect horse battery staple\n' | minisign -G -p k2.pub -s k2.key >/dev/null 2>&1 ||
	fail "minisign -G"
chmod 600 k2.key
mkfifo fifo
"$BIN/modelc" sign -s k2.key --passphrase-fd 3 3<fifo >"$T/out" 2>"$T/err" &
PID=$!
exec 4>fifo
# While it waits for the passphrase: no core file (set as the key is read), locked memory
# (AddressSanitizer makes mlock a no-op: a SAN=1 build is not checked for it), argv clean.
i=0
while ! grep -Eq '^Max core file size +0 +0 ' "/proc/$PID/limits" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 200 ] && fail "core files are not off: $(grep core "/proc/$PID/limits" 2>&1)"
	sleep 0.1
done
if grep -q __asan_init "$BIN/modelc" 2>/dev/null; then
	echo "modelc is built with AddressSanitizer, which ignores mlock: locked memory not checked"
else
	i=0
	while ! grep -Eq 'VmLck:[[:space:]]+[1-9]' "/proc/$PID/status" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "modelc sign holds no locked memory: $(grep VmLck "/proc/$PID/status" 2>&1)"
		sleep 0.1
	done
fi
tr '\0' ' ' <"/proc/$PID/cmdline" | grep -q 'correct horse' && fail "the passphrase is in argv"
cat pass >&4
exec 4>&-
wait $PID || { cat "$T/out" "$T/err"; fail "modelc sign with minisign's encrypted key"; }
PID=
minisign -V -q -m generated/manifests/chat.json -p k2.pub || fail "minisign -V of modelc's signature"
"$BIN/modelc" verify -p k2.pub >/dev/null || fail "modelc verify"

# 5: a wrong passphrase is found by the checksum.
"$BIN/modelc" sign -s k2.key --passphrase-file wrong 2>"$T/err" && fail "a wrong passphrase signed"
expect "$T/err" <<EOF
modelc: sign: k2.key: wrong passphrase for this key; nothing signed
EOF
echo "encrypted keys: modelc's open in minisign, minisign's in modelc, at minisign's scrypt limits"
