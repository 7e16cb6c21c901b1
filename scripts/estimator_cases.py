"""Case selection and mapping shared by scripts/bench-estimator and scripts/calibrate-estimator.

The rules are those of issue 5, fixed so that anyone can reproduce them:
  * a case is used when it prints the GPU total in GiB (gpu_total_mem_printed_gib is a plain
    number), gpu_memory_utilization, max_model_len, weights and a positive KV cache size, and
    model-arch.csv has a row for it with layers, attention heads, KV heads and hidden size;
  * the model-arch row is the first one whose `cases` column names the case id (ranges such
    as vm42-vm48 included) and that has those four numbers;
  * config.json is built from model-arch.csv columns only, in bf16;
  * modelc fit gets --weights-bytes (the logged per-GPU weights in GiB; vLLM's "GB" is GiB),
    --gpu-memory (the printed total in GiB), --utilization, --max-model-len, and
    --max-num-batched-tokens, --tensor-parallel-size, --kv-cache-dtype and --engine when the
    case gives them. --weights-bytes is the whole model (modelc divides it by the TP size),
    so the logged per-GPU figure is multiplied by the TP size: modelc's per-GPU weights then
    equal the logged number;
  * every fit also gets --keep-utilization: the case ran at its utilization, so the KV cache is
    compared at that utilization, not at the one modelc would lower it to for its own plans
    (the physical check: context + budget + CUDA graphs <= total).
Standard library only.
"""
import csv
import json
import os
import re
import subprocess

GIB = 1 << 30
NUM = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")
PLAIN = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")


def default_arch(cases_csv):
    """model-arch.csv beside the cases, else the shared reference copy."""
    beside = os.path.join(os.path.dirname(cases_csv) or ".", "model-arch.csv")
    if os.path.exists(beside):
        return beside
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(root, "..", "shared", "reference", "model-arch.csv")


def lead_num(text):
    """The number a field starts with, or None."""
    m = NUM.match(text or "")
    return float(m.group(1)) if m else None


def lead_int(text):
    v = lead_num(text)
    return int(v) if v is not None and v == int(v) and v > 0 else None


def case_ids(cases_field):
    """Case ids named in a model-arch `cases` column, ranges expanded."""
    ids = set()
    for a, b in re.findall(r"vm(\d+)\s*-\s*vm(\d+)", cases_field or ""):
        ids.update("vm%02d" % i for i in range(int(a), int(b) + 1))
    ids.update(re.findall(r"vm\d+", cases_field or ""))
    return ids


def arch_row(case_id, arch_rows):
    for row in arch_rows:
        if case_id not in case_ids(row.get("cases", "")):
            continue
        if all(lead_int(row.get(k)) for k in ("num_hidden_layers", "num_attention_heads",
                                                 "num_key_value_heads", "hidden_size")):
            return row
    return None


def build_config(row):
    """config.json from model-arch.csv columns only, bf16."""
    cfg = {"architectures": [row.get("architecture", "").split(" ")[0] or "Unknown"],
           "torch_dtype": "bfloat16"}
    for key in ("num_hidden_layers", "num_attention_heads", "num_key_value_heads", "hidden_size",
                "head_dim", "vocab_size", "intermediate_size", "max_position_embeddings"):
        v = lead_int(row.get(key))
        if v:
            cfg[key] = v
    sw = row.get("sliding_window", "")
    if lead_int(sw):
        cfg["sliding_window"] = lead_int(sw)
        if "use_sliding_window false" in sw:
            cfg["use_sliding_window"] = False
        notes = row.get("attention_layout_notes", "")
        if "alternate" in notes and "sliding_attention" in notes:
            n = cfg["num_hidden_layers"]
            cfg["layer_types"] = ["sliding_attention" if i % 2 == 0 else "full_attention"
                                  for i in range(n)]
    # The encoder and the latent attention only as markers: modelc reports them as outside
    # what the model covers (their profiling is not modelled), and the fit leaves them out.
    arch = row.get("architecture", "")
    if "ConditionalGeneration" in arch or "Omni" in arch:
        cfg["vision_config"] = {}
    notes = row.get("attention_layout_notes", "")
    for key in ("kv_lora_rank", "qk_rope_head_dim"):
        m = re.search(key + r"\s+(\d+)", notes)
        if m:
            cfg[key] = int(m.group(1))
    tie = (row.get("tie_word_embeddings") or "").strip().lower()
    if tie.startswith("true"):
        cfg["tie_word_embeddings"] = True
    elif tie.startswith("false"):
        cfg["tie_word_embeddings"] = False
    return cfg


# The version assumed for a case that logs none: inside the generation its engine implies.
V1_UNVERSIONED = "0.10"
V0_UNVERSIONED = "0.6"
VERSION = re.compile(r"^\s*v?(\d+\.\d+(?:\.\d+)?)")


def version_of(text):
    """X.Y[.Z] at the start of the vllm_version column ("0.8.5.post1" -> "0.8.5"), or None."""
    m = VERSION.match(text or "")
    return m.group(1) if m else None


def family_of(arow):
    """The model family: architectures[0] of the case's model-arch row."""
    return (arow.get("architecture") or "").split(" ")[0] or "unknown"


def engine_of(text):
    t = (text or "").strip().upper()
    if t.startswith("V0"):
        return "v0"
    if t.startswith("V1"):
        return "v1"
    return None


def select(cases_csv, arch_csv):
    """The usable cases, in file order: dicts with id, config, args and the logged numbers."""
    with open(arch_csv, newline="", encoding="utf-8") as f:
        arch_rows = list(csv.DictReader(f))
    out = []
    with open(cases_csv, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            cid = row["case_id"].strip()
            total = row.get("gpu_total_mem_printed_gib", "")
            gmu = lead_num(row.get("gpu_memory_utilization"))
            mml = lead_int(row.get("max_model_len"))
            weights = lead_num(row.get("weights_gib"))
            kv = lead_num(row.get("kv_cache_gib"))
            if not PLAIN.match(total) or not gmu or not mml or not weights or not kv or kv <= 0:
                continue
            arow = arch_row(cid, arch_rows)
            if not arow:
                continue
            tp = lead_int(row.get("tensor_parallel_size")) or 1
            args = ["--weights-bytes", str(round(weights * GIB) * tp),
                    "--gpu-memory", "%sGiB" % total.strip(),
                    "--utilization", "%g" % gmu,
                    "--max-model-len", str(mml)]
            mnbt = lead_int(row.get("max_num_batched_tokens"))
            if mnbt:
                args += ["--max-num-batched-tokens", str(mnbt)]
            if lead_int(row.get("tensor_parallel_size")):
                args += ["--tensor-parallel-size", str(tp)]
            kvd = (row.get("kv_cache_dtype") or "").strip().split(" ")[0]
            if kvd:
                args += ["--kv-cache-dtype", kvd]
            eng = engine_of(row.get("engine"))
            if eng:
                args += ["--engine", eng]
            # The sampler warm-up runs over max_num_seqs rows of logits: every case passes
            # the number it logged (issue 15; before, the benchmark assumed vLLM's default).
            mns = lead_int(row.get("max_num_seqs"))
            if mns:
                args += ["--max-num-seqs", str(mns)]
            version = version_of(row.get("vllm_version"))
            if version:
                args += ["--vllm-version", version]
            elif eng == "v1":
                # A V1 log without a version predates v0.21.0 in this corpus (no
                # "CUDA graph memory profiling is enabled" line): the V1 rule.
                args += ["--vllm-version", V1_UNVERSIONED]
            else:
                args += ["--vllm-version", V0_UNVERSIONED]
            if (row.get("enforce_eager") or "").strip().lower().startswith("true"):
                args += ["--enforce-eager"]
            fit_extra = []
            out.append({"id": cid, "fit_extra": fit_extra,
                        "family": family_of(arow), "version": version or "", "model": row.get("model_repo_id", "").split(" ")[0],
                        "arch_model": arow.get("model_repo_id", "").split(" ")[0],
                        "gpu": row.get("gpu_model", ""), "engine": eng or "v1", "tp": tp,
                        "total_gib": float(total), "gmu": gmu, "mml": mml,
                        "weights_gib": weights, "kv_gib": kv, "kv_bytes": kv * GIB,
                        "graph_gib": lead_num(row.get("cuda_graph_gib")),
                        "logged_per_token": lead_num(row.get("derived_kv_bytes_per_token_per_gpu")),
                        "eager": (row.get("enforce_eager") or "").strip().lower().startswith("true"),
                        "config": build_config(arow), "args": args})
    return out


def run_fit(modelc, case, workdir, calibration=None, extra=()):
    """Run `modelc fit` for a case; returns its JSON. calibration: dict of constants or None."""
    path = os.path.join(workdir, "%s.config.json" % case["id"])
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(case["config"], f, indent=1, sort_keys=True)
    cmd = [modelc, "fit", "--config", path] + case["args"] + ["--keep-utilization"] + list(extra)
    if calibration:
        cmd += ["--calibration", ",".join("%s=%r" % (k, v) for k, v in sorted(calibration.items()))]
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0 or p.stderr:
        first = (p.stderr.strip().splitlines() or [""])[0]
        raise RuntimeError("%s: modelc fit failed (%d): %s" % (case["id"], p.returncode, first))
    return json.loads(p.stdout)


# ---- the fit: the constants that vLLM's source cannot give ----------------------------------

PARAMS = ("forward_factor", "sampler_bytes_per_logit", "non_torch_bytes", "non_torch_tp_bytes")
# Physical priors, used only where the data say nothing (a flat loss): the forward basis counts
# exactly the tensors alive at the peak (factor 1); no non-torch memory.
PRIOR = {"forward_factor": 1.0, "sampler_bytes_per_logit": 36.0, "non_torch_bytes": 0.0,
         "non_torch_tp_bytes": 0.0}
BOUNDS = {"forward_factor": (0.5, 3.0), "sampler_bytes_per_logit": (4.0, 80.0),
          "non_torch_bytes": (0.0, 2.0 * GIB), "non_torch_tp_bytes": (0.0, 4.0 * GIB)}
OVER_WEIGHT = 10.0      # an over-predicted KV cache costs ten times an under-predicted one
PRIOR_WEIGHT = 1e-6


def features(modelc, case, workdir):
    """What the fit needs from modelc for one case, with unit constants; the case's own
    settings (max_num_seqs and the vLLM version included) and the generation modelc used."""
    unit = {"forward_factor": 1.0, "sampler_bytes_per_logit": 1.0, "non_torch_bytes": 0,
            "non_torch_tp_bytes": 0}
    r = run_fit(modelc, case, workdir, unit, case["fit_extra"])
    return {"fwd": r["activation_forward_bytes"], "logits": r["activation_sampler_bytes"],
            "free": r["budget_bytes"] - r["weights_bytes"] - (
                r["cuda_graph_bytes"] if r["vllm_generation"]["graphs_in_budget"] else 0),
            "tp": case["tp"], "kv": case["kv_bytes"], "gen": r["vllm_generation"]["name"],
            "family": case["family"], "id": case["id"], "weights": r["weights_bytes"],
            "out_of_scope": sorted(set(r["evidence"]["gaps"]) & OUT_OF_SCOPE)}


def predict_kv(f, c):
    act = max(c["forward_factor"] * f["fwd"], c["sampler_bytes_per_logit"] * f["logits"])
    nt = c["non_torch_bytes"] + (c["non_torch_tp_bytes"] if f["tp"] > 1 else 0)
    return max(0.0, f["free"] - act - nt)


def loss(feats, c):
    total = 0.0
    for f in feats:
        e = (predict_kv(f, c) - f["kv"]) / f["kv"]
        total += (OVER_WEIGHT if e > 0 else 1.0) * e * e
    for k in PARAMS:
        scale = BOUNDS[k][1] - BOUNDS[k][0]
        total += PRIOR_WEIGHT * ((c[k] - PRIOR[k]) / scale) ** 2
    return total


def fit(feats):
    """Coordinate descent with shrinking 1-D scans; deterministic."""
    c = dict(PRIOR)
    for k in PARAMS:
        c[k] = min(max(c[k], BOUNDS[k][0]), BOUNDS[k][1])
    step = {k: (BOUNDS[k][1] - BOUNDS[k][0]) / 4 for k in PARAMS}
    for _ in range(60):
        for k in PARAMS:
            lo, hi = BOUNDS[k]
            best, best_v = loss(feats, c), c[k]
            for i in range(-20, 21):
                v = min(max(c[k] + step[k] * i / 10.0, lo), hi)
                trial = dict(c)
                trial[k] = v
                l = loss(feats, trial)
                if l < best - 1e-15:
                    best, best_v = l, v
            c[k] = best_v
            step[k] *= 0.7
    c["non_torch_bytes"] = int(round(c["non_torch_bytes"]))
    c["non_torch_tp_bytes"] = int(round(c["non_torch_tp_bytes"]))
    c["forward_factor"] = round(c["forward_factor"], 4)
    c["sampler_bytes_per_logit"] = round(c["sampler_bytes_per_logit"], 3)
    return c


# The generations in budget.c's enum order; a generation without cases takes the nearest one's
# constants (the older on a tie), as budget_gen.c does for the evidence.
GENERATIONS = ("v0", "v1", "v1-graphs-in-budget")
# Which cases a generation's CUDA graph term is fitted on: V1 and its successor capture the same
# piecewise graphs; V0 captures whole-model graphs.
GRAPH_GROUP = {"v0": "v0", "v1": "v1", "v1-graphs-in-budget": "v1"}


def nearest_with(gen, have):
    """The generation nearest to gen among those in have (gen itself when there)."""
    i = GENERATIONS.index(gen)
    for d in range(len(GENERATIONS)):
        for j in (i - d, i + d):
            if 0 <= j < len(GENERATIONS) and GENERATIONS[j] in have:
                return GENERATIONS[j]
    return None


# Cases whose memory has a part the model does not compute (modelc says so in evidence.gaps):
# they are predicted and reported, never fitted on.
OUT_OF_SCOPE = {"multimodal", "mla"}


def fit_generations(feats):
    """Constants per generation, each fitted on its own in-scope cases; {gen: consts} for every
    generation that has cases or a nearest one that has. The TP term of a generation without a
    TP > 1 case is the one fitted on all generations' cases together."""
    feats = [f for f in feats if not f["out_of_scope"]]
    groups = {}
    for f in feats:
        groups.setdefault(f["gen"], []).append(f)
    fitted = {g: fit(fs) for g, fs in groups.items()}
    pooled = None
    for g, fs in groups.items():
        if not any(f["tp"] > 1 for f in fs) and any(f["tp"] > 1 for f in feats):
            if pooled is None:
                pooled = fit(feats)
            fitted[g] = dict(fitted[g], non_torch_tp_bytes=pooled["non_torch_tp_bytes"])
    return {g: fitted[nearest_with(g, fitted)] for g in GENERATIONS if nearest_with(g, fitted)}


def predict_for(f, by_gen):
    """Predicted KV bytes of a case with per-generation constants (its own, or the nearest)."""
    return predict_kv(f, by_gen[nearest_with(f["gen"], by_gen)])


def spread_of(errors):
    """The spread of a generation's leave-one-family-out errors: the 90th percentile of their
    absolute values (nearest rank), so one extreme case does not set every margin."""
    if not errors:
        return 0.0
    a = sorted(abs(e) for e in errors)
    k = max(0, -(-9 * len(a) // 10) - 1)
    return a[k]


GRAPH_UNIT_STEP = 1 << 20    # bytes per captured size; the fitted value is rounded up to a MiB


def graph_cases(cases):
    """The cases that inform the CUDA graph term: a positive logged graph figure, one GPU, graphs
    captured (no enforce_eager). TP > 1 is left out: NCCL and custom all-reduce buffers registered
    during capture (and memory freed by it: vm51, vm55 log negative figures) are another term."""
    return [c for c in cases if c.get("graph_gib") and c["graph_gib"] > 0 and c["tp"] == 1
            and not c.get("eager") and not c.get("out_of_scope")]


def graph_units(modelc, case, workdir):
    """The batch sizes vLLM captures graphs for in a case, from modelc with every setting the
    case logged (max_num_seqs decides how many). Graph memory is modelled per captured size:
    the logs do not follow layers x hidden (Qwen2.5-0.5B keeps 0.60 GiB, Qwen3-8B 0.68 GiB)."""
    r = run_fit(modelc, case, workdir, {"cuda_graph_bytes": 0, "cuda_graph_bytes_per_unit": 0,
                                        "cuda_graph_bytes_per_size": 1.0}, case["fit_extra"])
    return r["cuda_graph_sizes"]


def graph_per_unit(modelc, cases, workdir, gens=None):
    """Graph memory per captured size: the largest ratio among the
    informing cases (of the generations in gens, all when None), rounded up, so no informing
    case is under-predicted. Returns (value, rows) with rows (case, units, logged bytes)."""
    rows = []
    for c in graph_cases(cases):
        if gens is not None and c.get("gen") not in gens:
            continue
        units = graph_units(modelc, c, workdir)
        if units > 0:
            rows.append((c, units, c["graph_gib"] * GIB))
    if not rows:
        return 0.0, rows
    best = max(logged / units for _, units, logged in rows)
    return float(-(-int(best) // GRAPH_UNIT_STEP) * GRAPH_UNIT_STEP), rows


def usable_features(modelc, cases, workdir, log):
    """Features of the cases modelc accepts; the others are reported through log and dropped
    (an unsupported --kv-cache-dtype, say), so one odd row cannot stop a benchmark."""
    kept, feats = [], []
    for c in cases:
        try:
            feats.append(features(modelc, c, workdir))
            c["gen"] = feats[-1]["gen"]
            c["out_of_scope"] = feats[-1]["out_of_scope"]
            kept.append(c)
        except RuntimeError as e:
            log("skipped %s" % e)
    return kept, feats


def held_out(feats):
    """Predictions of every case with constants fitted without it (leave-one-out) and without
    its whole family (leave-one-family-out): [(feature, loo_bytes, lofo_bytes)]."""
    out = []
    for i, f in enumerate(feats):
        loo = predict_for(f, fit_generations(feats[:i] + feats[i + 1:]))
        lofo = predict_for(f, fit_generations([o for o in feats if o["family"] != f["family"]]))
        out.append((f, loo, lofo))
    return out


def evidence(held):
    """What the calibration covers per generation, from the leave-one-family-out errors:
    {gen: (cases, spread, min weights, max weights, families)} over the in-scope cases, and
    {kind: {gen: spread}} for the out-of-scope kinds: per generation the largest over-prediction
    seen on cases of that kind and generation (>= 0), the nearest generation's where it has none
    (an encoder profiled by V0's whole-prompt batch says little about V1's)."""
    per_gen, seen = {}, {k: {} for k in sorted(OUT_OF_SCOPE)}
    for f, _, lofo in held:
        err = (lofo - f["kv"]) / f["kv"]
        if f["out_of_scope"]:
            for k in f["out_of_scope"]:
                seen[k][f["gen"]] = max(seen[k].get(f["gen"], 0.0), err)
            continue
        per_gen.setdefault(f["gen"], []).append((f, err))
    table = {}
    for g, rows in per_gen.items():
        w = [f["weights"] for f, _ in rows]
        table[g] = (len(rows), round(spread_of([e for _, e in rows]), 4), min(w), max(w),
                    " ".join(sorted({f["family"] for f, _ in rows})))
    kinds = {k: {g: round(v[nearest_with(g, v)], 4) if v else 0.0 for g in GENERATIONS}
             for k, v in seen.items()}
    return table, kinds
