#!/bin/sh
# A full disk: the free-space check stops before downloading and names both numbers (on a
# small tmpfs when this machine lets us mount one); a write that fails with ENOSPC midway
# (an LD_PRELOAD shim) keeps the partial file out of snapshots/, and a rerun completes.
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
fh_start --gen org/tiny:3000000 --manifests "$T/man" --role chat=org/tiny

mkdir -p "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	FH_EXTRA_CLEANUP="umount '$T/small'"
	"$BIN/fetch" --manifests "$T/man" --cache "$T/small/hub" >"$T/o1" 2>&1
	[ $? -eq 1 ] || { cat "$T/o1"; fail "free-space check: expected exit 1"; }
	expect_in "$T/o1" "fetch: error: $T/small/hub: the download needs 2.9 MiB ("
	expect_in "$T/o1" "and the cache volume has "
	expect_in "$T/o1" " free; free some space or set HF_HUB_CACHE"
	fh_check "$T/small/hub" "$T/man"
else
	echo "note: mount -t tmpfs is not allowed here; the free-space check is tested by the shim only" >&2
fi

command -v cc >/dev/null 2>&1 || { echo "no C compiler for the ENOSPC shim" >&2; exit 77; }
cat >"$T/enospc.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* pwrite to a *.incomplete file beyond ENOSPC_AT bytes fails with ENOSPC. */
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	if (!real)
		real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
	char link[64], path[4096];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t l = readlink(link, path, sizeof path - 1);
	if (l > 0) {
		path[l] = '\0';
		long at = atol(getenv("ENOSPC_AT") ? getenv("ENOSPC_AT") : "0");
		if (strstr(path, ".incomplete") && off + (off_t)n > at) {
			errno = ENOSPC;
			return -1;
		}
	}
	return real(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) { return pwrite(fd, buf, n, off); }
C
cc -shared -fPIC -o "$T/enospc.so" "$T/enospc.c" -ldl || exit 77
C="$T/cache"
LD_PRELOAD="$T/enospc.so" ENOSPC_AT=2500000 "$BIN/fetch" --manifests "$T/man" --cache "$C" >"$T/o2" 2>&1
[ $? -eq 3 ] || { cat "$T/o2"; fail "ENOSPC: expected exit 3"; }
expect_in "$T/o2" ".incomplete: No space left on device (the partial file is kept; free some space and run fetch again to resume)"
fh_check "$C" "$T/man"
"$BIN/fetch" --manifests "$T/man" --cache "$C" >"$T/o3" 2>&1 || { cat "$T/o3"; fail "rerun failed"; }
expect_in "$T/o3" "fetch: chat: model.safetensors: resuming at "
fh_check "$C" "$T/man" --complete
echo ok
