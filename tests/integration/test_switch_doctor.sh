#!/bin/sh
# switch doctor: the seed's troubleshooting table as checks, each finding with its action.
. tests/integration/switch_lib.sh

# Nothing set up, no GPU tool: a fresh checkout. No active model is a note (serve uses the
# primary role), files never fetched say 'fetch ROLE' and where fetch puts them, and the disk
# line measures the volume that exists and says so. (The table with a disk budget of 100 bytes.)
export MODELC_TABLE="$T/switch-disk100.table"
run "bare" 1 "$SW" doctor
head -n 6 "$T/out" >"$T/head"
digest=$(cat "$T/catalog/models.yaml" "$T/catalog/models.lock" | sha256sum | cut -d' ' -f1)
built=$("$SW" list --json 2>/dev/null | sed -n 's/.*"built": "\(.*\)",/\1/p')
same "bare" head <<X
ok: table '$T/switch-disk100.table' built $built from 'models.yaml' (sha256 $digest)
ok: the server command 'vllm' is on PATH
note: no active model (no '.active_model'): serve uses 'primary'; choose with eval "\$(switch --set ROLE)"
problem: files of 'primary' are not downloaded: no 'hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4' in '$T/hf/hub'
  do: fetch primary
skip: nvidia-smi not found; GPU checks skipped
X
has "bare: the cache folder" out "note: '$T/hf/hub' does not exist yet (fetch creates it); measured '$T'"
grep -qE "^ok: [0-9]+\.[0-9] GiB free for '$T/hf/hub'$" "$T/out" ||
	fail "bare: no disk line"
tail -n 1 "$T/out" | grep -qx "1 problem found" || fail "bare: count"
grep -q "disk pressure\|download them again\|/mnt/f" "$T/out" && fail "bare: an untrue finding"
export MODELC_TABLE="$TABLE"

# The catalog changed after the build: generated/ is older, and doctor says what to do.
cp -p "$T/catalog/models.yaml" "$T/models.yaml.orig"
echo "# edited" >>"$T/catalog/models.yaml"
run "stale" 1 "$SW" doctor
has "stale" out "problem: '$TABLE' (built $built) is older than '$T/catalog/models.yaml'"
has "stale" out "  do: run 'modelc build' (make config)"
same "stale: doctor says it once" err </dev/null
cp -p "$T/models.yaml.orig" "$T/catalog/models.yaml"
run "fresh again" 1 "$SW" doctor
grep -q "is older than" "$T/out" && fail "the same bytes and time again still read as stale"

# A healthy fresh setup: the active model's files present, the stand-in's idle GPU, the shell's
# environment from .env: 0, notes only.
primary_snapshot all
fake_nvsmi idle
VLLM_MODEL_ID=hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 run "healthy fresh" 0 "$SW" doctor
has "healthy fresh" out "ok: \$VLLM_MODEL_ID is that of 'primary'"
has "healthy fresh" out "0 problems found"
grep -q "^problem" "$T/out" && fail "healthy fresh: a problem"
"$SW" set primary >/dev/null
VLLM_MODEL_ID=hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 run "healthy" 0 "$SW" doctor
has "healthy" out "ok: active model is 'primary' (hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4)"
has "healthy" out "ok: files of 'primary' are in '$T/hf/hub/models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4/snapshots/0123456789abcdef0123456789abcdef01234567'"
has "healthy" out "ok: 'primary' fits GPU 0 now with max_model_len 8192 (0.0 GiB of 79.2 GiB in use)"
has "healthy" out "0 problems found"

# Wrong model loaded, a partial download, other GPU processes (a note: primary still fits).
primary_snapshot some
fake_nvsmi busy
VLLM_MODEL_ID=Qwen/Qwen2.5-7B-Instruct-AWQ run "troubles" 1 "$SW" doctor
has "wrong model" out "problem: wrong model loaded: \$VLLM_MODEL_ID is 'Qwen/Qwen2.5-7B-Instruct-AWQ' but 'primary' is 'hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4'"
has "wrong model" out "  do: eval \"\$(switch env)\", then restart the server"
has "partial" out "problem: 1 of 2 files of 'primary' are missing or incomplete in '$T/hf/hub/models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4/snapshots/0123456789abcdef0123456789abcdef01234567'"
has "partial" out "  do: fetch primary"
has "other processes" out "note: processes holding GPU memory: pid 423 (python3) 6662 MiB"
has "troubles" out "2 problems found"
primary_snapshot all

# A desktop holds memory: not a problem (serve lowers the limits); the cure named is the
# catalog's memory-in-use setting, not stopping the display server. Refused: a role that fits.
fake_nvsmi desktop
run "desktop" 0 "$SW" doctor
grep -qE "^note: 'primary' fits GPU 0 now only with max_model_len [0-9]+, utilization 0\.[0-9]+ \(0\.7 of 7\.8 GiB in use\); serve lowers them itself, or set gpu\.memory_in_use: 700 MiB and run modelc build$" "$T/out" ||
	{ fail "desktop: lowered"; cat "$T/out"; }
has "desktop" out "note: processes holding GPU memory: pid 1893 (/usr/lib/xorg/Xorg) 412 MiB, pid 2210 (/usr/lib/firefox/firefox) 280 MiB"
grep -q "stop" "$T/out" && fail "desktop: tells the user to stop a process"
fake_nvsmi full
run "full" 1 "$SW" doctor
has "full" out "problem: 'primary' does not fit GPU 0 now (7.5 GiB of 7.8 GiB in use)"
grep -qE "^  do: free GPU memory(, or serve a role that fits now: eval \"\\\$\(switch --set [a-z]+\)\"|: no role fits now)$" "$T/out" ||
	{ fail "full: the cure"; cat "$T/out"; }
grep -q "switch --set primary" "$T/out" && fail "full: suggests the role that does not fit"
"$SW" set secondary >/dev/null
fake_nvsmi small-busy
run "refused, another fits" 1 "$SW" doctor
has "refused, another fits" out "problem: 'secondary' does not fit GPU 0 now (3.1 GiB of 7.8 GiB in use)"
has "refused, another fits" out "  do: free GPU memory, or serve a role that fits now: eval \"\$(switch --set fallback)\""
"$SW" set primary >/dev/null
fake_nvsmi na
# 1.2 GiB in use: the margin widens by the spread of the smaller KV cache, as a build for it would.
run "na" 0 "$SW" doctor
has "na" out "note: 'primary' fits GPU 0 now only with max_model_len 528, utilization 0.7714 (1.2 of 7.8 GiB in use); serve lowers them itself, or set gpu.memory_in_use: 1187 MiB and run modelc build"
has "na" out "note: processes holding GPU memory: pid 1234 ([Insufficient Permissions])"
fake_nvsmi two-gpus-busy
CUDA_VISIBLE_DEVICES=1 run "second GPU" 0 "$SW" doctor
has "second GPU" out "ok: 'primary' fits GPU 1 now with max_model_len 8192 (6.5 GiB of 79.2 GiB in use)"
has "second GPU" out "note: processes holding GPU memory: pid 562 (python3) 518 MiB, pid 562 (python3) 6662 MiB"
"$SW" set unsized --active-file "$T/unsized" >/dev/null
fake_nvsmi idle
run "unsized" 1 "$SW" doctor --active-file "$T/unsized"
has "unsized" out "skip: 'unsized' has no computed budget (modelc lacked facts); free VRAM not checked (0.0 GiB of 79.2 GiB in use on GPU 0)"
fake_nvsmi nodriver
run "nodriver" 1 "$SW" doctor
has "nodriver" out "problem: nvidia-smi exited with status 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."
has "nodriver" out "  do: check the NVIDIA driver (nvidia-smi must work before vLLM can)"
no_nvsmi

# The active file names a role the catalog lost, or is not switch's.
printf 'role=gone\nmodel_id=x\n' >"$T/gone"
run "gone" 1 "$SW" doctor --active-file "$T/gone"
has "gone" out "problem: '$T/gone' names role 'gone', which the catalog no longer has"
printf 'role=primary\n' >"$T/short"
run "short" 1 "$SW" doctor --active-file "$T/short"
has "short" out "problem: '$T/short' line 2 is not in switch's format"

# Disk: over the catalog's budget (switch-disk100.table's is 100 bytes; primary's files are 76
# and secondary's 42), and a budget no volume can hold (switch-diskEB.table: 1 EB).
q="$T/hf/hub/models--Qwen--Qwen2.5-7B-Instruct-AWQ"
mkdir -p "$q/refs" "$q/snapshots/b25037543e9394b818fdfca67ab2a00ecc7dd641"
printf b25037543e9394b818fdfca67ab2a00ecc7dd641 >"$q/refs/main"
head -c 10 /dev/zero >"$q/snapshots/b25037543e9394b818fdfca67ab2a00ecc7dd641/config.json"
head -c 32 /dev/zero >"$q/snapshots/b25037543e9394b818fdfca67ab2a00ecc7dd641/model.safetensors"
run "over budget" 1 "$SW" --table "$T/switch-disk100.table" doctor
has "over budget" out "problem: disk budget: cached models use 118 bytes, over the budget of 100 bytes"
has "over budget" out "  do: remove secondary or specialized models not in active use (fetch prune lists them)"
# The active role's downloads against the free space (switch-diskEB.table's primary is edited
# to 1 EB of files: no volume has it).
$EDIT "$TABLE" "$T/switch-bigfiles.table" "primary.file0.size=1000000000000000000" 2>"$T/edit.err" ||
	{ fail "cannot edit the table"; cat "$T/edit.err"; }
rm -rf "$T/hf/hub/models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4"
run "disk pressure" 1 "$SW" --table "$T/switch-bigfiles.table" doctor
grep -qE "^problem: 'primary' needs 931322574\.6 GiB more in '$T/hf/hub', [0-9]+\.[0-9] GiB free$" "$T/out" ||
	{ fail "disk pressure"; cat "$T/out"; }
has "disk pressure" out "  do: free space there, or move storage.hf_home and run modelc build"

run "usage" 2 "$SW" doctor --frob
same "usage" err <<'X'
switch: error: doctor: unknown option '--frob'
usage: switch doctor [--active-file FILE]
X
run "help" 0 "$SW" doctor --help
same "help" out <<'X'
usage: switch doctor [--active-file FILE]
X

finish
