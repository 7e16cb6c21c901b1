#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const level_names[] = {"note", "warning", "error"};

void
diag_init(struct diag_sink *sink, FILE *out, const char *prog)
{
	memset(sink, 0, sizeof *sink);
	sink->out = out;
	sink->prog = prog;
	sink->show_source = isatty(fileno(out));
}

void
diag_set_source(struct diag_sink *sink, const char *name, const char *text)
{
	sink->source_name = name;
	sink->source = text;
}

struct diag_pos
diag_file(const char *file)
{
	struct diag_pos pos = {file, 0, 0};
	return pos;
}

/* Print line `line` of the remembered source and a caret under column `col`. */
static void
print_source_line(struct diag_sink *sink, unsigned line, unsigned col)
{
	const char *p = sink->source;
	for (unsigned n = 1; p && n < line; n++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p || !*p)
		return;
	size_t len = strcspn(p, "\n");
	fprintf(sink->out, "%5u | %.*s\n      | ", line, (int)len, p);
	for (unsigned c = 1; c < col && c <= len; c++)
		fputc(p[c - 1] == '\t' ? '\t' : ' ', sink->out);
	fputs("^\n", sink->out);
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

void
diag_print(FILE *out, const char *fmt, ...)
{
	va_list ap;

	diag_record(fmt);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}

void
diag_report(struct diag_sink *sink, enum diag_level level, struct diag_pos pos,
    const char *fmt, ...)
{
	va_list ap;

	if (level == DIAG_ERROR)
		sink->errors++;
	else if (level == DIAG_WARNING)
		sink->warnings++;
	fprintf(sink->out, "%s: ", sink->prog);
	if (pos.file && pos.line)
		fprintf(sink->out, "%s:%u:%u: ", pos.file, pos.line, pos.col);
	else if (pos.file)
		fprintf(sink->out, "%s: ", pos.file);
	fprintf(sink->out, "%s: ", level_names[level]);
	diag_record(fmt);
	va_start(ap, fmt);
	vfprintf(sink->out, fmt, ap);
	va_end(ap);
	fputc('\n', sink->out);
	if (sink->show_source && pos.line && sink->source && pos.file &&
	    sink->source_name && strcmp(pos.file, sink->source_name) == 0)
		print_source_line(sink, pos.line, pos.col);
}
