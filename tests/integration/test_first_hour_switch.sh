#!/bin/sh
# The first hour of a new user, switch's side (issue 12): the README's workflows run literally,
# one section per numbered item of the issue, named after it. The catalog is the shipped one,
# copied into a scratch folder the way a clone would have it; the GPU is the stand-in nvidia-smi.
set -u
: "${BIN:?BIN must point at build/bin}"
ROOT=$(pwd -P)
T=$(mktemp -d /tmp/modelc-first-hour.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
export MODELC_SCHEMA_DIR="$ROOT/schemas" NO_COLOR= LC_ALL=C FAKE_NVSMI_DIR="$ROOT/tests/fixtures/nvidia-smi"
unset MODELC_TABLE MODELC_ACTIVE_FILE MODELC_HF_HOME VLLM_MODEL_ID VLLM_MAX_MODEL_LEN MODELC_ACTIVE_ROLE \
	CUDA_VISIBLE_DEVICES NO_COLOR
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# run NAME EXPECTED_EXIT CMD...: stdout in $T/out, stderr in $T/err.
run() {
	name=$1 want=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" -eq "$want" ] || { fail "$name: exit $got, expected $want"; sed 's/^/    err: /' "$T/err"; }
}
has() { grep -qxF -- "$3" "$T/$2" || { fail "$1: $2 lacks the line: $3"; sed 's/^/    /' "$T/$2"; }; }
contains() { grep -qF -- "$3" "$T/$2" || { fail "$1: $2 lacks: $3"; sed 's/^/    /' "$T/$2"; }; }
lacks() { ! grep -qF -- "$3" "$T/$2" || { fail "$1: $2 has: $3"; sed 's/^/    /' "$T/$2"; }; }

# The README: make install PREFIX=~/.local, PATH, then the catalog in a clone.
mkdir -p "$T/home" "$T/clone" "$T/bin"
make -s --no-print-directory install PREFIX="$T/home/.local" >"$T/install.log" 2>&1 ||
	{ echo "FAIL: make install"; cat "$T/install.log"; exit 1; }
export PATH="$T/home/.local/bin:$T/bin:/usr/bin:/bin"
cp "$ROOT/models.yaml" "$ROOT/models.lock" "$T/clone/"
cd "$T/clone"
modelc build >"$T/build.log" 2>&1 || { echo "FAIL: modelc build"; cat "$T/build.log"; exit 1; }
export MODELC_HF_HOME="$T/hf"

echo "== 8. Install, and the build host vs the GPU host"
# What README's make install comment lists is what lands in PREFIX/bin, and nothing more.
listed=$(sed -n 's/^make install PREFIX=.*# builds what it installs: \(.*\), man pages, schemas$/\1/p' "$ROOT/README.md" | tr -d ' ' | tr ',' '\n' | sort)
[ -n "$listed" ] || fail "install: README's make install comment is gone"
[ "$listed" = "$(ls "$T/home/.local/bin" | sort)" ] || fail "install: README lists '$(echo $listed)', PREFIX/bin has '$(ls "$T/home/.local/bin" | tr '\n' ' ')'"
[ "$(command -v switch)" = "$T/home/.local/bin/switch" ] || fail "install: switch is not the one on PATH"
[ -f "$T/home/.local/share/man/man1/switch.1" ] || fail "install: no switch.1"
run "installed switch --list" 0 switch --list
contains "installed switch --list" out "primary"
# The GPU host gets what README's rsync line copies, and nothing else; the catalog stays on the
# build host. Each command README runs there must find what it needs.
copy=$(sed -n 's/^modelc build && rsync -a \(.*\) gpuhost:modelc\/ .*/\1/p' "$ROOT/README.md")
[ -n "$copy" ] || fail "GPU host: README's rsync line is gone"
mkdir -p "$T/gpuhost"
for f in $copy; do
	cp -r "$(echo "$f" | sed "s|^~|$T/home|")" "$T/gpuhost/" || fail "GPU host: README copies '$f', which the build host lacks"
done
mv "$T/clone" "$T/clone.away"
(cd "$T/gpuhost" && ./switch --list) >"$T/out" 2>"$T/err" || fail "GPU host: switch --list"
contains "GPU host" err "not checked: no '$T/clone/models.yaml' here"
contains "GPU host" err "from catalog sha256 "
(cd "$T/gpuhost" && ./switch serve primary --dry-run) >"$T/out" 2>"$T/err" || { fail "GPU host: switch serve --dry-run"; cat "$T/err"; }
(cd "$T/gpuhost" && ./switch proxy --dry-run) >"$T/out" 2>"$T/err" || { fail "GPU host: switch proxy --dry-run"; cat "$T/err"; }
(cd "$T/gpuhost" && ./fetch --help) >"$T/out" 2>"$T/err" || { fail "GPU host: fetch"; cat "$T/err"; }
mv "$T/clone.away" "$T/clone"

echo "== 1. switch must never serve stale limits"
run "list before the edit" 0 switch --list
grep -qE '^  secondary +Qwen/Qwen2.5-7B-Instruct-AWQ +awq +8192 ' "$T/out" || fail "1: secondary is not 8192 before"
/usr/bin/python3 - models.yaml <<'PY'
import re, sys
p = sys.argv[1]; s = open(p).read()
s = re.sub(r"(\n  secondary:\n(?:    .*\n)*?)    max_model_len: [^\n]*\n", r"\1    max_model_len: 4096\n", s, count=1)
open(p, "w").write(s)
PY
grep -q "max_model_len: 4096" models.yaml || fail "1: the edit did not apply"
run "stale: set before the rebuild" 0 switch --set secondary
contains "stale" err "switch: warning: generated/switch.table is older than $T/clone/models.yaml"
run "stale: doctor" 1 switch doctor
contains "stale: doctor" out "is older than '$T/clone/models.yaml'"
modelc build >"$T/build.log" 2>&1 || { fail "1: modelc build after the edit"; cat "$T/build.log"; }
run "rebuilt: list" 0 switch --list
grep -qE '^. secondary +Qwen/Qwen2.5-7B-Instruct-AWQ +awq +4096 ' "$T/out" || { fail "1: list still shows the old limit"; cat "$T/out"; }
lacks "rebuilt: matching" err "older than"
run "rebuilt: set" 0 switch --set secondary
has "rebuilt: set" out "export VLLM_MAX_MODEL_LEN='4096'"
grep -qx "VLLM_MAX_MODEL_LEN='4096'" generated/.env && fail "1: .env's VLLM_* are the primary's, not secondary's"
grep -q "^SECONDARY_MAX_MODEL_LEN='4096'$" generated/.env || fail "1: .env does not say 4096 for secondary"
rm -f .active_model

echo "== 2. --set PATH does what the seed says"
mkdir -p "$T/models/other-model" "$T/models/not-a-model"
printf '{"architectures": ["LlamaForCausalLM"]}\n' >"$T/models/other-model/config.json"
: >"$T/models/other-model/model-00001-of-00002.safetensors"
printf '{}\n' >"$T/models/not-a-model/config.json"
run "set a model directory" 0 switch --set "$T/models/other-model/"
has "set PATH" out "export VLLM_MODEL_ID='$T/models/other-model'"
has "set PATH" out "unset VLLM_MAX_MODEL_LEN"
has "set PATH" out "unset VLLM_GPU_MEMORY_UTILIZATION"
has "set PATH" out "unset MODELC_ACTIVE_ROLE"
has "set PATH" err "switch: warning: '$T/models/other-model' is not in the catalog: nothing was fitted (no max_model_len, gpu_memory_utilization or max_num_seqs: vLLM decides); to size it: modelc add $T/models/other-model --role NAME"
has "set PATH" err "switch: note: .active_model unchanged; switch serve (no role) serves \$VLLM_MODEL_ID"
has "set PATH" out "unset VLLM_MAX_NUM_SEQS"
[ -e .active_model ] && fail "2: a path outside the catalog became the active role"
(cd "$T/models" && switch --table "$T/clone/generated/switch.table" --set other-model) >"$T/out" 2>"$T/err" ||
	fail "2: a relative path"
has "relative PATH" out "export VLLM_MODEL_ID='$T/models/other-model'"
eval "$(switch --set "$T/models/other-model" 2>/dev/null)"
[ "$VLLM_MODEL_ID" = "$T/models/other-model" ] && [ -z "${VLLM_MAX_MODEL_LEN+x}" ] || fail "2: eval of set PATH"
run "not a model" 1 switch --set "$T/models/not-a-model"
has "not a model" err "switch: note: '$T/models/not-a-model' has no *.safetensors file"
mkdir -p "$T/models/no-config" "$T/models/empty"
: >"$T/models/no-config/model.safetensors"
run "no config.json" 1 switch --set "$T/models/no-config"
has "no config.json" err "switch: note: '$T/models/no-config' has no config.json"
run "empty folder" 1 switch --set "$T/models/empty"
has "empty folder" err "switch: note: '$T/models/empty' has no config.json and no *.safetensors file"
mkdir -p "$T/models/it's \$x"
printf '{}\n' >"$T/models/it's \$x/config.json"
: >"$T/models/it's \$x/model.safetensors"
run "unexportable path" 1 switch --set "$T/models/it's \$x"
contains "unexportable path" err "switch: error: VLLM_MODEL_ID '$T/models/it's \$x' cannot be exported: it "
# A catalog role's local directory that does not exist here: the repo id, said on stderr.
run "absent local directory" 0 switch --set /mnt/f/models/starcoder2-7b
has "absent local directory" out "export VLLM_MODEL_ID='bigcode/starcoder2-7b'"
has "absent local directory" err "switch: note: '/mnt/f/models/starcoder2-7b' does not exist here; VLLM_MODEL_ID is 'code's repo id (fetch code downloads it)"
rm -f .active_model

echo "== 5. doctor tells the truth"
ln -sf "$ROOT/tests/fixtures/nvidia-smi/nvidia-smi" "$T/bin/nvidia-smi"
export FAKE_NVSMI_SCENARIO=idle
# A GPU host has vLLM on PATH; doctor checks that (review 3, below, takes it away).
printf '#!/bin/sh\nexit 0\n' >"$T/bin/vllm" && chmod +x "$T/bin/vllm"
# A fresh setup whose active model's files are present: the files of the primary's manifest in
# the Hub cache at the locked commit (or, without one, the snapshot refs/main names).
/usr/bin/python3 - generated/manifests/primary.json "$T/hf/hub" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1]))
repo, commit = m["repo"], m.get("commit") or "0" * 40
d = os.path.join(sys.argv[2], "models--" + repo.replace("/", "--"))
os.makedirs(os.path.join(d, "refs"), exist_ok=True)
open(os.path.join(d, "refs", m.get("revision") or "main"), "w").write(commit)
snap = os.path.join(d, "snapshots", commit)
os.makedirs(snap, exist_ok=True)
for f in m["files"]:
    p = os.path.join(snap, f["path"])
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as out:
        out.truncate(f.get("size") or 0)
PY
set -a; . generated/.env; set +a
run "doctor on a fresh healthy setup" 0 switch doctor
lacks "doctor fresh" out "problem:"
has "doctor fresh" out "0 problems found"
contains "doctor fresh" out "note: no active model (no '.active_model'): serve uses 'primary'"
lacks "doctor fresh" out "download them again"
lacks "doctor fresh" out "disk pressure"
FAKE_NVSMI_SCENARIO=desktop run "doctor with a desktop" 0 switch doctor
contains "doctor desktop" out "set gpu.memory_in_use: 700 MiB and run modelc build"
lacks "doctor desktop" out "stop"
FAKE_NVSMI_SCENARIO=full run "doctor, no room" 1 switch doctor
lacks "doctor full" out "switch --set primary"

echo "== 6. One GPU total, measured in one command (switch gpu)"
run "switch gpu" 0 switch gpu
cat >"$T/want" <<'X'
# switch gpu: GPU 0, from nvidia-smi; for modelc gpu --from FILE
gpu:
  memory: 81079 MiB
  memory_in_use: 0 MiB
measured:
  index: 0
  name: 'NVIDIA H100 80GB HBM3'
  memory_source: 'nvidia-smi memory.total minus memory.reserved'
  memory_exact: true
  total: 81559 MiB
  reserved: 480 MiB
  used: 0 MiB
  free: 81079 MiB
X
diff -u "$T/want" "$T/out" || fail "6: switch gpu on the idle stand-in"
FAKE_NVSMI_SCENARIO=desktop run "switch gpu, no memory.reserved" 0 switch gpu
has "gpu desktop" out "  memory: 7991 MiB"
has "gpu desktop" out "  memory_in_use: 700 MiB"
has "gpu desktop" out "  memory_source: 'nvidia-smi memory.used plus memory.free'"
has "gpu desktop" out "  reserved: null"
FAKE_NVSMI_SCENARIO=totalonly run "switch gpu, total only" 0 switch gpu
has "gpu totalonly" out "  memory_source: 'nvidia-smi memory.total'"
has "gpu totalonly" out "  memory_exact: false"
has "gpu totalonly" err "switch: warning: GPU 0: no memory.reserved or memory.free; memory is nvidia-smi's total, above CUDA's by the driver's reservation"
FAKE_NVSMI_SCENARIO=noused run "switch gpu, no memory.used" 3 switch gpu
has "gpu noused" err "switch: error: gpu: GPU 0: nvidia-smi reports no memory.used or memory.total; give gpu.memory by hand"
FAKE_NVSMI_SCENARIO=two-gpus run "switch gpu, two GPUs" 0 switch gpu
[ "$(grep -c '^gpu:$' "$T/out")" -eq 2 ] && [ "$(grep -cx -- '---' "$T/out")" -eq 1 ] || fail "6: two GPUs, two documents"
has "gpu two" err "switch: note: 2 GPUs, one document each; modelc gpu --from takes one: switch gpu --index N"
FAKE_NVSMI_SCENARIO=two-gpus run "switch gpu --index 1" 0 switch gpu --index 1
has "gpu --index" out "  index: 1"
FAKE_NVSMI_SCENARIO=two-gpus run "switch gpu --index 7" 3 switch gpu --index 7
has "gpu --index 7" err "switch: error: gpu: no GPU with index '7'; nvidia-smi lists 2 (0 to 1)"
rm -f "$T/bin/nvidia-smi"
run "switch gpu without nvidia-smi" 3 switch gpu
has "gpu absent" err "switch: error: gpu: nvidia-smi not found; switch gpu needs a working NVIDIA driver and nvidia-smi on PATH"
run "switch gpu --frob" 2 switch gpu --frob
ln -sf "$ROOT/tests/fixtures/nvidia-smi/nvidia-smi" "$T/bin/nvidia-smi"
# Works on a GPU host with no table at all.
(cd "$T" && switch gpu) >/dev/null 2>&1 || fail "6: switch gpu needs no table"

echo "== 11. Small inconsistencies"
grep -q "VLLM_ACTIVE_ROLE" generated/.env && fail "11: .env still sets VLLM_ACTIVE_ROLE"
grep -qx "MODELC_ACTIVE_ROLE='primary'" generated/.env || fail "11: .env does not set MODELC_ACTIVE_ROLE"
# A shell rc sources .env; the user switches to code; a new shell (rc again) keeps code.
sh -c 'set -a; . generated/.env; set +a; eval "$(switch --set code 2>/dev/null)"; echo "$MODELC_ACTIVE_ROLE $VLLM_MODEL_ID"' >"$T/out"
has "rc: set code" out "code bigcode/starcoder2-7b"
sh -c 'set -a; . generated/.env; set +a; eval "$(switch env)"; echo "$MODELC_ACTIVE_ROLE $VLLM_MODEL_ID $VLLM_MAX_MODEL_LEN"' >"$T/out" 2>"$T/err"
code_len=$(sed -n "s/^CODE_MAX_MODEL_LEN='\(.*\)'$/\1/p" generated/.env)
has "rc: a new shell keeps code" out "code bigcode/starcoder2-7b $code_len"
grep -q 'eval "$(switch env)"' generated/.env || fail "11: .env does not say how the active role survives"
rm -f .active_model
run "env without an active model" 0 switch env
has "env, none active" out "export MODELC_ACTIVE_ROLE='primary'"
has "env, none active" err "switch: note: no active model in '.active_model'; using the primary role 'primary'"
[ -e .active_model ] && fail "11: switch env recorded an active model"
run "env --help" 0 switch env --help
has "env --help" out "usage: switch env [--active-file FILE]"
run "env extra" 2 switch env code
# Did you mean, for options as for roles.
run "--sett" 2 switch --sett code
has "--sett" err "switch: error: unknown command '--sett' (did you mean '--set'?)"
run "sett" 2 switch sett code
has "sett" err "switch: error: unknown command 'sett' (did you mean 'set'?)"
run "set --activefile" 2 switch set code --activefile x
has "--activefile" err "switch: error: set: unknown option '--activefile' (did you mean '--active-file'?)"
run "list --jsn" 2 switch list --jsn
has "--jsn" err "switch: error: list: unknown option '--jsn' (did you mean '--json'?)"
# Colour on a terminal, plain when NO_COLOR is set or stderr is not a terminal.
esc=$(printf '\033')
script -qec "switch --sett" /dev/null >"$T/tty" 2>&1
grep -q "switch: ${esc}\[1;31merror${esc}\[0m: unknown command" "$T/tty" || { fail "11: no colour on a terminal"; cat -v "$T/tty"; }
NO_COLOR=1 script -qec "switch --sett" /dev/null >"$T/tty" 2>&1
grep -q "$esc" "$T/tty" && fail "11: colour although NO_COLOR is set"
grep -q "^switch: error: unknown command" "$T/tty" || fail "11: NO_COLOR: plain message missing"
switch --sett 2>"$T/err"
grep -q "$esc" "$T/err" && fail "11: colour on a pipe"
script -qec "switch --set $T/models/other-model" /dev/null >"$T/tty" 2>&1
grep -q "switch: ${esc}\[1;35mwarning${esc}\[0m: " "$T/tty" || { fail "11: warnings are not coloured"; cat -v "$T/tty"; }
script -qec "switch env" /dev/null >"$T/tty" 2>&1
grep -q "switch: ${esc}\[1;36mnote${esc}\[0m: " "$T/tty" || { fail "11: notes are not coloured"; cat -v "$T/tty"; }

echo "== review 1. --set and .env export every limit the fit depends on"
run "set primary" 0 switch --set primary
for k in MAX_MODEL_LEN MAX_NUM_SEQS MAX_NUM_BATCHED_TOKENS DTYPE GPU_MEMORY_UTILIZATION KV_CACHE_DTYPE; do
	v=$(sed -n "s/^PRIMARY_$k='\(.*\)'$/\1/p" generated/.env)
	[ -n "$v" ] || fail "review 1: .env has no PRIMARY_$k"
	has "set primary: $k" out "export VLLM_$k='$v'"
	grep -qx "VLLM_$k='$v'" generated/.env || fail "review 1: .env's VLLM_$k is not PRIMARY_$k '$v'"
done
has "set primary" out "export VLLM_MAX_NUM_SEQS='8'"
has "set primary" out "export VLLM_MAX_NUM_BATCHED_TOKENS='2048'"
has "set primary" out "export VLLM_DTYPE='half'"
has "set primary" out "unset VLLM_ENFORCE_EAGER"
grep -qx "VLLM_ENFORCE_EAGER=''" generated/.env || fail "review 1: .env lacks VLLM_ENFORCE_EAGER=''"
# The exports are the flags serve passes.
run "serve primary" 0 switch serve primary --dry-run
eval "$(switch --set primary 2>/dev/null)"
contains "serve = set" out "--max-model-len $VLLM_MAX_MODEL_LEN --gpu-memory-utilization $VLLM_GPU_MEMORY_UTILIZATION --dtype $VLLM_DTYPE --max-num-seqs $VLLM_MAX_NUM_SEQS --max-num-batched-tokens $VLLM_MAX_NUM_BATCHED_TOKENS "
rm -f .active_model

echo "== review 2. A model folder outside the catalog is served as it is"
mkdir -p "$T/s/other"
printf '{"architectures": ["LlamaForCausalLM"]}\n' >"$T/s/other/config.json"
: >"$T/s/other/model.safetensors"
switch --set primary >/dev/null 2>&1
eval "$(switch --set "$T/s/other" 2>/dev/null)"
run "serve the folder just set" 0 switch serve --dry-run
has "serve folder" out "vllm serve $T/s/other --host 127.0.0.1 --port 8000"
has "serve folder" err "switch: note: serving \$VLLM_MODEL_ID '$T/s/other' (set by switch --set PATH), not the active role"
has "serve folder" err "switch: warning: '$T/s/other' is not in the catalog: nothing was fitted (no max_model_len, gpu_memory_utilization or max_num_seqs: vLLM decides); to size it: modelc add $T/s/other --role NAME"
run "serve PATH" 0 switch serve "$T/s/other" --dry-run
has "serve PATH" out "vllm serve $T/s/other --host 127.0.0.1 --port 8000"
lacks "serve PATH" err "serving \$VLLM_MODEL_ID"
run "serve PATH --warm" 1 switch serve "$T/s/other" --warm
has "serve PATH --warm" err "switch: error: serve --warm: '$T/s/other' is not in the catalog, and the out-of-memory retry needs a fitted context; serve it without --warm, or size it: modelc add $T/s/other --role NAME"
FAKE_NVSMI_SCENARIO=idle run "doctor, folder set" 0 switch doctor
lacks "doctor folder" out "wrong model loaded"
has "doctor folder" out "note: \$VLLM_MODEL_ID is '$T/s/other', a model folder outside the catalog (switch --set PATH): serve serves it unsized, vLLM decides its limits; to size it: modelc add $T/s/other --role NAME"
unset VLLM_MODEL_ID
run "serve, folder no longer exported" 0 switch serve --dry-run
contains "serve active again" out "--served-model-name primary "
rm -f .active_model

echo "== review 3. The server command must be on PATH"
rm -f "$T/bin/vllm"
run "doctor, no vllm" 1 switch doctor
has "doctor, no vllm" out "problem: the server command 'vllm' is not on PATH here; switch serve cannot start it"
has "doctor, no vllm" out "  do: install vLLM on this host, or set server.command in models.yaml and run modelc build"
run "dry-run, no vllm" 0 switch serve --dry-run
has "dry-run, no vllm" err "switch: warning: 'vllm' is not on PATH here; install vLLM on this host, or set server.command in models.yaml and run modelc build"
FAKE_NVSMI_SCENARIO=idle run "serve, no vllm" 127 switch serve
has "serve, no vllm" err "switch: error: cannot run 'vllm': No such file or directory; install vLLM on this host, or set server.command in models.yaml and run modelc build"
printf '#!/bin/sh\nexit 0\n' >"$T/bin/vllm" && chmod +x "$T/bin/vllm"

echo "== review 4. switch --set leaves nothing untracked in a clone"
cp "$ROOT/.gitignore" .
git init -q . && git add .gitignore models.yaml models.lock && git -c user.name=t -c user.email=t@t commit -qm clone ||
	fail "review 4: git init"
switch --set primary >/dev/null 2>&1 && switch --set code >/dev/null 2>&1
[ -e .active_model.lock ] || fail "review 4: no .active_model.lock to check"
git status --porcelain --untracked-files=all >"$T/out"
[ -s "$T/out" ] && { fail "review 4: untracked after switch --set and modelc build"; cat "$T/out"; }
rm -rf .git .gitignore .active_model .active_model.lock

echo "== review 5. serve's re-fit on the desktop = the rebuild doctor recommends"
FAKE_NVSMI_SCENARIO=desktop run "doctor desktop" 0 switch doctor
in_use=$(sed -n "s/.*'primary' fits GPU 0 now only with .* set gpu.memory_in_use: \([0-9]*\) MiB and run modelc build$/\1/p" "$T/out")
[ -n "$in_use" ] || { fail "review 5: doctor recommends no gpu.memory_in_use"; cat "$T/out"; }
FAKE_NVSMI_SCENARIO=desktop run "serve desktop" 0 switch serve primary --dry-run
len_now=$(sed -n 's/.* --max-model-len \([0-9]*\) .*/\1/p' "$T/out")
cp models.yaml "$T/models.yaml.idle"
# The GPU as switch gpu measures it (the seed's profile is an estimate of another card), and the memory in use.
gpu_mib=$(FAKE_NVSMI_SCENARIO=desktop switch gpu 2>/dev/null | sed -n 's/^  memory: \([0-9]*\) MiB$/\1/p')
sed -i -e "s/^  profile: .*/  memory: $gpu_mib MiB/" -e "s/^  memory_in_use: 0 MiB.*/  memory_in_use: $in_use MiB/" models.yaml
modelc build >"$T/build.log" 2>&1 || { fail "review 5: modelc build with memory_in_use"; cat "$T/build.log"; }
grep -qx "PRIMARY_MAX_MODEL_LEN='$len_now'" generated/.env ||
	fail "review 5: serve re-fitted to $len_now, the rebuild says $(grep PRIMARY_MAX_MODEL_LEN generated/.env)"
FAKE_NVSMI_SCENARIO=desktop run "serve desktop after the rebuild" 0 switch serve primary --dry-run
contains "serve after the rebuild" out "--max-model-len $len_now "
# Built for the idle card of that size, switch's re-fit on the desktop: the same number.
sed -i "s/^  memory_in_use: .*/  memory_in_use: 0 MiB/" models.yaml
modelc build >"$T/build.log" 2>&1 || fail "review 5: modelc build idle"
FAKE_NVSMI_SCENARIO=desktop run "serve desktop, built idle" 0 switch serve primary --dry-run
contains "serve desktop, built idle" out "--max-model-len $len_now "
cp "$T/models.yaml.idle" models.yaml
modelc build >"$T/build.log" 2>&1 || fail "review 5: modelc build again"

echo "== review 8. serve gives doctor's advice when the role does not fit"
FAKE_NVSMI_SCENARIO=small-busy run "doctor small-busy" 1 switch doctor
todo=$(sed -n 's/^  do: \(free GPU memory, or serve a role that fits now: .*\)$/\1/p' "$T/out")
[ -n "$todo" ] || { fail "review 8: doctor gives no role that fits"; cat "$T/out"; }
FAKE_NVSMI_SCENARIO=small-busy run "serve small-busy" 1 switch serve --dry-run
has "serve small-busy" err "switch: note: do: $todo"

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all passed"
