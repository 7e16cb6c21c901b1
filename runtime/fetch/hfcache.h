#ifndef MODELC_HFCACHE_H
#define MODELC_HFCACHE_H

/*
 * The Hugging Face hub cache as huggingface_hub writes it (shared/reference/hf-hub.md part 2):
 * {root}/{models--org--name}/blobs/{etag}, snapshots/{commit}/{path} as relative symlinks,
 * refs/{revision} of exactly 40 bytes, and {root}/.locks/{folder}/{etag}.lock taken with
 * flock. fetch adds one thing of its own: {root}/.locks/{folder}/{etag}.verified, a stamp
 * that lets a later run skip rehashing a file whose size, mtime and inode have not changed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { HFCACHE_PATH_MAX = 4096 };

struct hfcache {
	char root[HFCACHE_PATH_MAX];
	bool symlinks;                  /* false: files are copied into snapshots/ */
	bool symlinks_forced_off;       /* HF_HUB_DISABLE_SYMLINKS */
};

/*
 * The cache root: option, else HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, $HF_HOME/hub,
 * $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub, else fallback (the catalog's
 * value), made absolute. 0, or -1 with err.
 */
int hfcache_root(const char *option, const char *fallback, char *out, size_t n, char *err,
    size_t errlen);

/*
 * The catalog's cache root for when the environment names none: HF_HUB_CACHE from the .env
 * that `modelc build` wrote next to the manifests (manifests/../.env). 0 with out set, or -1.
 */
int hfcache_catalog_root(const char *manifests, char *out, size_t n);

/* Create root if needed, add CACHEDIR.TAG, and find out whether symlinks work there. */
int hfcache_open(struct hfcache *c, const char *root, char *err, size_t errlen);

/* Create every missing directory above path (not path itself); 0 or -1 with errno. */
int hfcache_mkparents(const char *path);

/* snprintf into out: "{root}/{folder}/{rest}"; -1 when it does not fit. */
int hfcache_path(const struct hfcache *c, char *out, size_t n, const char *folder, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * Take {root}/.locks/{folder}/{etag}.lock: 0 with *fd held, 1 when another process holds
 * it (wait false), -1 with err.
 */
int hfcache_lock(const struct hfcache *c, const char *folder, const char *etag, bool wait, int *fd,
    char *err, size_t errlen);

/* Release a lock taken by hfcache_lock. */
void hfcache_unlock(int fd);

/* Write refs/{revision} = commit, 40 bytes, no newline, atomically. */
int hfcache_write_ref(const struct hfcache *c, const char *folder, const char *revision,
    const char *commit, char *err, size_t errlen);

/*
 * Make snapshots/{commit}/{path} point at blobs/{etag}: a relative symlink, replaced
 * atomically; without symlinks, a copy (or the blob itself, moved, when move_blob).
 */
int hfcache_link(const struct hfcache *c, const char *folder, const char *commit, const char *path,
    const char *etag, bool move_blob, char *err, size_t errlen);

/* Whether snapshots/{commit}/{path} resolves to a regular file; sets *size. */
bool hfcache_pointer_ok(const struct hfcache *c, const char *folder, const char *commit,
    const char *path, const char *etag, uint64_t *size);

/* Whether file matches its stamp (same size, mtime, inode, device and hash). */
bool hfcache_stamp_ok(const struct hfcache *c, const char *folder, const char *etag,
    const char *file, const char *hash);

/* Record file's size, mtime, inode and hash in the stamp; 0 or -1 with err. */
int hfcache_stamp_write(const struct hfcache *c, const char *folder, const char *etag,
    const char *file, const char *hash, char *err, size_t errlen);

/* Remove a stamp (after a mismatch). */
void hfcache_stamp_remove(const struct hfcache *c, const char *folder, const char *etag);

/* fsync a directory; 0 or -1 with errno. */
int hfcache_fsync_dir(const char *dir);

#endif
