/*
 * The sink of positioned messages (diag_init, diag_report) and colour, apart from diag.c so
 * that a program using only diag_print (switch) links none of it.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const level_names[] = {"note", "warning", "error"};
/* gcc's colours: a note cyan, a warning magenta, an error red, each in bold. */
static const char *const level_colours[] = {"\033[1;36m", "\033[1;35m", "\033[1;31m"};
static const char colour_off[] = "\033[0m";

bool
diag_colour(FILE *out)
{
	const char *no = getenv("NO_COLOR"), *force = getenv("CLICOLOR_FORCE");
	if (no && *no)
		return false;
	if (force && *force && strcmp(force, "0") != 0)
		return true;
	return isatty(fileno(out)) == 1;
}

void
diag_init(struct diag_sink *sink, FILE *out, const char *prog)
{
	memset(sink, 0, sizeof *sink);
	sink->out = out;
	sink->prog = prog;
	sink->show_source = isatty(fileno(out));
	sink->colour = diag_colour(out);
}

void
diag_set_source(struct diag_sink *sink, const char *name, const char *text)
{
	sink->source_name = name;
	sink->source = text;
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

/* diag_print's colour: the first level word after a ": " ("prog: ... error: text"). */
static bool
print_coloured(FILE *out, const char *fmt, va_list ap)
{
	if (!diag_colour(out))
		return false;
	char buf[DIAG_COLOUR_MAX];
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(buf, sizeof buf, fmt, cp);
	va_end(cp);
	if (n < 0 || (size_t)n >= sizeof buf)
		return false;
	const char *best = NULL;
	int level = 0;
	for (int l = DIAG_NOTE; l <= DIAG_ERROR; l++) {
		char word[16];
		snprintf(word, sizeof word, ": %s: ", level_names[l]);
		const char *at = strstr(buf, word);
		if (at && (!best || at < best)) {
			best = at;
			level = l;
		}
	}
	if (!best) {
		fputs(buf, out);
		return true;
	}
	size_t pre = (size_t)(best - buf) + 2, wlen = strlen(level_names[level]) + 1;
	fprintf(out, "%.*s%s%.*s%s%s", (int)pre, buf, level_colours[level], (int)wlen, buf + pre, colour_off,
	    buf + pre + wlen);
	return true;
}

void
diag_use_colour(void)
{
	diag_print_coloured = print_coloured;
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
	if (sink->colour)
		fprintf(sink->out, "%s%s:%s ", level_colours[level], level_names[level], colour_off);
	else
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
