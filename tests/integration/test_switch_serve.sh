#!/bin/sh
# switch serve: the server's argv and environment, the re-fit against nvidia-smi, --dry-run,
# --warm with the stand-in vLLM (tests/fixtures/vllm), the OOM retry, signals and exit status.
. tests/integration/switch_lib.sh

export FAKE_VLLM_MAX_LIFETIME_S=30

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The stand-in vLLM as `vllm` on PATH (a wrapper: it finds vllm-flags.txt next to itself).
use_fake_vllm() {
	printf '#!/bin/sh\nexec /usr/bin/python3 %s/tests/fixtures/vllm "$@"\n' "$ROOT" >"$T/bin/vllm"
	chmod +x "$T/bin/vllm"
}

# A shell script as `vllm`, for exit statuses and signals.
use_stub_vllm() {
	printf '#!/bin/sh\n%s\n' "$1" >"$T/bin/vllm"
	chmod +x "$T/bin/vllm"
}

# wait_for FILE TEXT: up to 20 s for FILE to contain TEXT.
wait_for() {
	n=0
	while ! grep -qF -- "$2" "$1" 2>/dev/null; do
		n=$((n + 1))
		[ $n -gt 200 ] && { fail "waited in vain for '$2' in $1"; sed 's/^/    /' "$1"; return 1; }
		sleep 0.1
	done
}

# Every --flag of an argv (one per line in FILE) must exist in vllm-flags.txt.
check_flags() {
	/usr/bin/python3 - "$ROOT/tests/fixtures/vllm-flags.txt" "$1" <<'X' || fail "flags not in vllm-flags.txt"
import re, sys
known = set()
for line in open(sys.argv[1]):
    if line.startswith("--"):
        known.update(re.findall(r"--[a-z0-9-]+", line.split(" | ")[0]))
bad = [a for a in open(sys.argv[2]).read().split() if a.startswith("--") and a not in known]
assert not bad, bad
X
}

# --dry-run on a machine with nothing: warnings, and the compiled plan. max_num_seqs and
# max_num_batched_tokens are the budget's inputs as modelc resolved them (vLLM's defaults for the
# catalog's GPU), passed so that the server cannot default to other numbers.
run "dry-run bare" 0 "$SW" serve primary --dry-run
same "dry-run bare" out <<X
HF_HOME=$T/hf vllm serve hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 --revision 0123456789abcdef0123456789abcdef01234567 --served-model-name primary hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 --max-model-len 8192 --gpu-memory-utilization 0.9 --dtype half --max-num-seqs 16 --max-num-batched-tokens 2048 --host 127.0.0.1 --port 8000
X
same "dry-run bare" err <<X
switch: warning: nvidia-smi not found; using the compiled limits unchecked
switch: warning: 'primary' is not in the cache '$T/hf/hub'; the server will download it
X
check_flags "$T/out"
run "dry-run math" 0 "$SW" serve mistralai/Mathstral-7B-v0.1 --dry-run --port 9001 --host=0.0.0.0
has "dry-run math" out "HF_HOME=$T/hf vllm serve mistralai/Mathstral-7B-v0.1 --served-model-name math mistralai/Mathstral-7B-v0.1 /mnt/f/models/mathstral-7b --max-model-len 8192 --gpu-memory-utilization 0.9 --kv-cache-dtype fp8 --quantization fp8 --max-num-seqs 8 --max-num-batched-tokens 2048 --host 0.0.0.0 --port 9001"
has "dry-run math" err "switch: warning: 'math' is not in the cache '$T/hf/hub' nor in /mnt/f/models/mathstral-7b; the server will download it"
check_flags "$T/out"
run "dry-run weird" 0 "$SW" serve weird --dry-run
has "dry-run weird" out "HF_HOME=$T/hf vllm serve '/mnt/f/my models/it'\\''s 7b' --served-model-name weird '/mnt/f/my models/it'\\''s 7b' --max-model-len 2048 --gpu-memory-utilization 0.85 --max-num-seqs 4 --max-num-batched-tokens 2048 --host 127.0.0.1 --port 8000"
has "dry-run weird" err "switch: warning: the local directory '/mnt/f/my models/it's 7b' of 'weird' does not exist"
# The printed line is the exact argv: a shell splits it back into the same words.
words=$(sh -c "set -- $(cut -d' ' -f2- "$T/out"); printf '%s\n' \"\$3\" \"\$6\"")
[ "$words" = "/mnt/f/my models/it's 7b
/mnt/f/my models/it's 7b" ] || fail "dry-run quoting reads back as: $words"

# A partial download: the repo id, online, so that the server can finish it.
primary_snapshot some
run "dry-run partial" 0 "$SW" serve primary --dry-run
contains "dry-run partial" out "vllm serve hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 --revision 0123456789abcdef0123456789abcdef01234567 "
has "dry-run partial" err "switch: warning: 1 of 2 files of 'primary' are missing from '$T/hf/hub/models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4/snapshots/0123456789abcdef0123456789abcdef01234567'; the server will download them"
grep -q HF_HUB_OFFLINE "$T/out" && fail "a partial download was served offline"

# With the files in the cache: the snapshot path, offline.
primary_snapshot all
snap="$T/hf/hub/models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4/snapshots/0123456789abcdef0123456789abcdef01234567"
"$SW" set primary >/dev/null
run "dry-run cached" 0 "$SW" serve --dry-run
same "dry-run cached" out <<X
HF_HOME=$T/hf HF_HUB_OFFLINE=1 vllm serve $snap --served-model-name primary hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 --max-model-len 8192 --gpu-memory-utilization 0.9 --dtype half --max-num-seqs 16 --max-num-batched-tokens 2048 --host 127.0.0.1 --port 8000
X
run "dry-run no active" 0 "$SW" serve --dry-run --active-file "$T/none"
has "dry-run no active" err "switch: note: no active model in '$T/none'; using the primary role 'primary'"
printf 'role=gone\nmodel_id=x\n' >"$T/gone"
run "serve gone" 1 "$SW" serve --dry-run --active-file "$T/gone"
has "serve gone" err "switch: error: $T/gone: role 'gone' is not in this build's catalog 'models.yaml'"
printf 'nonsense\n' >"$T/bad"
run "serve malformed" 1 "$SW" serve --dry-run --active-file "$T/bad"
has "serve malformed" err "switch: error: $T/bad:1: not a file switch wrote (expected role=... and model_id=...)"
mkdir -p "$T/dir_active"
run "serve unreadable" 3 "$SW" serve --dry-run --active-file "$T/dir_active"
has "serve unreadable" err "switch: error: $T/dir_active: Is a directory"
run "serve unknown" 1 "$SW" serve primay --dry-run
has "serve unknown" err "switch: error: unknown role, path or repo 'primay' (did you mean 'primary'?)"

# A role modelc could not size: no --max-model-len (vLLM decides), and no re-fit against a GPU.
run "dry-run unsized" 0 "$SW" serve unsized --dry-run
same "dry-run unsized" out <<X
HF_HOME=$T/hf vllm serve test/unsized-7b --served-model-name unsized test/unsized-7b --gpu-memory-utilization 0.9 --quantization bitsandbytes --max-num-seqs 8 --max-num-batched-tokens 2048 --host 127.0.0.1 --port 8000
X
same "dry-run unsized" err <<X
switch: warning: nvidia-smi not found; using the compiled limits unchecked
switch: warning: 'unsized' is not in the cache '$T/hf/hub'; the server will download it
switch: warning: the catalog gives 'unsized' no max_model_len; the server will use the model's own limit
X
check_flags "$T/out"

# Re-fit against nvidia-smi's real output.
fake_nvsmi idle
run "unsized on a GPU" 0 "$SW" serve unsized --dry-run
has "unsized on a GPU" err "switch: warning: 'unsized' has no computed budget (modelc lacked facts); not checked against GPU 0 (0.0 GiB of 79.2 GiB in use)"
contains "unsized on a GPU" out "--gpu-memory-utilization 0.9 --quantization bitsandbytes "
grep -q -- "--max-model-len" "$T/out" && fail "unsized on a GPU: --max-model-len in argv"
FAKE_NVSMI_LOG="$T/nvsmi.log" run "idle H100" 0 "$SW" serve primary --dry-run
# A dry run says what the re-fit found (test_fit_consistency.sh compares it with modelc's).
refit_note() { # NAME GPU
	[ "$(wc -l <"$T/err")" -eq 1 ] && grep -qE "^switch: note: 'primary' on GPU $2: max_model_len 8192, gpu_memory_utilization 0\.9, KV cache [0-9]+ tokens, budget [0-9]+ bytes\$" "$T/err" ||
		{ fail "$1: not the re-fit's note alone"; sed 's/^/    /' "$T/err"; }
}
refit_note "idle H100" 0
same "idle H100 queries" nvsmi.log <<'X'
--query-gpu=index,name,memory.total,memory.used,memory.free,memory.reserved --format=csv,noheader,nounits
--query-compute-apps=pid,process_name,used_memory --format=csv,noheader,nounits
X
fake_nvsmi busy
rm -f "$T/nvsmi.log"
FAKE_NVSMI_LOG="$T/nvsmi.log" run "busy H100, old driver" 0 "$SW" serve primary --dry-run
contains "busy H100, old driver" out "--max-model-len 8192 --gpu-memory-utilization 0.9 "
has "busy H100 asks again" nvsmi.log "--query-gpu=index,name,memory.total,memory.used,memory.free --format=csv,noheader,nounits"
fake_nvsmi desktop
run "desktop 8 GiB" 0 "$SW" serve primary --dry-run
grep -qE "^switch: note: GPU 0 has 0\.7 GiB of 7\.8 GiB in use; max_model_len lowered from 8192 to [0-9]+, the largest that fits now$" "$T/err" ||
	{ fail "desktop: no lowered context"; cat "$T/err"; }
grep -qE "^switch: note: GPU 0 has 0\.7 GiB of 7\.8 GiB in use; gpu_memory_utilization lowered from 0\.9 to 0\.8[0-9]*$" "$T/err" ||
	{ fail "desktop: no lowered utilization"; cat "$T/err"; }
len=$(sed -n 's/.*--max-model-len \([0-9]*\) .*/\1/p' "$T/out")
[ "$len" -ge 256 ] && [ "$len" -lt 8192 ] && grep -q "lowered from 8192 to $len," "$T/err" || fail "desktop: argv has max_model_len '$len'"
fake_nvsmi full
run "full" 1 "$SW" serve primary --dry-run
same "full" err <<'X'
switch: error: 'primary' does not fit GPU 0 now: 7.5 GiB of 7.8 GiB are in use, and not even max_model_len 256 would fit
switch: note: pid 4242 (/usr/bin/python3) holds 7530 MiB
switch: note: pid 5151 (Xorg) holds 120 MiB
X
same "full: nothing to run" out </dev/null
fake_nvsmi small-busy
run "small busy" 1 "$SW" serve primary --dry-run
has "small busy" err "switch: note: pid 4242 (/usr/bin/python3 train, lr=3) holds 3050 MiB"
fake_nvsmi na
# (secondary: since the physical check of fa43c40, primary's 5.7 GB no longer fits beside 1.2 GiB.)
run "unknown usage" 0 "$SW" serve secondary --dry-run
contains "unknown usage" err "switch: note: GPU 0 has 1.2 GiB of 7.8 GiB in use; max_model_len lowered from 8192 to "
printf '0, RTX, 8192, 8100, 91, [N/A]\n' >"$T/fullna.csv"
mkdir -p "$T/nvsmi/fullna" && cp "$T/fullna.csv" "$T/nvsmi/fullna/query-gpu.csv" && printf '99, [Insufficient Permissions], [N/A]\n' >"$T/nvsmi/fullna/compute-apps.csv"
printf '0, RTX, 8192, 8100, 91, [N/A]\n' >"$T/nvsmi/fullna/query-gpu.csv"
mkdir -p "$T/nvsmi/ghost" && printf '0, RTX, 8192, 8100, 91, [N/A]\n' >"$T/nvsmi/ghost/query-gpu.csv" && : >"$T/nvsmi/ghost/compute-apps.csv"
FAKE_NVSMI_DIR="$T/nvsmi" FAKE_NVSMI_SCENARIO=fullna run "full, hidden process" 1 "$SW" serve primary --dry-run
has "full, hidden process" err "switch: note: pid 99 ([Insufficient Permissions]) holds an unknown amount"
FAKE_NVSMI_DIR="$T/nvsmi" FAKE_NVSMI_SCENARIO=ghost run "full, no process" 1 "$SW" serve primary --dry-run
has "full, no process" err "switch: note: nvidia-smi lists no process holding it"
fake_nvsmi two-gpus-busy
CUDA_VISIBLE_DEVICES=1 run "second GPU" 0 "$SW" serve primary --dry-run
refit_note "second GPU" 1
for s in nodriver garbage nogpu garbage-apps; do
	fake_nvsmi $s
	run "nvidia-smi $s" 0 "$SW" serve primary --dry-run
	contains "nvidia-smi $s" out "--max-model-len 8192 --gpu-memory-utilization 0.9 "
done
fake_nvsmi nodriver
run "nodriver" 0 "$SW" serve primary --dry-run
same "nodriver" err <<'X'
switch: warning: nvidia-smi exited with status 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.; using the compiled limits unchecked
X
fake_nvsmi garbage
run "garbage" 0 "$SW" serve primary --dry-run
same "garbage" err <<'X'
switch: warning: cannot read nvidia-smi's GPU list: line 1: memory field '80 GB' is not a number of MiB; using the compiled limits unchecked
X
fake_nvsmi nogpu
run "nogpu" 0 "$SW" serve primary --dry-run
same "nogpu" err <<'X'
switch: warning: nvidia-smi lists no GPU; using the compiled limits unchecked
X
fake_nvsmi garbage-apps
run "garbage apps" 0 "$SW" serve primary --dry-run
same "garbage apps" err <<'X'
switch: warning: cannot read nvidia-smi's process list: line 1: expected 3 fields, found 2; using the compiled limits unchecked
X
mkdir -p "$T/nvsmi/appsfail" && cp "$ROOT/tests/fixtures/nvidia-smi/idle/query-gpu.csv" "$T/nvsmi/appsfail/"
FAKE_NVSMI_DIR="$T/nvsmi" FAKE_NVSMI_SCENARIO=appsfail run "apps query fails" 0 "$SW" serve primary --dry-run
contains "apps query fails" err "switch: warning: nvidia-smi exited with status 1: "
no_nvsmi

# Usage errors.
run "port" 2 "$SW" serve --port 70000
same "port" err <<'X'
switch: error: serve: --port '70000' is not a port number (1-65535)
X
run "port value" 2 "$SW" serve --port
same "port value" err <<'X'
switch: error: serve: option '--port' needs a value
X
run "timeout" 2 "$SW" serve --warm --timeout 0
same "timeout" err <<'X'
switch: error: serve: --timeout '0' is not a number of seconds (1-86400)
X
run "dry and warm" 2 "$SW" serve --dry-run --warm
has "dry and warm" err "switch: error: serve: --dry-run and --warm cannot be combined"
run "two roles" 2 "$SW" serve primary code
has "two roles" err "switch: error: serve: expected at most one ROLE, PATH or REPO, got 'primary' and 'code'"
run "serve option" 2 "$SW" serve --frob
has "serve option" err "switch: error: serve: unknown option '--frob'"
run "serve help" 0 "$SW" serve --help
contains "serve help" out "usage: switch serve [ROLE|PATH|REPO] [--dry-run] [--warm]"

# No vllm on PATH.
rm -f "$T/bin/vllm"
run "no vllm" 127 "$SW" serve primary
has "no vllm" err "switch: error: cannot run 'vllm': No such file or directory"

# A real launch of the stand-in: its argv and environment, then SIGTERM reaches it through switch.
use_fake_vllm
port=$(free_port)
: >"$T/out"; : >"$T/err"  # before the background job opens them: no stale text
FAKE_VLLM_RECORD="$T/record.json" "$SW" serve primary --port "$port" >"$T/out" 2>"$T/err" &
sw=$!
wait_for "$T/record.json" '"argv"'
/usr/bin/python3 - "$T/record.json" "$snap" "$T/hf" "$port" >"$T/argv" <<'X' || fail "recorded launch"
import json, sys
r = json.load(open(sys.argv[1]))
argv, env = r["argv"][1:], r["env"]
assert argv == ["serve", sys.argv[2], "--served-model-name", "primary", "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4",
                "--max-model-len", "8192", "--gpu-memory-utilization", "0.9", "--dtype", "half",
                "--max-num-seqs", "16", "--max-num-batched-tokens", "2048", "--host", "127.0.0.1", "--port",
                sys.argv[4]], argv
assert env["HF_HOME"] == sys.argv[3] and env["HF_HUB_OFFLINE"] == "1", env
print("\n".join(argv))
X
check_flags "$T/argv"
kill -TERM $sw
wait $sw
rc=$?
[ $rc -eq 0 ] || fail "after SIGTERM the stand-in exits 0 and so should switch, got $rc"

# The server's status passes through: a code, or 128+N for signal N.
use_stub_vllm 'trap "exit 42" TERM; echo started >"$STUB_FLAG"; while :; do sleep 0.1; done'
: >"$T/out"; : >"$T/err"  # before the background job opens them: no stale text
STUB_FLAG="$T/stub_started" "$SW" serve primary >"$T/out" 2>"$T/err" &
sw=$!
wait_for "$T/stub_started" started
kill -TERM $sw
wait $sw
rc=$?
[ $rc -eq 42 ] || fail "SIGTERM forwarded: expected the server's 42, got $rc"
use_stub_vllm 'kill -KILL $$'
run "server killed" 137 "$SW" serve primary
use_stub_vllm 'exit 5'
run "server fails" 5 "$SW" serve primary

# --warm: /health, one completion, the cold-start time.
use_fake_vllm
port=$(free_port)
: >"$T/out"; : >"$T/err"  # before the background job opens them: no stale text
FAKE_VLLM_STARTUP_S=0.5 "$SW" serve primary --warm --port "$port" >"$T/out" 2>"$T/err" &
sw=$!
wait_for "$T/err" "is ready"
grep -qE "^switch: 'primary' is ready: cold start [0-9]+\.[0-9]{2} s \(GET /health answered after [0-9]+\.[0-9]{2} s, first completion [0-9]+\.[0-9]{2} s\)$" "$T/err" ||
	{ fail "warm report"; cat "$T/err"; }
grep -q "warm-up completion" "$T/err" && fail "the warm-up completion failed: $(cat "$T/err")"
kill -INT $sw
wait $sw
rc=$?
[ $rc -eq 0 ] || fail "warm: SIGINT forwarded, expected 0, got $rc"

port=$(free_port)
: >"$T/out"; : >"$T/err"  # before the background job opens them: no stale text
FAKE_VLLM_STATUS_FOR_COMPLETIONS=500 "$SW" serve primary --warm --port "$port" >"$T/out" 2>"$T/err" &
sw=$!
wait_for "$T/err" "is ready"
has "warm completion error" err "switch: warning: the warm-up completion failed with HTTP status 500"
kill -TERM $sw
wait $sw

# A server that answers /health but hangs up on the completion.
cat >"$T/bin/vllm" <<'X'
#!/usr/bin/python3
import http.server, sys, threading
port = int(sys.argv[sys.argv.index("--port") + 1])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def do_POST(self):
        self.close_connection = True
        self.connection.close()
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", port), H)
threading.Timer(30, srv.shutdown).start()
srv.serve_forever()
X
chmod +x "$T/bin/vllm"
port=$(free_port)
: >"$T/out"; : >"$T/err"  # before the background job opens them: no stale text
"$SW" serve primary --warm --port "$port" >"$T/out" 2>"$T/err" &
sw=$!
wait_for "$T/err" "is ready"
has "completion without answer" err "switch: warning: the warm-up completion got no answer: Protocol error"
kill -TERM $sw
wait $sw
use_fake_vllm

# Interrupted while starting: the server's status, and no start-up error.
port=$(free_port)
: >"$T/out"; : >"$T/err"  # before the background job opens them: no stale text
FAKE_VLLM_STARTUP_S=20 FAKE_VLLM_RECORD="$T/slow.json" "$SW" serve primary --warm --port "$port" >"$T/out" 2>"$T/err" &
sw=$!
wait_for "$T/slow.json" '"argv"'
kill -INT $sw
wait $sw
rc=$?
[ $rc -eq 0 ] || fail "interrupted start-up: expected the stand-in's 0, got $rc"
grep -q "switch: error" "$T/err" && fail "interrupted start-up reported an error: $(cat "$T/err")"

# Out of memory during start-up: one retry with half the context, and it says so.
port=$(free_port)
: >"$T/out"; : >"$T/err"  # before the background job opens them: no stale text
FAKE_VLLM_MODE=oom FAKE_VLLM_OOM_ABOVE=5000 FAKE_VLLM_RECORD="$T/oom.json" "$SW" serve primary --warm --port "$port" >"$T/out" 2>"$T/err" &
sw=$!
wait_for "$T/err" "is ready"
has "oom retry" err "switch: note: the server ran out of memory during start-up with max_model_len 8192; retrying once with max_model_len 4096"
contains "oom retry shows the server's error" err "CUDA out of memory"
/usr/bin/python3 -c 'import json, sys; a = json.load(open(sys.argv[1]))["argv"]; assert a[a.index("--max-model-len") + 1] == "4096", a' "$T/oom.json" ||
	fail "the retry did not pass --max-model-len 4096"
kill -TERM $sw
wait $sw
port=$(free_port)
FAKE_VLLM_MODE=oom FAKE_VLLM_OOM_ABOVE=100 run "oom twice" 1 "$SW" serve primary --warm --port "$port"
has "oom twice" err "switch: error: the server ran out of memory during start-up with max_model_len 4096; lower max_model_len or gpu_memory_utilization in the catalog, or free the GPU"
port=$(free_port)
FAKE_VLLM_MODE=oom FAKE_VLLM_OOM_ABOVE=100 run "oom weird" 1 "$SW" serve weird --warm --port "$port"
has "oom weird" err "switch: note: the server ran out of memory during start-up with max_model_len 2048; retrying once with max_model_len 1024"
has "oom weird" err "switch: error: the server ran out of memory during start-up with max_model_len 1024; lower max_model_len or gpu_memory_utilization in the catalog, or free the GPU"
port=$(free_port)
FAKE_VLLM_MODE=crash run "crash" 1 "$SW" serve primary --warm --port "$port"
has "crash" err "switch: error: the server exited during start-up with status 1"
port=$(free_port)
FAKE_VLLM_STARTUP_S=20 run "timeout" 3 "$SW" serve primary --warm --timeout 1 --port "$port"
has "timeout" err "switch: error: the server did not answer GET /health within 1 s; stopping it"

# No descriptor left for the pipe of the server's stderr (0-2 and the one diag_record opens):
# switch cannot start the server, and says so.
run "no descriptors" 3 sh -c 'ulimit -n 4; exec "$0" serve primary --warm' "$SW"
has "no descriptors" err "switch: error: cannot start 'vllm': No file descriptors available"

finish
