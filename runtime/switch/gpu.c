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
static const char gpu_apps[] = "--query-compute-apps=pid,process_name,used_memory";
static const char gpu_csv[] = "--format=csv,noheader,nounits";
static char gpu_out[GPU_OUTPUT_MAX];
static char gpu_path[SWPATH_MAX];

/* Run nvidia-smi with the words of args (NULL-terminated, after argv[0]); stdout and stderr go to out. Returns the exit status or -1. */
static int
run_smi(const char *path, const char *const *args, char *out, size_t cap)
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
		char *argv[8] = { "nvidia-smi" };
		for (int i = 0; i < 6 && args[i]; i++)
			argv[i + 1] = (char *)args[i];
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

/* Run nvidia-smi with args into gpu_out; GPU_FAILED fills msg with its status and first line. */
static enum gpu_status
smi(const char *const *args, char msg[GPU_MSG_MAX])
{
	char line[200];
	int rc = run_smi(gpu_path, args, gpu_out, sizeof gpu_out);
	/* Drivers older than memory.reserved refuse the whole query; ask again without it. */
	if (rc != 0 && args[0] == gpu_query_reserved && swstr_contains(gpu_out, "is not a valid field"))
		return GPU_ABSENT;
	if (rc == 0)
		return GPU_OK;
	first_line(line, sizeof line, gpu_out);
	if (rc < 0)
		snprintf(msg, GPU_MSG_MAX, "cannot run nvidia-smi: %s", strerror(errno));
	else
		snprintf(msg, GPU_MSG_MAX, "nvidia-smi exited with status %d: %s", rc, line);
	return GPU_FAILED;
}

enum gpu_status
gpu_query(struct nvsmi_state *st, char msg[GPU_MSG_MAX])
{
	const char *q[] = { gpu_query_reserved, gpu_csv, NULL };
	char err[NVSMI_ERR_MAX];
	int with_reserved = 1;

	memset(st, 0, sizeof *st);
	if (swpath_which("nvidia-smi", gpu_path, sizeof gpu_path) != 0)
		return GPU_ABSENT;
	enum gpu_status s = smi(q, msg);
	if (s == GPU_ABSENT) {
		with_reserved = 0;
		q[0] = gpu_query_plain;
		s = smi(q, msg);
	}
	if (s != GPU_OK)
		return GPU_FAILED;
	char *out = gpu_out;
	if (nvsmi_parse_gpus(out, with_reserved, st, err) != 0) {
		snprintf(msg, GPU_MSG_MAX, "cannot read nvidia-smi's GPU list: %s", err);
		return GPU_FAILED;
	}
	if (st->ngpus == 0) {
		snprintf(msg, GPU_MSG_MAX, "nvidia-smi lists no GPU");
		return GPU_FAILED;
	}
	q[0] = gpu_apps;
	if (smi(q, msg) != GPU_OK)
		return GPU_FAILED;
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

enum gpu_status
gpu_query_apps(int index, struct nvsmi_state *st, char msg[GPU_MSG_MAX])
{
	char id[24], err[NVSMI_ERR_MAX];
	const char *q[] = { "-i", id, gpu_apps, gpu_csv, NULL };
	snprintf(id, sizeof id, "%d", index);
	st->napps = 0;
	if (smi(q, msg) != GPU_OK)
		return GPU_FAILED;
	if (nvsmi_parse_apps(gpu_out, st, err) == 0)
		return GPU_OK;
	snprintf(msg, GPU_MSG_MAX, "cannot read nvidia-smi's process list: %s", err);
	return GPU_FAILED;
}

const char *
gpu_topo(char msg[GPU_MSG_MAX])
{
	static const char *const q[] = { "topo", "-m", NULL };
	return smi(q, msg) == GPU_OK ? gpu_out : NULL;
}

/* Word n (from 0) of the line at s into w, terminal escapes (ESC [ ... letter) skipped; false past its end. */
static bool
word(const char *s, int n, char *w, size_t cap)
{
	size_t len = 0;
	for (int k = -1; k < n;) {
		while (*s == ' ' || *s == '\t' || *s == '\033') {
			if (*s == '\033')
				while (*s && *s != '\n' && !((*s | 32) >= 'a' && (*s | 32) <= 'z'))
					s++;
			if (*s && *s != '\n')
				s++;
		}
		if (!*s || *s == '\n')
			return false;
		k++;
		for (len = 0; *s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\033'; s++)
			if (k == n && len + 1 < cap)
				w[len++] = *s;
	}
	w[len] = '\0';
	return true;
}

bool
gpu_topo_link(const char *text, int a, int b, char link[GPU_LINK_MAX])
{
	char w[GPU_LINK_MAX], want[16];
	int col = -1;
	for (const char *line = text; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
		if (!word(line, 0, w, sizeof w) || strncmp(w, "GPU", 3) != 0)
			continue;
		if (col < 0) {
			/* The header: GPU0 GPU1 ... NIC0 ... CPU Affinity ...; b's column among them. */
			snprintf(want, sizeof want, "GPU%d", b);
			for (int k = 0; word(line, k, w, sizeof w) && strncmp(w, "GPU", 3) == 0; k++)
				if (strcmp(w, want) == 0)
					col = k;
			if (col < 0)
				return false;
			continue;
		}
		snprintf(want, sizeof want, "GPU%d", a);
		if (strcmp(w, want) == 0)
			return word(line, col + 1, link, GPU_LINK_MAX);
	}
	return false;
}
