#include "signset.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "diag.h"
#include "exitcode.h"
#include "errmsg.h"
#include "fileio.h"
#include "mssig.h"
#include "sumfile.h"

enum { SIGNSET_MAX_DEPTH = 8 };

static void *
oom_check(void *p)
{
	if (!p) {
		diag_print(stderr, "modelc: out of memory\n");
		abort();
	}
	return p;
}

static void *
xmalloc(size_t n)
{
	return oom_check(malloc(n));
}

char *
signset_join(const char *dir, const char *rel)
{
	return oom_check(fileio_join(NULL, dir, rel));
}

char *
signset_sig_path(const char *path)
{
	size_t n = strlen(path) + sizeof SIGNSET_SUFFIX;
	char *s = xmalloc(n);
	snprintf(s, n, "%s%s", path, SIGNSET_SUFFIX);
	return s;
}

int
signset_file_sha256(const char *path, char hex[TCOMMENT_HEX + 1], char *err, size_t errlen)
{
	unsigned char d[SUMFILE_DIGEST];
	if (sumfile_hash_file(path, d, err, errlen))
		return -1;
	sumfile_hex(d, hex);
	return 0;
}

static int
cmp_model(const void *a, const void *b)
{
	return strcmp((*(const struct lock_model *const *)a)->key, (*(const struct lock_model *const *)b)->key);
}

char *
signset_commit_list(const struct lock *l, unsigned long *count)
{
	const struct lock_model **v = xmalloc((l->nmodels + 1) * sizeof *v);
	size_t n = 0, len = 1;
	for (size_t i = 0; i < l->nmodels; i++)
		if (l->models[i].repo) {
			v[n++] = &l->models[i];
			len += strlen(l->models[i].key) + 1 + 40 + 1;
		}
	qsort(v, n, sizeof *v, cmp_model);
	char *s = xmalloc(len), *q = s;
	*q = '\0';
	for (size_t i = 0; i < n; i++)
		q += sprintf(q, "%s%s=%s", i ? "," : "", v[i]->key, v[i]->commit ? v[i]->commit : "null");
	free(v);
	*count = n;
	return s;
}

int
signset_set_commits(struct tcomment *c, const struct lock *l)
{
	unsigned long n;
	char *list = signset_commit_list(l, &n);
	char probe[MSSIG_TRUSTED_MAX];
	c->kind = TCOMMENT_COMMITS;
	c->commits[0] = '\0';
	int base = tcomment_format(c, probe, sizeof probe);
	size_t ll = strlen(list);
	if (base >= 0 && (size_t)base + ll <= MSSIG_TRUSTED_TEXT_MAX && !strchr(list, '\t') && mssig_printable(list)) {
		memcpy(c->commits, list, ll + 1);
	} else {
		unsigned char d[SUMFILE_DIGEST];
		sumfile_sha256(list, ll, d);
		sumfile_hex(d, c->commits);
		c->kind = TCOMMENT_COMMITS_SHA256;
		c->ncommits = n;
	}
	free(list);
	return 0;
}

bool
signset_commits_match(const struct tcomment *c, const struct lock *l)
{
	unsigned long n;
	char *list = signset_commit_list(l, &n);
	bool ok;
	if (c->kind == TCOMMENT_COMMITS)
		ok = !strcmp(c->commits, list);
	else if (c->kind == TCOMMENT_COMMITS_SHA256) {
		unsigned char d[SUMFILE_DIGEST];
		char hex[2 * SUMFILE_DIGEST + 1];
		sumfile_sha256(list, strlen(list), d);
		sumfile_hex(d, hex);
		ok = c->ncommits == n && !strcmp(hex, c->commits);
	} else
		ok = false;
	free(list);
	return ok;
}

int
signset_manifest_commit(const char *text, size_t len, char *out, size_t n, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(root)) {
		json_decref(root);
		return errmsg_fail(err, errlen, "not a manifest (a JSON object): %s", root ? "not an object" : je.text);
	}
	const char *repo = json_string_value(json_object_get(root, "repo"));
	const char *rev = json_string_value(json_object_get(root, "revision"));
	const char *commit = json_string_value(json_object_get(root, "commit"));
	int w = repo ? snprintf(out, n, "%s@%s=%s", repo, rev ? rev : "main", commit ? commit : "null") :
	    snprintf(out, n, "none");
	json_decref(root);
	if (w < 0 || (size_t)w >= n)
		return errmsg_fail(err, errlen, "the manifest's repo and revision are too long to sign");
	return 0;
}

bool
signset_is_own(const char *rel)
{
	size_t l = strlen(rel), sl = strlen(SIGNSET_SUFFIX);
	if (!strcmp(rel, SIGNSET_SUMS) || !strcmp(rel, SIGNSET_SUMS SIGNSET_SUFFIX))
		return true;
	return !strncmp(rel, "manifests/", 10) && !strchr(rel + 10, '/') && l > 10 + sl &&
	    !strcmp(rel + l - sl, SIGNSET_SUFFIX);
}

struct walk {
	char **v;
	size_t n, cap;
	char *err;
	size_t errlen;
};

static int
walk_add(struct walk *w, const char *rel)
{
	if (w->n == w->cap) {
		size_t nc = w->cap ? 2 * w->cap : 16;
		char **nv = realloc(w->v, nc * sizeof *nv);
		if (!nv)
			return errmsg_fail(w->err, w->errlen, "out of memory");
		w->v = nv;
		w->cap = nc;
	}
	w->v[w->n] = strdup(rel);
	if (!w->v[w->n])
		return errmsg_fail(w->err, w->errlen, "out of memory");
	w->n++;
	return 0;
}

static int
walk_dir(struct walk *w, const char *root, const char *rel, int depth)
{
	size_t pl = strlen(root) + 1 + strlen(rel) + 1;
	char *path = xmalloc(pl);
	snprintf(path, pl, "%s%s%s", root, *rel ? "/" : "", rel);
	DIR *d = opendir(path);
	if (!d) {
		int rc = errmsg_fail(w->err, w->errlen, "%s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		size_t cl = strlen(rel) + 1 + strlen(e->d_name) + 1;
		char *child = xmalloc(cl), *full = xmalloc(pl + 1 + strlen(e->d_name));
		snprintf(child, cl, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		snprintf(full, pl + 1 + strlen(e->d_name), "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(full, &st) < 0)
			rc = errmsg_fail(w->err, w->errlen, "%s: %s", full, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = depth >= SIGNSET_MAX_DEPTH ? errmsg_fail(w->err, w->errlen, "%s: folders nested deeper than "
			    "modelc build writes", full) : walk_dir(w, root, child, depth + 1);
		else if (!S_ISREG(st.st_mode))
			rc = errmsg_fail(w->err, w->errlen, "%s: %s; modelc build writes only regular files", full,
			    S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
		else if (!signset_is_own(child))
			rc = sumfile_path_ok(child) ? walk_add(w, child) :
			    errmsg_fail(w->err, w->errlen, "%s: a name SHA256SUMS cannot list", full);
		free(child);
		free(full);
	}
	closedir(d);
	free(path);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
signset_files(const char *dir, char ***paths, size_t *n, char *err, size_t errlen)
{
	struct walk w = {.err = err, .errlen = errlen};
	*paths = NULL;
	*n = 0;
	if (walk_dir(&w, dir, "", 0)) {
		signset_files_free(w.v, w.n);
		return -1;
	}
	if (w.n)
		qsort(w.v, w.n, sizeof *w.v, cmp_str);
	*paths = w.v;
	*n = w.n;
	return 0;
}

void
signset_files_free(char **paths, size_t n)
{
	for (size_t i = 0; paths && i < n; i++)
		free(paths[i]);
	free(paths);
}

char *
signset_default_secret_key(void)
{
	const char *dir = getenv("MINISIGN_CONFIG_DIR"), *home = getenv("HOME");
	const char *base = dir && *dir ? dir : home && *home ? home : ".";
	const char *sub = dir && *dir ? "" : "/.minisign";
	size_t n = strlen(base) + strlen(sub) + sizeof "/minisign.key";
	char *s = xmalloc(n);
	snprintf(s, n, "%s%s/minisign.key", base, sub);
	return s;
}

/* l's option named a, or NULL. */
static const struct signset_option *
own_option(const struct signset_cmdline *l, const char *a)
{
	for (size_t k = 0; k < l->nopts; k++) {
		const struct signset_option *o = &l->opts[k];
		if ((o->short_name && !strcmp(a, o->short_name)) || (o->long_name && !strcmp(a, o->long_name)))
			return o;
	}
	return NULL;
}

int
signset_parse(int argc, char **argv, const struct signset_cmdline *l, struct passphrase_opts *po,
    const char **sec_path)
{
	char err[1024];
	for (int i = 1; i < argc; i++) {
		int p = passphrase_option(argc, argv, &i, po, err, sizeof err);
		if (p < 0)
			return cli_usage_error(l->cmd, l->usage_text, "%s", err);
		if (p)
			continue;
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(l->usage_text, stdout);
			return EXITCODE_OK;
		}
		if (!strcmp(a, "--version")) {
			printf("modelc %s\n", MODELC_VERSION);
			return EXITCODE_OK;
		}
		bool secret = !strcmp(a, "-s") || !strcmp(a, "--secret-key");
		const struct signset_option *o = secret ? NULL : own_option(l, a);
		if (o && o->flag) {
			*o->flag = true;
		} else if (secret || o) {
			if (i + 1 >= argc || !argv[i + 1][0])
				return cli_usage_error(l->cmd, l->usage_text, "%s needs an argument", a);
			*(secret ? sec_path : o->value) = argv[++i];
		} else if (a[0] == '-' && (a[1] || !l->operand_name)) {
			return cli_usage_error(l->cmd, l->usage_text, "unknown option '%s'", a);
		} else if (!l->operand_name) {
			return cli_usage_error(l->cmd, l->usage_text, "unexpected argument '%s'", a);
		} else if (*l->operand) {
			diag_print(stderr, "modelc: %s: more than one %s ('%s' and '%s')\n%s", l->cmd,
			    l->operand_name, *l->operand, a, l->usage_text);
			return EXITCODE_USAGE;
		} else {
			*l->operand = a;
		}
	}
	return -1;
}
