#!/bin/sh
# fetch with signatures required, against the fake Hub: lock -> build -> sign -> fetch
# downloads a verified model; a manifest that is not signed, was changed, was signed by a key
# nobody listed, for another catalog or as another manifest is refused, with its message,
# before fetch asks the Hub for anything. Signatures are required by --require-signature or by
# the catalog's trust: list alone. Skipped (77) without minisign (Debian: minisign).
set -u
command -v minisign >/dev/null 2>&1 || { echo "minisign is missing (Debian package minisign)" >&2; exit 77; }
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
export LC_ALL=C
fh_start --gen org/tiny:100000
W="$T/w"
mkdir -p "$W"
cd "$W" || exit 1
# expect FILE: FILE holds exactly the text on stdin.
expect() { cat >"$T/want"; diff -u "$T/want" "$1" >&2 || fail "$1 is not as expected"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
# refused RC ARGS...: fetch exits RC having sent nothing to the Hub or the CDN; stderr in $T/err.
refused() {
	want=$1
	shift
	: >"$T/fh/hub.log"
	: >"$T/fh/cdn.log"
	"$BIN/fetch" --cache "$T/refused-cache" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; fail "fetch $* exited $rc, expected $want"; }
	[ -s "$T/fh/hub.log" ] && fail "fetch $* asked the Hub: $(head -n 3 "$T/fh/hub.log")"
	[ -s "$T/fh/cdn.log" ] && fail "fetch $* downloaded from the CDN"
	[ -d "$T/refused-cache/models--org--tiny" ] && fail "fetch $* wrote into the cache"
	return 0
}

"$BIN/modelc" keygen -W -s keys/k1.key -p keys/k1.pub >/dev/null || fail "keygen"
# 16 hex digits as modelc prints key ids (Debian's minisign drops leading zeros in .pub comments).
keyid() { printf '%016s' "$(sed -n '1s/.*public key //p' "$1")" | tr ' ' 0; }
K1=$(keyid keys/k1.pub)
minisign -G -W -p keys/k4.pub -s keys/k4.key >/dev/null || fail "minisign -G"
K4=$(keyid keys/k4.pub)
cat >models.yaml <<YAML
storage:
  hf_home: $T/srvhf
gpu:
  memory: 80 GiB
  utilization: 0.9
roles:
  chat:
    repo: org/tiny
    quantization: none
    max_model_len: 512
  code:
    repo: org/tiny
    quantization: none
    max_model_len: 256
YAML
"$BIN/modelc" lock >/dev/null 2>&1 || fail "modelc lock"
"$BIN/modelc" build 2>/dev/null || fail "modelc build"
"$BIN/modelc" sign -s keys/k1.key >/dev/null 2>&1 || fail "modelc sign"
C=$(sha models.yaml)
MAN=generated/manifests

# --require-signature with the public key file: both manifests check out, then the download.
"$BIN/fetch" --require-signature keys/k1.pub --cache "$T/c1" >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "signed fetch"; }
expect_in "$T/out" "fetch: chat: $MAN/chat.json: signed by key $K1 for catalog sha256 $C"
expect_in "$T/out" "fetch: code: $MAN/code.json: signed by key $K1 for catalog sha256 $C"
expect_in "$T/out" "10 files: 5 downloaded ("
fh_check "$T/c1" "$MAN" --complete
"$BIN/fetch" --json --require-signature "$(tail -n 1 keys/k1.pub)" --cache "$T/c1" chat >"$T/json" ||
	fail "signed fetch --json with the base64 key"
/usr/bin/python3 - "$T/json" "$K1" <<'PY' || fail "--json signed event"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
s = [e for e in ev if e["event"] == "signed"]
assert len(s) == 1 and s[0]["role"] == "chat" and ("signed by key " + sys.argv[2]) in s[0]["message"], s
PY

cp -R generated "$T/good"
restore() { rm -rf generated && cp -R "$T/good" generated; }
S=$MAN/chat.json.minisig
tc() { printf 'modelc:1\tfile:%s\tcatalog-sha256:%s\tlock-sha256:%s\t%s\n' "$1" "$C" "$(sha models.lock)" "$2"; }
COMMIT=$(/usr/bin/python3 -c 'import json,sys;m=json.load(open(sys.argv[1]));print("%s@%s=%s"%(m["repo"],m["revision"],m["commit"]))' "$MAN/chat.json")
TAIL="; nothing downloaded"

# Not signed.
rm $S
refused 1 --require-signature keys/k1.pub
expect "$T/err" <<EOF
fetch: error: chat: $S is missing: this manifest is not signed (run 'modelc sign' where it was built); refusing it
fetch: error: 1 of 2 manifests refused: signatures are required (--require-signature)$TAIL
EOF
# Changed after signing (one more file to download).
restore
sed 's/"total_bytes"/"total_bytes" /' "$T/good/manifests/chat.json" >$MAN/chat.json
refused 1 --require-signature keys/k1.pub chat
expect "$T/err" <<EOF
fetch: error: chat: $S: the signature by key $K1 does not match the file: the file changed after it was signed; refusing the manifest
fetch: error: 1 of 1 manifest refused: signatures are required (--require-signature)$TAIL
EOF
# Truncated, and corrupt.
restore
head -c 120 "$T/good/manifests/chat.json.minisig" >$S
refused 1 --require-signature keys/k1.pub chat
expect_in "$T/err" "fetch: error: chat: $S: line 2: not the base64 of a minisign signature (74 bytes); refusing the manifest"
head -n 3 "$T/good/manifests/chat.json.minisig" >$S
refused 1 --require-signature keys/k1.pub chat
expect_in "$T/err" "fetch: error: chat: $S: truncated: the file ends after line 3 (a minisign signature has 4 lines); refusing the manifest"
# Signed by a key nobody listed (minisign -S with modelc's comment), refused by its key id.
restore
minisign -S -W -s keys/k4.key -m $MAN/chat.json -t "$(tc manifests/chat.json "commit:$COMMIT")" || fail "minisign -S"
refused 1 --require-signature keys/k1.pub chat
expect_in "$T/err" "fetch: error: chat: $S: signed by key $K4, which is not trusted (trusted: $K1); refusing the manifest"
# ... and accepted once that key is listed: fetch verifies what minisign -S made.
"$BIN/fetch" --require-signature keys/k1.pub --require-signature keys/k4.pub --cache "$T/c1" chat >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "minisign's signature"; }
expect_in "$T/out" "fetch: chat: $MAN/chat.json: signed by key $K4 for catalog sha256 $C"
# A trusted comment that does not match: edited, not modelc's, or naming another commit.
restore
# (the digest's first hex digit becomes another one: 0 -> 1, anything else -> 0)
sed -e '3{s/catalog-sha256:0/catalog-sha256:1/;t' -e 's/catalog-sha256:./catalog-sha256:0/' -e '}' \
	"$T/good/manifests/chat.json.minisig" >$S
cmp -s $S "$T/good/manifests/chat.json.minisig" && fail "the trusted comment was not changed"
refused 1 --require-signature keys/k1.pub chat
expect_in "$T/err" "fetch: error: chat: $S: the trusted comment does not match the signature by key $K1: the comment changed after signing; refusing the manifest"
minisign -S -W -s keys/k4.key -m $MAN/chat.json -t "hello" || fail "minisign -S hello"
refused 1 --require-signature keys/k4.pub chat
expect_in "$T/err" "fetch: error: chat: $S: the trusted comment 'hello' is not one modelc wrote (it does not start with 'modelc:1'); refusing the manifest"
minisign -S -W -s keys/k4.key -m $MAN/chat.json -t "$(tc manifests/chat.json "commit:org/tiny@main=0000000000000000000000000000000000000000")" ||
	fail "minisign -S commit"
refused 1 --require-signature keys/k4.pub chat
expect_in "$T/err" "fetch: error: chat: $MAN/chat.json.minisig: the trusted comment names commit 'org/tiny@main=0000000000000000000000000000000000000000', the manifest pins '$COMMIT'; refusing it"
# Another manifest's good signature, copied over with it.
restore
cp $MAN/chat.json $MAN/code.json
cp $MAN/chat.json.minisig $MAN/code.json.minisig
refused 1 --require-signature keys/k1.pub code
expect_in "$T/err" "fetch: error: code: $MAN/code.json.minisig: signed as 'manifests/chat.json', not 'manifests/code.json': the signature belongs to another manifest; refusing it"
restore

# The catalog's trust: list alone requires signatures; the catalog's digest must match.
printf 'trust:\n  - %s\n' "$(tail -n 1 keys/k1.pub)" >>models.yaml
C2=$(sha models.yaml)
refused 1
expect_in "$T/err" "fetch: error: chat: $S: made for another catalog: signed for catalog sha256 $C, but models.yaml has sha256 $C2; refusing the manifest (build and sign it from this catalog)"
expect_in "$T/err" "fetch: error: 2 of 2 manifests refused: signatures are required (the trust: list of models.yaml)$TAIL"
"$BIN/modelc" build 2>/dev/null && "$BIN/modelc" sign -s keys/k1.key >/dev/null 2>&1 || fail "sign for the new catalog"
C=$C2
cp -R generated "$T/good2"
rm $S
refused 1
expect_in "$T/err" "fetch: error: chat: $S is missing: this manifest is not signed (run 'modelc sign' where it was built); refusing it"
cp "$T/good2/manifests/chat.json.minisig" $S
"$BIN/fetch" --cache "$T/c2" >"$T/out" 2>&1 || { cat "$T/out"; fail "fetch with the catalog's trust: list"; }
expect_in "$T/out" "fetch: chat: $MAN/chat.json: signed by key $K1 for catalog sha256 $C2"
fh_check "$T/c2" "$MAN" --complete
refused 1 --trust-hub
expect_in "$T/err" "fetch: error: --trust-hub takes hashes nobody signed, and signatures are required (the trust: list of models.yaml); pin the files with 'modelc lock' instead"
refused 2 --trust-hub --require-signature keys/k1.pub
expect_in "$T/err" "fetch: --trust-hub takes hashes nobody signed; it cannot be combined with --require-signature"
refused 2 --require-signature
expect_in "$T/err" "fetch: --require-signature needs a public key"
refused 2 --catalog ""
expect_in "$T/err" "fetch: --catalog needs a file"
printf 'trust: [RWnotakey]\n' >"$T/bad.yaml"
refused 1 --catalog "$T/bad.yaml"
expect "$T/err" <<EOF
fetch: error: the catalog's trust: list: $T/bad.yaml:1:9: trust[0]: 'RWnotakey': not the base64 of a minisign public key (56 characters)
EOF

# Elsewhere: --catalog names the catalog; with none, the manifests must agree with each other.
cd "$T" || exit 1
"$BIN/fetch" --catalog w/models.yaml --manifests w/$MAN --cache "$T/c3" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "fetch --catalog"; }
expect_in "$T/out" "fetch: code: w/$MAN/code.json: signed by key $K1 for catalog sha256 $C2"
# code's manifest and signature from the build before trust: was added.
C0=$(grep -o 'catalog-sha256:[0-9a-f]*' "$T/good/manifests/code.json.minisig" | cut -d: -f2)
cp "$T/good/manifests/code.json" "$T/good/manifests/code.json.minisig" w/$MAN/
refused 1 --require-signature w/keys/k1.pub --manifests w/$MAN
expect "$T/err" <<EOF
fetch: error: code: w/$MAN/code.json.minisig: made for another catalog: signed for catalog sha256 $C0, but manifests/chat.json was signed for sha256 $C2; refusing the manifest (give fetch the catalog with --catalog FILE)
fetch: error: 1 of 2 manifests refused: signatures are required (--require-signature)$TAIL
EOF
expect_in "$T/out" "fetch: no catalog to compare the signatures with (no models.yaml here; pass --catalog FILE): the manifests need only all have been signed for the same one"
echo "fetch refuses unsigned, changed, untrusted, misnamed and other-catalog manifests before any request"
