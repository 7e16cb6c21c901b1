#ifndef MODELC_EMIT_FIXTURE_H
#define MODELC_EMIT_FIXTURE_H

/*
 * Hand-built plans for the emitter tests (tests/unit/test_emit.c and the integration test
 * programs), so the emitters are tested without the front end or the rules. The budget
 * numbers are fixed here, not computed, so golden outputs change only when an emitter does.
 */

#include <stdbool.h>
#include <string.h>

#include "plan.h"
#include "size.h"

enum { FIX_GIB = SIZE_GIB, FIX_MIB = SIZE_MIB };

static const char *fix_server_command[] = {"vllm", "serve", NULL};

/* A fitting result with round numbers: 7.2 GiB budget, graphs outside it as budget.c does. */
static inline void
fix_result(struct plan_role *r, uint64_t weights, uint64_t kv_per_token, uint32_t len)
{
	struct budget_result *b = &r->result;
	memset(b, 0, sizeof *b);
	b->weights_bytes = weights;
	b->kv_bytes_per_token = kv_per_token;
	b->activation_bytes = 300 * FIX_MIB;
	b->non_torch_bytes = 128 * FIX_MIB;
	b->cuda_graph_bytes = 491 * FIX_MIB;
	b->cuda_context_bytes = 640 * FIX_MIB;
	b->gpu_used_bytes = 700 * FIX_MIB;       /* the catalog's */
	b->budget_bytes = (uint64_t)7 * FIX_GIB + 200 * FIX_MIB;
	b->kv_cache_bytes = b->budget_bytes - weights - b->activation_bytes - b->non_torch_bytes;
	b->safety_margin_bytes = 256 * FIX_MIB;
	b->kv_tokens = b->kv_cache_bytes / kv_per_token / 16 * 16;
	b->max_model_len_fit = (uint32_t)((b->kv_cache_bytes - b->safety_margin_bytes) / kv_per_token / 16 * 16);
	b->kv_at_max_model_len = kv_per_token * len;
	b->fits = len <= b->max_model_len_fit;
	b->utilization = 0.9;
	b->max_num_seqs = 256;
	b->max_num_batched_tokens = 2048;
	b->weights_source = BUDGET_EXACT;
	b->activation_source = BUDGET_CALIBRATED;
	b->non_torch_source = BUDGET_CALIBRATED;
	b->cuda_graph_source = BUDGET_CALIBRATED;
	r->max_model_len = len;
	r->params.max_model_len = len;
	r->measured_ttft_ms = -1;
	r->verified = true;
}

/* The seed's layout: an AWQ primary from the Hub, an unverified bitsandbytes role, a local-only role. */
struct fix_seed {
	struct catalog cat;
	struct catalog_role roles[3];
	struct lock_model locks[2];
	struct plan_file files0[4];
	struct plan_file files1[1];
	struct plan_role pr[3];
	const char *unverified1[2];
	struct plan plan;
};

static inline void
fix_seed_init(struct fix_seed *s)
{
	memset(s, 0, sizeof *s);
	struct catalog *c = &s->cat;
	c->path = "models.yaml";
	c->hf_home = "/mnt/f/hf_cache";
	c->models_dir = "/mnt/f/models";
	c->disk_budget_bytes = (uint64_t)200 * FIX_GIB;
	c->gpu_profile = "rtx3070-8gb";
	c->gpu_total_bytes = (uint64_t)8 * FIX_GIB - 242 * FIX_MIB;
	c->gpu_memory_utilization = 0.9;
	c->gpu_used_bytes = 700 * FIX_MIB;
	c->server_command = fix_server_command;
	c->host = "127.0.0.1";
	c->port = 8000;
	c->engine = BUDGET_ENGINE_V1;
	c->generation = BUDGET_GEN_V1;      /* the results below keep CUDA graphs on top */
	c->roles = s->roles;
	c->nroles = 3;

	s->roles[0] = (struct catalog_role){.name = "primary", .repo = "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4",
	    .revision = "main", .local = "/mnt/f/models/llama3.1-8b-instruct-awq", .quantization = "awq",
	    .dtype = "half", .kv_cache_dtype = "auto", .max_model_len = 8192,
	    .rationale = "Strong balanced reasoning, broad ecosystem"};
	s->roles[1] = (struct catalog_role){.name = "lightweight", .repo = "microsoft/Phi-3.5-mini-instruct",
	    .revision = "main", .quantization = "bitsandbytes", .dtype = "auto", .kv_cache_dtype = "fp8",
	    .max_model_len_auto = true, .gpu_memory_utilization = 0.95, .rationale = "Very fast, low VRAM, decent reasoning"};
	s->roles[2] = (struct catalog_role){.name = "code", .local = "/mnt/f/models/starcoder2-7b",
	    .quantization = "awq", .dtype = "half", .kv_cache_dtype = "auto", .max_model_len = 4096,
	    .rationale = "Practical coding assistance"};

	s->locks[0] = (struct lock_model){.key = "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4@main",
	    .repo = s->roles[0].repo, .revision = "main",
	    .commit = "0123456789abcdef0123456789abcdef01234567", .files_complete = true};
	s->locks[1] = (struct lock_model){.key = "microsoft/Phi-3.5-mini-instruct@main",
	    .repo = s->roles[1].repo, .revision = "main", .commit = NULL, .files_complete = false};

	/* Deliberately not in path order: the emitters sort. */
	s->files0[0] = (struct plan_file){"model-00002-of-00002.safetensors", 1702154240, true, 1,
	    "a1333e6293854747c481288ea83b348226af178dd565c49b6f9495ba1966aba7",
	    "1111111111111111111111111111111111111111"};
	s->files0[1] = (struct plan_file){"config.json", 1047, true, 0, NULL,
	    "0178295f88afc3c7f279ed284f961f8c1be00654"};
	s->files0[2] = (struct plan_file){"model-00001-of-00002.safetensors", 4000000000u, true, 1,
	    "b2333e6293854747c481288ea83b348226af178dd565c49b6f9495ba1966aba7",
	    "2222222222222222222222222222222222222222"};
	s->files0[3] = (struct plan_file){"tokenizer.json", 0, false, -1, NULL, NULL};
	s->files1[0] = (struct plan_file){"model.safetensors", 7642159104u, true, 1, NULL, NULL};

	struct plan_role *r = s->pr;
	r[0].role = &s->roles[0];
	r[0].lock = &s->locks[0];
	r[0].model_id = "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4";
	r[0].local_dir = s->roles[0].local;
	r[0].dtype = "half";
	r[0].kv_cache_dtype = "auto";
	r[0].arch = (struct budget_arch){.layers = 32, .attention_heads = 32, .kv_heads = 8, .head_dim = 128,
	    .hidden_size = 4096, .intermediate_size = 14336, .vocab_size = 128256,
	    .max_position_embeddings = 131072, .dtype_bytes = 2};
	fix_result(&r[0], (uint64_t)5 * FIX_GIB + 330 * FIX_MIB, 131072, 8192);
	r[0].files = s->files0;
	r[0].nfiles = 4;
	r[0].download_bytes = 1702154240ull + 1047 + 4000000000ull;
	r[0].download_bytes_complete = false;
	r[0].measured_ttft_ms = 412;

	r[1].role = &s->roles[1];
	r[1].lock = &s->locks[1];
	r[1].model_id = "microsoft/Phi-3.5-mini-instruct";
	r[1].quantization_flag = "bitsandbytes";
	r[1].dtype = "auto";
	r[1].kv_cache_dtype = "fp8";
	r[1].arch = (struct budget_arch){.layers = 32, .attention_heads = 32, .kv_heads = 32, .head_dim = 96,
	    .hidden_size = 3072, .intermediate_size = 8192, .vocab_size = 32064,
	    .max_position_embeddings = 131072, .dtype_bytes = 2};
	fix_result(&r[1], (uint64_t)2 * FIX_GIB + 300 * FIX_MIB, 196608, 0);
	r[1].max_model_len = r[1].result.max_model_len_fit;
	r[1].params.max_model_len = r[1].max_model_len;
	r[1].result.kv_at_max_model_len = 196608ull * r[1].max_model_len;
	r[1].result.utilization = 0.8475;
	r[1].result.utilization_lowered = true;
	r[1].result.utilization_reason = BUDGET_LOWERED_IN_USE;
	r[1].result.utilization_asked = 0.95;
	r[1].verified = false;
	s->unverified1[0] = "config.json";
	s->unverified1[1] = "the weight bytes";
	r[1].unverified = s->unverified1;
	r[1].nunverified = 2;
	r[1].files = s->files1;
	r[1].nfiles = 1;
	r[1].download_bytes = 7642159104u;
	r[1].download_bytes_complete = true;

	r[2].role = &s->roles[2];
	r[2].model_id = "/mnt/f/models/starcoder2-7b";
	r[2].local_dir = s->roles[2].local;
	r[2].local_present = false;
	r[2].dtype = "half";
	r[2].kv_cache_dtype = "auto";
	r[2].arch = (struct budget_arch){.layers = 32, .attention_heads = 36, .kv_heads = 4, .head_dim = 128,
	    .hidden_size = 4608, .intermediate_size = 18432, .vocab_size = 49152,
	    .max_position_embeddings = 16384, .sliding_window = 4096, .dtype_bytes = 2,
	    .qkv_bias = true, .o_bias = true, .mlp_bias = true, .norm_bias = true, .mlp_ungated = true};
	fix_result(&r[2], (uint64_t)4 * FIX_GIB + 100 * FIX_MIB, 65536, 4096);
	r[2].params.enforce_eager = false;

	s->plan.catalog = c;
	s->plan.roles = s->pr;
	s->plan.nroles = 3;
	s->plan.download_bytes = r[0].download_bytes + r[1].download_bytes;
}

#endif
