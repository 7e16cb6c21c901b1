#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "activefile.h"
#include "exitcode.h"
#include "swcmd.h"
#include "swjson.h"
#include "swtable.h"

static const char list_usage[] = "switch list [--json] [--active-file FILE]";

/* The active role from the active file, or "" when there is none or it cannot be read. */
static const char *
active_role(const char *path)
{
	static struct activefile af;
	unsigned line;
	if (activefile_read(path, &af, &line) != 0)
		return "";
	return af.role;
}

static void
files_text(const struct swtable_files *f, char *buf, size_t cap)
{
	const char *w = swtable_files_word(f);
	if (strcmp(w, "partial") == 0)
		snprintf(buf, cap, "partial %zu/%zu", f->present, f->total);
	else
		snprintf(buf, cap, "%s", w);
}

/* A string or null. */
static void
json_str(const char *key, const char *s)
{
	printf("  \"%s\": ", key);
	if (s)
		swjson_write_string(stdout, s);
	else
		fputs("null", stdout);
	fputs(",\n", stdout);
}

static void
print_json(const char *active)
{
	const struct model_table *t = swtable_table();
	char digest[2 * MODEL_TABLE_DIGEST_BYTES + 1];
	struct model_entry entry, *e = &entry;

	model_table_digest_hex(t, digest);
	printf("{\n");
	json_str("table", swtable_path());
	json_str("catalog", t->catalog_path);
	json_str("digest", t->have_digest ? digest : NULL);
	json_str("built", t->built);
	printf("  \"build_time\": %llu,\n  \"stale\": %s,\n  \"roles\": [", (unsigned long long)t->build_time,
	    swtable_stale() ? "true" : "false");
	for (size_t i = 0; i < t->count; i++) {
		struct swtable_files f;
		swtable_entry(i, e);
		swtable_files(e, &f);
		printf("%s\n    {\"role\": ", i ? "," : "");
		swjson_write_string(stdout, e->role);
		printf(", \"model_id\": ");
		swjson_write_string(stdout, swtable_model_id(e));
		printf(", \"quantization\": ");
		swjson_write_string(stdout, e->quantization ? e->quantization : "none");
		/* 0: modelc could not compute it; vLLM decides (null for scripts). */
		if (e->max_model_len)
			printf(", \"max_model_len\": %u, \"verdict\": ", (unsigned)e->max_model_len);
		else
			printf(", \"max_model_len\": null, \"verdict\": ");
		swjson_write_string(stdout, e->verdict ? e->verdict : "unverified");
		printf(", \"files\": ");
		swjson_write_string(stdout, swtable_files_word(&f));
		printf(", \"files_present\": %zu, \"files_total\": %zu, \"active\": %s}",
		    f.present, f.total, strcmp(e->role, active) == 0 ? "true" : "false");
	}
	printf("\n  ]\n}\n");
}

static void
print_table(const char *active)
{
	int wr = 4, wm = 5, wq = 5;
	char files[64], ctx[16];
	struct model_entry entry, *e = &entry;
	size_t n = swtable_table()->count;

	for (size_t i = 0; i < n; i++) {
		swtable_entry(i, e);
		int l = (int)strlen(e->role);
		wr = l > wr ? l : wr;
		l = (int)strlen(swtable_model_id(e));
		wm = l > wm ? l : wm;
		l = e->quantization ? (int)strlen(e->quantization) : 4;
		wq = l > wq ? l : wq;
	}
	printf("  %-*s  %-*s  %-*s  %7s  %-10s  %s\n", wr, "ROLE", wm, "MODEL", wq, "QUANT", "CONTEXT",
	    "VERDICT", "FILES");
	for (size_t i = 0; i < n; i++) {
		struct swtable_files f;
		swtable_entry(i, e);
		swtable_files(e, &f);
		files_text(&f, files, sizeof files);
		/* "-": no context computed; vLLM decides. */
		if (e->max_model_len)
			snprintf(ctx, sizeof ctx, "%u", (unsigned)e->max_model_len);
		else
			snprintf(ctx, sizeof ctx, "-");
		printf("%c %-*s  %-*s  %-*s  %7s  %-10s  %s\n", strcmp(e->role, active) == 0 ? '*' : ' ',
		    wr, e->role, wm, swtable_model_id(e), wq, e->quantization ? e->quantization : "none",
		    ctx, e->verdict ? e->verdict : "unverified", files);
	}
}

int
swcmd_list(int argc, char **argv)
{
	const char *file = NULL;
	int json = 0;
	struct stat st;

	for (int i = 1; i < argc; i++) {
		int m = swcmd_option(argc, argv, &i, "--active-file", &file);
		if (m < 0)
			return EXITCODE_USAGE;
		if (m)
			continue;
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--help") == 0)
			return swcmd_usage(stdout, list_usage);
		else
			return swcmd_unknown_option(argv[0], argv[i], list_usage);
	}
	if (stat(swtable_hub_cache(), &st) != 0)
		swcmd_warning("the Hugging Face cache '%s' does not exist; files show as missing\n",
		    swtable_hub_cache());
	const char *active = active_role(activefile_path(file));
	if (json)
		print_json(active);
	else
		print_table(active);
	return EXITCODE_OK;
}
