/*
 * config.json -> struct budget_arch. Field names and defaults follow transformers'
 * configuration classes: a missing num_key_value_heads means one KV head per attention head
 * (PretrainedConfig), a missing head_dim means hidden_size / num_attention_heads, and the
 * sliding-window rules are those of each family (docs/budget.md, "Reading config.json").
 */
#include <stdio.h>
#include <string.h>

#include "hfconfig.h"

/* transformers' DeepseekV2Config / DeepseekV3Config default for a missing qk_rope_head_dim. */
enum { HFCONFIG_MLA_ROPE_DEFAULT = 64 };

/* The object the numbers live in (text_config for multimodal wrappers) and its parent. */
struct hfconfig_src {
	const json_t *primary;
	const json_t *fallback;
};

static const json_t *
get(const struct hfconfig_src *s, const char *key)
{
	const json_t *v = json_object_get(s->primary, key);
	if ((!v || json_is_null(v)) && s->fallback)
		v = json_object_get(s->fallback, key);
	return v && !json_is_null(v) ? v : NULL;
}

/* A positive integer that fits uint32_t, else 0. */
static uint32_t
get_u32(const struct hfconfig_src *s, const char *key)
{
	const json_t *v = get(s, key);
	if (!v || !json_is_integer(v))
		return 0;
	json_int_t i = json_integer_value(v);
	return i > 0 && i <= (json_int_t)UINT32_MAX ? (uint32_t)i : 0;
}

/* 1 true, 0 false, -1 absent or not a boolean. */
static int
get_bool(const struct hfconfig_src *s, const char *key)
{
	const json_t *v = get(s, key);
	if (!v || !json_is_boolean(v))
		return -1;
	return json_is_true(v);
}

static void
copy_str(char *dst, const json_t *v)
{
	dst[0] = '\0';
	if (v && json_is_string(v))
		snprintf(dst, HFCONFIG_NAME_MAX, "%s", json_string_value(v));
}

uint32_t
hfconfig_dtype_bytes(const char *name)
{
	static const struct {
		const char *name;
		uint32_t bytes;
	} dtypes[] = {
		{"bfloat16", 2}, {"float16", 2}, {"half", 2}, {"fp16", 2}, {"bf16", 2},
		{"float32", 4}, {"float", 4}, {"fp32", 4},
		{"float8_e4m3fn", 1}, {"float8_e5m2", 1},
	};
	if (!name)
		return 0;
	if (strncmp(name, "torch.", 6) == 0)
		name += 6;
	for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
		if (strcmp(dtypes[i].name, name) == 0)
			return dtypes[i].bytes;
	return 0;
}

/* Sliding-window layers per the family's rule; sets a->sliding_window to 0 when none. */
static void
read_sliding(const struct hfconfig_src *s, const char *model_type, struct budget_arch *a)
{
	a->sliding_window = get_u32(s, "sliding_window");
	a->sliding_layers = 0;
	if (!a->sliding_window)
		return;
	const json_t *types = get(s, "layer_types");
	if (types && json_is_array(types) && json_array_size(types) > 0) {
		/* Hybrid models list each layer's attention type (transformers >= 4.54). */
		size_t i, n = 0;
		const json_t *t;
		json_array_foreach(types, i, t)
			if (json_is_string(t) && strcmp(json_string_value(t), "sliding_attention") == 0)
				n++;
		a->sliding_layers = (uint32_t)n;
	} else if (get_bool(s, "use_sliding_window") == 0) {
		a->sliding_layers = 0;          /* Qwen2/Qwen3: the window is declared but off */
	} else if (get_bool(s, "use_sliding_window") == 1) {
		/* Qwen2: layers from max_window_layers on use the window (absent: all). */
		uint32_t mwl = get_u32(s, "max_window_layers");
		a->sliding_layers = mwl < a->layers ? a->layers - mwl : 0;
	} else if (get_u32(s, "sliding_window_pattern")) {
		/* Gemma 3: every pattern-th layer is global, the others slide. */
		uint32_t pat = get_u32(s, "sliding_window_pattern");
		a->sliding_layers = a->layers - a->layers / pat;
	} else if (strcmp(model_type, "gemma2") == 0) {
		a->sliding_layers = (a->layers + 1) / 2;   /* Gemma 2 alternates, layer 0 sliding */
	} else {
		a->sliding_layers = a->layers;  /* Mistral v0.1, Starcoder2, Phi-3: every layer */
	}
	if (!a->sliding_layers)
		a->sliding_window = 0;
}

/*
 * MoE numbers: routed experts (num_experts, num_local_experts, n_routed_experts), the expert
 * width (moe_intermediate_size; Mixtral's experts use intermediate_size), shared experts
 * (n_shared_experts; Qwen2-MoE's one shared_expert_intermediate_size with its gate), and the
 * leading dense layers (first_k_dense_replace, DeepSeek).
 */
static void
read_moe(const struct hfconfig_src *s, struct budget_arch *a, const struct hfconfig_info *info)
{
	a->experts = info->experts;
	if (!a->experts)
		return;
	a->moe_intermediate_size = get_u32(s, "moe_intermediate_size");
	if (!a->moe_intermediate_size)
		a->moe_intermediate_size = get_u32(s, "expert_intermediate_size");
	a->shared_experts = get_u32(s, "n_shared_experts");
	a->shared_intermediate_size = get_u32(s, "shared_expert_intermediate_size");
	a->shared_expert_gate = a->shared_intermediate_size != 0;
	a->dense_layers = get_u32(s, "first_k_dense_replace");
}

static void
read_quant(const json_t *q, struct hfconfig_info *info)
{
	if (!q || !json_is_object(q))
		return;
	struct hfconfig_src s = {q, NULL};
	info->quantized = true;
	copy_str(info->quant_method, json_object_get(q, "quant_method"));
	info->quant_bits = get_u32(&s, "bits");
	if (!info->quant_bits)
		info->quant_bits = get_u32(&s, "w_bit");
	info->quant_group_size = get_u32(&s, "group_size");
	if (!info->quant_group_size)
		info->quant_group_size = get_u32(&s, "q_group_size");
	int zp = get_bool(&s, "zero_point");
	/* GPTQ stores qzeros whether or not it is symmetric; AWQ says zero_point. */
	info->quant_zero_point = zp == 1 || (zp == -1 && (strcmp(info->quant_method, "gptq") == 0 ||
	    strcmp(info->quant_method, "awq") == 0));
}

int
hfconfig_from_json(const json_t *cfg, struct budget_arch *a, struct hfconfig_info *info)
{
	struct hfconfig_info scratch;
	if (!info)
		info = &scratch;
	memset(a, 0, sizeof *a);
	memset(info, 0, sizeof *info);
	if (!cfg || !json_is_object(cfg)) {
		snprintf(info->missing, sizeof info->missing, "%s", "(top level)");
		return -1;
	}
	struct hfconfig_src s = {cfg, NULL};
	const json_t *text = json_object_get(cfg, "text_config");
	if (text && json_is_object(text)) {
		s.primary = text;
		s.fallback = cfg;
		info->text_config = true;
	}
	const json_t *archs = json_object_get(cfg, "architectures");
	if (archs && json_is_array(archs))
		copy_str(info->architecture, json_array_get(archs, 0));
	copy_str(info->model_type, get(&s, "model_type"));

	a->layers = get_u32(&s, "num_hidden_layers");
	a->attention_heads = get_u32(&s, "num_attention_heads");
	a->hidden_size = get_u32(&s, "hidden_size");
	const char *missing = !a->layers ? "num_hidden_layers" : !a->attention_heads ?
	    "num_attention_heads" : !a->hidden_size ? "hidden_size" : NULL;
	a->kv_heads = get_u32(&s, "num_key_value_heads");
	if (!a->kv_heads && !missing) {
		if (get(&s, "num_key_value_heads")) {
			missing = "num_key_value_heads";
		} else {
			a->kv_heads = a->attention_heads;
			info->kv_heads_defaulted = true;
		}
	}
	if (missing) {
		snprintf(info->missing, sizeof info->missing, "%s%s", info->text_config ?
		    "text_config." : "", missing);
		return -1;
	}
	a->head_dim = get_u32(&s, "head_dim");
	if (!a->head_dim) {
		a->head_dim = a->hidden_size / a->attention_heads;
		info->head_dim_derived = true;
	}
	a->intermediate_size = get_u32(&s, "intermediate_size");
	a->vocab_size = get_u32(&s, "vocab_size");
	a->max_position_embeddings = get_u32(&s, "max_position_embeddings");
	int tie = get_bool(&s, "tie_word_embeddings");
	a->tie_word_embeddings = tie == 1;
	info->tie_defaulted = tie == -1;

	const json_t *dt = get(&s, "torch_dtype");
	if (!dt)
		dt = get(&s, "dtype");
	copy_str(info->dtype, dt);
	a->dtype_bytes = hfconfig_dtype_bytes(info->dtype);

	const char *mt = info->model_type;
	bool qwen2 = strncmp(mt, "qwen2", 5) == 0 || strncmp(info->architecture, "Qwen2", 5) == 0;
	int attn_bias = get_bool(&s, "attention_bias");
	int use_bias = get_bool(&s, "use_bias");
	a->qkv_bias = qwen2 || attn_bias == 1 || use_bias == 1;
	a->o_bias = attn_bias == 1 || use_bias == 1;
	a->mlp_bias = get_bool(&s, "mlp_bias") == 1 || use_bias == 1;
	if (strcmp(mt, "starcoder2") == 0) {
		a->norm_bias = true;            /* nn.LayerNorm, weight and bias */
		a->mlp_ungated = true;          /* c_fc, c_proj */
	}
	read_sliding(&s, mt, a);

	static const char *const expert_keys[] = {"num_experts", "num_local_experts",
		"n_routed_experts"};
	for (size_t i = 0; i < sizeof expert_keys / sizeof expert_keys[0] && !info->experts; i++)
		info->experts = get_u32(&s, expert_keys[i]);
	read_moe(&s, a, info);
	/* Encoders that vLLM's profile run exercises, and the latent attention of DeepSeek V2/V3. */
	a->multimodal = json_object_get(cfg, "vision_config") || json_object_get(cfg, "audio_config") ||
	    json_object_get(cfg, "thinker_config");
	a->kv_lora_rank = get_u32(&s, "kv_lora_rank");
	if (a->kv_lora_rank) {
		a->qk_rope_head_dim = get_u32(&s, "qk_rope_head_dim");
		if (!a->qk_rope_head_dim)
			a->qk_rope_head_dim = HFCONFIG_MLA_ROPE_DEFAULT;
	}
	snprintf(a->family, sizeof a->family, "%s", info->architecture);
	read_quant(get(&s, "quantization_config"), info);
	return 0;
}
