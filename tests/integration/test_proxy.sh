#!/bin/sh
# switch proxy's command line and messages: --dry-run, usage errors, the API key rule for
# addresses other than loopback, a port something else holds, a server that cannot start (the
# bounded retries with backoff, then the error), and switch exec'ing its sibling.
# Routes and swaps: test_proxy_http.py; load and faults: test_proxy_load.py.
. tests/integration/switch_lib.sh

PX=$BUILD/test-switch/switch-proxy
make -s --no-print-directory -C "$ROOT" "$PX" PROXY_OUT="$PX" >/dev/null || { echo "cannot build the test switch-proxy"; exit 1; }
export FAKE_VLLM_MAX_LIFETIME_S=30
unset SWITCH_PROXY_API_KEY

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --dry-run through switch: each role's limits, start timeout (the catalog's load timeout: the
# weights over server.disk_read_rate plus 60 s), ttl and sleep level, the groups, the eviction order.
run "dry-run" 0 "$SW" proxy --dry-run --port-base 9100
same "dry-run" out <<X
listen 127.0.0.1:8080, ports 9100-9107, queue 256, body limit 33554432 bytes, drain timeout 30 s
role          port max_model_len utilization    weights start timeout        ttl sleep  aliases
code          9100          4096         0.9   0.00 GiB         110 s      never     0  -
fallback      9101          8192         0.9   2.27 GiB          85 s      never     0  -
math          9102          8192         0.9   3.75 GiB         101 s      never     0  -
primary       9103          8192         0.9   0.00 GiB         117 s      never     0  -
secondary     9104          8192         0.9   0.00 GiB         116 s      never     0  -
unsized       9105             0         0.9   0.00 GiB          60 s      never     0  -
weird         9106          2048        0.85   0.93 GiB          70 s      never     0  -
unexportable  9107          2048        0.85   0.93 GiB          70 s      never     0  -
groups: none in this table: every role needs the whole GPU, so one role is resident at a time
ttl and sleep: the catalog's, else --ttl and --sleep-level (default), unless --ttl ROLE=S or --sleep-level ROLE=N (override); sleep level 0 stops a role to put it away
eviction order: least recently used first, among the instances in the asked role's way: those not started with the limits of its group (every one, when it starts alone); when a start or wake lacks free memory, the least recently used asleep instance is stopped first
X
# --start-base or --disk-speed given: the formula replaces the catalog's load timeouts.
run "dry-run timeout" 0 "$PX" --dry-run --port-base 9100 --start-base 10 --disk-speed 100 --sleep-level 1 --ttl 300
has "dry-run timeout" out "math          9102          8192         0.9   3.75 GiB          50 s 300 s default     1 default  -"

# A table with together: groups: each member's limits in the group, in its start order, and the
# catalog's ttl, sleep levels and aliases.
mkdir -p "$T/groups"
cp "$ROOT/tests/golden/build_together_fits/models.yaml" "$ROOT/tests/golden/build_together_fits/models.lock" "$T/groups/"
(cd "$T/groups" && MODELC_SCHEMA_DIR="$ROOT/schemas" "$BIN/modelc" build models.yaml -o gen) >/dev/null 2>&1 ||
	fail "cannot build the groups catalog"
run "dry-run groups" 0 "$PX" --table "$T/groups/gen/switch.table" --dry-run
same "dry-run groups" out <<X
listen 127.0.0.1:8080, ports 8001-8002, queue 256, body limit 33554432 bytes, drain timeout 30 s
role          port max_model_len utilization    weights start timeout        ttl sleep  aliases
lightweight   8001          2048         0.9   2.27 GiB          73 s 600 s catalog     1 catalog  phi, phi-3.5-mini
tiny          8002          8192         0.9   0.92 GiB          65 s      never     2 catalog  -
groups: 1 (members resident together start with these limits, in this start order)
  assist: 6.79 GiB at the peak with every member awake, 2.27 GiB of host memory for all asleep (level 1)
    1. lightweight  max_model_len 2048, gpu_memory_utilization 0.5026; needs 4.41 GiB free at its start, holds 4.41 GiB awake, 0.75 GiB asleep (2.27 GiB of host memory at level 1)
    2. tiny         max_model_len 8192, gpu_memory_utilization 0.2326; needs 2.38 GiB free at its start, holds 2.38 GiB awake, 0.75 GiB asleep (0.00 GiB of host memory at level 1)
ttl and sleep: the catalog's, else --ttl and --sleep-level (default), unless --ttl ROLE=S or --sleep-level ROLE=N (override); sleep level 0 stops a role to put it away
residency: a role asked for joins the group that holds it and the awake members used most recently (ties: catalog order), with that group's limits; with no member awake, the group with the most members waiting to start; else it starts alone, with its own limits
eviction order: least recently used first, among the instances in the asked role's way: those not started with the limits of its group (every one, when it starts alone); when a start or wake lacks free memory, the least recently used asleep instance is stopped first
X
run "help" 0 "$PX" --help
has "help" out "The catalog's ttl and sleep_mode win; --ttl S and --sleep-level N apply to roles that set none;"

# Usage errors.
run "bad queue" 2 "$PX" --queue many
same "bad queue" err <<X
switch: error: proxy: --queue 'many' is not a number from 0 to 512
X
run "bad listen" 2 "$PX" --listen 8080
same "bad listen" err <<X
switch: error: proxy: --listen '8080' is not ADDRESS:PORT (e.g. 127.0.0.1:8080)
X
run "unknown option" 2 "$PX" --fast
same "unknown option" err <<X
switch: error: proxy: unknown option '--fast'
usage: switch proxy [--listen ADDRESS:PORT] [--port-base PORT] [--preload ROLE]... [--queue N] [--max-body BYTES]
       [--drain-timeout S] [--ttl [ROLE=]S]... [--sleep-level [ROLE=]0|1|2]... [--start-base S]
       [--disk-speed MB/S] [--api-key-file FILE] [--dry-run]
X
run "unknown preload" 1 "$PX" --preload fallbak --dry-run
has "unknown preload" err "switch: error: unknown role, path or repo 'fallbak' (did you mean 'fallback'?)"

# Any address but loopback needs an API key, and is told that it wants TLS in front.
run "wildcard without key" 2 "$PX" --listen 0.0.0.0:8080
same "wildcard without key" err <<X
switch: error: proxy: --listen '0.0.0.0' is not a loopback address; an API key is required for it (--api-key-file FILE or \$SWITCH_PROXY_API_KEY)
X
run "key file missing" 3 "$PX" --listen 0.0.0.0:8080 --api-key-file "$T/nokey"
same "key file missing" err <<X
switch: error: proxy: --api-key-file '$T/nokey': No such file or directory
X
printf 'short\n' >"$T/short.key"
run "key too short" 3 "$PX" --listen 0.0.0.0:8080 --api-key-file "$T/short.key"
same "key too short" err <<X
switch: error: proxy: --api-key-file '$T/short.key' holds a key shorter than 16 characters; expected a key of at least 16 characters
X
: >"$T/empty.key"
run "key empty" 3 "$PX" --listen 0.0.0.0:8080 --api-key-file "$T/empty.key"
same "key empty" err <<X
switch: error: proxy: --api-key-file '$T/empty.key' holds nothing; expected a key of at least 16 characters
X
printf 'a-key-of-some-length-0123\n' >"$T/good.key"
run "wildcard with key" 0 "$PX" --listen 0.0.0.0:8080 --api-key-file "$T/good.key" --dry-run --port-base 9100
same "wildcard with key" err <<X
switch: warning: proxy: listening on '0.0.0.0' without TLS: requests and the API key cross the network in clear text; put this proxy behind a TLS reverse proxy
X
SWITCH_PROXY_API_KEY=a-key-of-some-length-0123 run "name with key" 3 "$PX" --listen example.org:8080
same "name with key" err <<X
switch: warning: proxy: listening on 'example.org' without TLS: requests and the API key cross the network in clear text; put this proxy behind a TLS reverse proxy
switch: error: proxy: --listen 'example.org' is not a numeric IPv4 address (expected ADDRESS:PORT, e.g. 127.0.0.1:8080)
X
run "no port left" 3 "$PX" --port-base 65530 --dry-run
same "no port left" err <<X
switch: error: proxy: no free port for role 'weird' from --port-base 65530
X

# A port that already answers (a leftover server): reported, and the next one is used.
hold=$(free_port)
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(20)' "$hold" &
holder=$!
n=0
while ! /usr/bin/python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$hold" 2>/dev/null; do
	n=$((n + 1)); [ $n -gt 100 ] && break; sleep 0.05
done
run "leftover on a port" 0 "$PX" --port-base "$hold" --dry-run
same "leftover on a port" err <<X
switch: warning: proxy: port $hold (for role 'code') already answers: a server left by an earlier proxy, or another program; using port $((hold + 1)) for 'code' (stop the leftover to free its GPU memory)
X
# The proxy itself cannot listen where the holder is.
run "cannot listen" 3 "$PX" --listen "127.0.0.1:$hold" --port-base "$((hold + 100))"
same "cannot listen" err <<X
switch: error: proxy: cannot listen on 127.0.0.1:$hold: Address in use
X
kill "$holder" 2>/dev/null

# A server that exits during start-up: two retries after 1 s and 2 s... then the error, to the
# waiting request and on stderr; the proxy says when it listens and when it stopped.
printf '#!/bin/sh\necho "engine failed" >&2\nexit 1\n' >"$T/bin/vllm"
chmod +x "$T/bin/vllm"
port=$(free_port)
"$PX" --listen "127.0.0.1:$port" --port-base "$(free_port)" >"$T/px.out" 2>"$T/px.err" &
pxpid=$!
/usr/bin/python3 - "$port" >"$T/resp" <<'PY'
import socket, sys, time
for _ in range(200):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10); break
    except OSError:
        time.sleep(0.05)
s.settimeout(30)
b = b'{"model": "fallback", "prompt": "x"}'
s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
r = b""
while True:
    d = s.recv(4096)
    if not d: break
    r += d
print(r.split(b"\r\n\r\n", 1)[1].decode(), end="")
PY
kill -TERM $pxpid
wait $pxpid
st=$?
[ $st -eq 0 ] || fail "proxy after SIGTERM: exit $st"
same "start fails" resp <<X
{"error": {"message": "role 'fallback' is not available: the server exited during start-up with status 1 (GET /logs/fallback shows its output)", "type": "BadGateway", "param": null, "code": 502}}
X
grep -v "is not in the cache" "$T/px.err" >"$T/err"
same "start fails" err <<X
switch: note: proxy: listening on http://127.0.0.1:$port for 8 roles (ports $(sed -n 's/.*(ports \(.*\))$/\1/p' "$T/px.err"))
switch: warning: proxy: role 'fallback' failed to start: the server exited during start-up with status 1 (GET /logs/fallback shows its output); retrying in 1.0 s
switch: warning: proxy: role 'fallback' failed to start: the server exited during start-up with status 1 (GET /logs/fallback shows its output); retrying in 2.0 s
switch: error: proxy: role 'fallback' failed to start 3 times: the server exited during start-up with status 1 (GET /logs/fallback shows its output)
switch: note: proxy: stopped every server; exiting
X

# switch proxy runs the switch-proxy in switch's own folder (/proc/self/exe), with switch's words.
mkdir -p "$T/alone"
cp "$SW" "$T/alone/switch"
run "no sibling" 3 "$T/alone/switch" proxy --dry-run
same "no sibling" err <<X
switch: error: cannot run $T/alone/switch-proxy: No such file or directory (switch-proxy is installed beside switch: run 'make install', or build both with 'make config')
X
ln -s "$PX" "$T/alone/switch-proxy"
run "sibling" 0 "$T/alone/switch" --table "$TABLE" proxy --dry-run --port-base 9100
has "sibling" out "groups: none in this table: every role needs the whole GPU, so one role is resident at a time"

finish
