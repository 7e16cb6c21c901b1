"""Write a catalog full of awkward paths, role names and comments into DIR, for the emitter
tests to run through the real pipeline (modelc build): every role is a local directory that
exists (with a small config.json), so no Hub facts are needed.

usage: /usr/bin/python3 tests/integration/awkward_catalog.py DIR
Writes DIR/models.yaml, DIR/models.lock, the model directories, DIR/keys (every key .env must
hold) and DIR/expected (KEY=HEX of the values the catalog sets, byte for byte)."""
import json
import os
import sys

GLOBAL = ["HF_HOME", "HF_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_DATASETS_CACHE", "VLLM_MODEL_ID",
          "VLLM_QUANTIZATION", "VLLM_MAX_MODEL_LEN", "VLLM_GPU_MEMORY_UTILIZATION",
          "VLLM_KV_CACHE_DTYPE", "VLLM_MAX_NUM_SEQS", "VLLM_MAX_NUM_BATCHED_TOKENS", "VLLM_DTYPE",
          "VLLM_ENFORCE_EAGER", "MODELC_ACTIVE_ROLE"]
SUFFIXES = ["_MODEL_ID", "_MODEL_LOCAL", "_MAX_MODEL_LEN", "_QUANTIZATION", "_KV_CACHE_DTYPE",
            "_GPU_MEMORY_UTILIZATION", "_REVISION", "_MAX_NUM_SEQS", "_MAX_NUM_BATCHED_TOKENS", "_DTYPE",
            "_ENFORCE_EAGER"]


def main():
    base = os.path.abspath(sys.argv[1])
    os.makedirs(base, exist_ok=True)
    # Every kind of text the .env rule accepts, and shell bait that must never run.
    roles = {
        "primary": base + "/m $HOME `touch pwned1` $(touch pwned2) \"q\" a\\b tail ",
        "x": base + "/line1\nline2\ttab\n#comment-like\nY='1'\nexport Z=2",
        "a_very_long_role_name_0123456789": base + "/emoji \U0001F600 #hash =eq ;&|<>()*?[a]~ \u00e9",
        "path": base + "/  spaced  ",
        "hf": base + "/it's",
        "ifs": base + "/#hash",
    }
    hf_home = base + "/hf cache/#x = y;&|<>()*?[a]"
    hub_cache = base + "/it's/hub"
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
              "hidden_size": 256, "intermediate_size": 512, "vocab_size": 1000,
              "max_position_embeddings": 4096, "torch_dtype": "bfloat16"}

    def q(s):
        return json.dumps(s, ensure_ascii=False)

    lines = ["storage:", "  hf_home: " + q(hf_home), "  hub_cache: " + q(hub_cache),
             "gpu:", "  memory: 24 GiB", "roles:"]
    expected = {"HF_HOME": hf_home, "HF_HUB_CACHE": hub_cache, "TRANSFORMERS_CACHE": hub_cache}
    for name, d in roles.items():
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config, f)
        lines += ["  %s:" % name, "    local: " + q(d), "    quantization: none",
                  "    max_model_len: 2048",
                  "    rationale: " + q("line\nEVIL='1'\n# OTHER='2'\tend")]
        expected[name.upper() + "_MODEL_LOCAL"] = d
        expected[name.upper() + "_MODEL_ID"] = d
    with open(os.path.join(base, "models.yaml"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(base, "models.lock"), "w") as f:
        f.write('{"lock_version": 1, "models": {}}\n')
    with open(os.path.join(base, "keys"), "w") as f:
        for k in GLOBAL + [n.upper() + s for n in roles for s in SUFFIXES]:
            f.write(k + "\n")
    with open(os.path.join(base, "expected"), "w") as f:
        for k, v in expected.items():
            f.write(k + "=" + v.encode("utf-8").hex() + "\n")


main()
