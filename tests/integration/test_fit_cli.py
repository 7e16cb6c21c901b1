"""modelc fit: one JSON object on stdout and nothing on stderr, exit 0 fit or not; exit 2 for
bad arguments (first stderr line asserted in full), 1 for a config without the numbers, 3 for
a config that cannot be read or a result that cannot be written."""
import json
import os
import subprocess
import sys
import tempfile

BIN = os.environ.get("BIN", os.path.abspath("build/bin"))
MODELC = os.path.join(BIN, "modelc")
LLAMA = "tests/fixtures/estimator/llama-3.1-8b-instruct.config.json"
KEYS = ["weights_bytes", "kv_bytes_per_token", "activation_bytes", "non_torch_bytes",
        "cuda_graph_bytes", "safety_margin_bytes", "budget_bytes", "kv_cache_bytes", "kv_tokens",
        "max_model_len_fit", "fits"]
failures = []


def run(args, stdout=subprocess.PIPE):
    p = subprocess.run([MODELC, "fit"] + args, stdout=stdout, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout or "", p.stderr


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def base(**over):
    opts = {"--config": LLAMA, "--weights-bytes": "16060522496", "--gpu-memory": "24GiB",
            "--utilization": "0.9", "--max-model-len": "8192"}
    opts.update(over)
    out = []
    for k, v in opts.items():
        if v is not None:
            out += [k, v]
    return out


# Fits: every key, integers in bytes, nothing on stderr.
rc, out, err = run(base())
check(rc == 0 and err == "", "fit exits 0 silently: rc=%d err=%r" % (rc, err))
r = json.loads(out)
check(all(k in r for k in KEYS), "all keys present")
check(r["weights_bytes"] == 16060522496, "weights as given")
check(r["kv_bytes_per_token"] == 131072, "Llama KV per token")
check(r["fits"] is True, "Llama 8B bf16 fits 24 GiB at 8192")
# The newest generation by default: v0.21.0 and later count a CUDA graph estimate inside.
check(r["vllm_generation"]["name"] == "v1-graphs-in-budget" and r["vllm_generation"]["default"],
      "the newest generation by default, named")
check(r["kv_cache_bytes"] == r["budget_bytes"] - r["weights_bytes"] - r["activation_bytes"]
      - r["non_torch_bytes"] - r["cuda_graph_bytes"],
      "KV cache = budget - weights - activation - non-torch - CUDA graphs")
check(r["evidence"]["covered"] is False and r["evidence"]["gaps"] == ["generation"]
      and r["evidence"]["nearest_generation"] == "v1", "no calibrated case of the newest generation")
check(r["budget_bytes"] == int(24 * 2**30 * 0.9), "budget = total x utilization")
check(r["max_num_batched_tokens"] == 2048 and r["max_num_seqs"] == 256, "V1 small-GPU defaults")
check(r["sources"]["weights"] == "exact" and r["sources"]["activation"] == "calibrated",
      "sources")
check(out.count("{") == 4 and out.endswith("}\n"),
      "one object (with its generation, evidence and sources) and a newline")

# A version names its generation; the V1 rule keeps graphs on top of the budget.
rc, out, err = run(base(**{"--vllm-version": "0.10.2"}))
r = json.loads(out)
check(rc == 0 and err == "" and r["vllm_generation"]["name"] == "v1"
      and r["vllm_generation"]["vllm_version"] == "0.10.2" and r["evidence"]["covered"] is True,
      "--vllm-version 0.10.2: generation v1, inside the evidence")
check(r["kv_cache_bytes"] == r["budget_bytes"] - r["weights_bytes"] - r["activation_bytes"]
      - r["non_torch_bytes"], "V1: KV cache = budget - weights - activation - non-torch")
# A version outside the modelled ones: the nearest generation, and a note says so.
rc, out, err = run(base(**{"--vllm-version": "0.3.3"}))
check(rc == 0 and json.loads(out)["vllm_generation"]["name"] == "v0" and
      err == "modelc: fit: note: vLLM 0.3.3 is outside the modelled versions; using the nearest "
      "generation, v0 (0.5 to 0.10)\n", "--vllm-version 0.3.3: nearest generation v0, noted: %r" % err)

# Does not fit: still exit 0.
rc, out, err = run(base(**{"--gpu-memory": "8GiB"}))
check(rc == 0 and err == "" and json.loads(out)["fits"] is False, "8 GiB: fits false, exit 0")

# --quantization from the formula; GB is 10^9; fp8 KV halves the bytes per token; V0; TP 2.
rc, out, err = run(base(**{"--weights-bytes": None, "--quantization": "awq",
                          "--gpu-memory": "8GB", "--kv-cache-dtype": "fp8",
                          "--vllm-version": "0.10.2"}) + ["--keep-utilization"])
r = json.loads(out)
check(rc == 0 and r["weights_bytes"] == 5727854592 and r["sources"]["weights"] == "formula",
      "AWQ weights from the formula")
check(r["kv_bytes_per_token"] == 65536, "fp8 KV")
check(r["budget_bytes"] == int(8e9 * 0.9), "GB is 10^9")
check(r["utilization_lowered"] is False and r["peak_bytes"] > 8e9,
      "--keep-utilization: not lowered, the peak passes the total")

# The physical check (V1: graphs on top of the budget): the same without --keep-utilization is
# lowered to whole hundredths so that context + budget + graphs (51 sizes x 25 MiB) fit; the
# reason is given as code and text.
rc, out, err = run(base(**{"--weights-bytes": None, "--quantization": "awq",
                          "--gpu-memory": "8GB", "--kv-cache-dtype": "fp8",
                          "--vllm-version": "0.10.2"}))
r = json.loads(out)
check(rc == 0 and r["utilization_lowered"] is True and r["utilization_asked"] == 0.9
      and r["utilization_lowered_reason"] == "cuda_context_and_graphs"
      and r["cuda_graph_sizes"] == 51 and r["cuda_graph_max_size"] == 512
      and r["cuda_graph_bytes"] == 1336934400 and r["cuda_context_bytes"] == 640 << 20
      and r["utilization"] == 0.74 and r["budget_bytes"] == int(8e9 * 0.74)
      and r["peak_bytes"] == (640 << 20) + r["budget_bytes"] + 1336934400 and r["peak_bytes"] <= 8e9,
      "physical check lowers utilization: %r" % r)
check(r["utilization_lowered_text"] == "utilization lowered from 0.90 to 0.74 so that the CUDA "
      "context (0.62 GiB) and CUDA graphs (1.25 GiB) fit beside the budget",
      "reason text: %r" % r["utilization_lowered_text"])
rc, out, err = run(base(**{"--engine": "v0", "--tensor-parallel-size": "2",
                          "--enforce-eager": None}) + ["--enforce-eager"])
r = json.loads(out)
check(rc == 0 and r["weights_bytes"] == 16060522496 // 2 and r["kv_bytes_per_token"] == 65536
      and r["cuda_graph_bytes"] == 0 and r["max_num_batched_tokens"] == 8192,
      "V0, TP 2, eager: %r" % r)
rc, out, err = run(base(**{"--gpu-used": "2GiB", "--safety-margin": "0", "--max-model-len": "auto",
                          "--max-num-seqs": "8", "--max-num-batched-tokens": "1024",
                          "--vllm-version": "0.10.2"}))
r = json.loads(out)
check(rc == 0 and r["utilization_lowered"] is True and r["safety_margin_bytes"] == 0
      and r["max_num_seqs"] == 8 and r["max_num_batched_tokens"] == 1024
      and r["gpu_used_bytes"] == 2 << 30 and r["cuda_graph_sizes"] == 5,
      "used memory lowers utilization; explicit margin; auto length")
rc, out, err = run(base(**{"--calibration": "forward_factor=0,sampler_bytes_per_logit=0,"
                                          "non_torch_bytes=0"}))
check(rc == 0 and json.loads(out)["activation_bytes"] == 0, "--calibration overrides constants")

# Bad arguments: exit 2, the message then the usage.
usage_errors = [
    (["--config"], "modelc: fit: option '--config' needs a value"),
    (base() + ["--config", LLAMA], "modelc: fit: option '--config' given twice"),
    (base() + ["--bogus"], "modelc: fit: unknown argument '--bogus'"),
    (base(**{"--config": None}), "modelc: fit: missing --config"),
    (base(**{"--quantization": "awq"}),
     "modelc: fit: give exactly one of --weights-bytes or --quantization"),
    (base(**{"--weights-bytes": None}),
     "modelc: fit: give exactly one of --weights-bytes or --quantization"),
    (base(**{"--gpu-memory": None}), "modelc: fit: missing --gpu-memory"),
    (base(**{"--utilization": None}), "modelc: fit: missing --utilization"),
    (base(**{"--max-model-len": None}), "modelc: fit: missing --max-model-len"),
    (base(**{"--gpu-memory": "8 gigs"}),
     "modelc: fit: --gpu-memory: '8 gigs' is not a size (bytes, or a number with GiB, MiB, GB or MB)"),
    (base(**{"--gpu-used": "x"}),
     "modelc: fit: --gpu-used: 'x' is not a size (bytes, or a number with GiB, MiB, GB or MB)"),
    (base(**{"--safety-margin": "-1"}),
     "modelc: fit: --safety-margin: '-1' is not a size (bytes, or a number with GiB, MiB, GB or MB)"),
    (base(**{"--utilization": "1.5"}), "modelc: fit: --utilization: '1.5' is not a number in (0, 1]"),
    (base(**{"--max-model-len": "0"}),
     "modelc: fit: --max-model-len: '0' is not a positive integer or 'auto'"),
    (base(**{"--max-num-seqs": "many"}), "modelc: fit: --max-num-seqs: 'many' is not a positive integer"),
    (base(**{"--max-num-batched-tokens": "-5"}),
     "modelc: fit: --max-num-batched-tokens: '-5' is not a positive integer"),
    (base(**{"--tensor-parallel-size": "0"}),
     "modelc: fit: --tensor-parallel-size: '0' is not a positive integer"),
    (base(**{"--kv-cache-dtype": "int3"}),
     "modelc: fit: --kv-cache-dtype: 'int3' is not one of auto, bfloat16, float16, fp8, fp8_e4m3, fp8_e5m2, fp8_inc"),
    (base(**{"--engine": "v2"}), "modelc: fit: --engine: 'v2' is not v0 or v1"),
    (base(**{"--weights-bytes": "16GB"}),
     "modelc: fit: --weights-bytes: '16GB' is not a positive number of bytes"),
    (base(**{"--weights-bytes": None, "--quantization": "awk"}),
     "modelc: fit: --quantization: 'awk' is not one of awq, gptq, fp8, bitsandbytes, compressed-tensors, none"),
    (base(**{"--calibration": "speed=3"}),
     "modelc: fit: --calibration: 'speed=3' is not a list of KEY=NUMBER (forward_factor, "
     "sampler_bytes_per_logit, non_torch_bytes, non_torch_tp_bytes, cuda_graph_bytes, "
     "cuda_graph_bytes_per_unit, cuda_graph_bytes_per_size)"),
    (base(**{"--vllm-version": "latest"}),
     "modelc: fit: --vllm-version: 'latest' is not a version X.Y or X.Y.Z"),
]
for args, first in usage_errors:
    rc, out, err = run(args)
    lines = err.split("\n")
    check(rc == 2 and out == "" and lines[0] == first and lines[1].startswith("usage: modelc fit"),
          "usage error %r: rc=%d first=%r" % (args[-2:], rc, lines[0]))

rc, out, err = run(["--help"])
check(rc == 0 and out.startswith("usage: modelc fit") and err == "", "--help")

with tempfile.TemporaryDirectory() as tmp:
    missing = os.path.join(tmp, "none.json")
    rc, out, err = run(base(**{"--config": missing}))
    check(rc == 3 and out == "" and err.startswith("modelc: fit: %s: unable to open %s: " % (missing, missing)),
          "unreadable config: rc=%d err=%r" % (rc, err))
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('{"num_hidden_layers": 32,\n  oops}\n')
    rc, out, err = run(base(**{"--config": bad}))
    check(rc == 3 and err.startswith("modelc: %s:2:" % bad) and ": error: " in err,
          "config syntax error with line and column: %r" % err)
    short = os.path.join(tmp, "short.json")
    with open(short, "w") as f:
        json.dump({"num_hidden_layers": 32, "num_attention_heads": 32}, f)
    rc, out, err = run(base(**{"--config": short}))
    check(rc == 1 and err == "modelc: %s: error: config.json has no positive integer 'hidden_size'\n" % short,
          "config without hidden_size: %r" % err)

if os.path.exists("/dev/full"):
    with open("/dev/full", "w") as full:
        rc, _, err = run(base(), stdout=full)
    check(rc == 3 and err == "modelc: fit: cannot write the result: No space left on device\n",
          "unwritable stdout: rc=%d err=%r" % (rc, err))

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
