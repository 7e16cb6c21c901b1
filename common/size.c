#include "size.h"

#include <stdio.h>
#include <string.h>

struct size_unit {
	const char *name;
	uint64_t factor;
};

static const struct size_unit size_units[] = {
	{"B", 1},
	{"KB", 1000ULL}, {"MB", 1000000ULL}, {"GB", 1000000000ULL}, {"TB", 1000000000000ULL},
	{"KiB", SIZE_KIB}, {"MiB", SIZE_MIB}, {"GiB", SIZE_GIB}, {"TiB", SIZE_TIB},
};

enum { SIZE_MAX_FRACTION_DIGITS = 12 };

double
size_gib(uint64_t bytes)
{
	return (double)bytes / (double)SIZE_GIB;
}

double
size_mib(uint64_t bytes)
{
	return (double)bytes / (double)SIZE_MIB;
}

const char *
size_parse(const char *s, uint64_t *bytes)
{
	uint64_t whole = 0, frac = 0, frac_scale = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return "does not start with a digit";
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t digit = (uint64_t)(*p - '0');
		if (whole > (UINT64_MAX - digit) / 10)
			return "is too large";
		whole = whole * 10 + digit;
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return "has no digits after '.'";
		for (int n = 0; *p >= '0' && *p <= '9'; p++, n++) {
			/* Digits past the twelfth cannot change a byte count below a petabyte. */
			if (n < SIZE_MAX_FRACTION_DIGITS) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_scale *= 10;
			}
		}
	}
	if (*p == ' ')
		p++;
	if (*p == '\0') {
		if (p != s && p[-1] == ' ')
			return "has a space but no unit";
		if (frac_scale != 1)
			return "has a fraction but no unit";
		*bytes = whole;
		return NULL;
	}
	for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++) {
		if (strcmp(p, size_units[i].name) != 0)
			continue;
		uint64_t f = size_units[i].factor;
		if (whole > UINT64_MAX / f)
			return "is too large";
		/* frac/frac_scale * f without overflow: frac < frac_scale <= 10^12, f <= 2^40. */
		uint64_t part = (uint64_t)((long double)frac * (long double)f / (long double)frac_scale);
		uint64_t total = whole * f;
		if (UINT64_MAX - total < part)
			return "is too large";
		*bytes = total + part;
		return NULL;
	}
	return "has an unknown unit (expected B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)";
}

char *
size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char *const names[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

	if (bytes < SIZE_KIB) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	double v = (double)bytes / 1024.0;
	size_t i = 0;
	/* 1023.996 would print as "1024.00": move to the next unit before rounding does. */
	while (v >= 1023.995 && i + 1 < sizeof names / sizeof names[0]) {
		v /= 1024.0;
		i++;
	}
	snprintf(buf, len, "%.2f %s", v, names[i]);
	return buf;
}
