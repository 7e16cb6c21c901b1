#!/usr/bin/env python3
"""Write a real AWQ GEMM checkpoint of a small random Llama-style model on the GPU.

usage: quant_gpu.py OUTDIR

On the GPU machine (PyTorch, transformers, safetensors; no llm-compressor, no internet):
  1. builds a random LlamaForCausalLM (2 layers, hidden 512, 8 heads of 64, 4 KV heads,
     intermediate 1024, vocab 2048) in float16 on the GPU;
  2. quantizes every linear layer of the decoder to 4 bits, asymmetric, in groups of 128 along
     the input, and packs it as AutoAWQ's GEMM kernel expects: qweight int32 [in, out/8],
     qzeros int32 [in/128, out/8], scales float16 [in/128, out], eight 4-bit values per int32
     in the order 0, 2, 4, 6, 1, 3, 5, 7;
  3. checks the packing by unpacking it again (exact) and the quantization by running the
     model with the dequantized weights (logits close to the 16-bit model's);
  4. saves config.json (with quantization_config) and two safetensors shards plus their
     index to OUTDIR/awq-tiny, and OUTDIR/quant_gpu.json with what was measured.

modelc cannot be built on the GPU machine (no libyaml-dev there), so adoption is checked
locally: bring OUTDIR/awq-tiny back as tests/fixtures/quant/device/awq-tiny (or point
QUANT_DEVICE_DIR at it) and tests/integration/test_adopt_device.sh runs
`modelc adopt --check` on it, which also compares its size with the prediction.
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM

BITS, GROUP = 4, 128
PACK = 32 // BITS
AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]   # AutoAWQ GEMM: lane k of an int32 holds column AWQ_ORDER[k]
LINEARS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def quantize(w):
    """w: [out, in] float16 -> (intweight [in, out] int32, zeros [in/g, out] int32, scales [in/g, out] f16)."""
    out_f, in_f = w.shape
    g = w.float().reshape(out_f, in_f // GROUP, GROUP)
    wmin = g.amin(dim=2, keepdim=True)
    wmax = g.amax(dim=2, keepdim=True)
    scales = ((wmax - wmin).clamp(min=1e-5) / (2 ** BITS - 1))
    zeros = torch.clamp(torch.round(-wmin / scales), 0, 2 ** BITS - 1)
    q = torch.clamp(torch.round(g / scales) + zeros, 0, 2 ** BITS - 1)
    intweight = q.reshape(out_f, in_f).t().contiguous().to(torch.int32)           # [in, out]
    zeros = zeros.squeeze(2).t().contiguous().to(torch.int32)                      # [in/g, out]
    scales = scales.squeeze(2).t().contiguous().to(torch.float16)                  # [in/g, out]
    return intweight, zeros, scales


def pack(x):
    """[rows, cols] int32 of 4-bit values -> [rows, cols/8] int32 in AWQ GEMM order."""
    rows, cols = x.shape
    x = x.reshape(rows, cols // PACK, PACK)
    packed = torch.zeros(rows, cols // PACK, dtype=torch.int32, device=x.device)
    for lane, col in enumerate(AWQ_ORDER):
        packed |= (x[:, :, col] & 0xF) << (BITS * lane)
    return packed


def unpack(p):
    rows, words = p.shape
    x = torch.zeros(rows, words, PACK, dtype=torch.int32, device=p.device)
    for lane, col in enumerate(AWQ_ORDER):
        x[:, :, col] = (p >> (BITS * lane)) & 0xF
    return x.reshape(rows, words * PACK)


def dequantize(qweight, qzeros, scales):
    """Back to [out, in] float16 from the packed tensors, as the GEMM kernel computes it."""
    iw = unpack(qweight).float()                              # [in, out]
    z = unpack(qzeros).float().repeat_interleave(GROUP, 0)    # [in, out]
    s = scales.float().repeat_interleave(GROUP, 0)
    return ((iw - z) * s).t().contiguous().to(torch.float16)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: quant_gpu.py OUTDIR")
    out = sys.argv[1]
    assert torch.cuda.is_available(), "no CUDA device"
    torch.manual_seed(0)
    cfg = LlamaConfig(hidden_size=512, intermediate_size=1024, num_hidden_layers=2,
                      num_attention_heads=8, num_key_value_heads=4, head_dim=64, vocab_size=2048,
                      max_position_embeddings=4096, tie_word_embeddings=False)
    model = LlamaForCausalLM(cfg).to(device="cuda", dtype=torch.float16).eval()

    tensors, errors = {}, []
    deq = {}
    for name, t in model.state_dict().items():
        module = name[:-len(".weight")] if name.endswith(".weight") else None
        if module and any(module.endswith(l) for l in LINEARS) and ".layers." in module:
            iw, z, s = quantize(t)
            qweight, qzeros = pack(iw), pack(z)
            assert torch.equal(unpack(qweight), iw), f"{module}: qweight does not unpack to itself"
            assert torch.equal(unpack(qzeros), z), f"{module}: qzeros does not unpack to itself"
            in_f, out_f = t.shape[1], t.shape[0]
            assert qweight.shape == (in_f, out_f // PACK) and qweight.dtype == torch.int32
            assert qzeros.shape == (in_f // GROUP, out_f // PACK) and qzeros.dtype == torch.int32
            assert s.shape == (in_f // GROUP, out_f) and s.dtype == torch.float16
            w2 = dequantize(qweight, qzeros, s)
            # Rounding to the nearest level is off by at most half a step (plus fp16 rounding).
            step = s.float().repeat_interleave(GROUP, 0).t()
            err = ((w2.float() - t.float()).abs() / step).max().item()
            assert err <= 0.52, f"{module}: dequantized error {err:.3f} steps"
            errors.append(err)
            deq[name] = w2
            tensors[f"{module}.qweight"] = qweight
            tensors[f"{module}.qzeros"] = qzeros
            tensors[f"{module}.scales"] = s
        else:
            tensors[name] = t

    ids = torch.randint(0, cfg.vocab_size, (2, 64), device="cuda")
    with torch.no_grad():
        ref = model(ids).logits.float()
        model.load_state_dict({**model.state_dict(), **deq})
        got = model(ids).logits.float()
    rel = ((got - ref).norm() / ref.norm()).item()
    assert rel < 0.35, f"dequantized logits differ by {rel:.3f} (relative)"

    d = os.path.join(out, "awq-tiny")
    os.makedirs(d, exist_ok=True)
    names = sorted(tensors)
    halves = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map, total = {}, 0
    for k, part in enumerate(halves):
        fname = f"model-{k + 1:05d}-of-00002.safetensors"
        save_file({n: tensors[n].contiguous().cpu() for n in part}, os.path.join(d, fname),
                  metadata={"format": "pt"})
        for n in part:
            weight_map[n] = fname
            total += tensors[n].numel() * tensors[n].element_size()
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    c = json.loads(cfg.to_json_string())
    c.pop("dtype", None)
    c["torch_dtype"] = "float16"
    c["architectures"] = ["LlamaForCausalLM"]
    c["quantization_config"] = {"quant_method": "awq", "bits": BITS, "group_size": GROUP,
                                "zero_point": True, "version": "gemm", "modules_to_not_convert": None}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)

    files = {n: os.path.getsize(os.path.join(d, n)) for n in sorted(os.listdir(d))}
    result = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0),
              "quantized_linears": len(errors), "max_error_steps": max(errors),
              "logits_relative_error": rel, "tensor_bytes": total, "files": files}
    with open(os.path.join(out, "quant_gpu.json"), "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    print(json.dumps(result, indent=2, sort_keys=True))
    assert len(errors) == cfg.num_hidden_layers * len(LINEARS)


if __name__ == "__main__":
    main()
