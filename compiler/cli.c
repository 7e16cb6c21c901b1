#include "cli.h"
#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "exitcode.h"

int
cli_usage_error(const char *cmd, const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "modelc: %s: ", cmd);
	diag_print(stderr, fmt, arg);
	fputc('\n', stderr);
	fputs(usage, stderr);
	return EXITCODE_USAGE;
}

int
cli_parse_u32(const char *s, unsigned long long max, uint32_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > max || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}
