#include "swjson.h"

#include <string.h>

/* The escape for byte c, or NULL when it is written as it is; hex holds \u00XX forms. */
static const char *
escape_of(unsigned char c, char hex[7])
{
	static const char digits[] = "0123456789abcdef";
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\t': return "\\t";
	case '\r': return "\\r";
	default: break;
	}
	if (c >= 0x20)
		return NULL;
	memcpy(hex, "\\u00", 4);
	hex[4] = digits[c >> 4];
	hex[5] = digits[c & 15];
	hex[6] = '\0';
	return hex;
}

void
swjson_write_string(FILE *out, const char *s)
{
	char hex[7];
	fputc('"', out);
	for (; *s; s++) {
		const char *esc = escape_of((unsigned char)*s, hex);
		if (esc)
			fputs(esc, out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

int
swjson_escape(char *buf, size_t cap, const char *s)
{
	char hex[7];
	size_t len = 0;

	if (cap < 3)
		return -1;
	buf[len++] = '"';
	for (; *s; s++) {
		const char *esc = escape_of((unsigned char)*s, hex);
		size_t n = esc ? strlen(esc) : 1;
		if (len + n + 2 > cap)
			return -1;
		if (esc)
			memcpy(buf + len, esc, n);
		else
			buf[len] = *s;
		len += n;
	}
	buf[len++] = '"';
	buf[len] = '\0';
	return 0;
}
