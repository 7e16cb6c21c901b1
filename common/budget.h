#ifndef MODELC_BUDGET_H
#define MODELC_BUDGET_H

/*
 * VRAM budget arithmetic shared by modelc (build time) and switch (launch time): the same
 * numbers decide whether a role fits when compiled and when re-fitted against free memory.
 * Pure functions of their inputs, libc only. Formulas and sources: docs/budget.md.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum budget_engine { BUDGET_ENGINE_V0, BUDGET_ENGINE_V1 };

enum { BUDGET_FAMILY_MAX = 64 };

/*
 * The vLLM generations whose profile-run rules differ (docs/budget.md, "Generations"): V0's
 * whole-prompt profile batch; V1's chunked-prefill batch with CUDA graphs captured on top of
 * the budget; V1 from v0.21.0, which subtracts a CUDA graph estimate before sizing the KV cache.
 */
enum budget_generation {
	BUDGET_GEN_V0,
	BUDGET_GEN_V1,
	BUDGET_GEN_V1_GRAPHS_IN_BUDGET,
	BUDGET_GEN_COUNT
};
#define BUDGET_GEN_NEWEST BUDGET_GEN_V1_GRAPHS_IN_BUDGET

/* One generation's rules, as data: the versions it spans and what its profile run counts. */
struct budget_generation_rule {
	enum budget_generation gen;
	const char *name;               /* "v0", "v1", "v1-graphs-in-budget": stable, for scripts */
	const char *first;              /* first vLLM version modelled ("0.5.0") */
	const char *last;               /* last one the evidence reaches ("0.10.2"), inclusive */
	enum budget_engine engine;
	bool graphs_in_budget;          /* the KV cache is sized after a CUDA graph estimate */
	const char *source;             /* where the rule was read (a vLLM file, PR or release) */
};

/* Architecture numbers from config.json that the budget needs. 0 means unknown/absent. */
struct budget_arch {
	uint32_t layers;
	uint32_t attention_heads;
	uint32_t kv_heads;
	uint32_t head_dim;              /* hidden_size / attention_heads when the config has none */
	uint32_t hidden_size;
	uint32_t intermediate_size;
	uint32_t vocab_size;
	uint32_t max_position_embeddings;
	uint32_t sliding_window;        /* 0: full attention in every layer */
	uint32_t sliding_layers;        /* layers that use the window (hybrid models); all when 0 and window set */
	bool tie_word_embeddings;
	uint32_t dtype_bytes;           /* checkpoint dtype: 2 for bf16/fp16, 4 for fp32 */
	/* Added by the estimator (issue 5); all false means the Llama layout. */
	bool qkv_bias;                  /* q/k/v projections carry biases (Qwen2, attention_bias) */
	bool o_bias;                    /* o_proj carries a bias (attention_bias, Starcoder2 use_bias) */
	bool mlp_bias;                  /* MLP projections carry biases */
	bool norm_bias;                 /* LayerNorm with a bias instead of RMSNorm (Starcoder2) */
	bool mlp_ungated;               /* two MLP matrices (fc, proj) instead of gate/up/down */
	/* Added for MoE weights from the architecture (issue 15); experts 0 means dense. */
	uint32_t experts;               /* routed experts per MoE layer */
	uint32_t shared_experts;        /* always-active experts (n_shared_experts) */
	uint32_t moe_intermediate_size; /* one expert's intermediate width */
	uint32_t shared_intermediate_size; /* the shared expert MLP's width (0: shared x moe width) */
	uint32_t dense_layers;          /* leading layers with a dense MLP (first_k_dense_replace) */
	bool shared_expert_gate;        /* a hidden x 1 gate on the shared expert (Qwen2-MoE) */
	char family[BUDGET_FAMILY_MAX]; /* architectures[0], for the evidence check; "" unknown */
	bool multimodal;                /* a vision/audio encoder: vLLM profiles its encoder cache */
	/* Multi-head latent attention (DeepSeek V2/V3, Kimi K2): each layer caches one latent
	 * vector of kv_lora_rank + qk_rope_head_dim values per token, not K and V per head. */
	uint32_t kv_lora_rank;          /* 0: not MLA */
	uint32_t qk_rope_head_dim;
};

/* How a term was obtained, for `modelc explain`. */
enum budget_source { BUDGET_EXACT, BUDGET_FORMULA, BUDGET_CALIBRATED, BUDGET_UNCALIBRATED };

/* A weight quantization format, from schemas/quant-formats.json. */
struct budget_quant {
	const char *name;               /* "awq", "gptq", "none", ... */
	uint32_t bits;                  /* bits per quantized linear weight; 16 for none */
	uint32_t group_size;            /* weights per scale; 0 for per-channel */
	bool zero_point;                /* packed zeros stored per group */
	uint32_t scale_bytes;           /* bytes per scale (2 for fp16) */
	bool embeddings_16bit;          /* embed_tokens and lm_head stay in 16-bit */
};

/* The settings vLLM sizes memory by, for one model on one GPU. */
struct budget_params {
	uint64_t gpu_total_bytes;       /* CUDA's total, not nvidia-smi's memory.total */
	uint64_t gpu_used_bytes;        /* memory already used by other processes */
	double utilization;             /* --gpu-memory-utilization */
	uint32_t max_model_len;
	uint32_t max_num_seqs;          /* 0: vLLM's default for the engine and GPU size */
	uint32_t max_num_batched_tokens;/* 0: vLLM's default */
	uint32_t kv_dtype_bytes;        /* 0: the model dtype ("auto") */
	uint32_t tensor_parallel;       /* 0 or 1: one GPU */
	uint32_t block_size;            /* 0: 16 */
	bool enforce_eager;
	enum budget_engine engine;
	uint64_t weights_bytes;         /* per model (divided by tensor_parallel inside); 0: none, but
	                                 * budget_fit_checked takes 16-bit ones from the architecture */
	uint64_t safety_margin_bytes;   /* ours, on top of what vLLM reserves */
	/* Added by the estimator (issue 5). */
	bool safety_margin_set;         /* false: the default rule, max(256 MiB, 3% of the KV cache) */
	double margin_spread;           /* the margin widens by this fraction of the KV cache (the
	                                 * evidence's spread, budget_fit_checked); 0: not widened */
	enum budget_source weights_source; /* how weights_bytes was obtained (0 = exact) */
	const struct budget_calibration *calibration; /* NULL: budget_calibration_default; the
	                                 * checked fits take the generation's (budget_calibration_of) */
	/* Added for the physical check. */
	bool keep_utilization;          /* never lower utilization: reproduce a start-up log as it ran */
	/* Added for vLLM generations (issue 15). */
	bool generation_set;            /* false: the engine decides (V0, or V1 with graphs on top) */
	enum budget_generation generation;
	/* Added for several GPUs (common/budget_rank.h). */
	bool weights_per_gpu;           /* weights_bytes is one rank's already: not divided by tensor_parallel */
};

/* The calibrated constants (scripts/calibrate-estimator); the benchmark swaps them per case. */
struct budget_calibration {
	double forward_factor;          /* x profile tokens x (3 hidden + 3 intermediate / tp) x dtype bytes */
	double sampler_bytes_per_logit; /* x profile requests x vocab: the sampler warm-up peak */
	uint64_t non_torch_bytes;       /* non-torch increase with one GPU */
	uint64_t non_torch_tp_bytes;    /* added when tensor_parallel > 1 (NCCL buffers) */
	uint64_t cuda_graph_bytes;      /* a constant part of graph memory; 0 with enforce_eager */
	double cuda_graph_bytes_per_unit; /* x captured sizes x layers x hidden_size: graph memory */
	/* Added for issue 15: graph memory per captured size, whatever the model's shape. */
	double cuda_graph_bytes_per_size;
};

/*
 * What the calibration cases cover, per generation (scripts/calibrate-estimator writes it):
 * the cases, the families and the weight range they span, and the spread observed on them
 * (the largest leave-one-family-out over-prediction, as a fraction of the logged KV cache).
 */
struct budget_evidence {
	enum budget_generation gen;
	uint32_t cases;
	double spread;
	uint64_t min_weights_bytes, max_weights_bytes; /* per GPU */
	const char *families;           /* space-separated architectures[0] names */
};

/* Why a plan falls outside the evidence (a bit set); BUDGET_EVIDENCE_COVERED when it does not. */
enum {
	BUDGET_EVIDENCE_COVERED = 0,
	BUDGET_EVIDENCE_GENERATION = 1,  /* no calibrated case of this generation */
	BUDGET_EVIDENCE_FAMILY = 2,      /* no calibrated case of this architecture */
	BUDGET_EVIDENCE_SIZE = 4,        /* weights outside the calibrated range */
	BUDGET_EVIDENCE_MULTIMODAL = 8,  /* encoder-cache profiling: not modelled */
	BUDGET_EVIDENCE_MLA = 16         /* latent attention: its profile terms are not calibrated */
};

/* The committed constants (the newest generation's; used when no generation is set). */
extern const struct budget_calibration budget_calibration_default;

/* The committed constants of generation g. */
const struct budget_calibration *budget_calibration_of(enum budget_generation g);


/* Why utilization was lowered below what was asked. */
enum budget_lowering {
	BUDGET_LOWERED_NONE,
	BUDGET_LOWERED_IN_USE,          /* vLLM would refuse: free memory below total x utilization */
	BUDGET_LOWERED_PEAK             /* context + budget + CUDA graphs would not fit the GPU */
};

/* The breakdown, all sizes in bytes per GPU. Keys match `modelc fit`'s JSON. */
struct budget_result {
	uint64_t weights_bytes;
	uint64_t kv_bytes_per_token;
	uint64_t activation_bytes;
	uint64_t non_torch_bytes;
	uint64_t cuda_graph_bytes;
	uint64_t safety_margin_bytes;
	uint64_t budget_bytes;          /* total x utilization actually used */
	uint64_t kv_cache_bytes;        /* what vLLM would allocate, before our margin */
	uint64_t kv_tokens;             /* tokens that fit in kv_cache_bytes, block-rounded */
	uint32_t max_model_len_fit;     /* largest context that fits after the margin */
	bool fits;
	double utilization;             /* as used; lower than asked when others hold memory */
	bool utilization_lowered;
	uint32_t max_num_seqs;          /* as used, after defaults */
	uint32_t max_num_batched_tokens;
	enum budget_source activation_source, non_torch_source, cuda_graph_source, weights_source;
	/* Added by the estimator (issue 5). */
	enum budget_source kv_source, margin_source;
	uint64_t cuda_context_bytes;    /* outside the budget; counts against free memory at start */
	uint32_t profile_tokens;        /* tokens in vLLM's profile run */
	uint32_t profile_requests;      /* requests in it (sampler warm-up rows) */
	uint64_t activation_forward_bytes; /* the forward-pass candidate of the activation peak */
	uint64_t activation_sampler_bytes; /* the sampler candidate; activation is the larger */
	uint64_t kv_at_max_model_len;   /* KV bytes one request of max_model_len needs (vLLM's check) */
	/* Added for the physical check: in use + context + budget + graphs <= CUDA total. */
	double utilization_asked;       /* before any lowering */
	enum budget_lowering utilization_reason;
	uint64_t gpu_used_bytes;        /* memory in use by others, as given */
	uint64_t peak_bytes;            /* in use + context + budget + graphs outside the budget */
	uint32_t cuda_graph_sizes;      /* batch sizes vLLM captures (0 with enforce_eager) */
	uint32_t cuda_graph_max_size;   /* the largest of them */
	/* Added for vLLM generations (issue 15). */
	enum budget_generation generation;
	unsigned evidence_gaps;         /* BUDGET_EVIDENCE_* bits; 0 covered (or not checked) */
	enum budget_generation evidence_from; /* the generation whose spread widened the margin */
	double evidence_spread;         /* the fraction added to the margin */
};

/* The rule of generation g (never NULL for a valid g). */
const struct budget_generation_rule *budget_generation_rule(enum budget_generation g);

/* Whether generation g counts CUDA graph memory inside the --gpu-memory-utilization budget. */
bool budget_generation_graphs_in_budget(enum budget_generation g);

/* What the budget holds before the KV cache: weights, activation, non-torch, the safety margin,
 * and CUDA graphs where r's generation counts them inside the budget. */
uint64_t budget_before_kv_bytes(const struct budget_result *r);

/* The CUDA graph memory outside the budget: all of it, unless r's generation counts it inside. */
uint64_t budget_graphs_on_top(const struct budget_result *r);

/* The generation params ask for: the given one, else the one their engine implies. */
enum budget_generation budget_params_generation(const struct budget_params *p);

/* The generation called name ("v0", "v1", "v1-graphs-in-budget"); -1 if none. */
int budget_generation_named(const char *name, enum budget_generation *g);

/*
 * The generation of vLLM version text "X.Y[.Z]" (a suffix such as ".post1" or "rc1" is
 * ignored) with engine (V0 only where that version had one). -1 when text is not a version.
 * *nearest is set when the version lies outside every modelled range and the nearest was taken.
 */
int budget_generation_of_version(const char *text, enum budget_engine engine, bool engine_given,
    enum budget_generation *g, bool *nearest);

/* The committed evidence table, one entry per generation (cases 0 where none). */
const struct budget_evidence *budget_evidence_of(enum budget_generation g);

/*
 * Which BUDGET_EVIDENCE_* gaps a model of arch with weights bytes per GPU has in generation g;
 * *from the generation whose evidence was used, *spread its spread (0 when covered).
 */
unsigned budget_evidence_gaps(const struct budget_arch *a, enum budget_generation g,
    uint64_t weights, enum budget_generation *from, double *spread);

/* Write the evidence gaps of r as one clause ("no calibrated case of generation v1-...; ...") */
void budget_evidence_text(const struct budget_result *r, char *buf, size_t size);

/* How many batch sizes vLLM captures CUDA graphs for (0 with enforce_eager); *max_size the largest. */
uint32_t budget_cuda_graph_sizes(const struct budget_params *p, uint32_t *max_size);

/* "none", "memory_in_use" or "cuda_context_and_graphs": the stable code for scripts. */
const char *budget_lowering_code(enum budget_lowering why);

/* Write why utilization was lowered, one sentence, into buf (NUL-terminated); "" when it was not. */
void budget_lowering_text(const struct budget_result *r, char *buf, size_t size);

/*
 * Bytes per KV cache element of a --kv-cache-dtype value into *bytes: 0 for "auto" (the served
 * model dtype), 2 for bfloat16 and float16, 1 for the fp8 formats. false when name is not one
 * of BUDGET_KV_DTYPE_NAMES (vLLM's choices whose cache the budget models; the schema's enum).
 */
bool budget_kv_dtype_bytes(const char *name, uint32_t *bytes);

/* The names budget_kv_dtype_bytes knows, for messages: "auto, bfloat16, ...". */
#define BUDGET_KV_DTYPE_NAMES "auto, bfloat16, float16, fp8, fp8_e4m3, fp8_e5m2, fp8_inc"

/* Fill params' zero fields with vLLM's defaults for its engine and GPU size. */
void budget_defaults(struct budget_params *p);

/* The head size: head_dim, else hidden_size / attention_heads (0 when neither is known). */
uint32_t budget_head_dim(const struct budget_arch *a);
/* Key/value heads: kv_heads, else attention_heads (no GQA). */
uint32_t budget_kv_heads(const struct budget_arch *a);
/* Bytes of KV cache one token needs on one GPU (all layers, K and V). */
uint64_t budget_kv_bytes_per_token(const struct budget_arch *a, const struct budget_params *p);

/* Weight bytes computed from the architecture and a quantization format (NULL: 16-bit). */
uint64_t budget_weights_bytes(const struct budget_arch *a, const struct budget_quant *q);

/* KV bytes one request of len tokens needs on one GPU, by vLLM's per-layer rule. */
uint64_t budget_kv_request_bytes(const struct budget_arch *a, const struct budget_params *p,
    uint32_t len);

/*
 * The built-in quantization format called name (awq, gptq, fp8, bitsandbytes, compressed-tensors,
 * none), the same numbers as schemas/quant-formats.json; NULL if unknown.
 */
const struct budget_quant *budget_quant_named(const char *name);

/*
 * budget_fit, then, where no calibrated case covers the model (budget_evidence_gaps), again with
 * the margin widened by the spread seen on the nearest evidence; r says which gaps and how much.
 */
void budget_fit_checked(const struct budget_arch *a, const struct budget_params *p,
    struct budget_result *r);

/* budget_fit_context with the margin widened as budget_fit_checked widens it. */
bool budget_fit_context_checked(const struct budget_arch *a, const struct budget_params *p,
    uint32_t min_len, struct budget_result *r, struct budget_params *used);

/* The whole breakdown for one model; fits is false when max_model_len does not fit. */
void budget_fit(const struct budget_arch *a, const struct budget_params *p,
    struct budget_result *r);

/*
 * The start-up check, the one rule for the utilization vLLM is started with: p->utilization,
 * lowered when the memory in use, the CUDA context and cuda_graph_bytes of CUDA graphs on top
 * would not fit beside total x utilization ("The physical check", docs/budget.md). Sets r's
 * utilization, utilization_asked, utilization_lowered, utilization_reason, gpu_used_bytes and
 * cuda_context_bytes. budget_fit applies it with its own graph estimate; a role whose
 * architecture is unknown gets it with cuda_graph_bytes 0 (nothing to estimate them from).
 */
void budget_check_start(const struct budget_params *p, uint64_t cuda_graph_bytes,
    struct budget_result *r);

/*
 * Fit, and if it does not fit, the largest context that does: budget_fit at p->max_model_len
 * (defaults filled for that length), then, when that does not fit and the largest context
 * that fits is at least min_len, again at that context. min_len above p->max_model_len tries
 * no smaller context. r is the last breakdown and *used (when not NULL) its parameters, with
 * the context it was fitted at. Returns r->fits. modelc resolves max_model_len: auto with it
 * (min_len 1), switch re-fits against the GPU's memory in use with it.
 */
bool budget_fit_context(const struct budget_arch *a, const struct budget_params *p, uint32_t min_len,
    struct budget_result *r, struct budget_params *used);

#endif
