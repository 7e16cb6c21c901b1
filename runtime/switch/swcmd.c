#include "swcmd.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "suggest.h"
#include "swtable.h"

void
swcmd_prefix(FILE *out, unsigned kind)
{
	/* The three words at the offsets SWCMD_ERROR, SWCMD_WARNING and SWCMD_NOTE name. */
	static const char kinds[] = "error\0warning\0note";
	const char *nc = getenv("NO_COLOR");
	int colour = out == stderr && isatty(2) && !(nc && *nc);
	fputs("switch: ", out);
	if (colour)
		fputs(kind == SWCMD_ERROR ? "\033[1;31m" : kind == SWCMD_WARNING ? "\033[1;35m" : "\033[1;36m", out);
	fputs(kinds + kind, out);
	fputs(colour ? "\033[0m: " : ": ", out);
}

void
swcmd_message(unsigned kind, const char *fmt, ...)
{
	va_list ap;

	diag_record(fmt);
	swcmd_prefix(stderr, kind);
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
swcmd_parse_active(int argc, char **argv, const char *usage, const char **file, const char **target)
{
	for (int i = 1; i < argc; i++) {
		int m = swcmd_option(argc, argv, &i, "--active-file", file);
		if (m < 0)
			return EXITCODE_USAGE;
		if (m)
			continue;
		if (strcmp(argv[i], "--help") == 0)
			return swcmd_usage(stdout, usage);
		if ((argv[i][0] == '-' && argv[i][1] != '\0') || !target)
			return swcmd_unknown_option(argv[0], argv[i], usage);
		if (*target) {
			swcmd_error("%s: expected one ROLE, PATH or REPO, got '%s' and '%s'\nusage: %s\n", argv[0], *target,
			    argv[i], usage);
			return EXITCODE_USAGE;
		}
		*target = argv[i];
	}
	if (target && !*target) {
		swcmd_error("%s: missing ROLE, PATH or REPO\nusage: %s\n", argv[0], usage);
		return EXITCODE_USAGE;
	}
	return -1;
}

const char *
swcmd_nearest(const char *word, const char *words)
{
	static char best[32], cand[32];
	size_t len = strlen(word), bestd = (len > 2 ? len - 2 : 0) / 3 + 2;

	best[0] = '\0';
	for (const char *p = words; *p; p++) {
		size_t n = 0;
		if (p[0] != '-' || p[1] != '-')
			continue;
		while (n < sizeof cand - 1 && (p[n] == '-' || (p[n] >= 'a' && p[n] <= 'z')))
			cand[n] = p[n], n++;
		cand[n] = '\0';
		size_t d = suggest_distance(word, cand);
		if (d < bestd) {
			bestd = d;
			memcpy(best, cand, n + 1);
		}
		p += n - 1;
	}
	return best[0] ? best : NULL;
}

int
swcmd_unknown_option(const char *cmd, const char *opt, const char *usage)
{
	const char *near = opt[0] == '-' ? swcmd_nearest(opt, usage) : NULL;
	swcmd_error("%s: unknown option '%s'%s%s%s\nusage: %s\n", cmd, opt, near ? " (did you mean '" : "",
	    near ? near : "", near ? "'?)" : "", usage);
	return EXITCODE_USAGE;
}

int
swcmd_usage(FILE *out, const char *usage)
{
	fprintf(out, "usage: %s\n", usage);
	return EXITCODE_OK;
}
