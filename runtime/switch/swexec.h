#ifndef MODELC_SWEXEC_H
#define MODELC_SWEXEC_H

/*
 * Run a sibling program in place of this process: name (e.g. "switch-host", "switch-proxy")
 * from the folder of this process's own executable (/proc/self/exe), with argv unchanged
 * (argv[0] included), so that the sibling's exit status, signals, stdout and stderr are this
 * command's. Returns only on failure, after printing why (naming the path it tried and how to
 * build or install it), with the exit code: 3 (system failure).
 */
int swcmd_exec_sibling(const char *name, char **argv);

#endif
