#!/bin/sh
# modelc keygen, sign and verify with unencrypted keys (test_sign_encrypted.sh runs scrypt):
# Debian's minisign verifies every signature modelc makes and prints the trusted comment
# docs/formats.md defines; sha256sum -c checks SHA256SUMS; modelc verify accepts what
# minisign -S made (prehashed and legacy); each bad input is refused with its full message.
# Skipped (77) without minisign (Debian: minisign, scripts/deps.sh --test).
set -u
: "${BIN:?BIN must point at build/bin}"
command -v minisign >/dev/null 2>&1 || { echo "minisign is missing (Debian package minisign)" >&2; exit 77; }
MODELC_SCHEMA_DIR=${MODELC_SCHEMA_DIR:-$(pwd -P)/schemas}
export MODELC_SCHEMA_DIR NO_COLOR=1 LC_ALL=C
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect FILE: FILE holds exactly the text on stdin.
expect() { cat >"$T/want"; diff -u "$T/want" "$1" >&2 || fail "$1 is not as expected"; }
# expect_in FILE TEXT: the file contains TEXT.
expect_in() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "expected '$2' in $1"; }; }
# run RC CMD...: run the command with stdout in $T/out, stderr in $T/err; it must exit RC.
run() {
	want=$1
	shift
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; fail "$* exited $rc, expected $want"; }
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
# The key id as modelc prints it: 16 hex digits, as current minisign does (KEYNUM_FMT);
# Debian's minisign 0.11 writes it into a .pub comment without leading zeros.
keyid() { printf '%016s' "$(sed -n '1s/.*public key //p' "$1")" | tr ' ' 0; }

W="$T/w"
mkdir -p "$W"
cp tests/golden/build_usage/models.lock "$W/models.lock"
cat >"$W/models.yaml" <<'YAML'
storage:
  hf_home: /srv/hf
gpu:
  memory: 8 GiB
  utilization: 0.9
server:
  max_num_seqs: 8
  vllm_version: 0.10.2   # rules with calibrated cases: no evidence note among sign's messages
roles:
  chat:
    repo: Qwen/Qwen2.5-7B-Instruct-AWQ
    quantization: awq
    max_model_len: 8192
  code:
    repo: Qwen/Qwen2.5-7B-Instruct-AWQ
    quantization: awq
    max_model_len: 4096
YAML
cd "$W" || exit 1
M=Qwen/Qwen2.5-7B-Instruct-AWQ@main=b25037543e9394b818fdfca67ab2a00ecc7dd641

# keygen: an unencrypted pair on request, modes 0600 and 0644, refused over an existing key.
run 0 "$BIN/modelc" keygen -W -s keys/k1.key -p keys/k1.pub
K1=$(keyid keys/k1.pub)
P1=$(tail -n 1 keys/k1.pub)
expect "$T/out" <<EOF
modelc: keygen: secret key keys/k1.key (not encrypted; keep it secret)
modelc: keygen: public key keys/k1.pub, key id $K1
modelc: keygen: to trust it, add it to models.yaml:
trust:
  - $P1
EOF
[ "$(stat -c %a keys/k1.key)" = 600 ] || fail "the secret key is mode $(stat -c %a keys/k1.key)"
[ "$(stat -c %a keys/k1.pub)" = 644 ] || fail "the public key is mode $(stat -c %a keys/k1.pub)"
[ "$(stat -c %a keys)" = 700 ] || fail "the key folder is mode $(stat -c %a keys)"
head -n 1 keys/k1.key | grep -qx 'untrusted comment: minisign unencrypted secret key' || fail "secret key comment"
run 1 "$BIN/modelc" keygen -W -s keys/k1.key -p keys/other.pub
expect "$T/err" <<EOF
modelc: keygen: keys/k1.key already exists; pass -f to replace it (what the old key signed will not verify with the new one)
EOF
# A comment minisign's key file cannot hold; a key folder that cannot be made (one level only).
run 1 "$BIN/modelc" keygen -W -s keys/long.key -p keys/long.pub -c "$(printf '%01100d' 0)"
expect "$T/err" <<EOF
modelc: keygen: -c: the comment is too long for a minisign key file
EOF
run 3 "$BIN/modelc" keygen -W -s missing/sub/k.key -p keys/sub.pub
sed 's/\.tmp\.[0-9]*:/.tmp.PID:/' "$T/err" >"$T/err2"
expect "$T/err2" <<EOF
modelc: keygen: warning: cannot create missing/sub: No such file or directory
modelc: keygen: missing/sub/k.key.tmp.PID: No such file or directory
EOF
[ -e keys/long.key ] || [ -e keys/long.pub ] || [ -e keys/sub.pub ] && fail "a refused keygen wrote a key"
# With no terminal and no passphrase option, an encrypted key cannot be made (nothing is derived).
run 1 setsid -w "$BIN/modelc" keygen -s keys/tty.key -p keys/tty.pub </dev/null
expect_in "$T/err" "modelc: keygen: no terminal to read the passphrase from (/dev/tty: "
expect_in "$T/err" "); pass --passphrase-file FILE (mode 0600) or --passphrase-fd N; nothing written"
[ -e keys/tty.key ] && fail "a key was written without a passphrase"
# On a terminal (script(1) gives it one) the passphrase is asked twice without echo; two that
# differ are refused before anything is derived.
if command -v script >/dev/null 2>&1; then
	(sleep 1; printf 'first secret\n'; sleep 1; printf 'second secret\n') |
		script -qefc "'$BIN/modelc' keygen -s keys/tty.key -p keys/tty.pub" /dev/null >"$T/tty" 2>&1
	[ $? -eq 1 ] || { cat "$T/tty"; fail "keygen on a terminal with two passphrases did not exit 1"; }
	grep -q secret "$T/tty" && fail "the passphrase was echoed: $(cat "$T/tty")"
	tr -d '\r' <"$T/tty" >"$T/tty2"
	expect "$T/tty2" <<EOF
Passphrase for the new key: 
Passphrase (again): 
modelc: keygen: the two passphrases differ; nothing written
EOF
	[ -e keys/tty.key ] && fail "a key was written with differing passphrases"
else
	echo "script(1) is missing: the terminal prompt is not tested"
fi
# A key minisign made, and two more that no catalog will trust.
minisign -G -W -p keys/k2.pub -s keys/k2.key >/dev/null || fail "minisign -G"
K2=$(keyid keys/k2.pub)
P2=$(tail -n 1 keys/k2.pub)
"$BIN/modelc" keygen -W -s keys/k3.key -p keys/k3.pub >/dev/null || fail "keygen k3"
K3=$(keyid keys/k3.pub)
minisign -G -W -p keys/k4.pub -s keys/k4.key >/dev/null || fail "minisign -G k4"
K4=$(keyid keys/k4.pub)

# sign: a catalog without trust: is signed, with a note on how to make fetch require it.
"$BIN/modelc" build 2>/dev/null || fail "build"
run 0 "$BIN/modelc" sign -s keys/k1.key
C0=$(sha models.yaml)
L0=$(sha models.lock)
expect "$T/out" <<EOF
modelc: sign: models.lock, 2 manifests and generated/SHA256SUMS (8 files) signed with key $K1
modelc: sign: catalog models.yaml sha256 $C0, lock sha256 $L0
EOF
expect "$T/err" <<EOF
modelc: sign: note: models.yaml has no trust: list, so fetch checks these signatures only with --require-signature; to make it always check them, add:
trust:
  - $P1
EOF
# Debian's minisign verifies each, and prints the trusted comment of docs/formats.md.
tc() { printf 'modelc:1\tfile:%s\tcatalog-sha256:%s\tlock-sha256:%s\t%s\n' "$1" "$C0" "$L0" "$2"; }
for f in models.lock generated/manifests/chat.json generated/manifests/code.json generated/SHA256SUMS; do
	minisign -V -q -m "$f" -p keys/k1.pub || fail "minisign -V does not verify $f"
	minisign -V -H -q -m "$f" -p keys/k1.pub || fail "$f: not prehashed (minisign -H)"
done
minisign -V -Q -m models.lock -p keys/k1.pub >"$T/q"
tc models.lock "commits:$M" >"$T/tc"
diff -u "$T/tc" "$T/q" >&2 || fail "minisign -Q printed another trusted comment"
minisign -V -Q -m generated/manifests/code.json -p keys/k1.pub >"$T/q"
tc manifests/code.json "commit:$M" >"$T/tc"
diff -u "$T/tc" "$T/q" >&2 || fail "minisign -Q printed another trusted comment"
minisign -V -Q -m generated/SHA256SUMS -p keys/k1.pub >"$T/q"
tc SHA256SUMS "commits:$M" >"$T/tc"
diff -u "$T/tc" "$T/q" >&2 || fail "minisign -Q printed another trusted comment"
(cd generated && sha256sum --quiet --strict -c SHA256SUMS) || fail "sha256sum -c SHA256SUMS"
expect generated/SHA256SUMS <<EOF
$(cd generated && sha256sum .env .env.example budget.svg budget.txt llama-swap.yaml manifests/chat.json manifests/code.json switch.table)
EOF
head -n 1 generated/manifests/chat.json.minisig | grep -qx "untrusted comment: signature from modelc sign, key $K1" ||
	fail "untrusted comment"

# verify: with -p, every signature and every listed file.
run 0 "$BIN/modelc" verify -p keys/k1.pub
expect "$T/out" <<EOF
modelc: verify: models.lock: signed by key $K1
modelc: verify: generated/manifests/chat.json: signed by key $K1
modelc: verify: generated/manifests/code.json: signed by key $K1
modelc: verify: generated/SHA256SUMS: signed by key $K1
modelc: verify: generated/SHA256SUMS: the 8 files it lists match
modelc: verify: 4 signatures good; catalog models.yaml sha256 $C0
EOF
run 0 "$BIN/modelc" verify -p "$P1"
run 1 "$BIN/modelc" verify
expect "$T/err" <<EOF
modelc: verify: no key to trust: list the signers' public keys under trust: in models.yaml, or pass -p PUBKEY
EOF
run 1 "$BIN/modelc" verify -p keys/missing.pub
expect "$T/err" <<EOF
modelc: verify: -p keys/missing.pub: No such file or directory
EOF
# A catalog with errors: nothing is signed or verified.
printf 'roles: 5\n' >bad.yaml
run 1 "$BIN/modelc" sign -s keys/k1.key bad.yaml
expect_in "$T/err" "modelc: bad.yaml:1:8: error: roles: expected mapping, found integer '5'"
tail -n 1 "$T/err" | grep -qx "modelc: sign: 3 errors; nothing signed" || fail "sign with catalog errors: $(tail -n 1 "$T/err")"
run 1 "$BIN/modelc" verify -p keys/k1.pub bad.yaml
tail -n 1 "$T/err" | grep -qx "modelc: verify: bad.yaml has errors; nothing verified" || fail "verify with catalog errors: $(tail -n 1 "$T/err")"

# The catalog gains a trust: list: what was signed was made for the old catalog.
printf 'trust:\n  - %s\n  - %s\n' "$P1" "$P2" >>models.yaml
C1=$(sha models.yaml)
run 1 "$BIN/modelc" verify
expect_in "$T/err" "modelc: verify: models.lock.minisig: made for another catalog: signed for catalog sha256 $C0, but models.yaml has sha256 $C1"
expect_in "$T/err" "modelc: verify: generated/manifests/chat.json.minisig: made for another catalog: signed for catalog sha256 $C0, but models.yaml has sha256 $C1"
tail -n 1 "$T/err" | grep -qx "modelc: verify: 4 problems; do not use these files until they are signed again" || fail "problem count"
# sign renders the build again and compares: a hand-edited output is refused. The runtime
# table records the digest, size and time of the models.yaml it was built from, so it differs
# too: trust: was added after that build.
printf 'VLLM_MODEL_ID=evil/model\n' >>generated/.env
run 1 "$BIN/modelc" sign -s keys/k1.key
expect "$T/err" <<EOF
modelc: sign: generated/.env differs from what the catalog and the lock build
modelc: sign: generated/switch.table differs from what the catalog and the lock build
modelc: sign: generated is not what models.yaml and models.lock build (2 differences); run 'modelc build', then sign; nothing signed
EOF
echo stray >generated/manifests/notes.txt
run 1 "$BIN/modelc" sign -s keys/k1.key
expect_in "$T/err" "modelc: sign: generated/manifests/notes.txt is not a file modelc build writes"
rm generated/manifests/notes.txt
mv generated/budget.txt "$T/budget.txt"
run 1 "$BIN/modelc" sign -s keys/k1.key
expect "$T/err" <<EOF
modelc: sign: generated/.env differs from what the catalog and the lock build
modelc: sign: generated/budget.txt: No such file or directory
modelc: sign: generated/switch.table differs from what the catalog and the lock build
modelc: sign: generated is not what models.yaml and models.lock build (3 differences); run 'modelc build', then sign; nothing signed
EOF
mv "$T/budget.txt" generated/budget.txt
"$BIN/modelc" build 2>/dev/null || fail "build with trust"
run 0 "$BIN/modelc" sign -s keys/k1.key
[ -s "$T/err" ] && { cat "$T/err"; fail "sign with a trusted key said something on stderr"; }
C0=$C1
run 0 "$BIN/modelc" verify
expect_in "$T/out" "modelc: verify: 4 signatures good; catalog models.yaml sha256 $C1"

# A key the catalog does not list cannot sign; the signatures stay as they were.
cp -R generated "$T/good"
cp models.lock.minisig "$T/good.lock.minisig"
chmod 600 keys/*.key
run 1 "$BIN/modelc" sign -s keys/k3.key
expect "$T/err" <<EOF
modelc: sign: key $K3 (keys/k3.key) is not in the trust: list of models.yaml, so fetch and 'modelc verify' would refuse its signatures; add '$(tail -n 1 keys/k3.pub)' under trust:, or sign with a listed key; nothing signed
EOF
diff -r "$T/good" generated >/dev/null || fail "a refused sign changed generated/"
cmp -s "$T/good.lock.minisig" models.lock.minisig || fail "a refused sign changed models.lock.minisig"

# minisign -S signatures, by a listed key, with modelc's comment: prehashed and legacy.
restore() { rm -rf generated && cp -R "$T/good" generated && cp "$T/good.lock.minisig" models.lock.minisig; }
minisign -S -W -s keys/k2.key -m generated/manifests/chat.json -t "$(tc manifests/chat.json "commit:$M")" ||
	fail "minisign -S"
run 0 "$BIN/modelc" verify
expect_in "$T/out" "modelc: verify: generated/manifests/chat.json: signed by key $K2"
minisign -S -l -W -s keys/k2.key -m generated/manifests/chat.json -t "$(tc manifests/chat.json "commit:$M")" ||
	fail "minisign -S -l"
head -n 2 generated/manifests/chat.json.minisig | tail -n 1 | base64 -d 2>/dev/null | head -c 2 | grep -qx Ed ||
	fail "minisign -l did not make a legacy signature"
run 0 "$BIN/modelc" verify
expect_in "$T/out" "modelc: verify: generated/manifests/chat.json: signed by key $K2"

# Bad input, one at a time, each from the good set. verify_one_problem TEXT: exactly that problem.
one_problem() {
	run 1 "$BIN/modelc" verify
	expect "$T/err" <<EOF
modelc: verify: $1
modelc: verify: 1 problem; do not use these files until they are signed again
EOF
}
S=generated/manifests/chat.json.minisig
restore
head -n 2 "$T/good/manifests/chat.json.minisig" >$S
one_problem "$S: truncated: the file ends after line 2 (a minisign signature has 4 lines)"
head -c 100 "$T/good/manifests/chat.json.minisig" >$S
one_problem "$S: line 2: not the base64 of a minisign signature (74 bytes)"
: >$S
one_problem "$S: empty: not a minisign signature file"
sed '4s/^..../!!!!/' "$T/good/manifests/chat.json.minisig" >$S
one_problem "$S: line 4: not the base64 of a global signature (64 bytes)"
# One character of the Ed25519 signature changed: valid base64, a signature that fails.
sed '2s/^\(.\{40\}\)A/\1B/;t;2s/^\(.\{40\}\)./\1A/' "$T/good/manifests/chat.json.minisig" >$S
cmp -s $S "$T/good/manifests/chat.json.minisig" && fail "the signature was not changed"
one_problem "$S: the signature by key $K1 does not match the file: the file changed after it was signed"
# The trusted comment edited to name another commit.
sed '3s/=b25037543e/=0000000000/' "$T/good/manifests/chat.json.minisig" >$S
one_problem "$S: the trusted comment does not match the signature by key $K1: the comment changed after signing"
# Signed by a key the catalog does not list (minisign's k4, with modelc's comment).
minisign -S -W -s keys/k4.key -m generated/manifests/chat.json -t "$(tc manifests/chat.json "commit:$M")" || fail "k4"
one_problem "$S: signed by key $K4, which is not trusted (trusted: $K1, $K2)"
# A listed key's signature whose comment is not modelc's.
minisign -S -W -s keys/k2.key -m generated/manifests/chat.json -t "a plain minisign comment" || fail "plain comment"
one_problem "$S: the trusted comment 'a plain minisign comment' is not one modelc wrote (it does not start with 'modelc:1')"
# A good signature of another manifest, copied over with it.
restore
cp generated/manifests/chat.json generated/manifests/code.json
cp generated/manifests/chat.json.minisig generated/manifests/code.json.minisig
run 1 "$BIN/modelc" verify
expect "$T/err" <<EOF
modelc: verify: generated/manifests/code.json.minisig: signed as 'manifests/chat.json', not 'manifests/code.json': the signature belongs to another file
modelc: verify: generated/manifests/code.json: sha256 $(sha generated/manifests/code.json), but SHA256SUMS lists $(sha "$T/good/manifests/code.json"): the file changed after signing
modelc: verify: 2 problems; do not use these files until they are signed again
EOF
restore
rm generated/manifests/code.json.minisig
one_problem "generated/manifests/code.json: not signed: generated/manifests/code.json.minisig is missing (run 'modelc sign')"
restore
printf 'VLLM_MODEL_ID=evil/model\n' >>generated/.env
one_problem "generated/.env: sha256 $(sha generated/.env), but SHA256SUMS lists $(sha "$T/good/.env"): the file changed after signing"
restore
rm generated/budget.txt
one_problem "generated/budget.txt: No such file or directory"
restore
echo extra >generated/extra.txt
one_problem "generated/extra.txt: not in SHA256SUMS: the file was added after signing"
restore
rm generated/SHA256SUMS.minisig
one_problem "generated/SHA256SUMS: not signed: generated/SHA256SUMS.minisig is missing (run 'modelc sign')"
restore
printf '%s\n' "$(sha generated/.env)  ../outside" >generated/SHA256SUMS
minisign -S -W -s keys/k2.key -m generated/SHA256SUMS -t "$(tc SHA256SUMS "commits:$M")" || fail "sums"
one_problem "generated/SHA256SUMS: line 1: '../outside' is not a relative path inside the directory"
# The lock changed after signing: its signature fails, and every other names another lock.
restore
sed 's/"synthetic test facts"/"synthetic test facts "/' models.lock >"$T/lock" && cp "$T/lock" models.lock
L1=$(sha models.lock)
run 1 "$BIN/modelc" verify
expect_in "$T/err" "modelc: verify: models.lock.minisig: the signature by key $K1 does not match the file: the file changed after it was signed"
expect_in "$T/err" "modelc: verify: generated/SHA256SUMS.minisig: made for another lock: signed for lock sha256 $L0, but models.lock has sha256 $L1"
tail -n 1 "$T/err" | grep -qx "modelc: verify: 4 problems; do not use these files until they are signed again" || fail "lock problems"
sed 's/"synthetic test facts "/"synthetic test facts"/' models.lock >"$T/lock" && cp "$T/lock" models.lock
restore
run 0 "$BIN/modelc" verify

# The secret key's mode is checked before it is read, with the command that fixes it.
chmod 644 keys/k1.key
run 1 "$BIN/modelc" sign -s keys/k1.key
expect "$T/err" <<EOF
modelc: sign: keys/k1.key: mode 0644 lets other users at this secret; run 'chmod 600 keys/k1.key'; nothing signed
EOF
chmod 600 keys/k1.key
cp keys/k1.pub keys/not-a-secret.key
chmod 600 keys/not-a-secret.key
run 1 "$BIN/modelc" sign -s keys/not-a-secret.key
expect "$T/err" <<EOF
modelc: sign: keys/not-a-secret.key: line 2: not the base64 of a minisign secret key (158 bytes); nothing signed
EOF
run 1 "$BIN/modelc" sign -s keys/missing.key
expect "$T/err" <<EOF
modelc: sign: keys/missing.key: No such file or directory; nothing signed
EOF
diff -r "$T/good" generated >/dev/null || fail "a refused sign changed generated/"
# The lock's file name goes into the trusted comment: one minisign cannot print is refused.
L=$(printf 'odd\001.lock')
cp models.lock "$L"
run 1 "$BIN/modelc" sign -s keys/k1.key --lock "$L"
expect "$T/err" <<EOF
modelc: sign: $L.minisig: the trusted comment must be printable UTF-8 of at most 8173 bytes
EOF
[ -e "$L.minisig" ] && fail "a lock with an unprintable name was signed"
rm "$L"

# A rebuild replaces the signatures with the rest: a new build is not signed.
"$BIN/modelc" build 2>/dev/null || fail "build over a signed set"
[ -e generated/SHA256SUMS ] || [ -e generated/manifests/chat.json.minisig ] && fail "a rebuild kept old signatures"
run 1 "$BIN/modelc" verify
expect_in "$T/err" "modelc: verify: generated/manifests/chat.json: not signed: generated/manifests/chat.json.minisig is missing (run 'modelc sign')"

# Schemas edited to allow a revision of thousands of characters (the shipped ones stop at 255):
# sign refuses a manifest whose commit field does not fit a trusted comment, and one whose
# trusted comment would be longer than minisign reads, instead of writing either.
mkdir "$T/schemas"
for f in "$MODELC_SCHEMA_DIR"/*; do
	sed 's/{0,254}/{0,9999}/' "$f" >"$T/schemas/${f##*/}"
done
long_revision() {
	mkdir "$T/long$1"
	/usr/bin/python3 - "$1" "$T/long$1" <<'PY' || fail "long revision $1"
import json, sys
n, d = int(sys.argv[1]), sys.argv[2]
rev = "r" * n
lock = json.load(open("models.lock"))
entry = lock["models"].pop("Qwen/Qwen2.5-7B-Instruct-AWQ@main")
entry["revision"] = rev
lock["models"]["Qwen/Qwen2.5-7B-Instruct-AWQ@" + rev] = entry
json.dump(lock, open(d + "/models.lock", "w"), indent=2)
repo = "    repo: Qwen/Qwen2.5-7B-Instruct-AWQ\n"
open(d + "/models.yaml", "w").write(open("models.yaml").read().replace(repo, repo + "    revision: " + rev + "\n"))
PY
	(cd "$T/long$1" && MODELC_SCHEMA_DIR="$T/schemas" "$BIN/modelc" build) 2>/dev/null || fail "build with a revision of $1 characters"
	(cd "$T/long$1" && MODELC_SCHEMA_DIR="$T/schemas" "$BIN/modelc" sign -s "$W/keys/k1.key") >"$T/out" 2>"$T/err" &&
		fail "sign with a revision of $1 characters"
	[ -e "$T/long$1/generated/manifests/chat.json.minisig" ] && fail "a manifest with a revision of $1 characters was signed"
	return 0
}
long_revision 8050
expect "$T/err" <<EOF
modelc: sign: generated/manifests/chat.json.minisig: the trusted comment is longer than minisign allows
EOF
long_revision 8300
expect "$T/err" <<EOF
modelc: sign: generated/manifests/chat.json: the manifest's repo and revision are too long to sign
EOF
echo "keygen, sign and verify: minisign verifies modelc's signatures and modelc minisign's; every refusal as expected"
