/* Number formatting and plan-derived facts shared by the emitters (emit_common.h). */
#include "emit_common.h"

#include <jansson.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planparams.h"
#include "size.h"
#include "fileio.h"
#include "utf8.h"

struct emit_num
emit_gib(uint64_t bytes)
{
	struct emit_num n;
	snprintf(n.s, sizeof n.s, "%.2f GiB", size_gib(bytes));
	return n;
}

struct emit_num
emit_size(uint64_t bytes)
{
	struct emit_num n;
	double b = (double)bytes;
	if (bytes < SIZE_KIB)
		snprintf(n.s, sizeof n.s, "%u B", (unsigned)bytes);
	else if (bytes < SIZE_MIB)
		snprintf(n.s, sizeof n.s, "%.1f KiB", b / (double)SIZE_KIB);
	else if (bytes < SIZE_GIB)
		snprintf(n.s, sizeof n.s, "%.1f MiB", size_mib(bytes));
	else
		snprintf(n.s, sizeof n.s, "%.2f GiB", size_gib(bytes));
	return n;
}

struct emit_num
emit_util(double u)
{
	struct emit_num n;
	/*
	 * Round down so that what we pass to vLLM never asks for more than the budget used.
	 * The epsilon absorbs binary representation error (0.29 * 10000 = 2899.9999...).
	 */
	if (!(u > 0))
		u = 0;
	if (u > 1)
		u = 1;
	long ticks = (long)floor(u * 10000.0 + 1e-6);
	snprintf(n.s, sizeof n.s, "%ld.%04ld", ticks / 10000, ticks % 10000);
	size_t len = strlen(n.s);
	while (len > 0 && n.s[len - 1] == '0' && n.s[len - 2] != '.')
		n.s[--len] = '\0';
	return n;
}

const char *
emit_engine_name(enum budget_engine e)
{
	return e == BUDGET_ENGINE_V0 ? "v0" : "v1";
}

const char *
emit_source_name(enum budget_source s)
{
	switch (s) {
	case BUDGET_EXACT: return "exact";
	case BUDGET_FORMULA: return "formula";
	case BUDGET_CALIBRATED: return "calibrated";
	case BUDGET_UNCALIBRATED: return "uncalibrated";
	}
	return "unknown";
}

int
emit_budget_known(const struct plan_role *r)
{
	return r->result.budget_bytes > 0 && r->result.kv_bytes_per_token > 0;
}

double
emit_role_utilization(const struct plan *p, const struct plan_role *r)
{
	if (r->result.utilization > 0)
		return r->result.utilization;
	return planparams_utilization(p->catalog, r->role);
}

const char *
emit_verdict(const struct plan_role *r)
{
	if (!r->verified)
		return "unverified";
	return r->result.fits ? "fits" : "does not fit";
}

const struct plan_role *
emit_primary(const struct plan *p)
{
	for (size_t i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i].role->name, "primary") == 0)
			return &p->roles[i];
	return p->nroles ? &p->roles[0] : NULL;
}

uint64_t
emit_kv_at_len(const struct plan_role *r)
{
	/* budget.c's own figure follows vLLM's per-layer rule (sliding windows); prefer it. */
	if (r->result.kv_at_max_model_len)
		return r->result.kv_at_max_model_len;
	uint64_t per = r->result.kv_bytes_per_token, len = r->max_model_len;
	if (per && len > UINT64_MAX / per)
		return UINT64_MAX;
	return per * len;
}

uint64_t
emit_kv_after_margin(const struct plan_role *r)
{
	const struct budget_result *b = &r->result;
	return b->kv_cache_bytes > b->safety_margin_bytes ? b->kv_cache_bytes - b->safety_margin_bytes : 0;
}

int
emit_graphs_inside_budget(const struct plan_role *r)
{
	const struct budget_result *b = &r->result;
	return b->cuda_graph_bytes == 0 || budget_generation_graphs_in_budget(b->generation);
}

void
emit_line_text(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned cp;
		size_t n = utf8_decode((const char *)p, strnlen((const char *)p, UTF8_MAX_LEN), &cp);
		if (n == 0) {
			fputc('?', out);
			p++;
		} else if (cp < 0x20 || cp == 0x7f || cp == 0x85 || cp == 0x2028 || cp == 0x2029) {
			/* Any of these could end a comment line for some reader (JavaScript's ^ with m). */
			fputc(' ', out);
			p += n;
		} else {
			fwrite(p, 1, n, out);
			p += n;
		}
	}
}

struct emit_name
emit_catalog_name(const struct plan *p)
{
	struct emit_name n;
	const char *path = p->catalog && p->catalog->path ? p->catalog->path : "models.yaml";
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!*base)
		base = "models.yaml";
	size_t i = 0;
	for (; base[i] && i + 1 < sizeof n.s; i++) {
		char c = base[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '+' || c == '-';
		n.s[i] = ok ? c : '_';
	}
	n.s[i] = '\0';
	return n;
}

static int
cmp_file_ptr(const void *a, const void *b)
{
	const struct plan_file *x = *(const struct plan_file *const *)a;
	const struct plan_file *y = *(const struct plan_file *const *)b;
	return strcmp(x->path, y->path);
}

void
emit_sort_files(const struct plan_file **files, size_t n)
{
	if (n > 1)
		qsort(files, n, sizeof *files, cmp_file_ptr);
}

char *
emit_hub_cache(const struct catalog *c)
{
	if (c->hub_cache)
		return strdup(c->hub_cache);
	return c->hf_home ? fileio_join(NULL, c->hf_home, "hub") : NULL;
}

void
emit_yaml_string(FILE *out, const char *s)
{
	json_t *v = json_string(s);
	char *j = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
	fputs(j ? j : "\"\"", out);
	free(j);
	json_decref(v);
}
