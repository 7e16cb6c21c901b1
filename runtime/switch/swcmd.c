#include "swcmd.h"

#include <stdarg.h>
#include <string.h>

#include "diag.h"
#include "exitcode.h"

void
swcmd_message(unsigned prefix, const char *fmt, ...)
{
	/* The three prefixes at the offsets SWCMD_ERROR, SWCMD_WARNING and SWCMD_NOTE name. */
	static const char prefixes[] = "switch: error: \0switch: warning: \0switch: note: ";
	va_list ap;

	diag_record(fmt);
	fputs(prefixes + prefix, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int
swcmd_option(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		swcmd_error("%s: option '%s' needs a value\n", argv[0], name);
		return -1;
	}
	*i += 1;
	*val = argv[*i];
	return 1;
}

int
swcmd_active_file_only(int argc, char **argv, const char *usage, const char **file)
{
	for (int i = 1; i < argc; i++) {
		int m = swcmd_option(argc, argv, &i, "--active-file", file);
		if (m < 0)
			return EXITCODE_USAGE;
		if (m)
			continue;
		if (strcmp(argv[i], "--help") == 0)
			return swcmd_usage(stdout, usage);
		return swcmd_unknown_option(argv[0], argv[i], usage);
	}
	return -1;
}

int
swcmd_unknown_option(const char *cmd, const char *opt, const char *usage)
{
	swcmd_error("%s: unknown option '%s'\nusage: %s\n", cmd, opt, usage);
	return EXITCODE_USAGE;
}

int
swcmd_usage(FILE *out, const char *usage)
{
	fprintf(out, "usage: %s\n", usage);
	return EXITCODE_OK;
}
