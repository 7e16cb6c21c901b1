/*
 * The llama-swap config. Semantics read in mostlygeek/llama-swap@0bdb3720: cmd is split by
 * POSIX shell rules after comment lines are dropped and a trailing backslash joins lines
 * (internal/config/commands.go), so each word is shell-quoted on its own line; ${PORT} is the
 * port llama-swap picks. Without groups llama-swap runs one model at a time; a group with
 * swap: false runs its members together and, exclusive, unloads the others; a model can be in
 * one group only (internal/config/config.go), so roles in two fitting groups need the matrix,
 * whose sets permit any subset of themselves and whose evict_costs keep the slow-to-load models
 * resident (config.example.yaml). The top-level groups and matrix keys are the form every
 * release reads ("permanent backwards-compat input fields").
 */
#include "emit_llamaswap.h"

#include <string.h>

#include "emit_common.h"
#include "plan_together.h"
#include "planargv.h"
#include "shquote.h"

enum { VAR_MAX = 8 };                   /* the schema's matrix var names: 1-8 letters or digits */

/* A YAML double-quoted scalar of prefix and s (JSON's escapes, which YAML 1.2 reads alike). */
static void
yq2(FILE *f, const char *prefix, const char *s)
{
	fputc('"', f);
	fputs(prefix, f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
yq(FILE *f, const char *s)
{
	yq2(f, "", s);
}

/* Whether any role is in two groups that fit: then only the matrix says it. */
static bool
overlapping(const struct plan *p)
{
	for (size_t r = 0; r < p->nroles; r++) {
		int n = 0;
		for (size_t i = 0; i < p->ngroups; i++)
			for (size_t k = 0; p->groups[i].fits && k < p->groups[i].nmembers; k++)
				n += p->groups[i].members[k].role == r;
		if (n > 1)
			return true;
	}
	return false;
}

/*
 * The limits a role runs with under llama-swap, which has one command per model: alone, its
 * own; in fitting groups, the smallest share it has in any of them, which fits every one of
 * them since no member then takes more than its share there.
 */
static void
limits(const struct plan *p, size_t r, double *util, uint32_t *len)
{
	const struct plan_role *pr = &p->roles[r];
	*util = emit_role_utilization(p, pr);
	*len = pr->max_model_len;
	bool grouped = false;
	for (size_t i = 0; i < p->ngroups; i++)
		for (size_t k = 0; p->groups[i].fits && k < p->groups[i].nmembers; k++) {
			const struct plan_group_member *m = &p->groups[i].members[k];
			if (m->role == r && (!grouped || m->utilization < *util)) {
				*util = m->utilization;
				*len = m->max_model_len;
				grouped = true;
			}
		}
}

static void
flag(FILE *f, const char *name, const char *value)
{
	fprintf(f, "      %s ", name);
	shquote_write(f, value);
	fputs(" \\\n", f);
}

static void
command(FILE *f, const struct plan *p, size_t r)
{
	const struct catalog *c = p->catalog;
	const struct plan_role *pr = &p->roles[r];
	const struct catalog_role *cr = pr->role;
	char num[32];
	double util;
	uint32_t len;
	limits(p, r, &util, &len);
	fputs("    cmd: |\n     ", f);
	for (size_t k = 0; c->server_command[k]; k++) {
		fputc(' ', f);
		shquote_write(f, c->server_command[k]);
	}
	fputc(' ', f);
	shquote_write(f, pr->model_id);
	fputs(" \\\n", f);
	if (cr->repo && pr->model_id && strcmp(pr->model_id, cr->repo) == 0 && pr->lock && pr->lock->commit)
		flag(f, "--revision", pr->lock->commit);
	const char *names[SERVEDNAMES_MAX];
	size_t nn = planargv_served_names(pr, names);
	fputs("      --served-model-name", f);
	for (size_t k = 0; k < nn; k++) {
		fputc(' ', f);
		shquote_write(f, names[k]);
	}
	fputs(" \\\n", f);
	if (len) {
		snprintf(num, sizeof num, "%u", (unsigned)len);
		flag(f, "--max-model-len", num);
	}
	flag(f, "--gpu-memory-utilization", emit_util(util).s);
	const char *dtype = pr->dtype ? pr->dtype : cr->dtype;
	if (dtype && strcmp(dtype, "auto"))
		flag(f, "--dtype", dtype);
	const char *kv = pr->kv_cache_dtype ? pr->kv_cache_dtype : cr->kv_cache_dtype;
	if (kv && strcmp(kv, "auto"))
		flag(f, "--kv-cache-dtype", kv);
	if (pr->quantization_flag)
		flag(f, "--quantization", pr->quantization_flag);
	if (pr->params.max_num_seqs) {
		snprintf(num, sizeof num, "%u", (unsigned)pr->params.max_num_seqs);
		flag(f, "--max-num-seqs", num);
	}
	if (pr->params.max_num_batched_tokens) {
		snprintf(num, sizeof num, "%u", (unsigned)pr->params.max_num_batched_tokens);
		flag(f, "--max-num-batched-tokens", num);
	}
	if (c->enforce_eager)
		fputs("      --enforce-eager \\\n", f);
	flag(f, "--host", "127.0.0.1");
	fputs("      --port ${PORT}\n", f);
}

static void
model(FILE *f, const struct plan *p, size_t r)
{
	const struct plan_role *pr = &p->roles[r];
	const struct catalog_role *cr = pr->role;
	fprintf(f, "  %s:\n", cr->name);
	if (cr->rationale) {
		fputs("    description: ", f);
		yq(f, cr->rationale);
		fputc('\n', f);
	}
	command(f, p, r);
	fputs("    proxy: \"http://127.0.0.1:${PORT}\"\n    checkEndpoint: /health\n", f);
	if (cr->naliases) {
		fputs("    aliases:\n", f);
		for (size_t k = 0; k < cr->naliases; k++) {
			fputs("      - ", f);
			yq(f, cr->aliases[k]);
			fputc('\n', f);
		}
	}
	if (cr->ttl_seconds)
		fprintf(f, "    ttl: %u\n", (unsigned)cr->ttl_seconds);
	fputs("    env:\n      - ", f);
	yq2(f, "HF_HOME=", p->catalog->hf_home);
	fputc('\n', f);
	if (pr->local_present)
		fputs("      - \"HF_HUB_OFFLINE=1\"\n", f);
}

/* A matrix var for role r: its name's letters and digits, at most 8, made unique by its index. */
static void
var_of(const struct plan *p, size_t r, char out[VAR_MAX + 1])
{
	size_t n = 0;
	for (const char *s = p->roles[r].role->name; *s && n < VAR_MAX; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
			out[n++] = *s;
	out[n] = '\0';
	for (size_t j = 0; j < r; j++) {
		char other[VAR_MAX + 1];
		var_of(p, j, other);
		if (strcmp(other, out) == 0) {
			char idx[16];
			int w = snprintf(idx, sizeof idx, "%zu", r);
			if (n + (size_t)w > VAR_MAX)
				n = VAR_MAX - (size_t)w;
			memcpy(out + n, idx, (size_t)w + 1);
			return;
		}
	}
}

static bool
in_any_group(const struct plan *p, size_t r)
{
	for (size_t i = 0; i < p->ngroups; i++)
		for (size_t k = 0; p->groups[i].fits && k < p->groups[i].nmembers; k++)
			if (p->groups[i].members[k].role == r)
				return true;
	return false;
}

static void
matrix(FILE *f, const struct plan *p)
{
	char v[VAR_MAX + 1];
	fputs("\n# modelc's together: groups that fit, as sets of models that may run at once;\n"
	    "# evicting a model costs its cold start in seconds (weights over\n"
	    "# server.disk_read_rate, plus 60 s)\nmatrix:\n  vars:\n", f);
	for (size_t r = 0; r < p->nroles; r++)
		if (in_any_group(p, r)) {
			var_of(p, r, v);
			fprintf(f, "    %s: %s\n", v, p->roles[r].role->name);
		}
	fputs("  evict_costs:\n", f);
	for (size_t r = 0; r < p->nroles; r++)
		if (in_any_group(p, r)) {
			var_of(p, r, v);
			fprintf(f, "    %s: %u\n", v, (unsigned)p->roles[r].load_timeout_seconds);
		}
	fputs("  sets:\n", f);
	for (size_t i = 0; i < p->ngroups; i++) {
		const struct plan_group *g = &p->groups[i];
		if (!g->fits)
			continue;
		fputs("    ", f);
		yq(f, g->group->name);
		fputs(": \"", f);
		for (size_t k = 0; k < g->nmembers; k++) {
			var_of(p, g->members[k].role, v);
			fprintf(f, "%s%s", k ? " & " : "", v);
		}
		fputs("\"\n", f);
	}
}

static void
groups(FILE *f, const struct plan *p)
{
	fputs("\n# modelc's together: groups that fit: their members run at once (swap: false),\n"
	    "# and loading one unloads the other models (exclusive)\ngroups:\n", f);
	for (size_t i = 0; i < p->ngroups; i++) {
		const struct plan_group *g = &p->groups[i];
		if (!g->fits)
			continue;
		fputs("  ", f);
		yq(f, g->group->name);
		fputs(":\n    swap: false\n    exclusive: true\n    members:\n", f);
		for (size_t k = 0; k < g->nmembers; k++)
			fprintf(f, "      - %s\n", p->roles[g->members[k].role].role->name);
	}
}

int
emit_llamaswap(FILE *f, const struct plan *p)
{
	uint32_t timeout = PLAN_MIN_TIMEOUT_S;
	size_t fitting = 0;
	for (size_t r = 0; r < p->nroles; r++)
		if (p->roles[r].load_timeout_seconds > timeout)
			timeout = p->roles[r].load_timeout_seconds;
	for (size_t i = 0; i < p->ngroups; i++)
		fitting += p->groups[i].fits;
	fprintf(f, "# generated from %s by modelc; do not edit\n", emit_catalog_name(p).s);
	fputs("# a config for llama-swap (github.com/mostlygeek/llama-swap):\n"
	    "#   llama-swap --config generated/llama-swap.yaml\n"
	    "# healthCheckTimeout: the slowest role's cold start, its weights read at\n"
	    "# server.disk_read_rate plus 60 s for vLLM's own start-up (an allowance, not a\n"
	    "# measurement)\n", f);
	fprintf(f, "---\nhealthCheckTimeout: %u\n", (unsigned)timeout);
	fputs("models:\n", f);
	for (size_t r = 0; r < p->nroles; r++)
		model(f, p, r);
	if (fitting && overlapping(p))
		matrix(f, p);
	else if (fitting)
		groups(f, p);
	return ferror(f) ? -1 : 0;
}
