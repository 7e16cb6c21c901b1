/*
 * The YAML 1.2 core schema's tag resolution for plain scalars (yaml.org/spec/1.2.2, 10.3.2),
 * the rules npm yaml applies in "core" mode, so both readers type every value alike.
 */
#include "yamlscalar.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
yamlscalar_all(const char *s, const char *set)
{
	return *s != '\0' && s[strspn(s, set)] == '\0';
}

/* YAML 1.2 core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int
yamlscalar_is_float(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	size_t digits = strspn(s, "0123456789");
	s += digits;
	if (*s == '.') {
		s++;
		size_t frac = strspn(s, "0123456789");
		if (digits == 0 && frac == 0)
			return 0;
		s += frac;
	} else if (digits == 0) {
		return 0;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		size_t exp = strspn(s, "0123456789");
		if (exp == 0)
			return 0;
		s += exp;
	}
	return *s == '\0';
}

static int
yamlscalar_one_of(const char *s, const char *a, const char *b, const char *c)
{
	return strcmp(s, a) == 0 || strcmp(s, b) == 0 || strcmp(s, c) == 0;
}

void
yamlscalar_resolve(struct ynode *n)
{
	const char *s = n->text;

	n->kind = YNODE_STRING;
	if (strlen(s) != n->text_len)
		return;
	if (*s == '\0' || strcmp(s, "~") == 0 || yamlscalar_one_of(s, "null", "Null", "NULL")) {
		n->kind = YNODE_NULL;
		return;
	}
	if (yamlscalar_one_of(s, "true", "True", "TRUE") || yamlscalar_one_of(s, "false", "False", "FALSE")) {
		n->kind = YNODE_BOOL;
		n->boolean = s[0] == 't' || s[0] == 'T';
		return;
	}
	const char *body = s + (*s == '-' || *s == '+');
	if (yamlscalar_all(body, "0123456789")) {
		errno = 0;
		long long v = strtoll(s, NULL, 10);
		n->number = strtod(s, NULL);
		if (errno == ERANGE) {
			n->kind = YNODE_FLOAT;   /* too large for an integer: keep its value */
			return;
		}
		n->kind = YNODE_INT;
		n->integer = v;
		return;
	}
	if (strncmp(s, "0o", 2) == 0 && yamlscalar_all(s + 2, "01234567")) {
		double d = 0;
		for (const char *p = s + 2; *p; p++)
			d = d * 8 + (*p - '0');
		n->number = d;
		errno = 0;
		long long v = strtoll(s + 2, NULL, 8);
		n->kind = errno == ERANGE ? YNODE_FLOAT : YNODE_INT;
		n->integer = v;
		return;
	}
	if (strncmp(s, "0x", 2) == 0 && yamlscalar_all(s + 2, "0123456789abcdefABCDEF")) {
		n->number = strtod(s, NULL);
		errno = 0;
		long long v = strtoll(s + 2, NULL, 16);
		n->kind = errno == ERANGE ? YNODE_FLOAT : YNODE_INT;
		n->integer = v;
		return;
	}
	if (yamlscalar_is_float(s)) {
		n->kind = YNODE_FLOAT;
		n->number = strtod(s, NULL);
		return;
	}
	const char *inf = s + (*s == '-' || *s == '+');
	if (yamlscalar_one_of(inf, ".inf", ".Inf", ".INF")) {
		n->kind = YNODE_FLOAT;
		n->number = *s == '-' ? -HUGE_VAL : HUGE_VAL;
		return;
	}
	if (yamlscalar_one_of(s, ".nan", ".NaN", ".NAN")) {
		n->kind = YNODE_FLOAT;
		n->number = NAN;
	}
}
