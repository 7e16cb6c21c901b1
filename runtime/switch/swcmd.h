#ifndef MODELC_SWCMD_H
#define MODELC_SWCMD_H

/*
 * switch's subcommands and the option helpers they share. Each command gets argv with
 * argv[0] = its name and returns the exit code: 0 ok, 1 rejected (unknown role, does not fit,
 * doctor found problems), 2 usage, 3 system failure; serve passes the server's status through.
 */

#include <stdio.h>

int swcmd_list(int argc, char **argv);
int swcmd_set(int argc, char **argv);
int swcmd_current(int argc, char **argv);
int swcmd_serve(int argc, char **argv);
int swcmd_doctor(int argc, char **argv);
/* Exec switch-proxy (beside argv[0], else on PATH) with switch's whole argv. */
int swcmd_proxy(char **argv);

/*
 * Match argv[*i] against option name, taking its value from "--name=V" or the next word.
 * Returns 1 (matched, *val set, *i advanced past the value), 0 (not this option), or -1 after
 * printing that the value is missing.
 */
int swcmd_option(int argc, char **argv, int *i, const char *name, const char **val);

/*
 * The whole option loop of a command whose only options are --active-file FILE and --help
 * (current, doctor); sets *file when given. Returns -1 when the command should go on, else
 * the exit code to return: 0 after --help, 2 after printing a usage error.
 */
int swcmd_active_file_only(int argc, char **argv, const char *usage, const char **file);

/* Print "switch: error: CMD: unknown option 'X'" and the usage line; returns 2. */
int swcmd_unknown_option(const char *cmd, const char *opt, const char *usage);

/* Print "usage: switch ..." for --help to out; returns 0. */
int swcmd_usage(FILE *out, const char *usage);

/*
 * "switch: error: ", "switch: warning: " or "switch: note: " and the formatted message on
 * stderr, recording fmt (diag_record). One copy of each prefix instead of one per message
 * keeps the static binary small, and so does one variadic function for the three (each
 * variadic function saves the argument registers): prefix is the offset of the prefix in
 * swcmd_message's table, SWCMD_ERROR, SWCMD_WARNING or SWCMD_NOTE, as the macros pass it.
 * Messages to another stream go through diag_print.
 */
enum { SWCMD_ERROR = 0, SWCMD_WARNING = 16, SWCMD_NOTE = 34 };
void swcmd_message(unsigned prefix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define swcmd_error(...)   swcmd_message(SWCMD_ERROR, __VA_ARGS__)
#define swcmd_warning(...) swcmd_message(SWCMD_WARNING, __VA_ARGS__)
#define swcmd_note(...)    swcmd_message(SWCMD_NOTE, __VA_ARGS__)

#endif
