#ifndef MODELC_DIAG_H
#define MODELC_DIAG_H

#include <stdio.h>

/* A place in an input file. Line and column are 1-based; line 0 means "the whole file". */
struct diag_pos {
	const char *file;
	unsigned line;
	unsigned col;
};

enum diag_level { DIAG_NOTE, DIAG_WARNING, DIAG_ERROR };

/*
 * Where diagnostics go and how many were seen. Checks count errors instead of exiting,
 * so one run reports every problem; callers refuse to write output when errors > 0.
 */
struct diag_sink {
	FILE *out;            /* usually stderr */
	const char *prog;     /* "modelc", printed first on each line */
	unsigned errors;
	unsigned warnings;
	int show_source;      /* print the source line and a caret under the column */
	const char *source;   /* text of pos.file, for show_source; may be NULL */
	const char *source_name;
};

/* Initialise a sink writing to out for program prog; show_source when out is a TTY. */
void diag_init(struct diag_sink *sink, FILE *out, const char *prog);

/* Remember the text of file name so show_source can print its lines; text is borrowed. */
void diag_set_source(struct diag_sink *sink, const char *name, const char *text);

/*
 * Print "prog: file:line:col: level: message" and count it. Format strings passed here are
 * checked by tests/check-diagnostics: each one must be produced by some test.
 */
void diag_report(struct diag_sink *sink, enum diag_level level, struct diag_pos pos,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define diag_error(s, p, ...)   diag_report((s), DIAG_ERROR, (p), __VA_ARGS__)
#define diag_warning(s, p, ...) diag_report((s), DIAG_WARNING, (p), __VA_ARGS__)
#define diag_note(s, p, ...)    diag_report((s), DIAG_NOTE, (p), __VA_ARGS__)

/* A position with no line: the message is about the whole file. */
struct diag_pos diag_file(const char *file);

#endif
