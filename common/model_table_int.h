#ifndef MODELC_MODEL_TABLE_INT_H
#define MODELC_MODEL_TABLE_INT_H

/*
 * What the runtime table's reader files share (model_table.c: the header, settings, roles,
 * files and the checks; model_table_serve.c: the proxy's sections; model_table_place.c: the
 * roles split over GPUs). Not part of the interface: model_table.h is.
 */

#include <stddef.h>
#include <stdint.h>

#include "model_table.h"

/*
 * A record's fields. at: the offset in the record; to: the member of the decoded struct
 * (MT_NOWHERE: checked only). Strings first, so that kind <= K_HEX40 means a string.
 */
enum mt_kind {
	K_STR,          /* a string or NULL */
	K_STR_REQ,      /* a string, not empty */
	K_ABS,          /* NULL or an absolute path */
	K_REL,          /* a path relative to a folder: no leading '/', no '.', '..' or empty part */
	K_HEX40,        /* NULL or 40 lower-case hex digits (a commit: it becomes a folder name) */
	K_U32,          /* 0 (1 with K_NONZERO) .. hi */
	K_U64,          /* at most hi GiB; hi 0: any */
	K_F64,          /* finite, 0 .. hi */
	K_UTIL,         /* a utilization: (0, 1] */
	K_BIT,          /* a bool: the bits hi of the u32 at `at` */
	K_MASK          /* a u32 of flags: no bit outside hi */
};

#define K_NONZERO 0x80
#define MT_NOWHERE 0xffff
#define MT_LEN 0x7fffffffu
#define MT_NFIELDS(a) (sizeof a / sizeof a[0])

struct mt_field {
	uint8_t at, kind;
	uint16_t to;
	uint32_t hi;
};

uint32_t mt_get32(const unsigned char *p);

/* The string at ref (8 bytes: offset, length), or NULL; mt_check_fields has checked it. */
const char *mt_str_at(const struct model_table *t, const unsigned char *ref);

/* Record i of section type. */
const unsigned char *mt_record(const struct model_table *t, int type, size_t i);

/* A sentence into why (MODEL_TABLE_WHY_MAX bytes); returns -1. */
int mt_bad(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Check the record at rec against its n fields; where and index name it in a message ("role 2"). */
int mt_check_fields(const struct model_table *t, const unsigned char *rec, const struct mt_field *f, size_t n,
    const char *where, size_t index, char *why);

/* The checked record at rec into the struct at out. */
void mt_decode_fields(const struct model_table *t, const unsigned char *rec, const struct mt_field *f, size_t n,
    void *out);

/* The placement sections (10, 11), which model_table_parse checks last. 0, or -1 with why. */
int mt_check_placements(const struct model_table *t, char *why);

#endif
