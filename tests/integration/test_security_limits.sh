#!/bin/sh
# Resource limits: a catalog, lock file, manifest, JSON reply or header above its size limit,
# and nesting past its depth limit, are refused with a clear message (exit 1, or 3 for what
# the network sent) instead of exhausting memory or the stack.
set -u
: "${BIN:?BIN must point at build/bin}"
T=$(mktemp -d "${TMPDIR:-/tmp}/limits.XXXXXX")
HUB_PID=
trap '[ -n "$HUB_PID" ] && kill "$HUB_PID" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
export MODELC_SCHEMA_DIR="$(pwd)/schemas" NO_COLOR=1 MODELC_HUB_BACKOFF_MS=10
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_HUB_OFFLINE
export HF_HOME="$T/hfhome"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run NAME WANT_EXIT TEXT CMD...: CMD exits WANT_EXIT and prints TEXT.
run() {
	name=$1 want=$2 text=$3
	shift 3
	"$@" >"$T/$name.out" 2>&1
	rc=$?
	[ $rc -eq "$want" ] || { tail -n 5 "$T/$name.out"; fail "$name: expected exit $want, got $rc"; }
	grep -qF -- "$text" "$T/$name.out" || { tail -n 5 "$T/$name.out"; fail "$name: expected '$text'"; }
	echo "$name: refused: $text"
}

mkdir -p "$T/w"
cp tests/golden/build_ok/models.yaml tests/golden/build_ok/models.lock "$T/w/"
cd "$T/w" || exit 1

# The catalog: 16 MiB at most, nesting 64 levels at most.
/usr/bin/python3 -c 'import sys; sys.stdout.write(open("models.yaml").read() + "#" * (17 << 20) + "\n")' >big.yaml
run catalog_size 1 "big.yaml: error: the file is larger than 16 MiB" "$BIN/modelc" check big.yaml
/usr/bin/python3 -c 'print(open("models.yaml").read() + "excluded: " + "[" * 100 + "]" * 100)' >deep.yaml
run catalog_depth 1 "error: nesting is deeper than 64 levels" "$BIN/modelc" check deep.yaml
/usr/bin/python3 -c 'print(open("models.yaml").read() + "excluded: " + "[" * 100000 + "]" * 100000)' >deeper.yaml
run catalog_depth_100000 1 "error: nesting is deeper than 64 levels" "$BIN/modelc" check deeper.yaml

# The lock: 64 MiB at most; JSON nesting as deep as jansson allows (2048).
/usr/bin/python3 -c 'import sys; sys.stdout.write(open("models.lock").read() + " " * (65 << 20))' >big.lock
run lock_size 1 "big.lock: error: is 68159889 bytes, more than the limit of 67108864 bytes" "$BIN/modelc" build --lock big.lock -o out
/usr/bin/python3 -c 'print("{\"lock_version\": 1, \"models\": " + "[" * 100000 + "]" * 100000 + "}")' >deep.lock
run lock_depth 1 "maximum parsing depth reached" "$BIN/modelc" build --lock deep.lock -o out
[ -e out ] && fail "a refused lock still produced output"

# fetch's manifest: 16 MiB at most.
"$BIN/modelc" build -o gen >/dev/null 2>&1 || fail "build_ok does not build"
m=gen/manifests/chat.json
/usr/bin/python3 -c 'import sys; sys.stdout.write(open(sys.argv[1]).read() + " " * (17 << 20))' "$m" >"$m.big"
mv "$m.big" "$m"
run manifest_size 1 "bytes, more than a manifest may have (16777216); refusing it" \
	"$BIN/fetch" chat --manifests gen/manifests --cache "$T/cache"

# The Hub: a JSON reply of 65 MiB, a reply nested 100000 deep, a 300 KB header line.
/usr/bin/python3 "$OLDPWD/tests/integration/security_hub.py" --state "$T/sh" --lifetime 120 &
HUB_PID=$!
n=0
while [ ! -f "$T/sh/port" ]; do n=$((n + 1)); [ $n -gt 100 ] && fail "security_hub did not start"; sleep 0.1; done
export HF_ENDPOINT="http://127.0.0.1:$(cat "$T/sh/port")"
for repo in big deep deeptree hdr; do
	mkdir -p "$T/$repo"
	sed "s|Qwen/Qwen2.5-7B-Instruct-AWQ|org/$repo|" models.yaml >"$T/$repo/models.yaml"
done
run hub_json_size 3 "answer is larger than 67108864 bytes" sh -c "cd '$T/big' && exec '$BIN/modelc' lock"
run hub_json_depth 3 "the Hub's answer for org/deep@main has no 40-hex 'sha'" sh -c "cd '$T/deep' && exec '$BIN/modelc' lock"
run hub_tree_depth 3 "the tree listing is not a JSON array (maximum parsing depth reached" \
	sh -c "cd '$T/deeptree' && exec '$BIN/modelc' lock"
run hub_header_size 3 "the answer's headers are too large (over libcurl's limit of 102400 bytes a header)" sh -c "cd '$T/hdr' && exec '$BIN/modelc' lock"
for repo in big deep deeptree hdr; do
	[ -e "$T/$repo/models.lock" ] && fail "$repo: modelc lock wrote a lock"
done
exit 0
