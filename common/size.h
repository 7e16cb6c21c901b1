#ifndef MODELC_SIZE_H
#define MODELC_SIZE_H

/*
 * Byte sizes as people write them: "8589934592", "8 GiB", "7.5 GB". Binary units (KiB, MiB,
 * GiB, TiB) are powers of 1024, decimal units (KB, MB, GB, TB) powers of 1000, B is one byte.
 * One space may separate the number from the unit. libc only.
 */

#include <stddef.h>
#include <stdint.h>

enum { SIZE_FORMAT_LEN = 32 };

/* The binary units: the one spelling of 2^10, 2^20, 2^30 and 2^40 bytes in the code. */
#define SIZE_KIB (UINT64_C(1) << 10)
#define SIZE_MIB (UINT64_C(1) << 20)
#define SIZE_GIB (UINT64_C(1) << 30)
#define SIZE_TIB (UINT64_C(1) << 40)

/* bytes in GiB (2^30) as a double, for printing "%.2f GiB". */
double size_gib(uint64_t bytes);

/* bytes in MiB (2^20) as a double. */
double size_mib(uint64_t bytes);

/* Parse s into *bytes (rounded down); NULL on success, else why it is not a size. */
const char *size_parse(const char *s, uint64_t *bytes);

/* Write bytes as "7.45 GiB" (or "512 B") into buf of len bytes; returns buf. */
char *size_format(uint64_t bytes, char *buf, size_t len);

#endif
