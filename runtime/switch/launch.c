#define _GNU_SOURCE /* pipe2 (Linux, the BSDs, POSIX.1-2024) */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "servednames.h"
#include "shquote.h"
#include "swcmd.h"
#include "swpath.h"
#include "swstr.h"
#include "swtable.h"

extern char **environ;

static volatile sig_atomic_t launch_child;
static volatile sig_atomic_t launch_forwarded;

/* Copy s into the command's storage; NULL when full. */
static char *
keep(struct launch_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *
keep(struct launch_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	char *dst = cmd->store + cmd->used;
	size_t room = sizeof cmd->store - cmd->used;

	va_start(ap, fmt);
	int n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return NULL;
	cmd->used += (size_t)n + 1;
	return dst;
}

static int
arg(struct launch_cmd *cmd, char *s)
{
	if (!s || cmd->argc + 1 >= LAUNCH_MAX_ARGS)
		return -1;
	cmd->argv[cmd->argc++] = s;
	cmd->argv[cmd->argc] = NULL;
	return 0;
}

/* "--flag" and a number. */
static int
num(struct launch_cmd *cmd, const char *flag, unsigned long long v)
{
	return arg(cmd, keep(cmd, "%s", flag)) | arg(cmd, keep(cmd, "%llu", v));
}

/* "--flag" and a string. */
static int
two(struct launch_cmd *cmd, const char *flag, const char *v)
{
	return arg(cmd, keep(cmd, "%s", flag)) | arg(cmd, keep(cmd, "%s", v));
}

/* The environment and flags of a role modelc placed on GPUs, as planargv writes them in plan.json. */
static int
placed(struct launch_cmd *cmd, const struct model_placement *pl, const struct refit *plan)
{
	char gpus[LAUNCH_LIST_MAX] = "", layers[LAUNCH_LIST_MAX] = "";
	struct model_rank r;
	size_t g = 0, l = 0;
	for (uint32_t k = 0; k < pl->nranks; k++) {
		model_table_rank(swtable_table(), pl, k, &r);
		g += (size_t)snprintf(gpus + g, g < sizeof gpus ? sizeof gpus - g : 0, ",%u" + !k, (unsigned)r.gpu);
		if (k < pl->tp * pl->pp && k % pl->tp == 0)
			l += (size_t)snprintf(layers + l, l < sizeof layers ? sizeof layers - l : 0, ",%u" + !k, (unsigned)r.layers);
	}
	int bad = g >= sizeof gpus || l >= sizeof layers;
	static const char cvd[] = "CUDA_VISIBLE_DEVICES=";
	char *v = keep(cmd, "%s%s", cvd, gpus);
	cmd->env[cmd->nenv++] = v;
	cmd->gpus = v ? v + sizeof cvd - 1 : NULL;
	if (pl->interface)
		cmd->env[cmd->nenv++] = keep(cmd, "GLOO_SOCKET_IFNAME=%s", pl->interface);
	if (pl->p2p_disable && !pl->nvlink)
		cmd->env[cmd->nenv++] = keep(cmd, "NCCL_P2P_DISABLE=1");
	if (pl->interface)
		cmd->env[cmd->nenv++] = keep(cmd, "NCCL_SOCKET_IFNAME=%s", pl->interface);
	if (pl->partition_set)
		cmd->env[cmd->nenv++] = keep(cmd, "VLLM_PP_LAYER_PARTITION=%s", layers);
	bad |= num(cmd, "--tensor-parallel-size", pl->tp) | num(cmd, "--pipeline-parallel-size", pl->pp) |
	    two(cmd, "--distributed-executor-backend", pl->ray ? "ray" : "mp");
	if (plan->kv_cache_memory_bytes)
		bad |= num(cmd, "--kv-cache-memory-bytes", plan->kv_cache_memory_bytes);
	if (pl->p2p_disable)
		bad |= arg(cmd, keep(cmd, "--disable-custom-all-reduce"));
	if (pl->expert_parallel)
		bad |= arg(cmd, keep(cmd, "--enable-expert-parallel"));
	if (pl->dp > 1)
		bad |= num(cmd, "--data-parallel-size", pl->dp);
	return bad;
}

/*
 * --served-model-name and the names of servednames_list: the role, its aliases (the table's
 * serving sections, checked here as the proxy checks them: switch reads them nowhere else),
 * what switch --set exports as VLLM_MODEL_ID, the repo id and the local directory.
 */
static int
served(struct launch_cmd *cmd, const struct model_entry *e)
{
	struct model_table *t = (struct model_table *)swtable_table();
	const char *aliases[SERVEDNAMES_MAX], *names[SERVEDNAMES_MAX];
	struct model_role_serve s = {0};
	char why[MODEL_TABLE_WHY_MAX];
	if (t->serving_checked || model_table_check_serving(t, why) == 0)
		model_table_role_serve(t, e->index, &s);
	for (size_t k = 0; k < s.naliases && k < SERVEDNAMES_MAX; k++)
		aliases[k] = model_table_alias(t, s.aliases_first + k);
	struct servednames_role r = {NULL, e->role, aliases, s.naliases < SERVEDNAMES_MAX ? s.naliases :
	    SERVEDNAMES_MAX, swtable_model_id(e), e->repo, e->local_dir};
	size_t n = servednames_list(&r, names);
	int bad = arg(cmd, keep(cmd, "--served-model-name"));
	for (size_t k = 0; k < n; k++)
		bad |= arg(cmd, keep(cmd, "%s", names[k]));
	return bad;
}

int
launch_build(const struct model_entry *e, const struct refit *plan, const char *host, unsigned port,
    FILE *warn, struct launch_cmd *cmd)
{
	struct swtable_files f;
	struct model_placement pl;
	int bad = 0;

	memset(cmd, 0, sizeof *cmd);
	for (size_t k = 0; k < swtable_table()->nargs; k++)
		bad |= arg(cmd, keep(cmd, "%s", model_table_arg(swtable_table(), k)));
	/* Offline only when every listed file is there: a partial download must be able to finish. */
	swtable_files(e, &f);
	int complete = f.dir_exists && f.present == f.total;
	if (complete) {
		cmd->model_path = keep(cmd, "%s", f.dir);
		cmd->local = 1;
	} else if (e->repo) {
		cmd->model_path = e->repo;
		if (f.dir_exists)
			diag_print(warn, "switch: warning: %zu of %zu files of '%s' are missing from '%s'; the server will "
			    "download them\n", f.total - f.present, f.total, e->role, f.dir);
		else
			diag_print(warn, "switch: warning: '%s' is not in the cache '%s'%s%s; the server will download it\n",
			    e->role, swtable_hub_cache(), e->local_dir ? " nor in " : "", e->local_dir ? e->local_dir : "");
	} else {
		cmd->model_path = e->local_dir ? e->local_dir : e->model_id;
		if (f.dir_exists)
			diag_print(warn, "switch: warning: %zu of %zu files of '%s' are missing from '%s'\n",
			    f.total - f.present, f.total, e->role, f.dir);
		else
			diag_print(warn, "switch: warning: the local directory '%s' of '%s' does not exist\n",
			    cmd->model_path, e->role);
	}
	bad |= cmd->model_path == NULL;
	bad |= arg(cmd, keep(cmd, "%s", cmd->model_path));
	if (!cmd->local && e->repo && e->commit)
		bad |= two(cmd, "--revision", e->commit);
	bad |= served(cmd, e);
	if (plan->max_model_len)
		bad |= num(cmd, "--max-model-len", plan->max_model_len);
	else
		diag_print(warn, "switch: warning: the catalog gives '%s' no max_model_len; the server will use the "
		    "model's own limit\n", e->role);
	bad |= arg(cmd, keep(cmd, "--gpu-memory-utilization"));
	bad |= arg(cmd, keep(cmd, "%.4g", plan->utilization));
	/* modelc decided both: AWQ runs in half (its kernels are fp16), in-flight formats are named. */
	if (strcmp(e->dtype, "auto") != 0)
		bad |= two(cmd, "--dtype", e->dtype);
	if (e->kv_cache_dtype && strcmp(e->kv_cache_dtype, "auto") != 0)
		bad |= two(cmd, "--kv-cache-dtype", e->kv_cache_dtype);
	if (e->quantization_flag)
		bad |= two(cmd, "--quantization", e->quantization_flag);
	/* The settings the budget was computed with, so that vLLM's defaults cannot differ from them. */
	if (e->params.max_num_seqs)
		bad |= num(cmd, "--max-num-seqs", e->params.max_num_seqs);
	if (e->params.max_num_batched_tokens)
		bad |= num(cmd, "--max-num-batched-tokens", e->params.max_num_batched_tokens);
	if (e->params.enforce_eager)
		bad |= arg(cmd, keep(cmd, "--enforce-eager"));
	cmd->env[cmd->nenv++] = keep(cmd, "HF_HOME=%s", swtable_hf_home());
	if (cmd->local)
		cmd->env[cmd->nenv++] = keep(cmd, "HF_HUB_OFFLINE=1");
	if (model_table_placement(swtable_table(), e->index, &pl))
		bad |= placed(cmd, &pl, plan);
	bad |= two(cmd, "--host", host) | num(cmd, "--port", port);
	for (size_t i = 0; i < cmd->nenv; i++)
		bad |= cmd->env[i] == NULL;
	if (bad)
		diag_print(warn, "switch: error: the server's command line is longer than %d bytes or %d words\n",
		    LAUNCH_STR_MAX, LAUNCH_MAX_ARGS - 1);
	return bad ? -1 : 0;
}

void
launch_print(FILE *out, const struct launch_cmd *cmd)
{
	for (size_t i = 0; i < cmd->nenv; i++) {
		const char *eq = strchr(cmd->env[i], '=');
		fprintf(out, "%.*s", (int)(eq - cmd->env[i] + 1), cmd->env[i]);
		shquote_write(out, eq + 1);
		fputc(' ', out);
	}
	for (size_t i = 0; i < cmd->argc; i++) {
		if (i)
			fputc(' ', out);
		shquote_write(out, cmd->argv[i]);
	}
	fputc('\n', out);
}

/* environ without the variables cmd sets, plus cmd's: the child's environment. */
static char **
child_env(const struct launch_cmd *cmd)
{
	static char *envp[LAUNCH_MAX_ENV + LAUNCH_ENV_MAX + 1];
	size_t n = 0;

	for (char **p = environ; *p && n < LAUNCH_MAX_ENV; p++) {
		size_t i = 0;
		while (i < cmd->nenv && strncmp(*p, cmd->env[i], strcspn(cmd->env[i], "=") + 1) != 0)
			i++;
		if (i == cmd->nenv)
			envp[n++] = *p;
	}
	for (size_t i = 0; i < cmd->nenv; i++)
		envp[n++] = cmd->env[i];
	envp[n] = NULL;
	return envp;
}

pid_t
launch_start(const struct launch_cmd *cmd, int *errfd)
{
	int fds[2] = { -1, -1 };
	static char path[SWPATH_MAX];
	char **envp = child_env(cmd);
	pid_t pid;

	fflush(NULL);
	/* Close-on-exec from the start: the server's children need not hold the read end. */
#ifdef __linux__
	if (errfd && pipe2(fds, O_CLOEXEC) != 0)
		return -1;
#else
	if (errfd && (pipe(fds) != 0 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0))
		return -1;
#endif
	pid = SWFORK();
	if (pid < 0) {
		int saved = errno;
		if (errfd) {
			close(fds[0]);
			close(fds[1]);
		}
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		/* Its own process group: a terminal's ^C reaches switch only, which forwards it once. */
		setpgid(0, 0);
#ifdef __linux__
		/* Its own group keeps it from a terminal's signals; this keeps it from outliving switch. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
		if (errfd) {
			dup2(fds[1], 2);
			close(fds[0]);
			close(fds[1]);
		}
		if (swpath_which(cmd->argv[0], path, sizeof path) == 0)
			execve(path, cmd->argv, envp);
		int saved = errno;
		/* stderr is unbuffered, and switch has one thread: stdio is safe in the child. */
		swcmd_error("cannot run '%s': %s\n", cmd->argv[0], strerror(saved));
		_exit(saved == ENOENT ? 127 : 126);
	}
	setpgid(pid, pid);
	if (errfd) {
		close(fds[1]);
		*errfd = fds[0];
	}
	return pid;
}

static void
forward(int sig)
{
	if (launch_child > 0) {
		kill((pid_t)launch_child, sig);
		launch_forwarded = sig;
	}
}

void
launch_forward_signals(pid_t pid)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;

	launch_child = pid;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = pid > 0 ? forward : SIG_DFL;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

int
launch_signal_forwarded(void)
{
	return launch_forwarded;
}

int
launch_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 3;
}

int
launch_wait(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 3;
	return launch_exit_code(status);
}

int
launch_is_oom(const char *line)
{
	return swstr_contains(line, "CUDA out of memory") || swstr_contains(line, "OutOfMemoryError") ||
	    swstr_contains(line, "No available memory for the cache blocks") ||
	    swstr_contains(line, "larger than the maximum number of tokens that can be stored in KV cache");
}
