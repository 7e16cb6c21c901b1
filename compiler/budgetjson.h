#ifndef MODELC_BUDGETJSON_H
#define MODELC_BUDGETJSON_H

/* The budget breakdown as JSON keys, one spelling for `modelc fit` and `modelc explain --json`. */

#include <jansson.h>

#include "budget.h"

/*
 * Add the terms both commands print to object o, in fit's documented key order: the ten sizes
 * from weights_bytes to max_model_len_fit, then fits, utilization and utilization_lowered.
 */
void budgetjson_terms(json_t *o, const struct budget_result *r);

/* Why the utilization was lowered: utilization_asked, _lowered_reason and _lowered_text. */
void budgetjson_lowering(json_t *o, const struct budget_result *r);

#endif
