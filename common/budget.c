/*
 * VRAM budget arithmetic: the memory vLLM sizes its KV cache from, term by term, as read in
 * vLLM's source (shared/reference/vllm-memory.md) with the few constants that source cannot give
 * fitted on public start-up logs (common/budget_calibration.h, scripts/calibrate-estimator).
 * docs/budget.md explains every formula and where the model is weakest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "budget_calibration.h"
#include "size.h"

enum {
	BUDGET_BLOCK_DEFAULT = 16,           /* vLLM's CUDA block size (cache.py DEFAULT_BLOCK_SIZE) */
	BUDGET_V0_MIN_BATCHED = 2048,        /* V0 SchedulerConfig: max(max_model_len, 2048) */
	BUDGET_SERVE_SMALL_TOKENS = 2048,    /* arg_utils: `vllm serve` on GPUs under 70 GiB or A100 */
	BUDGET_SERVE_SMALL_SEQS = 256,
	BUDGET_SERVE_LARGE_TOKENS = 8192,    /* arg_utils: `vllm serve` on >= 70 GiB (H100/H200) */
	BUDGET_SERVE_LARGE_SEQS = 1024,
	BUDGET_DEFAULT_VOCAB = 160000,       /* unknown vocab: above Qwen2/3 (152,064) and Llama 3 (128,256) */
	BUDGET_DEFAULT_FFN_RATIO = 4,        /* unknown intermediate_size: the classic 4 x hidden */
	BUDGET_SERVED_DTYPE_BYTES = 2,       /* dtype auto serves fp32 checkpoints in 16-bit */
	BUDGET_MLA_ALIGN_BYTES = 256,        /* V0 CacheEngine's MLA entry alignment on CUDA */
	BUDGET_V1_GRAPH_MAX = 512,           /* config/vllm.py _set_cudagraph_sizes: min(2 x seqs, 512) */
	BUDGET_V1_GRAPH_STEP_SMALL = 8,      /* ... then multiples of 8 below 256 */
	BUDGET_V1_GRAPH_STEP_LARGE = 16,     /* ... and multiples of 16 from 256 */
	BUDGET_GRAPH_STEP_BOUNDARY = 256,
	BUDGET_V0_GRAPH_MAX = 256            /* V0 model_runner _BATCH_SIZES_TO_CAPTURE: 1, 2, 4, 8..256 */
};

#define BUDGET_LARGE_GPU_BYTES (70 * SIZE_GIB)   /* arg_utils's 70 GiB threshold */
#define BUDGET_DEFAULT_UTILIZATION 0.9               /* cache.py @c1d86421; newer builds use 0.92 */
#define BUDGET_MARGIN_MIN_BYTES (256 * SIZE_MIB)        /* the benchmark's over-prediction bound */
#define BUDGET_MARGIN_FRACTION 0.03
/* The CUDA context: 619 MiB measured on an H100 (torch 2.11, CUDA 13; docs/device/estimator_gpu.json)
 * and 527 MiB in the reference nvidia-smi capture; the larger rounded up to 64 MiB. An estimate on
 * every other GPU (smaller GPUs have fewer SMs and usually need less). */
#define BUDGET_CUDA_CONTEXT_BYTES (640 * SIZE_MIB)
#define BUDGET_LEN_CAP 0x7fffffffU                   /* search limit when max_position is unknown */

const struct budget_calibration budget_calibration_default = {
	.forward_factor = BUDGET_CAL_FORWARD_FACTOR,
	.sampler_bytes_per_logit = BUDGET_CAL_SAMPLER_BYTES_PER_LOGIT,
	.non_torch_bytes = BUDGET_CAL_NON_TORCH_BYTES,
	.non_torch_tp_bytes = BUDGET_CAL_NON_TORCH_TP_BYTES,
	.cuda_graph_bytes = BUDGET_CAL_CUDA_GRAPH_BYTES,
	.cuda_graph_bytes_per_unit = BUDGET_CAL_CUDA_GRAPH_BYTES_PER_UNIT,
	.cuda_graph_bytes_per_size = BUDGET_CAL_CUDA_GRAPH_BYTES_PER_SIZE,
};

/*
 * vLLM's --kv-cache-dtype choices (shared/reference/vllm-flags.txt), float16 from newer builds.
 * fp8_ds_mla is left out: it is DeepSeek's sparse-MLA layout (656 bytes per token and layer in
 * MLAAttentionSpec, not a per-element size), which this table cannot express.
 */
static const struct {
	const char *name;
	uint32_t bytes;
} budget_kv_dtypes[] = {
	{"auto", 0}, {"bfloat16", 2}, {"float16", 2},
	{"fp8", 1}, {"fp8_e4m3", 1}, {"fp8_e5m2", 1}, {"fp8_inc", 1},
};

bool
budget_kv_dtype_bytes(const char *name, uint32_t *bytes)
{
	for (size_t i = 0; name && i < sizeof budget_kv_dtypes / sizeof budget_kv_dtypes[0]; i++) {
		if (strcmp(budget_kv_dtypes[i].name, name) == 0) {
			*bytes = budget_kv_dtypes[i].bytes;
			return true;
		}
	}
	return false;
}

static uint64_t
sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t
cdiv(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

static uint32_t
tp_of(const struct budget_params *p)
{
	return p->tensor_parallel ? p->tensor_parallel : 1;
}

/* vLLM's get_num_kv_heads: KV heads split over TP ranks, replicated when fewer than ranks. */
static uint32_t
kv_heads_per_rank(const struct budget_arch *a, const struct budget_params *p)
{
	uint32_t h = budget_kv_heads(a) / tp_of(p);
	return h ? h : 1;
}

static uint32_t
kv_dtype_bytes(const struct budget_arch *a, const struct budget_params *p)
{
	if (p->kv_dtype_bytes)
		return p->kv_dtype_bytes;
	/* "auto" is the served model dtype: bf16/fp16; AWQ/GPTQ serve in fp16. */
	if (a->dtype_bytes && a->dtype_bytes < BUDGET_SERVED_DTYPE_BYTES)
		return a->dtype_bytes;
	return BUDGET_SERVED_DTYPE_BYTES;
}

/* Layers that use the sliding window; 0 when the model has full attention everywhere. */
static uint32_t
sliding_layers_of(const struct budget_arch *a)
{
	if (!a->sliding_window)
		return 0;
	if (!a->sliding_layers || a->sliding_layers > a->layers)
		return a->layers;
	return a->sliding_layers;
}

/* Each generation's rules are budget_gen.c's table. */
static bool
graphs_in_budget_of(enum budget_generation g)
{
	return (unsigned)g < BUDGET_GEN_COUNT && budget_generation_graphs_in_budget(g);
}

uint64_t
budget_before_kv_bytes(const struct budget_result *r)
{
	return r->weights_bytes + r->activation_bytes + r->non_torch_bytes + r->safety_margin_bytes +
	    (graphs_in_budget_of(r->generation) ? r->cuda_graph_bytes : 0);
}

uint64_t
budget_graphs_on_top(const struct budget_result *r)
{
	return graphs_in_budget_of(r->generation) ? 0 : r->cuda_graph_bytes;
}

/* The generation params ask for: given, else the one their engine implies (graphs on top). */
enum budget_generation
budget_params_generation(const struct budget_params *p)
{
	if (p->generation_set)
		return p->generation;
	return p->engine == BUDGET_ENGINE_V0 ? BUDGET_GEN_V0 : BUDGET_GEN_V1;
}

void
budget_defaults(struct budget_params *p)
{
	if (p->generation_set)
		p->engine = (unsigned)p->generation < BUDGET_GEN_COUNT ?
		    budget_generation_rule(p->generation)->engine : BUDGET_ENGINE_V1;
	if (!p->block_size)
		p->block_size = BUDGET_BLOCK_DEFAULT;
	if (!p->tensor_parallel)
		p->tensor_parallel = 1;
	if (p->utilization <= 0)
		p->utilization = BUDGET_DEFAULT_UTILIZATION;
	if (p->engine == BUDGET_ENGINE_V0) {
		/* V0 without chunked prefill batches whole prompts: max(max_model_len, 2048). */
		if (!p->max_num_batched_tokens)
			p->max_num_batched_tokens = p->max_model_len > BUDGET_V0_MIN_BATCHED ?
			    p->max_model_len : BUDGET_V0_MIN_BATCHED;
		if (!p->max_num_seqs)
			p->max_num_seqs = BUDGET_SERVE_SMALL_SEQS;
	} else {
		bool large = p->gpu_total_bytes >= BUDGET_LARGE_GPU_BYTES;
		if (!p->max_num_batched_tokens)
			p->max_num_batched_tokens = large ? BUDGET_SERVE_LARGE_TOKENS : BUDGET_SERVE_SMALL_TOKENS;
		if (!p->max_num_seqs)
			p->max_num_seqs = large ? BUDGET_SERVE_LARGE_SEQS : BUDGET_SERVE_SMALL_SEQS;
	}
	if (p->max_num_seqs > p->max_num_batched_tokens)
		p->max_num_seqs = p->max_num_batched_tokens;
}

/*
 * KV bytes one token takes in one layer on one GPU. MLA caches one latent vector of
 * kv_lora_rank + qk_rope_head_dim values, the same on every TP rank (MLAAttention: head_size
 * kv_lora_rank + qk_rope_head_dim, num_kv_heads 1; MLAAttentionSpec.real_page_size_bytes has
 * no factor 2). V0's CacheEngine pads that entry to 256 bytes of the model dtype on CUDA
 * (get_cache_block_size, align_to_256bytes: 576 -> 640 in bf16). Sources: docs/budget.md.
 */
static uint64_t
layer_token_bytes(const struct budget_arch *a, const struct budget_params *p)
{
	if (a->kv_lora_rank) {
		uint64_t entry = (uint64_t)a->kv_lora_rank + a->qk_rope_head_dim;
		if (p->engine == BUDGET_ENGINE_V0) {
			uint64_t per_256 = BUDGET_MLA_ALIGN_BYTES / BUDGET_SERVED_DTYPE_BYTES;
			entry = cdiv(entry, per_256) * per_256;
		}
		return entry * kv_dtype_bytes(a, p);
	}
	return 2ULL * kv_heads_per_rank(a, p) * budget_head_dim(a) * kv_dtype_bytes(a, p);
}

uint64_t
budget_kv_bytes_per_token(const struct budget_arch *a, const struct budget_params *p)
{
	return (uint64_t)a->layers * layer_token_bytes(a, p);
}

/* Bytes of one block of one layer: vLLM's AttentionSpec.page_size_bytes. */
static uint64_t
page_bytes(const struct budget_arch *a, const struct budget_params *p)
{
	uint32_t block = p->block_size ? p->block_size : BUDGET_BLOCK_DEFAULT;
	return block * layer_token_bytes(a, p);
}

uint64_t
budget_kv_request_bytes(const struct budget_arch *a, const struct budget_params *p, uint32_t len)
{
	uint32_t block = p->block_size ? p->block_size : BUDGET_BLOCK_DEFAULT;
	uint64_t page = page_bytes(a, p);
	uint32_t sliding = p->engine == BUDGET_ENGINE_V1 ? sliding_layers_of(a) : 0;
	uint32_t full = a->layers - sliding;
	uint64_t bytes = (uint64_t)full * cdiv(len, block) * page;
	if (sliding) {
		/* SlidingWindowSpec.max_memory_usage_bytes: window - 1 + one batch of new tokens. */
		uint64_t keep = (uint64_t)a->sliding_window - 1 + p->max_num_batched_tokens;
		if (keep > len)
			keep = len;
		bytes += (uint64_t)sliding * (cdiv(keep, block) + 1) * page;
	}
	return bytes;
}

uint32_t
budget_cuda_graph_sizes(const struct budget_params *params, uint32_t *max_size)
{
	struct budget_params p = *params;
	uint32_t n = 0, max = 0;
	budget_defaults(&p);
	if (!p.enforce_eager && p.engine == BUDGET_ENGINE_V1) {
		/* config/vllm.py _set_cudagraph_sizes: up to min(2 x max_num_seqs, 512), then at most
		 * max_num_batched_tokens; 1, 2, 4, multiples of 8 below 256, multiples of 16 from 256. */
		uint64_t m = 2ULL * p.max_num_seqs;
		if (m > BUDGET_V1_GRAPH_MAX)
			m = BUDGET_V1_GRAPH_MAX;
		if (m > p.max_num_batched_tokens)
			m = p.max_num_batched_tokens;
		max = (uint32_t)m;
		for (uint32_t s = 1; s <= 4; s *= 2)
			n += s <= max;
		for (uint32_t s = BUDGET_V1_GRAPH_STEP_SMALL; s < BUDGET_GRAPH_STEP_BOUNDARY && s <= max;
		    s += BUDGET_V1_GRAPH_STEP_SMALL)
			n++;
		for (uint32_t s = BUDGET_GRAPH_STEP_BOUNDARY; s <= max; s += BUDGET_V1_GRAPH_STEP_LARGE)
			n++;
	} else if (!p.enforce_eager) {
		/* V0 model_runner: 1, 2, 4, 8, 16, ..., 256 up to max_num_seqs padded to the next size. */
		uint32_t seqs = p.max_num_seqs ? p.max_num_seqs : 1;
		max = seqs <= 2 ? seqs : seqs <= 4 ? 4 : (uint32_t)cdiv(seqs, 8) * 8;
		if (max > BUDGET_V0_GRAPH_MAX)
			max = BUDGET_V0_GRAPH_MAX;
		for (uint32_t s = 1; s <= 4; s *= 2)
			n += s <= max;
		n += max / 8;
	}
	if (max_size)
		*max_size = n ? max : 0;
	return n;
}

const char *
budget_lowering_code(enum budget_lowering why)
{
	switch (why) {
	case BUDGET_LOWERED_NONE: return "none";
	case BUDGET_LOWERED_IN_USE: return "memory_in_use";
	case BUDGET_LOWERED_PEAK: return "cuda_context_and_graphs";
	}
	return "none";
}

void
budget_lowering_text(const struct budget_result *r, char *buf, size_t size)
{
	if (!size)
		return;
	buf[0] = '\0';
	if (r->utilization_reason == BUDGET_LOWERED_IN_USE) {
		/* What is free when vLLM checks: the total less other processes and its own CUDA context. */
		char used[64] = "";
		if (r->gpu_used_bytes)
			snprintf(used, sizeof used, "%.2f GiB in use by other processes and ", size_gib(r->gpu_used_bytes));
		snprintf(buf, size, "utilization lowered from %.4g to %.4g because %sthe CUDA context (%.2f GiB) "
		    "%s first, and vLLM refuses to start when free memory is below total x utilization",
		    r->utilization_asked, r->utilization, used, size_gib(r->cuda_context_bytes),
		    r->gpu_used_bytes ? "take their memory" : "takes its memory");
	} else if (r->utilization_reason == BUDGET_LOWERED_PEAK) {
		char used[64] = "";
		if (r->gpu_used_bytes)
			snprintf(used, sizeof used, "the memory in use by others (%.2f GiB), ",
			    size_gib(r->gpu_used_bytes));
		snprintf(buf, size, "utilization lowered from %.2f to %.2f so that %sthe CUDA context "
		    "(%.2f GiB) and CUDA graphs (%.2f GiB) fit beside the budget", r->utilization_asked,
		    r->utilization, used, size_gib(r->cuda_context_bytes),
		    size_gib(r->cuda_graph_bytes));
	}
}

/* CUDA graph memory outside the budget: all of it, unless the generation counts it inside. */
static uint64_t
graphs_on_top(const struct budget_params *p, const struct budget_result *r)
{
	return graphs_in_budget_of(budget_params_generation(p)) ? 0 : r->cuda_graph_bytes;
}

/*
 * The utilization to use. Late V1 sizes the KV cache to fill total x utilization, measured
 * after the CUDA context exists, and captures CUDA graphs on top (vllm-memory.md §1-§3), so
 * the physical peak is in use + context + budget + graphs, which must not pass the total.
 * Without graphs on top this is also vLLM's start-up check (free >= total x utilization):
 * lowered to 4 decimals as before. With graphs it is lowered to whole hundredths.
 */
static double
usable_utilization(const struct budget_params *p, uint64_t graphs, struct budget_result *r)
{
	uint64_t total = p->gpu_total_bytes;
	uint64_t start_free = sub_sat(total, p->gpu_used_bytes + r->cuda_context_bytes);
	uint64_t room = sub_sat(start_free, graphs);
	r->utilization_asked = p->utilization;
	r->utilization_reason = BUDGET_LOWERED_NONE;
	r->utilization_lowered = false;
	if (!total || p->keep_utilization || (double)total * p->utilization <= (double)room)
		return p->utilization;
	r->utilization_lowered = true;
	if (!graphs) {
		r->utilization_reason = BUDGET_LOWERED_IN_USE;
		double u = (double)start_free / (double)total;
		return (double)(uint64_t)(u * 10000.0) / 10000.0;
	}
	r->utilization_reason = BUDGET_LOWERED_PEAK;
	/* Whole hundredths in integers, so that total x u never passes room by rounding. */
	return (double)(room * 100 / total) / 100.0;
}

void
budget_check_start(const struct budget_params *params, uint64_t cuda_graph_bytes,
    struct budget_result *r)
{
	struct budget_params p = *params;
	budget_defaults(&p);
	r->cuda_context_bytes = BUDGET_CUDA_CONTEXT_BYTES;
	r->gpu_used_bytes = p.gpu_used_bytes;
	r->utilization = usable_utilization(&p, cuda_graph_bytes, r);
}

/* Tokens vLLM reports for kv bytes: blocks per layer group, hybrid groups padded. */
static uint64_t
kv_tokens_of(const struct budget_arch *a, const struct budget_params *p, uint64_t kv)
{
	uint64_t page = page_bytes(a, p);
	uint32_t sliding = p->engine == BUDGET_ENGINE_V1 ? sliding_layers_of(a) : 0;
	uint32_t full = a->layers - sliding;
	if (!page || !a->layers)
		return 0;
	if (sliding && full) {
		/* kv_cache_utils: groups of min(#layers per type) layers share one block pool. */
		uint32_t g = sliding < full ? sliding : full;
		uint64_t groups = cdiv(sliding, g) + cdiv(full, g);
		return kv / page / g / groups * p->block_size;
	}
	return kv / page / a->layers * p->block_size;
}

/* Largest length whose request fits avail bytes, capped at cap. */
static uint32_t
max_len_within(const struct budget_arch *a, const struct budget_params *p, uint64_t avail,
    uint32_t cap)
{
	if (budget_kv_request_bytes(a, p, 1) > avail)
		return 0;
	if (budget_kv_request_bytes(a, p, cap) <= avail)
		return cap;
	uint32_t lo = 1, hi = cap;             /* fits(lo), !fits(hi) */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (budget_kv_request_bytes(a, p, mid) <= avail)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Every term but the fit itself, for the settings in params (defaults filled here). */
static void
terms(const struct budget_arch *a, const struct budget_params *params, struct budget_result *r)
{
	struct budget_params p = *params;
	const struct budget_calibration *cal = p.calibration ? p.calibration :
	    &budget_calibration_default;
	budget_defaults(&p);
	memset(r, 0, sizeof *r);
	uint32_t tp = tp_of(&p);

	r->max_num_seqs = p.max_num_seqs;
	r->max_num_batched_tokens = p.max_num_batched_tokens;

	/* CUDA graphs: vLLM captures one graph per batch size (piecewise in V1: one per layer
	 * piece); the memory they keep grows with the number of sizes, the layers and the width. */
	r->cuda_graph_sizes = budget_cuda_graph_sizes(&p, &r->cuda_graph_max_size);
	if (p.enforce_eager) {
		r->cuda_graph_bytes = 0;
		r->cuda_graph_source = BUDGET_EXACT;
	} else {
		r->cuda_graph_bytes = cal->cuda_graph_bytes + (uint64_t)(cal->cuda_graph_bytes_per_unit *
		    (double)r->cuda_graph_sizes * (double)a->layers * (double)a->hidden_size) +
		    (uint64_t)(cal->cuda_graph_bytes_per_size * (double)r->cuda_graph_sizes);
		r->cuda_graph_source = BUDGET_CALIBRATED;
	}

	budget_check_start(&p, graphs_on_top(&p, r), r);
	r->budget_bytes = (uint64_t)((double)p.gpu_total_bytes * r->utilization);
	r->peak_bytes = p.gpu_used_bytes + r->cuda_context_bytes + r->budget_bytes + graphs_on_top(&p, r);

	/* Weights as given (budget_fit_checked computes 16-bit ones from the architecture when
	 * none are given; switch always has modelc's and links no weight formula). */
	r->weights_bytes = p.weights_per_gpu ? p.weights_bytes : cdiv(p.weights_bytes, tp);
	r->weights_source = p.weights_source;

	/* Activation peak of profile_run: the forward pass of the profile batch, or the sampler
	 * warm-up over one row of logits per request, whichever is larger (they run in turn).
	 * The forward peak is inside the MLP's down projection: residual, normed input, gate_up
	 * (2 x intermediate), the activation (intermediate) and the output, per token. */
	uint64_t h = a->hidden_size;
	uint64_t ff = a->intermediate_size ? a->intermediate_size : BUDGET_DEFAULT_FFN_RATIO * h;
	uint64_t vocab = a->vocab_size ? a->vocab_size : BUDGET_DEFAULT_VOCAB;
	uint32_t act_bytes = a->dtype_bytes && a->dtype_bytes < BUDGET_SERVED_DTYPE_BYTES ?
	    a->dtype_bytes : BUDGET_SERVED_DTYPE_BYTES;
	r->profile_tokens = p.max_num_batched_tokens;
	r->profile_requests = p.max_num_seqs < p.max_num_batched_tokens ? p.max_num_seqs :
	    p.max_num_batched_tokens;
	double fwd_basis = (double)r->profile_tokens * (double)(3 * h + 3 * ff / tp) * act_bytes;
	r->activation_forward_bytes = (uint64_t)(cal->forward_factor * fwd_basis);
	r->activation_sampler_bytes = (uint64_t)(cal->sampler_bytes_per_logit *
	    (double)r->profile_requests * (double)vocab);
	r->activation_bytes = r->activation_forward_bytes > r->activation_sampler_bytes ?
	    r->activation_forward_bytes : r->activation_sampler_bytes;
	r->activation_source = BUDGET_CALIBRATED;

	r->non_torch_bytes = cal->non_torch_bytes + (tp > 1 ? cal->non_torch_tp_bytes : 0);
	r->non_torch_source = BUDGET_CALIBRATED;

	r->kv_bytes_per_token = budget_kv_bytes_per_token(a, &p);
	r->kv_source = BUDGET_FORMULA;
	/* From v0.21.0 vLLM subtracts its CUDA graph estimate before sizing the KV cache. */
	r->generation = budget_params_generation(&p);
	uint64_t graphs_inside = graphs_in_budget_of(r->generation) ?
	    r->cuda_graph_bytes : 0;
	r->kv_cache_bytes = sub_sat(r->budget_bytes,
	    r->weights_bytes + r->activation_bytes + r->non_torch_bytes + graphs_inside);
	r->kv_tokens = kv_tokens_of(a, &p, r->kv_cache_bytes);

	if (p.safety_margin_set) {
		r->safety_margin_bytes = p.safety_margin_bytes;
		r->margin_source = BUDGET_EXACT;
	} else {
		uint64_t frac = (uint64_t)((double)r->kv_cache_bytes * BUDGET_MARGIN_FRACTION);
		r->safety_margin_bytes = frac > BUDGET_MARGIN_MIN_BYTES ? frac : BUDGET_MARGIN_MIN_BYTES;
		r->margin_source = BUDGET_FORMULA;
	}
	/* Of this KV cache: a re-fit with other memory in use (switch) widens as modelc would there. */
	if (p.margin_spread > 0)
		r->safety_margin_bytes += (uint64_t)((double)r->kv_cache_bytes * p.margin_spread);
	r->evidence_from = r->generation;
}

/* V0 without chunked prefill profiles max_model_len tokens: a longer context also costs
 * activation memory, so whether len fits is decided with the terms recomputed at len. */
static bool
v0_fits_at(const struct budget_arch *a, const struct budget_params *params, uint32_t len)
{
	struct budget_params p = *params;
	struct budget_result r;
	p.max_model_len = len;
	terms(a, &p, &r);
	budget_defaults(&p);
	return budget_kv_request_bytes(a, &p, len) <= sub_sat(r.kv_cache_bytes, r.safety_margin_bytes);
}

void
budget_fit(const struct budget_arch *a, const struct budget_params *params,
    struct budget_result *r)
{
	struct budget_params p = *params;
	terms(a, params, r);
	budget_defaults(&p);
	uint32_t cap = a->max_position_embeddings ? a->max_position_embeddings : BUDGET_LEN_CAP;
	if (!r->kv_bytes_per_token) {
		r->max_model_len_fit = 0;
	} else if (p.engine == BUDGET_ENGINE_V0 && !params->max_num_batched_tokens) {
		uint32_t lo = 0, hi = cap;              /* fits(lo) (0 trivially), search (lo, hi] */
		if (v0_fits_at(a, params, hi)) {
			lo = hi;
		} else {
			while (hi - lo > 1) {
				uint32_t mid = lo + (hi - lo) / 2;
				if (v0_fits_at(a, params, mid))
					lo = mid;
				else
					hi = mid;
			}
		}
		r->max_model_len_fit = lo;
	} else {
		r->max_model_len_fit = max_len_within(a, &p, sub_sat(r->kv_cache_bytes,
		    r->safety_margin_bytes), cap);
	}
	r->kv_at_max_model_len = p.max_model_len ? budget_kv_request_bytes(a, &p, p.max_model_len) : 0;
	if (p.max_model_len)
		r->fits = p.max_model_len <= r->max_model_len_fit;
	else
		r->fits = r->max_model_len_fit > 0;
}

bool
budget_fit_context(const struct budget_arch *a, const struct budget_params *params, uint32_t min_len,
    struct budget_result *r, struct budget_params *used)
{
	struct budget_params p = *params;
	budget_defaults(&p);
	budget_fit(a, &p, r);
	uint32_t fit = r->max_model_len_fit;
	if (!r->fits && fit >= min_len && fit < p.max_model_len) {
		/* Again at the smaller context, defaults and all: V0's profile batch follows it. */
		p = *params;
		p.max_model_len = fit;
		budget_defaults(&p);
		budget_fit(a, &p, r);
	}
	if (used)
		*used = p;
	return r->fits;
}

uint32_t
budget_head_dim(const struct budget_arch *a)
{
	if (a->head_dim)
		return a->head_dim;
	return a->attention_heads ? a->hidden_size / a->attention_heads : 0;
}

uint32_t
budget_kv_heads(const struct budget_arch *a)
{
	return a->kv_heads ? a->kv_heads : a->attention_heads;
}
