/*
 * The runtime table as C. Strings of any bytes become safe literals; very long ones become
 * char arrays, since -Wpedantic warns about literals longer than the 4095 bytes C11
 * guarantees. Integers carry explicit suffixes so no value depends on the target's int size.
 */
#include "emit_table.h"

#include <stdlib.h>
#include <string.h>

#include "emit_common.h"

/* Longer strings than this are emitted as brace-initialised char arrays. */
enum { TABLE_MAX_LITERAL = 4000 };

void
emit_table_cstring(FILE *out, const char *s)
{
	if (!s) {
		fputs("NULL", out);
		return;
	}
	fputc('"', out);
	size_t col = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if (c == '"' || c == '\\' || c == '?')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, out);
		else
			fprintf(out, "\\%03o", c);
		/* Break long literals into adjacent pieces for readable lines. */
		if (++col >= 72 && p[1]) {
			fputs("\"\n\t    \"", out);
			col = 0;
		}
	}
	fputc('"', out);
}

/* Strings that need arrays are declared before use; this numbers them in a fixed order. */
struct table_ctx {
	FILE *f;
	unsigned nlong;
	int declaring;
};

static void
str(struct table_ctx *t, const char *s)
{
	if (s && strlen(s) > TABLE_MAX_LITERAL) {
		unsigned id = t->nlong++;
		if (t->declaring) {
			fprintf(t->f, "static const char long_%u[] = {", id);
			size_t i = 0;
			for (; s[i]; i++)
				fprintf(t->f, "%s'\\%03o',", i % 12 ? " " : "\n\t", (unsigned char)s[i]);
			fputs("\n\t'\\0'\n};\n", t->f);
		} else {
			fprintf(t->f, "long_%u", id);
		}
		return;
	}
	if (!t->declaring)
		emit_table_cstring(t->f, s);
}

static void
u64(FILE *f, uint64_t v)
{
	fprintf(f, "UINT64_C(%llu)", (unsigned long long)v);
}

static void
arch(FILE *f, const struct budget_arch *a)
{
	fprintf(f, "{\n\t\t\t.layers = %uu, .attention_heads = %uu, .kv_heads = %uu, .head_dim = %uu,\n"
	    "\t\t\t.hidden_size = %uu, .intermediate_size = %uu, .vocab_size = %uu,\n"
	    "\t\t\t.max_position_embeddings = %uu, .sliding_window = %uu, .sliding_layers = %uu,\n"
	    "\t\t\t.tie_word_embeddings = %d, .dtype_bytes = %uu,\n"
	    "\t\t\t.qkv_bias = %d, .o_bias = %d, .mlp_bias = %d, .norm_bias = %d, .mlp_ungated = %d,\n"
	    "\t\t}",
	    (unsigned)a->layers, (unsigned)a->attention_heads, (unsigned)a->kv_heads,
	    (unsigned)a->head_dim, (unsigned)a->hidden_size, (unsigned)a->intermediate_size,
	    (unsigned)a->vocab_size, (unsigned)a->max_position_embeddings,
	    (unsigned)a->sliding_window, (unsigned)a->sliding_layers, a->tie_word_embeddings ? 1 : 0,
	    (unsigned)a->dtype_bytes, a->qkv_bias ? 1 : 0, a->o_bias ? 1 : 0, a->mlp_bias ? 1 : 0,
	    a->norm_bias ? 1 : 0, a->mlp_ungated ? 1 : 0);
}

static const char *
primary_name(const struct plan *p)
{
	const struct plan_role *r = emit_primary(p);
	return r ? r->role->name : NULL;
}

/* files[0..n), sorted like a manifest; NULL when there are none. */
static const struct plan_file **
sorted_files(const struct plan_file *files, size_t n)
{
	if (!n)
		return NULL;
	const struct plan_file **v = malloc(n * sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = &files[i];
	emit_sort_files(v, n);
	return v;
}

/* "static const struct model_file NAME_i[] = {...};" for n files; strings through str(). */
static int
file_array(struct table_ctx *t, const char *name, size_t i, const struct plan_file *list, size_t n)
{
	FILE *f = t->f;
	const struct plan_file **files = sorted_files(list, n);
	if (n && !files)
		return -1;
	if (n && !t->declaring)
		fprintf(f, "static const struct model_file %s_%zu[] = {\n", name, i);
	for (size_t k = 0; k < n; k++) {
		if (!t->declaring)
			fputs("\t{", f);
		str(t, files[k]->path);
		if (!t->declaring) {
			fputs(", ", f);
			u64(f, files[k]->size_known ? files[k]->size : 0);
			fputs("},\n", f);
		}
	}
	if (n && !t->declaring)
		fputs("};\n\n", f);
	free(files);
	return 0;
}

/*
 * Every string goes through str() twice, in the same order: once declaring long arrays,
 * once referencing them. Keeping one walk for both makes the numbering agree.
 */
static int
walk(struct table_ctx *t, const struct plan *p)
{
	FILE *f = t->f;
	const struct catalog *c = p->catalog;

	for (size_t i = 0; i < p->nroles; i++) {
		const struct plan_role *r = &p->roles[i];
		if (file_array(t, "files", i, r->files, r->nfiles) < 0 ||
		    file_array(t, "local_files", i, r->local_files, r->nlocal_files) < 0)
			return -1;
	}

	if (!t->declaring && p->nroles)
		fputs("static const struct model_entry entries[] = {\n", f);
	for (size_t i = 0; i < p->nroles; i++) {
		const struct plan_role *r = &p->roles[i];
		const struct catalog_role *cr = r->role;
		const char *fields[] = {
			cr->name, r->model_id, cr->repo, cr->repo ? cr->revision : NULL,
			r->lock ? r->lock->commit : NULL, r->local_dir ? r->local_dir : cr->local,
			cr->quantization, r->quantization_flag, r->dtype,
			r->kv_cache_dtype ? r->kv_cache_dtype : cr->kv_cache_dtype,
		};
		const char *names[] = {
			"role", "model_id", "repo", "revision", "commit", "local_dir", "quantization",
			"quantization_flag", "dtype", "kv_cache_dtype",
		};
		if (!t->declaring)
			fputs("\t{\n", f);
		for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
			if (!t->declaring)
				fprintf(f, "\t\t.%s = ", names[k]);
			str(t, fields[k]);
			if (!t->declaring)
				fputs(",\n", f);
		}
		if (t->declaring)
			continue;
		fprintf(f, "\t\t.max_model_len = %uu,\n", (unsigned)r->max_model_len);
		fprintf(f, "\t\t.gpu_memory_utilization = %s,\n", emit_util(emit_role_utilization(p, r)).s);
		fprintf(f, "\t\t.max_num_seqs = %uu,\n", (unsigned)r->result.max_num_seqs);
		fprintf(f, "\t\t.max_num_batched_tokens = %uu,\n", (unsigned)r->result.max_num_batched_tokens);
		fprintf(f, "\t\t.enforce_eager = %d,\n", r->params.enforce_eager ? 1 : 0);
		fprintf(f, "\t\t.verdict = \"%s\",\n", r->verified && r->result.fits ? "fits" : "unverified");
		fputs("\t\t.weights_bytes = ", f);
		u64(f, r->result.weights_bytes);
		fputs(",\n\t\t.arch = ", f);
		arch(f, &r->arch);
		if (r->nfiles)
			fprintf(f, ",\n\t\t.files = files_%zu,\n\t\t.nfiles = %zu,\n", i, r->nfiles);
		else
			fputs(",\n\t\t.files = NULL,\n\t\t.nfiles = 0,\n", f);
		fputs("\t\t.total_bytes = ", f);
		u64(f, r->download_bytes);
		if (r->nlocal_files)
			fprintf(f, ",\n\t\t.local_files = local_files_%zu,\n\t\t.nlocal_files = %zu,\n\t},\n", i,
			    r->nlocal_files);
		else
			fputs(",\n\t\t.local_files = NULL,\n\t\t.nlocal_files = 0,\n\t},\n", f);
	}
	if (!t->declaring && p->nroles)
		fputs("};\n\n", f);

	size_t ncmd = 0;
	while (c->server_command && c->server_command[ncmd])
		ncmd++;
	if (!t->declaring)
		fputs("static const char *const server_command[] = {", f);
	for (size_t k = 0; k < ncmd; k++) {
		str(t, c->server_command[k]);
		if (!t->declaring)
			fputs(", ", f);
	}
	if (!t->declaring)
		fputs("NULL};\n\n", f);

	char *hub = emit_hub_cache(c);
	const char *tstr[] = {c->path, c->gpu_profile, c->hf_home, hub, c->models_dir,
	    c->host, primary_name(p)};
	const char *tnames[] = {"catalog_path", "gpu_profile", "hf_home", "hub_cache", "models_dir",
	    "host", "primary_role"};
	if (!t->declaring)
		fputs("const struct model_table model_table = {\n", f);
	for (size_t k = 0; k < sizeof tstr / sizeof tstr[0]; k++) {
		if (!t->declaring)
			fprintf(f, "\t.%s = ", tnames[k]);
		str(t, tstr[k]);
		if (!t->declaring)
			fputs(",\n", f);
	}
	free(hub);
	if (t->declaring)
		return 0;
	fputs("\t.gpu_total_bytes = ", f);
	u64(f, c->gpu_total_bytes);
	fputs(",\n\t.gpu_used_bytes = ", f);
	u64(f, c->gpu_used_bytes);
	fprintf(f, ",\n\t.gpu_memory_utilization = %s,\n", emit_util(c->gpu_memory_utilization).s);
	fputs("\t.safety_margin_bytes = ", f);
	u64(f, c->safety_margin_bytes);
	fprintf(f, ",\n\t.engine = %s,\n", c->engine == BUDGET_ENGINE_V0 ? "BUDGET_ENGINE_V0" :
	    "BUDGET_ENGINE_V1");
	fputs("\t.disk_budget_bytes = ", f);
	u64(f, c->disk_budget_bytes);
	fprintf(f, ",\n\t.server_command = server_command,\n\t.port = %uu,\n", (unsigned)c->port);
	if (p->nroles)
		fprintf(f, "\t.entries = entries,\n\t.count = %zu,\n", p->nroles);
	else
		fputs("\t.entries = NULL,\n\t.count = 0,\n", f);
	fputs("};\n", f);
	return 0;
}

int
emit_table(FILE *f, const struct plan *p)
{
	struct table_ctx t = {f, 0, 1};

	fprintf(f, "/* generated from %s by modelc; do not edit */\n", emit_catalog_name(p).s);
	fputs("#include \"model_table.h\"\n\n", f);
	if (walk(&t, p) < 0)
		return -1;
	if (t.nlong)
		fputc('\n', f);
	t.nlong = 0;
	t.declaring = 0;
	if (walk(&t, p) < 0)
		return -1;
	return ferror(f) ? -1 : 0;
}
