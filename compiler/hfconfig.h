#ifndef MODELC_HFCONFIG_H
#define MODELC_HFCONFIG_H

/*
 * A Hugging Face config.json read into the numbers the budget needs. Knows the spellings of
 * the families the catalog serves: head_dim absent (hidden / heads), Qwen2's use_sliding_window
 * and max_window_layers, hybrid layer_types and sliding_window_pattern, text_config nesting
 * (multimodal wrappers), torch_dtype or dtype (transformers 5), quantization_config.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "budget.h"

enum { HFCONFIG_NAME_MAX = 64 };

/* What else the config says, for reports and for choosing a quantization format. */
struct hfconfig_info {
	char architecture[HFCONFIG_NAME_MAX];  /* architectures[0], or "" */
	char model_type[HFCONFIG_NAME_MAX];
	char dtype[HFCONFIG_NAME_MAX];         /* torch_dtype / dtype as written, or "" */
	char missing[HFCONFIG_NAME_MAX];       /* the first required key absent or invalid, or "" */
	bool text_config;                      /* numbers came from text_config */
	bool head_dim_derived;                 /* hidden_size / num_attention_heads */
	bool kv_heads_defaulted;               /* no num_key_value_heads: one per attention head */
	bool tie_defaulted;                    /* no tie_word_embeddings: assumed untied */
	uint32_t experts;                      /* MoE experts (num_experts, num_local_experts...); 0 dense */
	bool quantized;                        /* quantization_config present */
	char quant_method[HFCONFIG_NAME_MAX];  /* quantization_config.quant_method */
	uint32_t quant_bits;                   /* bits / w_bit; 0 unknown */
	uint32_t quant_group_size;             /* group_size / q_group_size; 0 unknown or per-channel */
	bool quant_zero_point;
};

/*
 * Fill a (zeroed first) from the config object cfg; info may be NULL. Returns 0 when
 * num_hidden_layers, num_attention_heads and hidden_size are positive integers (the rest is
 * optional), else -1 with info->missing naming the first key that is not.
 */
int hfconfig_from_json(const json_t *cfg, struct budget_arch *a, struct hfconfig_info *info);

/* Bytes per element of a dtype name (bfloat16, float16, half, float32, float...); 0 unknown. */
uint32_t hfconfig_dtype_bytes(const char *name);

#endif
