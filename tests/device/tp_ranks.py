#!/usr/bin/env python3
"""Per-rank weights under tensor parallel on 2 GPUs, against modelc's planner (issue 14).

Two modes:
  python3 tests/device/tp_ranks.py --expected FILE --modelc MODELC
      (any machine) writes FILE: modelc's per-rank weights for the test model at TP 2, read from
      the plan.json of a two-GPU hosts: catalog built in a temporary folder.
  torchrun --nproc-per-node 2 tests/device/tp_ranks.py --expected FILE --out DIR
      (2 CUDA GPUs, torch and transformers, no network) saves a random-weight Llama-architecture
      model locally, loads it with from_pretrained(..., tp_plan="auto") and compares, on each
      rank, the bytes of the attention and MLP parameters it holds with modelc's sharded bytes
      (exact equality), reports embed_tokens and lm_head next to vLLM's vocabulary-parallel rule
      (padded to 64 rows, then split; transformers shards them its own way, so these are reported,
      not asserted), and measures the memory outside torch's allocator after an all-reduce warm-up.
Results: DIR/tp_ranks.json (rank 0 writes it; every rank prints its line). Exit 0 when every
rank's attention + MLP bytes equal modelc's.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

# A small Llama: 32 heads, 8 KV heads (divisible by 2), a vocabulary that 64 does not divide.
CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
    "hidden_size": 2048, "intermediate_size": 5632, "num_attention_heads": 32,
    "num_key_value_heads": 8, "num_hidden_layers": 8, "vocab_size": 32001,
    "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "attention_bias": False, "mlp_bias": False,
}
TP = 2


def write_expected(path, modelc):
    """modelc's plan of CONFIG on two 80 GiB GPUs at TP 2, rank by rank."""
    with tempfile.TemporaryDirectory() as d:
        lock = {"lock_version": 1, "models": {"example/tp-ranks-test@main": {
            "commit": None, "config": CONFIG, "files": [], "files_complete": False, "gated": None,
            "repo": "example/tp-ranks-test", "revision": "main",
            "sources": ["tests/device/tp_ranks.py CONFIG"], "unknown": ["commit"], "weights": None}}}
        with open(os.path.join(d, "models.lock"), "w") as f:
            json.dump(lock, f, indent=2, sort_keys=True)
        with open(os.path.join(d, "models.yaml"), "w") as f:
            f.write("storage:\n  hf_home: /tmp/hf\nhosts:\n  - name: gpu2\n    interconnect: nvlink\n"
                    "    gpus: [{index: 0, memory: 80 GiB}, {index: 1, memory: 80 GiB}]\n"
                    "roles:\n  tp:\n    repo: example/tp-ranks-test\n    quantization: none\n"
                    "    max_model_len: 4096\n    parallel: {tp: 2, pp: 1}\n")
        subprocess.run([modelc, "build", "-o", "gen"], cwd=d, check=True, stderr=subprocess.DEVNULL)
        with open(os.path.join(d, "gen", "plan.json")) as f:
            plan = json.load(f)["roles"]["tp"]
    ranks = [{"rank": r["rank"], **r["weights_bytes"]} for r in plan["ranks"]]
    with open(path, "w") as f:
        json.dump({"config": CONFIG, "tp": TP, "ranks": ranks}, f, indent=2, sort_keys=True)
        f.write("\n")


def local_bytes(p):
    t = p.to_local() if hasattr(p, "to_local") else p
    return t.numel() * t.element_size()


def run_gpu(expected_path, out):
    import torch
    import torch.distributed as dist
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    rank = int(os.environ["RANK"])
    local = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local)
    dist.init_process_group("nccl")
    base = torch.cuda.mem_get_info()
    expected = json.load(open(expected_path))
    mdir = os.path.join(out, "tp-ranks-model")
    if rank == 0:
        torch.manual_seed(0)
        cfg = LlamaConfig(**{k: v for k, v in CONFIG.items() if k not in ("architectures",)})
        LlamaForCausalLM(cfg).to(torch.bfloat16).save_pretrained(mdir, safe_serialization=True)
    dist.barrier()
    model = AutoModelForCausalLM.from_pretrained(mdir, tp_plan="auto", torch_dtype=torch.bfloat16)
    parts = {"attention_mlp": 0, "norms": 0, "embed_tokens": 0, "lm_head": 0, "other": 0}
    for name, p in model.named_parameters():
        b = local_bytes(p)
        if ".self_attn." in name or ".mlp." in name:
            parts["attention_mlp"] += b
        elif "norm" in name:
            parts["norms"] += b
        elif "embed_tokens" in name:
            parts["embed_tokens"] += b
        elif "lm_head" in name:
            parts["lm_head"] += b
        else:
            parts["other"] += b
    # An all-reduce warm-up, then what the process holds outside torch's caching allocator.
    x = torch.ones(64 * 1024 * 1024 // 2, dtype=torch.bfloat16, device="cuda")
    for _ in range(3):
        dist.all_reduce(x)
    torch.cuda.synchronize()
    free, total = torch.cuda.mem_get_info()
    used_now = total - free
    used_before = base[1] - base[0]
    non_torch = used_now - used_before - torch.cuda.memory_reserved()
    want = next(r for r in expected["ranks"] if r["rank"] == rank)
    line = {"rank": rank, "gpu": torch.cuda.get_device_name(local), "transformers": parts,
            "modelc_sharded": want["sharded"], "modelc_replicated": want["replicated"],
            "modelc_embed_tokens": want["embed_tokens"], "modelc_lm_head_and_norm": want["lm_head"],
            "attention_mlp_equal": parts["attention_mlp"] == want["sharded"],
            "memory_outside_torch_after_all_reduce_bytes": non_torch,
            "used_before_init_bytes": used_before, "reserved_bytes": torch.cuda.memory_reserved()}
    print(json.dumps(line, sort_keys=True), flush=True)
    lines = [None] * dist.get_world_size()
    dist.all_gather_object(lines, line)
    ok = all(l["attention_mlp_equal"] for l in lines)
    if rank == 0:
        with open(os.path.join(out, "tp_ranks.json"), "w") as f:
            json.dump({"ranks": lines, "ok": ok}, f, indent=2, sort_keys=True)
            f.write("\n")
    dist.destroy_process_group()
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--expected", required=True)
    ap.add_argument("--modelc")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.modelc:
        write_expected(a.expected, a.modelc)
        return 0
    return run_gpu(a.expected, a.out or tempfile.mkdtemp())


if __name__ == "__main__":
    sys.exit(main())
