#!/bin/sh
# Roles modelc split over GPUs (tests/fixtures/switch-multigpu: a hosts: catalog with tp 2 roles on
# NVLink and on PCIe, one role on GPU 1 alone, one over two hosts), against the two-H100 captures
# of tests/fixtures/nvidia-smi: serve --dry-run sets CUDA_VISIBLE_DEVICES and the parallel flags of
# plan.json's argv, re-fits every placed GPU (the least free one sets the utilization) and refuses
# with the numbers; doctor reports each placed GPU and how topo -m links them.
. tests/integration/switch_lib.sh

mkdir -p "$T/mg"
cp "$ROOT/tests/fixtures/switch-multigpu/models.yaml" "$ROOT/tests/fixtures/switch-multigpu/models.lock" "$T/mg/"
(cd "$T/mg" && MODELC_SCHEMA_DIR="$ROOT/schemas" "$BIN/modelc" build -o gen) >"$T/mg/build.log" 2>&1 ||
	{ echo "cannot build the multi-GPU table:"; cat "$T/mg/build.log"; exit 1; }
export MODELC_TABLE="$T/mg/gen/switch.table"
fake_nvsmi two-gpus

# The argv and environment of plan.json's node, word for word, --served-model-name's names and
# their order included (common/servednames); switch listens where --host and --port say (it
# serves one role at a time on server.port; the deploy files give each role its own port).
same_as_plan() { # ROLE
	/usr/bin/python3 - "$T/mg/gen/plan.json" "$1" "$T/out" <<'X' || fail "$1: switch serve --dry-run differs from plan.json"
import json, sys
node = json.load(open(sys.argv[1]))["roles"][sys.argv[2]]["nodes"][0]
words = open(sys.argv[3]).read().split()
env = words[:words.index("vllm")]
argv = words[words.index("vllm"):]
plan = list(node["argv"])
if argv != plan:
    print("switch:", argv, "\nplan:  ", plan)
    sys.exit(1)
missing = [v for v in node["env"] if v not in env]
if missing:
    print("environment lacks", missing, "of plan.json; has", env)
    sys.exit(1)
X
}

for role in big mid one tight; do
	port=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["roles"][sys.argv[2]]["port"])' "$T/mg/gen/plan.json" "$role")
	run "$role: dry run" 0 "$SW" serve "$role" --dry-run --host 0.0.0.0 --port "$port"
	same_as_plan "$role"
done
run "big on two H100" 0 "$SW" serve big --dry-run
has "big on two H100" err "switch: note: 'big' on GPUs 0,1 (tp 2, pp 1): max_model_len 16384, gpu_memory_utilization 0.95 (GPU 0 has the least free memory), KV cache 37888 tokens (rank 0, GPU 0), budget 80766618828 bytes"
contains "big on two H100" out "CUDA_VISIBLE_DEVICES=0,1 vllm serve Qwen/Qwen2.5-72B-Instruct "
kv=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["roles"]["big"]["kv_tokens"])' "$T/mg/gen/plan.json")
[ "$kv" = 37888 ] || fail "plan.json's KV tokens for big are $kv, switch re-fitted 37888 on the same GPUs"
run "mid over PCIe" 0 "$SW" serve mid --dry-run
contains "mid over PCIe" out "CUDA_VISIBLE_DEVICES=0,1 NCCL_P2P_DISABLE=1 vllm serve "
contains "mid over PCIe" out " --distributed-executor-backend mp --disable-custom-all-reduce --host "
run "one on GPU 1" 0 "$SW" serve one --dry-run
contains "one on GPU 1" out "CUDA_VISIBLE_DEVICES=1 vllm serve "
has "one on GPU 1" err "switch: note: 'one' on GPUs 1 (tp 1, pp 1): max_model_len 8192, gpu_memory_utilization 0.95 (GPU 1 has the least free memory), KV cache 223104 tokens (rank 0, GPU 1), budget 80766618828 bytes"

CUDA_VISIBLE_DEVICES=2,3 "$SW" serve big --dry-run >"$T/out" 2>"$T/err"
has "big, CUDA_VISIBLE_DEVICES elsewhere" err "switch: note: CUDA_VISIBLE_DEVICES is '2,3' here; 'big' gets its plan's GPUs '0,1'"
contains "big, CUDA_VISIBLE_DEVICES elsewhere" out "CUDA_VISIBLE_DEVICES=0,1 vllm serve "

# A role over two hosts: switch starts one server on one host.
run "wide over two hosts" 1 "$SW" serve wide --dry-run
same "wide over two hosts" err <<'X'
switch: error: 'wide' spans 2 hosts from 'box'; switch serve starts one host's server: run each node's command of plan.txt (beside the table) on its host
X

# 6.5 GiB in use on GPU 1: it sets the one utilization of both ranks, and the context shrinks.
fake_nvsmi two-gpus-busy
run "big, GPU 1 busy" 0 "$SW" serve big --dry-run
has "big, GPU 1 busy" err "switch: note: GPU 1 has 6.5 GiB of 79.2 GiB in use; max_model_len lowered from 16384 to 15392, the largest that fits now"
has "big, GPU 1 busy" err "switch: note: GPU 1 has 6.5 GiB of 79.2 GiB in use; gpu_memory_utilization lowered from 0.95 to 0.9098"
contains "big, GPU 1 busy" out " --max-model-len 15392 --gpu-memory-utilization 0.9098 "
run "tight, GPU 1 busy" 1 "$SW" serve tight --dry-run
same "tight, GPU 1 busy" err <<'X'
switch: error: 'tight' does not fit now: rank 0 (GPU 0) needs 73.60 GiB before its KV cache, its budget is 72.04 GiB at gpu_memory_utilization 0.9098, what GPU 1 allows with 6.5 GiB of 79.2 GiB in use
switch: note: pid 562 (python3) holds 7180 MiB
X
same "tight, GPU 1 busy: nothing started" out </dev/null

# One GPU where the plan has two.
fake_nvsmi idle
run "big, one GPU here" 1 "$SW" serve big --dry-run
same "big, one GPU here" err <<'X'
switch: error: 'big' is placed on GPU 1 of host 'box' (rank 1), which nvidia-smi does not list; run it there, or correct hosts: in the catalog and run modelc build
X

# doctor: each placed GPU, its processes (nvidia-smi -i N), and the link topo -m shows.
doctor_gpu() { # NAME ROLE SCENARIO
	"$SW" set "$2" >/dev/null 2>&1
	fake_nvsmi "$3"
	run "$1" 1 "$SW" doctor
	grep -v "^ok: table\|^note: table\|^ok: active\|files of\|  do: fetch\|GiB free for\|does not exist yet\|problems* found" "$T/out" >"$T/gpu"
	cp "$T/gpu" "$T/out"
}
doctor_gpu "doctor: big, GPU 1 busy" big two-gpus-busy
same "doctor: big, GPU 1 busy" out <<'X'
ok: GPU 0 (rank 0 of 'big'): 527 MiB of 81080 MiB in use
note: GPU 0 holds: pid 562 (python3) 518 MiB
ok: GPU 1 (rank 1 of 'big'): 6671 MiB of 81080 MiB in use
note: GPU 1 holds: pid 562 (python3) 6662 MiB
skip: nvidia-smi topo -m failed (nvidia-smi exited with status 2: fake nvidia-smi: no topo-m.txt in scenario 'two-gpus-busy'); the links between the GPUs of 'big' are not checked
note: 'big' fits GPU 1 now only with max_model_len 15392, utilization 0.9098 (6.5 of 79.2 GiB in use); serve lowers them itself, or set gpu.memory_in_use: 6671 MiB and run modelc build
X
doctor_gpu "doctor: tight, GPU 1 busy" tight two-gpus-busy
has "doctor: tight, GPU 1 busy" out "problem: 'tight' does not fit GPU 1 now (6.5 GiB of 79.2 GiB in use)"
doctor_gpu "doctor: big over PCIe" big two-gpus-pcie
same "doctor: big over PCIe" out <<'X'
ok: GPU 0 (rank 0 of 'big'): 0 MiB of 81079 MiB in use
ok: GPU 1 (rank 1 of 'big'): 0 MiB of 81079 MiB in use
problem: GPUs 0 and 1 of 'big' are linked by PHB (PCIe, no NVLink), but host 'box' says interconnect: nvlink, so serve sets neither NCCL_P2P_DISABLE=1 nor --disable-custom-all-reduce (NCCL_P2P_DISABLE is unset here)
  do: set interconnect: pcie on host 'box' and run modelc build
ok: 'big' fits GPU 0 now with max_model_len 16384 (0.0 GiB of 79.2 GiB in use)
X
NCCL_P2P_DISABLE=1 "$SW" doctor >"$T/out" 2>&1
contains "doctor: big over PCIe, NCCL_P2P_DISABLE=1 here" out "(NCCL_P2P_DISABLE is '1' here)"
doctor_gpu "doctor: mid over PCIe" mid two-gpus-pcie
has "doctor: mid over PCIe" out "ok: GPUs 0 and 1 of 'mid' are linked by PHB; serve sets NCCL_P2P_DISABLE=1 and --disable-custom-all-reduce"
doctor_gpu "doctor: big over NVLink" big two-gpus-nvlink
has "doctor: big over NVLink" out "ok: GPUs 0 and 1 of 'big' are linked by NV18; serve keeps peer-to-peer on"
doctor_gpu "doctor: mid over NVLink" mid two-gpus-nvlink
has "doctor: mid over NVLink" out "problem: GPUs 0 and 1 of 'mid' are linked by NV18 (NVLink), but host 'desk' says interconnect: pcie, so serve sets NCCL_P2P_DISABLE=1 and --disable-custom-all-reduce (NCCL_P2P_DISABLE is unset here)"
has "doctor: mid over NVLink" out "  do: set interconnect: nvlink on host 'desk' and run modelc build"
doctor_gpu "doctor: one GPU here" big idle
has "doctor: one GPU here" out "problem: 'big' is placed on GPU 1 (rank 1), which nvidia-smi does not list"
has "doctor: one GPU here" out "  do: run switch doctor on host 'box', or correct hosts: and run modelc build"
"$SW" set wide >/dev/null 2>&1
run "doctor: wide" 1 "$SW" doctor
has "doctor: wide" out "skip: 'wide' spans 2 hosts; run switch doctor on each"
finish
