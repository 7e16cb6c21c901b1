#!/bin/sh
# Secrets: HF_TOKEN is read from the environment or from the token file huggingface_hub uses,
# never from argv; a running fetch or modelc lock has it in neither /proc/PID/cmdline nor a core
# file (core size limit 0) and holds it in locked memory; it never appears in logs, --json
# events, models.lock, generated/ or the cache; and it goes to the Hub only (the CDN refuses
# any request with Authorization, and test_fetch_basic.sh and test_lock_hub.sh check its log;
# a tree page that names a next page on another host is refused).
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
TOKEN=hf_SecretCanary7fQ2
# Allow core files in this shell, so a limit of 0 in the programs is their own doing.
ulimit -c unlimited 2>/dev/null || ulimit -c 1024 2>/dev/null ||
	{ echo "cannot raise the core file limit here" >&2; exit 77; }
fh_start --gen org/tiny:2000000 --gated org/tiny --approved-token "$TOKEN" --manifests "$T/man" --role chat=org/tiny

# watch PID NAME: while PID runs, check its argv, core limit and locked memory; write a report.
watch() {
	i=0
	while [ ! -r "/proc/$1/limits" ] || ! grep -q 'VmLck' "/proc/$1/status" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 50 ] && fail "$2 ended before it could be inspected"; sleep 0.05
	done
	# Give it time to read the token, then look while it works.
	sleep 1
	[ -d "/proc/$1" ] || fail "$2 ended before it could be inspected"
	tr '\0' ' ' <"/proc/$1/cmdline" >"$T/$2.cmdline"
	cp "/proc/$1/limits" "$T/$2.limits"
	grep VmLck "/proc/$1/status" >"$T/$2.vmlck"
	grep -q "$TOKEN" "$T/$2.cmdline" && fail "$2: the token is in /proc/PID/cmdline"
	grep -q "$2" "$T/$2.cmdline" || fail "$2: /proc/PID/cmdline was not read: $(cat "$T/$2.cmdline")"
	grep -Eq '^Max core file size +0 +0 ' "$T/$2.limits" ||
		fail "$2: core files are not disabled: $(grep core "$T/$2.limits")"
	# AddressSanitizer turns mlock into a no-op, so a SAN=1 build holds nothing locked.
	if grep -q __asan_init "$BIN/$2" 2>/dev/null; then
		echo "$2: built with AddressSanitizer, which ignores mlock: locked memory not checked"
	else
		grep -Eq 'VmLck:[[:space:]]+[1-9]' "$T/$2.vmlck" || fail "$2: no locked memory holds the token: $(cat "$T/$2.vmlck")"
	fi
	echo "$2: argv clean, core size 0, $(tr -s ' \t' ' ' <"$T/$2.vmlck") locked"
}

# 1. fetch with HF_TOKEN from the environment, slowed down so it can be inspected.
fh_fault trickle model.safetensors 1
C="$T/cache"
HF_TOKEN=$TOKEN "$BIN/fetch" chat --manifests "$T/man" --cache "$C" >"$T/f.out" 2>"$T/f.err" &
pid=$!
watch $pid fetch
wait $pid || { cat "$T/f.err"; fail "fetch with the token failed"; }
grep -q '"auth": true' "$T/fh/hub.log" || fail "the Hub never saw the token"
grep -qi authorization "$T/fh/cdn.log" && fail "the token reached the CDN host"

# 2. The token file (HF_HOME/token) when the environment has none: the gated repo still comes.
mkdir -p "$HF_HOME"
printf '%s\n' "$TOKEN" >"$HF_HOME/token"
"$BIN/fetch" chat --json --manifests "$T/man" --cache "$T/cache2" >"$T/f2.out" 2>"$T/f2.err" ||
	{ cat "$T/f2.err"; fail "fetch with the token file failed"; }
expect_in "$T/f2.out" '"event":'
rm -f "$HF_HOME/token"
"$BIN/fetch" chat --manifests "$T/man" --cache "$T/cache3" >"$T/f3.out" 2>&1 && fail "a gated repo came without a token"

# 3. modelc lock and build with the token: nothing they print or write carries it.
W="$T/w"
mkdir -p "$W"
cat >"$W/models.yaml" <<'YAML'
storage:
  hf_home: /srv/hf
gpu:
  memory: 80 GiB
roles:
  chat:
    repo: org/tiny
    quantization: none
    max_model_len: 512
YAML
(cd "$W" && HF_TOKEN=$TOKEN "$BIN/modelc" lock >"$T/l.out" 2>"$T/l.err") || { cat "$T/l.err"; fail "lock failed"; }
(cd "$W" && HF_TOKEN=$TOKEN "$BIN/modelc" build -o generated >"$T/b.out" 2>"$T/b.err") || { cat "$T/b.err"; fail "build failed"; }
[ -f "$W/generated/.env" ] || fail "build wrote no .env"

# 4. modelc lock, inspected while it waits for a slow Hub.
kill "$FH_PID" 2>/dev/null
/usr/bin/python3 tests/integration/security_hub.py --state "$T/sh" --lifetime 60 &
FH_PID=$!
n=0
while [ ! -f "$T/sh/port" ]; do n=$((n + 1)); [ $n -gt 100 ] && fail "security_hub did not start"; sleep 0.1; done
mkdir -p "$T/w2"
sed 's|org/tiny|org/slow|' "$W/models.yaml" >"$T/w2/models.yaml"
(cd "$T/w2" && HF_TOKEN=$TOKEN HF_ENDPOINT="http://127.0.0.1:$(cat "$T/sh/port")" exec "$BIN/modelc" lock \
	>"$T/l2.out" 2>"$T/l2.err") &
pid=$!
watch $pid modelc
wait $pid
grep -q "Bearer $TOKEN" "$T/sh/log" || fail "the slow Hub never saw the token"

# 5. A tree page whose next page is on another host: refused, not followed with the token.
mkdir -p "$T/w3"
sed 's|org/tiny|org/hop|' "$W/models.yaml" >"$T/w3/models.yaml"
(cd "$T/w3" && HF_TOKEN=$TOKEN HF_ENDPOINT="http://127.0.0.1:$(cat "$T/sh/port")" "$BIN/modelc" lock \
	>"$T/l3.out" 2>"$T/l3.err") && fail "lock followed a next page on another host"
expect_in "$T/l3.err" "the tree's next page is on another host (http://127.0.0.2:"
grep -q 'cursor=1' "$T/sh/log" && fail "the next page on another host was requested"

# Nowhere on disk or in any output, save the token file itself and the Hub's own log.
grep -rl "$TOKEN" "$C" "$T/cache2" "$W" "$T/w2" "$T"/*.out "$T"/*.err "$T"/*.cmdline 2>/dev/null &&
	fail "the token was written or printed (files above)"
echo "the token is in no output, log, lock, generated file or cache file"
