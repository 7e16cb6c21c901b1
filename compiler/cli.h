#ifndef MODELC_CLI_H
#define MODELC_CLI_H

/*
 * Command-line helpers that modelc's subcommands share: the usage-error report and the
 * parsing of positive integer option values.
 */

#include <stdint.h>

/*
 * Print "modelc: CMD: " followed by fmt (with arg, its one %s), a newline and usage to
 * stderr. Returns 2, the usage exit code, so a caller can return it.
 */
int cli_usage_error(const char *cmd, const char *usage, const char *fmt, const char *arg);

/*
 * Parse s as a decimal integer from 1 to max (no sign, no space, no trailing text).
 * 0 and *out set on success; -1, *out untouched, otherwise.
 */
int cli_parse_u32(const char *s, unsigned long long max, uint32_t *out);

#endif
