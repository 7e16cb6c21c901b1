#define _GNU_SOURCE /* _Fork */
#include "gpu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "swpath.h"
#include "swstr.h"

extern char **environ;

static const char gpu_query_reserved[] =
    "--query-gpu=index,name,memory.total,memory.used,memory.free,memory.reserved";
static const char gpu_query_plain[] = "--query-gpu=index,name,memory.total,memory.used,memory.free";
static const char gpu_query_apps[] = "--query-compute-apps=pid,process_name,used_memory";

/* Run nvidia-smi with one query; stdout and stderr go to out. Returns the exit status or -1. */
static int
run_smi(const char *path, const char *query, char *out, size_t cap)
{
	int fds[2];
	pid_t pid;
	size_t len = 0;
	int status;

	if (pipe(fds) != 0)
		return -1;
	pid = SWFORK();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		char *argv[] = { "nvidia-smi", (char *)query, "--format=csv,noheader,nounits", NULL };
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execve(path, argv, environ);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], out + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == cap - 1)
			break;  /* more than any real GPU list; the parser reports the cut line */
	}
	out[len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* The first line of text, for messages. */
static void
first_line(char *dst, size_t cap, const char *text)
{
	size_t len = strcspn(text, "\n");
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, text, len);
	dst[len] = '\0';
}

enum gpu_status
gpu_query(struct nvsmi_state *st, char msg[GPU_MSG_MAX])
{
	static char out[GPU_OUTPUT_MAX];
	char line[200], err[NVSMI_ERR_MAX];
	int rc, with_reserved = 1;

	memset(st, 0, sizeof *st);
	static char path[SWPATH_MAX];
	if (swpath_which("nvidia-smi", path, sizeof path) != 0)
		return GPU_ABSENT;
	rc = run_smi(path, gpu_query_reserved, out, sizeof out);
	/* Drivers older than memory.reserved refuse the whole query; ask again without it. */
	if (rc != 0 && swstr_contains(out, "is not a valid field")) {
		with_reserved = 0;
		rc = run_smi(path, gpu_query_plain, out, sizeof out);
	}
	if (rc != 0) {
		first_line(line, sizeof line, out);
		if (rc < 0)
			snprintf(msg, GPU_MSG_MAX, "cannot run nvidia-smi: %s", strerror(errno));
		else
			snprintf(msg, GPU_MSG_MAX, "nvidia-smi exited with status %d: %s", rc, line);
		return GPU_FAILED;
	}
	if (nvsmi_parse_gpus(out, with_reserved, st, err) != 0) {
		snprintf(msg, GPU_MSG_MAX, "cannot read nvidia-smi's GPU list: %s", err);
		return GPU_FAILED;
	}
	if (st->ngpus == 0) {
		snprintf(msg, GPU_MSG_MAX, "nvidia-smi lists no GPU");
		return GPU_FAILED;
	}
	rc = run_smi(path, gpu_query_apps, out, sizeof out);
	if (rc != 0) {
		first_line(line, sizeof line, out);
		snprintf(msg, GPU_MSG_MAX, "nvidia-smi exited with status %d: %s", rc, line);
		return GPU_FAILED;
	}
	if (nvsmi_parse_apps(out, st, err) != 0) {
		snprintf(msg, GPU_MSG_MAX, "cannot read nvidia-smi's process list: %s", err);
		return GPU_FAILED;
	}
	return GPU_OK;
}

const struct nvsmi_gpu *
gpu_pick(const struct nvsmi_state *st)
{
	const char *vis = getenv("CUDA_VISIBLE_DEVICES");
	if (vis && *vis >= '0' && *vis <= '9') {
		int want = 0;
		for (const char *p = vis; *p >= '0' && *p <= '9' && want < 100000; p++)
			want = want * 10 + (*p - '0');
		for (size_t i = 0; i < st->ngpus; i++)
			if (st->gpus[i].index == want)
				return &st->gpus[i];
	}
	return st->ngpus ? &st->gpus[0] : NULL;
}
