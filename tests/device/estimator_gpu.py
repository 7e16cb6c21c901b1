#!/usr/bin/env python3
"""GPU check of the estimator (issue 5), for a machine with an NVIDIA GPU, PyTorch and
transformers (no vLLM, no network).

For each seed architecture (Llama-3.1-8B-Instruct, Qwen2.5-7B-Instruct, Phi-3.5-mini-instruct)
and one sliding-window model (starcoder2-7b), built with random weights in bf16 on the GPU from
its config.json numbers:
  * torch's allocated bytes after building the model must match modelc's predicted weights
    within 1% (the parameter bytes are reported too, and should be exact);
  * a static KV cache of N tokens must hold exactly N x modelc's kv_bytes_per_token bytes;
  * the peak of a forward pass of B tokens is recorded next to modelc's forward-activation
    basis (a reference point for the calibrated activation term; loosely bounded only);
  * the CUDA context size is recorded next to the constant modelc assumes.
Predictions come from tests/device/estimator_expected.json (made here with modelc:
`python3 tests/device/estimator_gpu.py --write-expected`), so the GPU side needs only Python.
Results: $OUT/estimator_gpu.json (also printed). Exit 0 when every assertion holds.
"""
import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile

N_TOKENS = 2048     # KV cache length; below starcoder2's 4096 window so every layer holds N
B_TOKENS = 2048     # forward-pass batch (one sequence), vLLM's small-GPU default batch
WEIGHT_TOLERANCE = 0.01

# config.json numbers from shared/reference/seed-models.md. rope_scaling is left out (it
# changes no tensor's size and its long lists are not all in the reference); starcoder2-7b's
# layer count is the reference's inference (32) and its tie_word_embeddings is unknown (false).
MODELS = {
    "llama-3.1-8b-instruct": {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "attention_bias": False,
        "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 14336,
        "max_position_embeddings": 131072, "mlp_bias": False, "num_attention_heads": 32,
        "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
        "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        "vocab_size": 128256},
    "qwen2.5-7b-instruct": {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
        "hidden_size": 3584, "intermediate_size": 18944, "max_position_embeddings": 32768,
        "max_window_layers": 28, "num_attention_heads": 28, "num_hidden_layers": 28,
        "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
        "sliding_window": 131072, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        "use_sliding_window": False, "vocab_size": 152064},
    "phi-3.5-mini-instruct": {
        "architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "attention_bias": False,
        "hidden_act": "silu", "hidden_size": 3072, "intermediate_size": 8192,
        "max_position_embeddings": 131072, "num_attention_heads": 32, "num_hidden_layers": 32,
        "num_key_value_heads": 32, "original_max_position_embeddings": 4096,
        "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 262144,
        "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 32064},
    "starcoder2-7b": {
        "architectures": ["Starcoder2ForCausalLM"], "model_type": "starcoder2",
        "hidden_act": "gelu_pytorch_tanh", "hidden_size": 4608, "intermediate_size": 18432,
        "max_position_embeddings": 16384, "norm_epsilon": 1e-05, "num_attention_heads": 36,
        "num_hidden_layers": 32, "num_key_value_heads": 4, "rope_theta": 1000000.0,
        "sliding_window": 4096, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        "use_bias": True, "vocab_size": 49152},
}
HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "estimator_expected.json")


def modelc_fit(modelc, cfg_path, extra):
    cmd = [modelc, "fit", "--config", cfg_path, "--quantization", "none", "--gpu-memory", "80GiB",
           "--utilization", "0.9", "--max-model-len", str(N_TOKENS)] + extra
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0 or p.stderr:
        sys.exit("modelc fit failed (%d): %s" % (p.returncode, p.stderr))
    return json.loads(p.stdout)


def write_expected(modelc, path):
    out = {"generated_by": "python3 tests/device/estimator_gpu.py --write-expected (modelc fit "
                           "--quantization none --gpu-memory 80GiB --utilization 0.9)",
           "n_tokens": N_TOKENS, "b_tokens": B_TOKENS, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, cfg in MODELS.items():
            cp = os.path.join(tmp, name + ".json")
            with open(cp, "w") as f:
                json.dump(cfg, f)
            fit = modelc_fit(modelc, cp, [])
            unit = modelc_fit(modelc, cp, ["--max-num-batched-tokens", str(B_TOKENS),
                                           "--max-num-seqs", "1", "--calibration",
                                           "forward_factor=1,sampler_bytes_per_logit=0"])
            out["models"][name] = {
                "weights_bytes": fit["weights_bytes"],
                "kv_bytes_per_token": fit["kv_bytes_per_token"],
                "kv_bytes_n": fit["kv_bytes_per_token"] * N_TOKENS,
                "kv_at_max_model_len": fit["kv_at_max_model_len"],
                "forward_basis_b": unit["activation_forward_bytes"],
                "cuda_context_bytes": fit["cuda_context_bytes"],
            }
    text = json.dumps(out, indent=1, sort_keys=True) + "\n"
    if path == "-":
        sys.stdout.write(text)
    else:
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)


def cache_tensor_bytes(cache, torch):
    """Bytes of the 4-D key/value tensors a transformers cache holds, found by walking its
    attributes (the layout moved between 4.x lists, 5.x layers and keys/values layer lists)."""
    seen, total = set(), 0
    stack, visited = [(cache, 0)], set()
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, torch.Tensor):
            if obj.dim() == 4 and obj.is_cuda and obj.data_ptr() not in seen:
                seen.add(obj.data_ptr())
                total += obj.numel() * obj.element_size()
            continue
        if depth > 5 or id(obj) in visited:
            continue
        visited.add(id(obj))
        if isinstance(obj, dict):
            stack += [(v, depth + 1) for v in obj.values()]
        elif isinstance(obj, (list, tuple)):
            stack += [(v, depth + 1) for v in obj]
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            stack += [(v, depth + 1) for v in vars(obj).values()]
    return total


def make_static_cache(transformers, config, n, torch):
    import inspect
    sc = transformers.StaticCache
    params = inspect.signature(sc.__init__).parameters
    kw = {"config": config, "max_cache_len": n}
    for k, v in (("max_batch_size", 1), ("batch_size", 1), ("device", "cuda"),
                 ("dtype", torch.bfloat16)):
        if k in params:
            kw[k] = v
    return sc(**kw)


def run_gpu(expected_path, out_dir):
    import torch
    import transformers
    with open(expected_path) as f:
        expected = json.load(f)
    assert torch.cuda.is_available(), "no CUDA device"
    torch.zeros(1, device="cuda")
    free, total = torch.cuda.mem_get_info()
    context = total - free - torch.cuda.memory_reserved()
    results = {"gpu": torch.cuda.get_device_name(0), "cuda_total_bytes": total,
               "cuda_context_bytes": context, "torch": torch.__version__,
               "transformers": transformers.__version__, "predictions": expected_path,
               "n_tokens": N_TOKENS, "b_tokens": B_TOKENS, "models": {}, "failures": []}

    def check(cond, what):
        if not cond:
            results["failures"].append(what)
            print("FAIL:", what, flush=True)

    def one(name, cfg):
        exp = expected["models"][name]
        print("== %s" % name, flush=True)
        fields = {k: v for k, v in cfg.items() if k not in ("architectures", "model_type", "torch_dtype")}
        config = transformers.AutoConfig.for_model(cfg["model_type"], **fields)
        gc.collect()
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated()
        torch.manual_seed(0)
        with torch.device("cuda"):
            try:
                model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
            except TypeError:
                model = transformers.AutoModelForCausalLM.from_config(config, torch_dtype=torch.bfloat16)
        model.eval()
        torch.cuda.synchronize()
        allocated = torch.cuda.memory_allocated() - base
        seen, param_bytes = set(), 0
        for t in list(model.parameters()) + list(model.buffers()):
            if t.data_ptr() in seen:
                continue
            seen.add(t.data_ptr())
            param_bytes += t.numel() * t.element_size()
        params_only = sum(p.numel() * p.element_size() for p in
                          {p.data_ptr(): p for p in model.parameters()}.values())
        r = {"predicted_weights_bytes": exp["weights_bytes"], "allocated_weights_bytes": allocated,
             "parameter_bytes": params_only, "parameter_and_buffer_bytes": param_bytes,
             "weights_rel_error": (allocated - exp["weights_bytes"]) / exp["weights_bytes"]}
        check(abs(r["weights_rel_error"]) <= WEIGHT_TOLERANCE,
              "%s: allocated %d vs predicted %d (%.3f%%)" % (name, allocated, exp["weights_bytes"],
                                                              100 * r["weights_rel_error"]))
        r["parameters_exact"] = params_only == exp["weights_bytes"]

        # KV cache: a static cache of N tokens, filled by a one-token forward (lazy layers).
        with torch.no_grad():
            before = torch.cuda.memory_allocated()
            cache = make_static_cache(transformers, model.config, N_TOKENS, torch)
            ids = torch.zeros((1, 1), dtype=torch.long, device="cuda")
            out = model(input_ids=ids, past_key_values=cache, use_cache=True)
            del out
            gc.collect()
            torch.cuda.synchronize()
            kv_alloc = torch.cuda.memory_allocated() - before
            kv_tensors = cache_tensor_bytes(cache, torch)
        r.update({"predicted_kv_bytes": exp["kv_bytes_n"], "kv_cache_tensor_bytes": kv_tensors,
                  "kv_cache_allocated_bytes": kv_alloc})
        check(kv_tensors == exp["kv_bytes_n"], "%s: KV cache tensors %d vs predicted %d" % (
            name, kv_tensors, exp["kv_bytes_n"]))
        del cache
        gc.collect()
        torch.cuda.empty_cache()

        # Forward peak of B tokens, logits for the last token only (as vLLM computes them).
        with torch.no_grad():
            ids = torch.randint(0, cfg["vocab_size"], (1, B_TOKENS), device="cuda")
            torch.cuda.synchronize()
            start = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            try:
                out = model(input_ids=ids, use_cache=False, logits_to_keep=1)
            except TypeError:
                out = model(input_ids=ids, use_cache=False)
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - start
            del out
        r.update({"forward_peak_bytes": peak, "forward_basis_bytes": exp["forward_basis_b"],
                  "forward_peak_over_basis": peak / exp["forward_basis_b"]})
        check(0.3 <= r["forward_peak_over_basis"] <= 3.0,
              "%s: forward peak %d is not within 0.3-3x the basis %d" % (name, peak, exp["forward_basis_b"]))
        results["models"][name] = r
        print(json.dumps(r, indent=1), flush=True)
        del model, ids
        gc.collect()
        torch.cuda.empty_cache()

    import traceback
    for name, cfg in MODELS.items():
        try:
            one(name, cfg)
        except Exception:  # one model's API trouble must not hide the others' numbers
            tb = traceback.format_exc()
            print(tb, flush=True)
            check(False, "%s: raised %s" % (name, tb.strip().splitlines()[-1]))
            gc.collect()
            torch.cuda.empty_cache()

    results["predicted_cuda_context_bytes"] = next(iter(expected["models"].values()))["cuda_context_bytes"]
    check(0 < context < 2 << 30, "CUDA context %d bytes is outside (0, 2 GiB)" % context)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "estimator_gpu.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    print(json.dumps({k: v for k, v in results.items() if k != "models"}, indent=1, sort_keys=True))
    print("estimator_gpu: %s (%d failures)" % ("PASS" if not results["failures"] else "FAIL",
                                               len(results["failures"])))
    return 0 if not results["failures"] else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-expected", action="store_true")
    ap.add_argument("--modelc", default=os.path.join(HERE, "..", "..", "build", "bin", "modelc"))
    ap.add_argument("--expected", default=EXPECTED)
    ap.add_argument("--out", default=os.environ.get("OUT") or tempfile.mkdtemp())
    a = ap.parse_args()
    if a.write_expected:
        write_expected(a.modelc, a.expected)
        return 0
    return run_gpu(a.expected, a.out)


if __name__ == "__main__":
    sys.exit(main())
