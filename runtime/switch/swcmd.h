#ifndef MODELC_SWCMD_H
#define MODELC_SWCMD_H

/*
 * switch's subcommands and the option helpers they share. Each command gets argv with
 * argv[0] = its name and returns the exit code: 0 ok, 1 rejected (unknown role, does not fit,
 * doctor found problems), 2 usage, 3 system failure; serve passes the server's status through.
 */

#include <stdbool.h>
#include <stdio.h>

int swcmd_list(int argc, char **argv);
int swcmd_set(int argc, char **argv);
int swcmd_current(int argc, char **argv);
int swcmd_serve(int argc, char **argv);
int swcmd_doctor(int argc, char **argv);
int swcmd_gpu(int argc, char **argv);
int swcmd_env(int argc, char **argv);

struct model_entry;

/*
 * The role to act on into *e: target (a role, path or repo of the table) when not NULL, else the
 * active file's role (file, else $MODELC_ACTIVE_FILE, else .active_model), else (unless need)
 * the catalog's primary with a note. *recorded (when not NULL) is the model id the active file
 * recorded. False after printing why not, with *rc the exit code.
 */
bool swcmd_pick_entry(const char *target, const char *file, bool need, struct model_entry *e, int *rc,
    const char **recorded);

/*
 * Match argv[*i] against option name, taking its value from "--name=V" or the next word.
 * Returns 1 (matched, *val set, *i advanced past the value), 0 (not this option), or -1 after
 * printing that the value is missing.
 */
int swcmd_option(int argc, char **argv, int *i, const char *name, const char **val);

/*
 * The whole option loop of a command whose options are --active-file FILE and --help, and,
 * when target is not NULL, one ROLE, PATH or REPO, which it requires (set): current, doctor,
 * env, set. Sets *file and *target when given. Returns -1 when the command should go on, else
 * the exit code to return: 0 after --help, 2 after printing a usage error.
 */
int swcmd_parse_active(int argc, char **argv, const char *usage, const char **file, const char **target);

/*
 * Print "switch: error: CMD: unknown option 'X'", "(did you mean '--y'?)" when an option of
 * usage is near, and the usage line; returns 2.
 */
int swcmd_unknown_option(const char *cmd, const char *opt, const char *usage);

/*
 * The "--word" of words nearest to word (a Levenshtein distance within about a third of its
 * length), or NULL. Static storage.
 */
const char *swcmd_nearest(const char *word, const char *words);

/* Print "usage: switch ..." for --help to out; returns 0. */
int swcmd_usage(FILE *out, const char *usage);

/*
 * "switch: KIND: " on out, KIND ("error", "warning", "note") in colour when out is stderr, stderr
 * is a terminal and $NO_COLOR is unset or empty. kind is SWCMD_ERROR, SWCMD_WARNING or
 * SWCMD_NOTE: the offset of the word in swcmd_prefix's table.
 */
enum { SWCMD_ERROR = 0, SWCMD_WARNING = 6, SWCMD_NOTE = 14 };
void swcmd_prefix(FILE *out, unsigned kind);

/*
 * swcmd_prefix on stderr and the formatted message, recording fmt (diag_record). One copy of
 * each prefix instead of one per message keeps the static binary small, and so does one
 * variadic function for the three (each variadic function saves the argument registers): the
 * macros pass the kind. Messages to another stream go through diag_print.
 */
void swcmd_message(unsigned kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define swcmd_error(...)   swcmd_message(SWCMD_ERROR, __VA_ARGS__)
#define swcmd_warning(...) swcmd_message(SWCMD_WARNING, __VA_ARGS__)
#define swcmd_note(...)    swcmd_message(SWCMD_NOTE, __VA_ARGS__)

#endif
