#ifndef MODELC_SAFETENSORS_H
#define MODELC_SAFETENSORS_H

/*
 * A pure parser of a safetensors header: 8 bytes little-endian N, then N bytes of JSON that
 * map tensor names to {dtype, shape, data_offsets} plus an optional "__metadata__" object of
 * strings. No I/O: callers hand in a buffer (a local file's first bytes, or an HTTP Range
 * answer) and get tensors, exact bytes per dtype and the data size the header implies.
 */

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "size.h"

enum {
	SAFETENSORS_PREFIX = 8,                      /* the little-endian header length */
	SAFETENSORS_MAX_HEADER = 100 * SIZE_MIB,  /* the safetensors crate's own limit */
	SAFETENSORS_MAX_DIMS = 16,
};

struct safetensors_tensor {
	const char *name;
	const char *dtype;              /* as written: BF16, F16, F32, I32, U8, F8_E4M3, ... */
	uint64_t shape[SAFETENSORS_MAX_DIMS];
	size_t ndim;
	uint64_t begin, end;            /* data_offsets, relative to the data section */
};

struct safetensors_dtype_bytes {
	const char *dtype;
	uint64_t bytes;
	uint64_t tensors;
};

struct safetensors_meta {
	const char *key;
	const char *value;
};

struct safetensors_header {
	uint64_t header_len;            /* N */
	uint64_t data_offset;           /* 8 + N: where tensor data starts in the file */
	uint64_t data_bytes;            /* bytes of tensor data (the largest end offset) */
	struct safetensors_tensor *tensors;   /* sorted by begin offset */
	size_t ntensors;
	struct safetensors_dtype_bytes *dtypes; /* sorted by dtype name */
	size_t ndtypes;
	struct safetensors_meta *meta;  /* "__metadata__", in file order */
	size_t nmeta;
};

/*
 * Read N from the first 8 bytes of buf; 0 on success, -1 with a message in err when len < 8
 * or N exceeds SAFETENSORS_MAX_HEADER. Lets a caller know how many bytes to fetch.
 */
int safetensors_header_len(const void *buf, size_t len, uint64_t *n, char *err, size_t errlen);

/*
 * Parse the header at the start of buf (len must cover 8 + N bytes; more is ignored).
 * Validates dtypes, shapes, offsets (each tensor's size matches dtype x shape, tensors are
 * contiguous from 0 without overlap). 0 on success; -1 with a message in err. All memory
 * of *out belongs to the arena.
 */
int safetensors_parse(const char *buf, size_t len, struct arena *a, struct safetensors_header *out,
    char *err, size_t errlen);

/* Bits per element of a safetensors dtype name, or 0 when unknown. */
unsigned safetensors_dtype_bits(const char *dtype);

/* 0 when a file of file_size bytes matches the header exactly; -1 with a message otherwise. */
int safetensors_check_file_size(const struct safetensors_header *h, uint64_t file_size,
    char *err, size_t errlen);

#endif
