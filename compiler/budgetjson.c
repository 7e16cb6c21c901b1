#include "budgetjson.h"

void
budgetjson_terms(json_t *o, const struct budget_result *r)
{
	json_object_set_new(o, "weights_bytes", json_integer((json_int_t)r->weights_bytes));
	json_object_set_new(o, "kv_bytes_per_token", json_integer((json_int_t)r->kv_bytes_per_token));
	json_object_set_new(o, "activation_bytes", json_integer((json_int_t)r->activation_bytes));
	json_object_set_new(o, "non_torch_bytes", json_integer((json_int_t)r->non_torch_bytes));
	json_object_set_new(o, "cuda_graph_bytes", json_integer((json_int_t)r->cuda_graph_bytes));
	json_object_set_new(o, "safety_margin_bytes", json_integer((json_int_t)r->safety_margin_bytes));
	json_object_set_new(o, "budget_bytes", json_integer((json_int_t)r->budget_bytes));
	json_object_set_new(o, "kv_cache_bytes", json_integer((json_int_t)r->kv_cache_bytes));
	json_object_set_new(o, "kv_tokens", json_integer((json_int_t)r->kv_tokens));
	json_object_set_new(o, "max_model_len_fit", json_integer((json_int_t)r->max_model_len_fit));
	json_object_set_new(o, "fits", json_boolean(r->fits));
	json_object_set_new(o, "utilization", json_real(r->utilization));
	json_object_set_new(o, "utilization_lowered", json_boolean(r->utilization_lowered));
}

void
budgetjson_lowering(json_t *o, const struct budget_result *r)
{
	char why[320];
	budget_lowering_text(r, why, sizeof why);
	json_object_set_new(o, "utilization_asked", json_real(r->utilization_asked));
	json_object_set_new(o, "utilization_lowered_reason",
	    json_string(budget_lowering_code(r->utilization_reason)));
	json_object_set_new(o, "utilization_lowered_text", json_string(why));
}
