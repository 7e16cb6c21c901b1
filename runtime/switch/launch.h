#ifndef MODELC_LAUNCH_H
#define MODELC_LAUNCH_H

/*
 * The server's command line and environment for one role, and running it as a child that
 * receives the signals switch gets. All storage is static (LAUNCH_* limits); no heap.
 */

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "model_table.h"
#include "refit.h"

enum {
	LAUNCH_MAX_ARGS = 64, LAUNCH_MAX_ENV = 1024, LAUNCH_STR_MAX = 16384, LAUNCH_LINE_MAX = 4096,
	LAUNCH_ENV_MAX = 8,             /* the variables a command sets */
	LAUNCH_LIST_MAX = 1024          /* CUDA_VISIBLE_DEVICES, VLLM_PP_LAYER_PARTITION */
};

struct launch_cmd {
	char *argv[LAUNCH_MAX_ARGS];
	size_t argc;
	char *env[LAUNCH_ENV_MAX];      /* "HF_HOME=...", "HF_HUB_OFFLINE=1", a placed role's CUDA_VISIBLE_DEVICES, ... */
	size_t nenv;
	const char *gpus;               /* a placed role's CUDA_VISIBLE_DEVICES ("0,1"), else NULL */
	const char *model_path;         /* what the server is told to load */
	int local;                      /* every manifest file is on disk: HF_HUB_OFFLINE=1 */
	char store[LAUNCH_STR_MAX];
	size_t used;
};

/*
 * Build the command for e with plan's limits, serving on host:port; a role modelc placed on GPUs
 * gets their CUDA_VISIBLE_DEVICES and the parallel flags of its plan.json argv. Warnings about missing
 * files go to warn. Returns 0, or -1 (with an error on warn) when the command does not fit the
 * static limits.
 */
/* What to do when the server command is not on PATH. */
#define LAUNCH_NOT_FOUND_DO "install vLLM on this host, or set server.command in models.yaml and run modelc build"

/* The server command's first word when it is not on PATH (nor a file, for a path), else NULL. */
const char *launch_server_missing(void);

/* server.command, the model folder dir as it is (nothing fitted), --host and --port; -1 when too long. */
int launch_folder(const char *dir, const char *host, unsigned port, FILE *warn, struct launch_cmd *cmd);

int launch_build(const struct model_entry *e, const struct refit *plan, const char *host, unsigned port,
    FILE *warn, struct launch_cmd *cmd);

/* Print the environment assignments and argv, shell-quoted, on one line. */
void launch_print(FILE *out, const struct launch_cmd *cmd);

/*
 * Start the server in its own process group with cmd's environment added. When errfd is not
 * NULL, its stderr is a pipe whose read end is stored there. Returns the pid, or -1 (errno).
 */
pid_t launch_start(const struct launch_cmd *cmd, int *errfd);

/* Forward SIGINT, SIGTERM, SIGHUP and SIGQUIT to pid from now on (0: stop forwarding). */
void launch_forward_signals(pid_t pid);

/* The last signal forwarded to the server, or 0: the user stopped it, nothing failed. */
int launch_signal_forwarded(void);

/* Wait for pid and return its status as an exit code: the code, or 128+N for signal N. */
int launch_wait(pid_t pid);

/* Map a waitpid status to an exit code (128+N for signal N). */
int launch_exit_code(int status);

/* Nonzero when line is one of the out-of-memory messages vLLM prints while starting. */
int launch_is_oom(const char *line);

#endif
