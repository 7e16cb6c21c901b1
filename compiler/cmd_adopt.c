/*
 * modelc adopt: check a quantized checkpoint directory against the plan and make it a role's
 * local copy (models.yaml `local:` + a models.lock `local:` entry). --check only validates.
 * Exit 0 adopted (or valid), 1 rejected, 2 usage, 3 a file could not be written.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adopt.h"
#include "arena.h"
#include "cli.h"
#include "cliopt.h"
#include "commands.h"
#include "diag.h"
#include "exitcode.h"
#include "fileio.h"
#include "frontend.h"
#include "lock.h"
#include "lockmerge.h"
#include "quantplan.h"
#include "size.h"
#include "yamldoc.h"
#include "yamledit.h"

static const char adopt_usage[] =
    "usage: modelc adopt [-f models.yaml] [--lock FILE] [--method awq|gptq] [--bits N]\n"
    "                    [--group-size N] [--tolerance PCT] [--dry-run] [--no-hash] ROLE [DIR]\n"
    "       modelc adopt --check [--method awq|gptq] [--bits N] [--group-size N] [--tolerance PCT] DIR\n"
    "Checks DIR (config.json, every quantized layer's tensors, size, shards) against the plan of\n"
    "'modelc quantize ROLE' with the same options, then records it: 'local: DIR' for the role in\n"
    "models.yaml and a 'local:DIR' entry in models.lock. Without DIR, the role's local: is checked\n"
    "and recorded. Run 'make config' afterwards.\n";

/* What adopting into the catalog needs besides the directory check. */
struct adopt_catalog_opts {
	const char *catalog;
	const char *lock;               /* NULL: models.lock next to the catalog */
	const char *role;
	const char *dir;                /* absolute */
	bool dry_run;
	bool no_hash;
};

static int adopt_catalog_run(struct arena *a, struct diag_sink *diag, const struct adopt_catalog_opts *co,
    struct adopt_expect *want, void (*summary)(const char *, const struct adopt_result *));

static const char *
upper_name(struct arena *a, const char *s)
{
	char *u = arena_strdup(a, s);
	for (char *p = u; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return u;
}

static int
adopt_bad(const char *fmt, const char *arg)
{
	return cli_usage_error("adopt", adopt_usage, fmt, arg);
}


static void
print_summary(const char *dir, const struct adopt_result *r)
{
	printf("%s: %s, %u-bit, group size %u, %zu quantized linear layers\n", dir, r->format_name, r->bits,
	    r->group_size, r->quantized_linears);
	double diff = r->predicted_bytes
	    ? 100.0 * ((double)r->tensor_bytes - (double)r->predicted_bytes) / (double)r->predicted_bytes
	    : 0.0;
	printf("weights: %llu bytes (%.2f GiB), predicted %llu (%.2f GiB), %+.1f%%\n",
	    (unsigned long long)r->tensor_bytes, size_gib(r->tensor_bytes), (unsigned long long)r->predicted_bytes,
	    size_gib(r->predicted_bytes), diff);
	fflush(stdout);
}

int
cmd_adopt(int argc, char **argv)
{
	struct adopt_catalog_opts co = {0};
	struct adopt_expect want = {0};
	bool check_only = false, dry_run = false, no_hash = false;
	uint32_t bits = QUANTPLAN_DEFAULT_BITS, group = QUANTPLAN_DEFAULT_GROUP, tol = 5;
	const char *method = "awq";
	co.catalog = "models.yaml";

	static const struct option longopts[] = {
		{"help", 0, NULL, 'h'}, {"version", 0, NULL, 'V'}, {"check", 0, NULL, 'C'}, {"dry-run", 0, NULL, 'n'},
		{"no-hash", 0, NULL, 'H'}, {"catalog", 1, NULL, 'f'}, {"lock", 1, NULL, 'l'}, {"method", 1, NULL, 'm'},
		{"bits", 1, NULL, 'b'}, {"group-size", 1, NULL, 'g'}, {"tolerance", 1, NULL, 't'}, {NULL, 0, NULL, 0}};
	const char *pos[2], *arg;
	int npos = 0;
	for (int c; (c = cliopt_next(argc, argv, "+:hf:", longopts, &arg)) != -1;) {
		const char *v = optarg;
		switch (c) {
		case 1:
			if (npos == 2)
				return adopt_bad("unexpected argument '%s'", v);
			pos[npos++] = v;
			break;
		case 'h': fputs(adopt_usage, stdout); return EXITCODE_OK;
		case 'V': printf("modelc %s\n", MODELC_VERSION); return EXITCODE_OK;
		case 'C': check_only = true; break;
		case 'n': dry_run = true; break;
		case 'H': no_hash = true; break;
		case 'f': co.catalog = v; break;
		case 'l': co.lock = v; break;
		case 'm':
			if (strcmp(v, "awq") && strcmp(v, "gptq"))
				return adopt_bad("--method: '%s' is not awq or gptq", v);
			method = v;
			break;
		case 'b':
			if (cli_parse_u32(v, 8, &bits) || (bits != 4 && bits != 8))
				return adopt_bad("--bits: '%s' is not 4 or 8", v);
			break;
		case 'g':
			if (cli_parse_u32(v, 1u << 20, &group))
				return adopt_bad("--group-size: '%s' is not a positive integer", v);
			break;
		case 't':
			if (cli_parse_u32(v, 100, &tol))
				return adopt_bad("--tolerance: '%s' is not a percentage from 1 to 100", v);
			break;
		case ':': return adopt_bad("option '%s' needs a value", arg);
		default: return adopt_bad("unknown option '%s'", arg);
		}
	}
	if (check_only && npos != 1)
		return adopt_bad("%s", "--check takes one argument, DIR");
	if (!check_only && npos == 0)
		return adopt_bad("%s", "expected ROLE and DIR");
	if (check_only && (dry_run || no_hash))
		return adopt_bad("%s", "--check writes nothing; --dry-run and --no-hash do not apply");

	/* ROLE alone adopts the directory its local: already names. */
	const char *dir_arg = check_only || npos == 2 ? pos[npos - 1] : NULL;
	char real[PATH_MAX];
	if (dir_arg && !realpath(dir_arg, real)) {
		diag_print(stderr, "modelc: %s: %s\n", dir_arg, strerror(errno));
		return EXITCODE_REJECTED;
	}
	want.method = method;
	want.bits = bits;
	want.group_size = group;
	want.tolerance = tol / 100.0;

	struct arena a = {0};
	struct diag_sink diag;
	diag_init(&diag, stderr, "modelc");
	int rc;
	if (check_only) {
		struct adopt_result r;
		if (adopt_check(&a, &diag, real, &want, &r) != 0) {
			diag_print(stderr, "modelc: %u error%s; '%s' is not adoptable\n", diag.errors,
			    diag.errors == 1 ? "" : "s", real);
			rc = EXITCODE_REJECTED;
		} else {
			print_summary(real, &r);
			rc = EXITCODE_OK;
		}
	} else {
		co.role = pos[0];
		co.dir = dir_arg ? real : NULL;
		co.dry_run = dry_run;
		co.no_hash = no_hash;
		rc = adopt_catalog_run(&a, &diag, &co, &want, print_summary);
	}
	arena_free(&a);
	return rc;
}

/* The lock beside the catalog unless --lock named one. */
static const char *
lock_path_for(struct arena *a, const struct adopt_catalog_opts *co)
{
	if (co->lock)
		return co->lock;
	const char *slash = strrchr(co->catalog, '/');
	if (!slash)
		return "models.lock";
	return arena_printf(a, "%.*s/models.lock", (int)(slash - co->catalog), co->catalog);
}

/* The catalog's quantization word for a checkpoint format. */
static const char *
format_word(const struct adopt_result *r)
{
	return r->format == TENSORCHECK_AWQ_GEMM ? "awq" : r->format == TENSORCHECK_GPTQ ? "gptq" : "compressed-tensors";
}

static int
adopt_catalog_run(struct arena *a, struct diag_sink *diag, const struct adopt_catalog_opts *co,
    struct adopt_expect *want, void (*summary)(const char *, const struct adopt_result *))
{
	struct catalog cat;
	int rc = frontend_load(a, diag, co->catalog, NULL, &cat);
	if (rc != EXITCODE_OK)
		return rc;
	const struct catalog_role *role = catalog_role(&cat, co->role);
	if (!role) {
		diag_error(diag, diag_file(co->catalog), "no role '%s' in the catalog", co->role);
		return EXITCODE_REJECTED;
	}
	if (!co->dir) {
		struct stat dst;
		if (!role->local) {
			diag_error(diag, role->node->pos, "roles.%s: has no local directory; name it: modelc adopt %s DIR",
			    co->role, co->role);
			return EXITCODE_REJECTED;
		}
		struct diag_pos lpos = yamldoc_get(role->node, "local")->pos;
		if (stat(role->local, &dst) != 0) {
			diag_error(diag, lpos, "roles.%s.local: '%s': %s", co->role, role->local, strerror(errno));
			return EXITCODE_REJECTED;
		}
		if (!S_ISDIR(dst.st_mode)) {
			diag_error(diag, lpos, "roles.%s.local: '%s' is not a directory", co->role, role->local);
			return EXITCODE_REJECTED;
		}
		struct adopt_catalog_opts *mco = arena_alloc(a, sizeof *mco);
		*mco = *co;
		mco->dir = role->local;
		co = mco;
	}

	/* The lock: its entry for the role's repo says which model the directory must be. */
	const char *lock_path = lock_path_for(a, co);
	struct lock lock = {0};
	lock.path = lock_path;
	if (access(lock_path, F_OK) == 0) {
		if (lock_read(a, diag, lock_path, frontend_schema_dir(a, co->catalog), &lock) != 0)
			return EXITCODE_REJECTED;
	} else if (errno != ENOENT) {
		diag_print(stderr, "modelc: %s: %s\n", lock_path, strerror(errno));
		return EXITCODE_SYSTEM;
	}
	if (role->repo) {
		const char *key = arena_printf(a, "%s@%s", role->repo, role->revision ? role->revision : "main");
		const struct lock_model *m = lock_find(&lock, key);
		if (m && m->has_config) {
			want->arch = &m->arch;
			want->arch_source = key;
		}
	}

	struct adopt_result r;
	if (adopt_check(a, diag, co->dir, want, &r) != 0) {
		diag_print(stderr, "modelc: %u error%s; '%s' is not adoptable for role '%s'\n", diag->errors,
		    diag->errors == 1 ? "" : "s", co->dir, co->role);
		return EXITCODE_REJECTED;
	}
	summary(co->dir, &r);

	/* models.yaml: local: DIR and quantization: the format, edited in the text. */
	size_t len;
	const char *text = fileio_read_all(a, co->catalog, SIZE_MAX, 0, &len);
	if (!text) {
		diag_print(stderr, "modelc: %s: %s\n", co->catalog, strerror(errno));
		return EXITCODE_SYSTEM;
	}
	struct yamledit ed;
	yamledit_init(&ed, a, diag, co->catalog, text, len);
	ed.noun = "the role";
	const char *const role_path[] = {"roles", co->role, NULL};
	const char *edits[2][2] = {{"local", co->dir}, {"quantization", format_word(&r)}};
	for (size_t i = 0; i < 2; i++) {
		const struct ynode *node = yamledit_get(&ed, role_path);
		const struct ynode *cur = yamldoc_get(node, edits[i][0]);
		if (cur && cur->kind == YNODE_STRING && strcmp(cur->text, edits[i][1]) == 0)
			continue;
		const char *why = !node ? "the catalog changed while reading it"
		    : strpbrk(edits[i][1], "\r\n") ? "the directory name contains a line break" : NULL;
		if (why || yamledit_set(&ed, role_path, edits[i][0], edits[i][1], "repo", &why) != 0) {
			diag_error(diag, role->node->pos, "roles.%s: cannot set '%s' automatically (%s); write '%s: %s' "
			    "under the role yourself", co->role, edits[i][0], why, edits[i][0], edits[i][1]);
			return EXITCODE_REJECTED;
		}
		printf("%s: roles.%s.%s: %s%s\n", co->catalog, co->role, edits[i][0], edits[i][1],
		    cur ? arena_printf(a, " (was '%s')", cur->text ? cur->text : "") : " (added)");
	}
	text = ed.text;
	len = ed.len;

	/* models.lock: the facts of the directory under "local:DIR". */
	if (!co->no_hash) {
		char err[512];
		if (ckptdir_hash(co->dir, r.files, r.nfiles, err, sizeof err) != 0) {
			diag_print(stderr, "modelc: %s\n", err);
			return EXITCODE_SYSTEM;
		}
	}
	struct lock_model entry;
	adopt_lock_model(a, co->dir, &r, &entry);
	struct lock merged = lockmerge_put(a, &lock, &entry);
	printf("%s: %s (%zu files%s)\n", lock_path, entry.key, entry.nfiles, co->no_hash ? "" : ", sha256");
	if (co->dry_run) {
		puts("dry run: nothing written");
		return EXITCODE_OK;
	}

	/*
	 * The edited catalog goes to its temp file first and is checked there before it replaces
	 * the user's: it must load and name DIR. It is renamed in only once the lock is written.
	 */
	struct stat st;
	unsigned mode = stat(co->catalog, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0644;
	struct fileio_atomic f;
	if (fileio_atomic_open(&f, co->catalog, mode, FILEIO_EXACT_MODE) != 0) {
		diag_print(stderr, "modelc: %s: %s\n", f.tmp, strerror(errno));
		return EXITCODE_SYSTEM;
	}
	if (fileio_write_all(f.fd, text, len) != 0 || fileio_atomic_close(&f) != 0) {
		diag_print(stderr, "modelc: %s: %s\n", f.tmp, strerror(errno));
		fileio_atomic_abort(&f);
		return EXITCODE_SYSTEM;
	}
	struct catalog check;
	const struct catalog_role *cr = NULL;
	if (frontend_load(a, diag, f.tmp, NULL, &check) == EXITCODE_OK)
		cr = catalog_role(&check, co->role);
	if (!cr || !cr->local || strcmp(cr->local, co->dir) != 0) {
		fileio_atomic_abort(&f);
		diag_print(stderr, "modelc: the edited %s did not load back with roles.%s.local; nothing written\n",
		    co->catalog, co->role);
		return EXITCODE_SYSTEM;
	}
	if (lock_write(&merged, lock_path) != 0) {
		fileio_atomic_abort(&f);
		diag_print(stderr, "modelc: %s: %s\n", lock_path, strerror(errno));
		return EXITCODE_SYSTEM;
	}
	if (fileio_atomic_commit(&f) != 0) {
		diag_print(stderr, "modelc: %s: %s\n", co->catalog, strerror(errno));
		return EXITCODE_SYSTEM;
	}
	printf("next: make config (emits %s_MODEL_LOCAL), then switch %s\n", upper_name(a, co->role), co->role);
	return EXITCODE_OK;
}
