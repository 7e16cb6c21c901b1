#include "safetensors.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"

static const struct {
	const char *name;
	unsigned bits;
} dtype_table[] = {
	{"BOOL", 8}, {"U8", 8}, {"I8", 8}, {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8},
	{"I16", 16}, {"U16", 16}, {"F16", 16}, {"BF16", 16},
	{"I32", 32}, {"U32", 32}, {"F32", 32},
	{"I64", 64}, {"U64", 64}, {"F64", 64}, {"C64", 64},
	{"F4", 4}, {"F6_E2M3", 6}, {"F6_E3M2", 6},
};

unsigned
safetensors_dtype_bits(const char *dtype)
{
	for (size_t i = 0; i < sizeof dtype_table / sizeof dtype_table[0]; i++)
		if (strcmp(dtype, dtype_table[i].name) == 0)
			return dtype_table[i].bits;
	return 0;
}

int
safetensors_header_len(const void *buf, size_t len, uint64_t *n, char *err, size_t errlen)
{
	const unsigned char *p = buf;
	if (len < SAFETENSORS_PREFIX)
		return errmsg_fail(err, errlen, "file is shorter than the 8-byte header length (%zu bytes)", len);
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	if (v > SAFETENSORS_MAX_HEADER)
		return errmsg_fail(err, errlen, "header length %llu exceeds the limit of %d bytes",
		    (unsigned long long)v, SAFETENSORS_MAX_HEADER);
	if (v < 2)
		return errmsg_fail(err, errlen, "header length %llu is too small for a JSON object",
		    (unsigned long long)v);
	*n = v;
	return 0;
}

static int
cmp_tensor(const void *a, const void *b)
{
	const struct safetensors_tensor *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
cmp_dtype(const void *a, const void *b)
{
	return strcmp(((const struct safetensors_dtype_bytes *)a)->dtype,
	    ((const struct safetensors_dtype_bytes *)b)->dtype);
}

/* Read one tensor entry; -1 with err set when it is malformed. */
static int
parse_tensor(struct arena *a, const char *name, json_t *v, struct safetensors_tensor *t,
    char *err, size_t errlen)
{
	if (!json_is_object(v))
		return errmsg_fail(err, errlen, "tensor '%s': entry is not an object", name);
	json_t *dt = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape"),
	    *off = json_object_get(v, "data_offsets");
	if (!json_is_string(dt))
		return errmsg_fail(err, errlen, "tensor '%s': 'dtype' is missing or not a string", name);
	if (!json_is_array(shape))
		return errmsg_fail(err, errlen, "tensor '%s': 'shape' is missing or not an array", name);
	if (!json_is_array(off) || json_array_size(off) != 2)
		return errmsg_fail(err, errlen, "tensor '%s': 'data_offsets' is not an array of two integers", name);
	const char *k;
	json_t *x;
	json_object_foreach(v, k, x) {
		if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
			return errmsg_fail(err, errlen, "tensor '%s': unknown key '%s'", name, k);
	}
	t->name = arena_strdup(a, name);
	t->dtype = arena_strdup(a, json_string_value(dt));
	unsigned bits = safetensors_dtype_bits(t->dtype);
	if (!bits)
		return errmsg_fail(err, errlen, "tensor '%s': unknown dtype '%s'", name, t->dtype);
	t->ndim = json_array_size(shape);
	if (t->ndim > SAFETENSORS_MAX_DIMS)
		return errmsg_fail(err, errlen, "tensor '%s': %zu dimensions exceed the limit of %d", name,
		    t->ndim, SAFETENSORS_MAX_DIMS);
	uint64_t elems = 1;
	for (size_t i = 0; i < t->ndim; i++) {
		json_t *d = json_array_get(shape, i);
		if (!json_is_integer(d) || json_integer_value(d) < 0)
			return errmsg_fail(err, errlen, "tensor '%s': shape[%zu] is not a non-negative integer", name, i);
		t->shape[i] = (uint64_t)json_integer_value(d);
		if (__builtin_mul_overflow(elems, t->shape[i], &elems))
			return errmsg_fail(err, errlen, "tensor '%s': shape overflows 64 bits", name);
	}
	for (int i = 0; i < 2; i++) {
		json_t *o = json_array_get(off, (size_t)i);
		if (!json_is_integer(o) || json_integer_value(o) < 0)
			return errmsg_fail(err, errlen, "tensor '%s': data_offsets[%d] is not a non-negative integer", name, i);
	}
	t->begin = (uint64_t)json_integer_value(json_array_get(off, 0));
	t->end = (uint64_t)json_integer_value(json_array_get(off, 1));
	if (t->end < t->begin)
		return errmsg_fail(err, errlen, "tensor '%s': data_offsets end %llu is before begin %llu", name,
		    (unsigned long long)t->end, (unsigned long long)t->begin);
	uint64_t nbits;
	if (__builtin_mul_overflow(elems, (uint64_t)bits, &nbits))
		return errmsg_fail(err, errlen, "tensor '%s': size overflows 64 bits", name);
	if (nbits % 8)
		return errmsg_fail(err, errlen, "tensor '%s': %llu elements of %s do not fill whole bytes", name,
		    (unsigned long long)elems, t->dtype);
	if (t->end - t->begin != nbits / 8)
		return errmsg_fail(err, errlen, "tensor '%s': data_offsets span %llu bytes, dtype %s and shape need %llu",
		    name, (unsigned long long)(t->end - t->begin), t->dtype, (unsigned long long)(nbits / 8));
	return 0;
}

int
safetensors_parse(const char *buf, size_t len, struct arena *a, struct safetensors_header *out,
    char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	uint64_t n;
	if (safetensors_header_len(buf, len, &n, err, errlen))
		return -1;
	if (len - SAFETENSORS_PREFIX < n)
		return errmsg_fail(err, errlen, "header needs %llu bytes after the length, only %zu given",
		    (unsigned long long)n, len - SAFETENSORS_PREFIX);
	const char *json = buf + SAFETENSORS_PREFIX;
	if (json[0] != '{')
		return errmsg_fail(err, errlen, "header does not start with '{'");
	if (memchr(json, '\0', n))
		return errmsg_fail(err, errlen, "header contains a NUL byte");
	/* The format pads the JSON with spaces to an 8-byte boundary; jansson skips them. */
	json_error_t je;
	json_t *root = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return errmsg_fail(err, errlen, "header is not valid JSON: %s at byte %d", je.text, je.position);
	int rc = -1;
	if (!json_is_object(root)) {
		errmsg_fail(err, errlen, "header is not a JSON object");
		goto done;
	}
	out->header_len = n;
	out->data_offset = SAFETENSORS_PREFIX + n;
	size_t cap = json_object_size(root);
	out->tensors = arena_alloc(a, (cap ? cap : 1) * sizeof *out->tensors);
	out->dtypes = arena_alloc(a, (cap ? cap : 1) * sizeof *out->dtypes);
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "__metadata__") == 0) {
			if (!json_is_object(v)) {
				errmsg_fail(err, errlen, "'__metadata__' is not an object");
				goto done;
			}
			out->meta = arena_alloc(a, (json_object_size(v) + 1) * sizeof *out->meta);
			const char *mk;
			json_t *mv;
			json_object_foreach(v, mk, mv) {
				if (!json_is_string(mv)) {
					errmsg_fail(err, errlen, "'__metadata__' value of '%s' is not a string", mk);
					goto done;
				}
				out->meta[out->nmeta].key = arena_strdup(a, mk);
				out->meta[out->nmeta++].value = arena_strdup(a, json_string_value(mv));
			}
			continue;
		}
		if (parse_tensor(a, key, v, &out->tensors[out->ntensors], err, errlen))
			goto done;
		out->ntensors++;
	}
	qsort(out->tensors, out->ntensors, sizeof *out->tensors, cmp_tensor);
	uint64_t at = 0;
	for (size_t i = 0; i < out->ntensors; i++) {
		const struct safetensors_tensor *t = &out->tensors[i];
		if (t->begin != at) {
			if (t->begin < at)
				errmsg_fail(err, errlen, "tensor '%s': data_offsets [%llu, %llu) overlap the previous tensor",
				    t->name, (unsigned long long)t->begin, (unsigned long long)t->end);
			else
				errmsg_fail(err, errlen, "tensor '%s': data_offsets begin at %llu, leaving a gap after %llu",
				    t->name, (unsigned long long)t->begin, (unsigned long long)at);
			goto done;
		}
		at = t->end;
		size_t j = 0;
		while (j < out->ndtypes && strcmp(out->dtypes[j].dtype, t->dtype))
			j++;
		if (j == out->ndtypes)
			out->dtypes[out->ndtypes++].dtype = t->dtype;
		out->dtypes[j].bytes += t->end - t->begin;
		out->dtypes[j].tensors++;
	}
	out->data_bytes = at;
	qsort(out->dtypes, out->ndtypes, sizeof *out->dtypes, cmp_dtype);
	rc = 0;
done:
	json_decref(root);
	return rc;
}

int
safetensors_check_file_size(const struct safetensors_header *h, uint64_t file_size, char *err,
    size_t errlen)
{
	uint64_t want = h->data_offset + h->data_bytes;
	if (file_size != want)
		return errmsg_fail(err, errlen, "file has %llu bytes, its header describes %llu",
		    (unsigned long long)file_size, (unsigned long long)want);
	return 0;
}
