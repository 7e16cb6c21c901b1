#include "shquote.h"

#include <string.h>

int
shquote_is_plain(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("_-./:@%+,", c)))
			return 0;
	}
	return 1;
}

void
shquote_write(FILE *out, const char *s)
{
	if (shquote_is_plain(s)) {
		fputs(s, out);
		return;
	}
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else
			fputc(*s, out);
	}
	fputc('\'', out);
}
