#include "passphrase.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "errmsg.h"
#include "msfile.h"
#include "mskey.h"

enum {
	PASSPHRASE_MAX = MSKEY_PASSPHRASE_MAX - 2,  /* what minisign's fgets keeps besides "\n" and NUL */
	PASSPHRASE_FILE_MAX = 4096,
};

/* The terminal whose echo is off, so that a signal can turn it back on before dying. */
static int echo_fd = -1;
static struct termios echo_saved;
static const int echo_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void
echo_restore_and_die(int sig)
{
	if (echo_fd >= 0)
		tcsetattr(echo_fd, TCSAFLUSH, &echo_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Read one line from fd into buf (PASSPHRASE_MAX + 1 bytes), byte by byte so nothing past
 * the line is consumed. 0 with *len; -1 read error (errno), -2 too long, -3 nothing at all.
 */
static int
read_line(int fd, char *buf, size_t *len)
{
	size_t n = 0;
	bool any = false;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		any = true;
		if (c == '\n')
			break;
		if (n == PASSPHRASE_MAX) {
			sodium_memzero(&c, 1);
			return -2;
		}
		buf[n++] = c;
	}
	if (!any)
		return -3;
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return 0;
}

/* Prompt on the terminal and read a line with echo off; 0, or -1 with err. */
static int
tty_read(int tty, const char *prompt, char *buf, size_t *len, char *err, size_t errlen)
{
	struct termios t;
	if (tcgetattr(tty, &t) < 0)
		return errmsg_fail(err, errlen, "/dev/tty: %s", strerror(errno));
	echo_saved = t;
	echo_fd = tty;
	struct sigaction sa = {.sa_handler = echo_restore_and_die}, old[sizeof echo_signals / sizeof echo_signals[0]];
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof echo_signals / sizeof echo_signals[0]; i++)
		sigaction(echo_signals[i], &sa, &old[i]);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	t.c_lflag |= ICANON;
	int rc = 0;
	if (write(tty, prompt, strlen(prompt)) < 0 || tcsetattr(tty, TCSAFLUSH, &t) < 0)
		rc = errmsg_fail(err, errlen, "/dev/tty: %s", strerror(errno));
	int r = rc ? 0 : read_line(tty, buf, len);
	tcsetattr(tty, TCSAFLUSH, &echo_saved);
	echo_fd = -1;
	for (size_t i = 0; i < sizeof echo_signals / sizeof echo_signals[0]; i++)
		sigaction(echo_signals[i], &old[i], NULL);
	if (write(tty, "\n", 1) < 0)
		r = r ? r : -1;
	if (rc)
		return rc;
	if (r == -2)
		return errmsg_fail(err, errlen, "the passphrase is longer than %d bytes (minisign's limit)", PASSPHRASE_MAX);
	if (r == -3)
		return errmsg_fail(err, errlen, "no passphrase: the terminal closed");
	if (r < 0)
		return errmsg_fail(err, errlen, "/dev/tty: %s", strerror(errno));
	return 0;
}

static int
from_tty(const char *prompt, bool confirm, char *buf, size_t *len, char *err, size_t errlen)
{
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0)
		return errmsg_fail(err, errlen, "no terminal to read the passphrase from (/dev/tty: %s); pass "
		    "--passphrase-file FILE (mode 0600) or --passphrase-fd N", strerror(errno));
	int rc = tty_read(tty, prompt, buf, len, err, errlen);
	if (rc == 0 && confirm) {
		char *again = sodium_malloc(PASSPHRASE_MAX + 1);
		size_t alen = 0;
		if (!again)
			rc = errmsg_fail(err, errlen, "cannot allocate locked memory for the passphrase");
		else if ((rc = tty_read(tty, "Passphrase (again): ", again, &alen, err, errlen)) == 0 &&
		    (alen != *len || sodium_memcmp(again, buf, alen) != 0))
			rc = errmsg_fail(err, errlen, "the two passphrases differ");
		if (again)
			sodium_free(again);
	}
	close(tty);
	return rc;
}

static int
from_file(const char *path, char *buf, size_t *len, char *err, size_t errlen)
{
	char *text;
	size_t tl;
	if (msfile_read(path, PASSPHRASE_FILE_MAX, true, &text, &tl, err, errlen))
		return -1;
	const char *nl = memchr(text, '\n', tl);
	size_t l = nl ? (size_t)(nl - text) : tl;
	if (l && text[l - 1] == '\r')
		l--;
	int rc = 0;
	if (tl == 0)
		rc = errmsg_fail(err, errlen, "%s: empty: no passphrase in it", path);
	else if (l > PASSPHRASE_MAX)
		rc = errmsg_fail(err, errlen, "%s: the passphrase is longer than %d bytes (minisign's limit)", path,
		    PASSPHRASE_MAX);
	else if (memchr(text, '\0', l))
		rc = errmsg_fail(err, errlen, "%s: the passphrase holds a NUL byte", path);
	else {
		memcpy(buf, text, l);
		buf[l] = '\0';
		*len = l;
	}
	sodium_free(text);
	return rc;
}

static int
from_fd(int fd, char *buf, size_t *len, char *err, size_t errlen)
{
	if (fcntl(fd, F_GETFD) < 0)
		return errmsg_fail(err, errlen, "--passphrase-fd %d: the descriptor is not open", fd);
	int r = read_line(fd, buf, len);
	close(fd);
	if (r == -2)
		return errmsg_fail(err, errlen, "--passphrase-fd %d: the passphrase is longer than %d bytes (minisign's "
		    "limit)", fd, PASSPHRASE_MAX);
	if (r == -3)
		return errmsg_fail(err, errlen, "--passphrase-fd %d: no passphrase (the input ended at once)", fd);
	if (r < 0)
		return errmsg_fail(err, errlen, "--passphrase-fd %d: %s", fd, strerror(errno));
	if (memchr(buf, '\0', *len))
		return errmsg_fail(err, errlen, "--passphrase-fd %d: the passphrase holds a NUL byte", fd);
	return 0;
}

int
passphrase_read(const struct passphrase_opts *o, const char *prompt, bool confirm, char **out, size_t *len,
    char *err, size_t errlen)
{
	*out = NULL;
	*len = 0;
	mskey_protect_process();
	char *buf = sodium_malloc(PASSPHRASE_MAX + 1);
	if (!buf)
		return errmsg_fail(err, errlen, "cannot allocate locked memory for the passphrase");
	int rc;
	switch (o->source) {
	case PASSPHRASE_FILE:
		rc = from_file(o->file, buf, len, err, errlen);
		break;
	case PASSPHRASE_FD:
		rc = from_fd(o->fd, buf, len, err, errlen);
		break;
	default:
		rc = from_tty(prompt, confirm, buf, len, err, errlen);
		break;
	}
	if (rc) {
		sodium_free(buf);
		*len = 0;
		return -1;
	}
	*out = buf;
	return 0;
}

void
passphrase_free(char *p)
{
	if (p)
		sodium_free(p);
}

int
passphrase_option(int argc, char **argv, int *i, struct passphrase_opts *o, char *err, size_t errlen)
{
	const char *a = argv[*i];
	bool file = !strcmp(a, "--passphrase-file"), fd = !strcmp(a, "--passphrase-fd");
	if (!file && !fd)
		return 0;
	if (*i + 1 >= argc || !argv[*i + 1][0])
		return errmsg_fail(err, errlen, "%s needs %s", a, file ? "a file" : "a descriptor number");
	if (o->source != PASSPHRASE_TTY)
		return errmsg_fail(err, errlen, "--passphrase-file and --passphrase-fd may be given once, and not both");
	const char *v = argv[++*i];
	if (file) {
		o->source = PASSPHRASE_FILE;
		o->file = v;
		return 1;
	}
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno || n > 1 << 20)
		return errmsg_fail(err, errlen, "--passphrase-fd '%s' is not a descriptor number", v);
	o->source = PASSPHRASE_FD;
	o->fd = (int)n;
	return 1;
}
