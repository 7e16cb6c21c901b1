#!/bin/sh
# switch doctor: the seed's troubleshooting table as checks, each finding with its action.
. tests/integration/switch_lib.sh

# Nothing set up, no GPU tool: every finding says what to do. (The table with a disk budget of
# 100 bytes: nothing is cached, so 0.0 GiB is left to download.)
export MODELC_TABLE="$T/switch-disk100.table"
run "bare" 1 "$SW" doctor
head -n 6 "$T/out" >"$T/head"
digest=$(cat "$T/catalog/models.yaml" "$T/catalog/models.lock" | sha256sum | cut -d' ' -f1)
built=$("$SW" list --json 2>/dev/null | sed -n 's/.*"built": "\(.*\)",/\1/p')
same "bare" head <<X
ok: table '$T/switch-disk100.table' built $built from 'models.yaml' (sha256 $digest)
problem: no active model: cannot read '.active_model': No such file or directory
  do: eval "\$(switch --set primary)"
problem: files of 'primary' are missing: '$T/hf/hub/models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4/snapshots/0123456789abcdef0123456789abcdef01234567' does not exist
  do: download them again (fetch primary) before serving
skip: nvidia-smi not found; GPU checks skipped
X
grep -qE "^ok: [0-9]+\.[0-9] GiB free on the volume of '$T/hf/hub' covers the rest of the disk budget \(0\.0 GiB\)$" "$T/out" ||
	fail "bare: no disk line"
tail -n 1 "$T/out" | grep -qx "2 problems found" || fail "bare: count"
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

# A healthy setup: active, cached, idle GPU, matching environment.
"$SW" set primary >/dev/null
primary_snapshot all
fake_nvsmi idle
VLLM_MODEL_ID=hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 run "healthy" 0 "$SW" doctor
has "healthy" out "ok: active model is 'primary' (hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4)"
has "healthy" out "ok: \$VLLM_MODEL_ID matches '.active_model'"
has "healthy" out "ok: files of 'primary' are in '$T/hf/hub/models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4/snapshots/0123456789abcdef0123456789abcdef01234567'"
has "healthy" out "ok: no other process holds GPU memory"
has "healthy" out "ok: 'primary' fits GPU 0 now with max_model_len 8192 (0.0 GiB of 79.2 GiB in use)"
has "healthy" out "0 problems found"

# Wrong model loaded, a partial download, other GPU processes.
primary_snapshot some
fake_nvsmi busy
VLLM_MODEL_ID=Qwen/Qwen2.5-7B-Instruct-AWQ run "troubles" 1 "$SW" doctor
has "wrong model" out "problem: wrong model loaded: \$VLLM_MODEL_ID is 'Qwen/Qwen2.5-7B-Instruct-AWQ' but '.active_model' says 'hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4'"
has "wrong model" out "  do: eval \"\$(switch --set primary)\" in this shell, then restart the server"
has "partial" out "problem: 1 of 2 files of 'primary' are missing or partial in '$T/hf/hub/models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4/snapshots/0123456789abcdef0123456789abcdef01234567'"
has "other processes" out "problem: other GPU processes hold memory: pid 423 (python3) 6662 MiB"
has "other processes" out "  do: stop them before serving: they cause OOM during the first request"
has "troubles" out "3 problems found"
primary_snapshot all

# Free VRAM against the active model's need: lowered, refused.
fake_nvsmi desktop
run "desktop" 1 "$SW" doctor
grep -qE "^problem: free VRAM: 'primary' fits GPU 0 now only with max_model_len [0-9]+ and gpu_memory_utilization 0\.[0-9]+ \(0\.7 GiB of 7\.8 GiB in use\)$" "$T/out" ||
	{ fail "desktop: lowered"; cat "$T/out"; }
has "desktop" out "  do: free the GPU for the full context; switch serve lowers the limits by itself otherwise"
has "desktop" out "problem: other GPU processes hold memory: pid 1893 (/usr/lib/xorg/Xorg) 412 MiB, pid 2210 (/usr/lib/firefox/firefox) 280 MiB"
fake_nvsmi full
run "full" 1 "$SW" doctor
has "full" out "problem: free VRAM: 'primary' does not fit GPU 0 now (7.5 GiB of 7.8 GiB in use)"
has "full" out "  do: stop the processes holding GPU memory, or choose a smaller model (switch --set primary)"
fake_nvsmi na
run "na" 1 "$SW" doctor
has "na" out "problem: other GPU processes hold memory: pid 1234 ([Insufficient Permissions])"
fake_nvsmi two-gpus-busy
CUDA_VISIBLE_DEVICES=1 run "second GPU" 1 "$SW" doctor
has "second GPU" out "ok: 'primary' fits GPU 1 now with max_model_len 8192 (6.5 GiB of 79.2 GiB in use)"
has "second GPU" out "problem: other GPU processes hold memory: pid 562 (python3) 518 MiB, pid 562 (python3) 6662 MiB"
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
run "disk pressure" 1 "$SW" --table "$T/switch-diskEB.table" doctor
grep -qE "^problem: disk pressure: [0-9]+\.[0-9] GiB free on the volume of '$T/hf/hub', but the disk budget leaves 931322574\.6 GiB to download$" "$T/out" ||
	{ fail "disk pressure"; cat "$T/out"; }
has "disk pressure" out "  do: remove secondary or specialized models not in active use (fetch prune lists them), or lower the disk budget"

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
