"""modelc and switch give the same numbers for the same inputs and GPU state: a catalog whose GPU
is the stand-in nvidia-smi's desktop scenario (tests/fixtures/nvidia-smi/desktop: 700 MiB in use
of 7991 MiB that CUDA sees) is built with modelc, then modelc explain --json, modelc fit with
the same settings, and switch serve --dry-run against that nvidia-smi must agree on
max_model_len, utilization, KV tokens and budget bytes, and switch serves under the names, in
the order, of llama-swap.yaml's command (common/servednames) (switch re-fits with the inputs modelc
stored in the runtime table; only the GPU state is its own, and here it is the same)."""
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.getcwd()
BIN = os.environ.get("BIN", os.path.join(ROOT, "build", "bin"))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
MODELC = os.path.join(BIN, "modelc")
SW = os.path.join(BUILD, "test-switch", "switch")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


if not shutil.which("musl-gcc"):
    print("musl-gcc is missing (scripts/deps.sh installs musl-tools)", file=sys.stderr)
    sys.exit(77)
r = run(["make", "-s", "--no-print-directory", SW, "SWITCH_OUT=" + SW])
if r.returncode:
    sys.exit("cannot build switch: " + r.stderr)

# The scenario's GPU: CUDA's total is used + free, as switch computes it from nvidia-smi.
fields = open(os.path.join(ROOT, "tests/fixtures/nvidia-smi/desktop/query-gpu.csv")).read().split(", ")
used_mib, free_mib = int(fields[3]), int(fields[4])
total_mib = used_mib + free_mib

LLAMA = {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
         "max_position_embeddings": 131072, "num_attention_heads": 32, "num_hidden_layers": 32,
         "num_key_value_heads": 8, "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 128256,
         "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}}
QWEN = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 3584,
        "intermediate_size": 18944, "max_position_embeddings": 32768, "num_attention_heads": 28,
        "num_hidden_layers": 28, "num_key_value_heads": 4, "tie_word_embeddings": False,
        "torch_dtype": "bfloat16", "use_sliding_window": False, "vocab_size": 152064,
        "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}}
# role: (repo, config, exact weight bytes, catalog lines)
ROLES = {
    "primary": ("hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", LLAMA, 5700000000,
                "    quantization: awq\n    max_model_len: auto\n"),
    "secondary": ("Qwen/Qwen2.5-7B-Instruct-AWQ", QWEN, 5600000000,
                  "    quantization: awq\n    max_model_len: 8192\n    kv_cache_dtype: fp8\n"),
}

w = tempfile.mkdtemp()
try:
    catalog = ("storage:\n  hf_home: %s/hf\ngpu:\n  memory: %d MiB\n  memory_in_use: %d MiB\n  utilization: 0.9\n"
               "server:\n  max_num_seqs: 8\nroles:\n" % (w, total_mib, used_mib))
    models = {}
    for name, (repo, config, weights, lines) in ROLES.items():
        catalog += "  %s:\n    repo: %s\n%s" % (name, repo, lines)
        models[repo + "@main"] = {
            "repo": repo, "revision": "main", "commit": None, "gated": None, "config": config,
            "weights": {"bytes": weights, "source": "safetensors-index", "dtypes": {"I32": weights}},
            "files": [], "files_complete": True, "sources": ["test"], "unknown": ["commit"]}
        json.dump(config, open(os.path.join(w, name + ".config.json"), "w"))
    open(os.path.join(w, "models.yaml"), "w").write(catalog)
    json.dump({"lock_version": 1, "models": models}, open(os.path.join(w, "models.lock"), "w"))
    r = run([MODELC, "build", "-o", "gen"], cwd=w)
    check(r.returncode == 0, "modelc build: " + r.stderr)
    env = dict(os.environ, PATH=os.path.join(ROOT, "tests/fixtures/nvidia-smi") + ":/usr/bin:/bin",
               FAKE_NVSMI_DIR=os.path.join(ROOT, "tests/fixtures/nvidia-smi"), FAKE_NVSMI_SCENARIO="desktop",
               MODELC_HF_HOME=os.path.join(w, "hf"), MODELC_TABLE=os.path.join(w, "gen", "switch.table"), LC_ALL="C")
    env.pop("CUDA_VISIBLE_DEVICES", None)

    for name, (repo, config, weights, lines) in ROLES.items():
        r = run([MODELC, "explain", name, "--json"], cwd=w)
        check(r.returncode == 0, "explain %s: %s" % (name, r.stderr))
        x = json.loads(r.stdout)

        r = run([SW, "serve", name, "--dry-run"], cwd=w, env=env)
        check(r.returncode == 0, "switch serve %s: %s" % (name, r.stderr))
        m = re.search(r"^switch: note: '%s' on GPU 0: max_model_len (\d+), gpu_memory_utilization ([0-9.]+), "
                      r"KV cache (\d+) tokens, budget (\d+) bytes$" % name, r.stderr, re.M)
        check(m is not None, "switch serve %s --dry-run: no re-fit note in %r" % (name, r.stderr))
        if not m:
            continue
        s_len, s_util, s_tokens, s_budget = int(m[1]), float(m[2]), int(m[3]), int(m[4])
        argv = r.stdout.split()
        a_len = int(argv[argv.index("--max-model-len") + 1])
        a_util = argv[argv.index("--gpu-memory-utilization") + 1]

        cmd = yaml.safe_load(open(os.path.join(w, "gen", "llama-swap.yaml")))["models"][name]["cmd"]
        cmd = shlex.split(cmd.replace("\\\n", " "))
        names = lambda words: list(itertools.takewhile(lambda t: not t.startswith("--"),
                                                        words[words.index("--served-model-name") + 1:]))
        check(names(argv) == names(cmd) and names(argv)[0] == name and repo in names(argv),
              "%s: switch serves %s, llama-swap.yaml %s" % (name, names(argv), names(cmd)))

        kv = "fp8" if "fp8" in lines else "auto"
        fit_args = [MODELC, "fit", "--config", os.path.join(w, name + ".config.json"), "--weights-bytes",
                    str(weights), "--gpu-memory", "%dMiB" % total_mib, "--gpu-used", "%dMiB" % used_mib,
                    "--utilization", "0.9", "--max-model-len", str(x["max_model_len"]), "--max-num-seqs", "8",
                    "--max-num-batched-tokens", "2048", "--kv-cache-dtype", kv, "--safety-margin", "256MiB"]
        r = run(fit_args)
        check(r.returncode == 0, "modelc fit %s: %s" % (name, r.stderr))
        f = json.loads(r.stdout)

        got = {
            "max_model_len": (x["max_model_len"], s_len, a_len),
            "utilization": (round(x["utilization"], 6), round(f["utilization"], 6), round(s_util, 6)),
            "kv_tokens": (x["kv_tokens"], f["kv_tokens"], s_tokens),
            "budget_bytes": (x["budget_bytes"], f["budget_bytes"], s_budget),
            "max_model_len_fit": (x["max_model_len_fit"], f["max_model_len_fit"]),
        }
        for key, vals in got.items():
            check(len(set(vals)) == 1, "%s: %s differs: explain, fit, switch = %s" % (name, key, vals))
        check(f["fits"] is True and x["fits"] is True, "%s: fits in both" % name)
        check("%.4g" % x["utilization"] == a_util, "%s: argv utilization %s, explain %r" % (name, a_util,
                                                                                     x["utilization"]))
        check(x["utilization_lowered"] and x["utilization"] < 0.9,
              "%s: 700 MiB in use lowers the utilization (the scenario exercises the check)" % name)
        print("%s: max_model_len %d, utilization %s, KV %d tokens, budget %d bytes: explain, fit and switch agree"
              % (name, s_len, a_util, s_tokens, s_budget))
finally:
    shutil.rmtree(w)

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
