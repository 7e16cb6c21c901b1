/*
 * What the output directory may hold before modelc replaces it: only what modelc writes, so
 * that -o pointing at a folder of the user's (a home directory) loses nothing.
 */
#include "outdir_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Files modelc writes at the top of the directory, and the one it keeps. model_table.c is what
 * modelc wrote before switch.table (the table compiled into switch): a generated/ from then is
 * replaced, not refused. modelc sign's SHA256SUMS and signatures are replaced with the rest (a
 * new build is not signed).
 */
static const char *const known_names[] = {
	".env", ".env.example", "budget.svg", "budget.txt", "switch.table", "llama-swap.yaml", "model_table.c",
	"manifests", "README.md", "SHA256SUMS", "SHA256SUMS.minisig", "plan.json", "plan.txt", "compose", "k8s",
};

static int
is_known(const char *name, const struct outdir_file *files, size_t nfiles)
{
	for (size_t i = 0; i < sizeof known_names / sizeof known_names[0]; i++)
		if (strcmp(name, known_names[i]) == 0)
			return 1;
	for (size_t i = 0; i < nfiles; i++) {
		size_t len = strcspn(files[i].path, "/");
		if (strlen(name) == len && strncmp(files[i].path, name, len) == 0)
			return 1;
	}
	return 0;
}

int
outdir_check_existing(const char *dir, const struct outdir_file *files, size_t nfiles, int *exists,
    struct diag_sink *diag)
{
	struct stat st;
	*exists = 0;
	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		outdir_sys_error(diag, dir, "inspect");
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		diag_error(diag, diag_file(dir), "is a symbolic link; modelc replaces the directory "
		    "itself, so give -o the directory it points to");
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_error(diag, diag_file(dir), "exists and is not a directory");
		return -1;
	}
	*exists = 1;
	DIR *d = opendir(dir);
	if (!d) {
		outdir_sys_error(diag, dir, "read the directory");
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) && rc == 0) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		char *path = outdir_join(dir, n);
		const char *ext = strcmp(n, "manifests") == 0 ? ".json" :
		    strcmp(n, "compose") == 0 || strcmp(n, "k8s") == 0 ? ".yaml" : NULL;
		int ok = is_known(n, files, nfiles) && lstat(path, &st) == 0 &&
		    (ext ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
		if (ok && ext) {
			DIR *md = opendir(path);
			struct dirent *me;
			ok = md != NULL;
			while (ok && (me = readdir(md))) {
				size_t len = strlen(me->d_name);
				if (strcmp(me->d_name, ".") == 0 || strcmp(me->d_name, "..") == 0)
					continue;
				char *mpath = outdir_join(path, me->d_name);
				bool sig = strcmp(ext, ".json") == 0 && len > 13 &&
				    strcmp(me->d_name + len - 13, ".json.minisig") == 0;
				if ((!sig && (len < 6 || strcmp(me->d_name + len - 5, ext) != 0)) ||
				    lstat(mpath, &st) < 0 || !S_ISREG(st.st_mode)) {
					diag_error(diag, diag_file(dir), "holds '%s/%s', which modelc does "
					    "not write; refusing to replace it (move it away or choose another -o)",
					    n, me->d_name);
					rc = -1;
					ok = 1;
					free(mpath);
					break;
				}
				free(mpath);
			}
			if (md)
				closedir(md);
		}
		if (!ok) {
			diag_error(diag, diag_file(dir), "holds '%s', which modelc does not write; "
			    "refusing to replace it (move it away or choose another -o)", n);
			rc = -1;
		}
		free(path);
	}
	closedir(d);
	return rc;
}

