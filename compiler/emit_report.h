#ifndef MODELC_EMIT_REPORT_H
#define MODELC_EMIT_REPORT_H

/*
 * generated/budget.txt and generated/budget.svg: the VRAM budget of every role, as a table
 * with the numbers that decided each limit and as stacked bars against the budget line.
 */

#include <stdio.h>

#include "plan.h"

/*
 * The safety margin's row note, one wording for budget.txt, explain and fit: what it is made of
 * (gpu.safety_margin, widened outside the calibrated evidence) and where it goes. Returns buf.
 */
const char *emit_margin_note(char *buf, size_t n, const struct budget_result *b);

/* Write the text report to out; 0, or -1 when the stream failed. */
int emit_budget_txt(FILE *out, const struct plan *p);

/* Write the SVG chart (valid XML, deterministic) to out; 0, or -1 when the stream failed. */
int emit_budget_svg(FILE *out, const struct plan *p);

#endif
