#ifndef MODELC_CLIOPT_H
#define MODELC_CLIOPT_H

/*
 * getopt_long (glibc and musl have it) taken strictly in order, as hand-written option loops
 * take them: nothing is permuted, an argument that is no option comes back where it stands,
 * and getopt_long prints nothing, so each program keeps its own messages.
 */

#include <getopt.h>

/*
 * The next argument of argv: an option's val (its value in optarg), 1 for an argument that is
 * no option (in optarg), '?' for an unknown option or a "--", ':' for an option missing its
 * value, -1 at the end; *arg is the argument as written. shortopts must start with "+:".
 * Set optind = 0 first to parse another argv in the same process.
 */
int cliopt_next(int argc, char **argv, const char *shortopts, const struct option *longopts, const char **arg);

#endif
