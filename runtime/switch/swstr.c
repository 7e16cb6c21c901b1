#include "swstr.h"

#include <string.h>

int
swstr_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (*hay == *needle && strncmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
}
