#ifndef MODELC_DIAG_H
#define MODELC_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
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
	bool colour;          /* colour the level word (diag_colour) */
	const char *source;   /* text of pos.file, for show_source; may be NULL */
	const char *source_name;
};

/*
 * Whether messages to out are coloured: not when NO_COLOR is set (and not empty), always when
 * CLICOLOR_FORCE is set (and not "0"), else when out is a terminal.
 */
bool diag_colour(FILE *out);

/*
 * Colour diag_print's messages too (their first "error:", "warning:" or "note:"), as diag_colour
 * decides for each stream; a program calls it once at start (modelc, fetch). diag_sink.c.
 */
void diag_use_colour(void);
extern bool (*diag_print_coloured)(FILE *out, const char *fmt, va_list ap);

/* Initialise a sink writing to out for program prog; show_source when out is a TTY. */
void diag_init(struct diag_sink *sink, FILE *out, const char *prog);

/* Remember the text of file name so show_source can print its lines; text is borrowed. */
void diag_set_source(struct diag_sink *sink, const char *name, const char *text);

/*
 * Print "prog: file:line:col: level: message" and count it, and record fmt (diag_record).
 * Every format string passed here must be printed by some test (tests/check-diagnostics.py).
 */
void diag_report(struct diag_sink *sink, enum diag_level level, struct diag_pos pos,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define diag_error(s, p, ...)   diag_report((s), DIAG_ERROR, (p), __VA_ARGS__)
#define diag_warning(s, p, ...) diag_report((s), DIAG_WARNING, (p), __VA_ARGS__)
#define diag_note(s, p, ...)    diag_report((s), DIAG_NOTE, (p), __VA_ARGS__)

/*
 * Print a message about no place in an input (a usage error, a system error, a summary) to out:
 * the whole line, program name and newline included, comes from fmt. Records fmt.
 */
void diag_print(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The environment variable naming the file diag_record appends to. */
#define DIAG_LOG_ENV "MODELC_DIAG_LOG"
/* The longest record line; a longer format is cut, and the check then reports it unprinted. */
#define DIAG_RECORD_MAX 2048
/* Longest diag_print line that is coloured; a longer one is printed plain. */
#define DIAG_COLOUR_MAX 4096

/*
 * When $MODELC_DIAG_LOG names a file, append fmt, the format string (not the text) of a
 * message being printed, to it as one line, with backslash, newline and carriage return written
 * as \\, \n and \r. The tests set it so that a check can compare the formats printed with those
 * in the source. Never fails; keeps errno. Every program's message functions call it.
 */
void diag_record(const char *fmt);

/* A position with no line: the message is about the whole file. */
struct diag_pos diag_file(const char *file);

#endif
