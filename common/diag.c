#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


struct diag_pos
diag_file(const char *file)
{
	struct diag_pos pos = {file, 0, 0};
	return pos;
}

void
diag_record(const char *fmt)
{
	const char *path = getenv(DIAG_LOG_ENV);
	if (!path || !*path)
		return;
	char line[DIAG_RECORD_MAX];
	size_t n = 0;
	for (const char *p = fmt; *p && n + 3 < sizeof line; p++) {
		char c = *p == '\n' ? 'n' : *p == '\r' ? 'r' : *p;
		if (c != *p || c == '\\')
			line[n++] = '\\';
		line[n++] = c;
	}
	line[n++] = '\n';
	/* One write(2) to a file opened with O_APPEND: lines of processes running at once do not mix. */
	int saved = errno;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		(void)!write(fd, line, n);
		close(fd);
	}
	errno = saved;
}

/* Set by diag_use_colour (diag_sink.c): prints fmt coloured and returns true, or leaves ap alone. */
bool (*diag_print_coloured)(FILE *out, const char *fmt, va_list ap);

void
diag_print(FILE *out, const char *fmt, ...)
{
	va_list ap;

	diag_record(fmt);
	va_start(ap, fmt);
	if (!diag_print_coloured || !diag_print_coloured(out, fmt, ap))
		vfprintf(out, fmt, ap);
	va_end(ap);
}
