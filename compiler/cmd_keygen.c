/*
 * modelc keygen: a minisign key pair. The secret key is encrypted with a passphrase exactly as
 * minisign -G does it (scrypt at minisign's limits), unless -W asks for an unencrypted one;
 * it is written with mode 0600, the public key beside it with 0644. Either file works with
 * minisign itself.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "diag.h"
#include "exitcode.h"
#include "fileio.h"
#include "msfile.h"
#include "mskey.h"
#include "passphrase.h"
#include "signset.h"

static const char usage_text[] =
    "usage: modelc keygen [-p PUBKEY] [-s SECKEY] [-W] [-f] [-c COMMENT]\n"
    "                     [--passphrase-file FILE | --passphrase-fd N]\n"
    "  -p, --public-key FILE   where to write the public key (default minisign.pub)\n"
    "  -s, --secret-key FILE   where to write the secret key (default ~/.minisign/minisign.key,\n"
    "                          or $MINISIGN_CONFIG_DIR/minisign.key)\n"
    "  -W, --unencrypted       do not encrypt the secret key (a key kept in a CI secret store)\n"
    "  -f, --force             replace key files that exist\n"
    "  -c, --comment TEXT      the secret key file's untrusted comment\n"
    "  --passphrase-file FILE  read the passphrase from FILE's first line (mode 0600)\n"
    "  --passphrase-fd N       read it from inherited descriptor N\n"
    "Without either, the passphrase is asked twice on the terminal, without echo.\n";

static int
keygen_usage(const char *fmt, const char *arg)
{
	return cli_usage_error("keygen", usage_text, fmt, arg);
}

/* Refuse to replace a file unless forced; 0 when path may be written. */
static int
check_absent(const char *path, bool force)
{
	struct stat st;
	if (force || lstat(path, &st) != 0)
		return 0;
	diag_print(stderr, "modelc: keygen: %s already exists; pass -f to replace it (what the old key signed will "
	    "not verify with the new one)\n", path);
	return -1;
}

/* Create the secret key's folder (one level, mode 0700) as minisign does; failures surface on write. */
static void
make_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return;
	char *dir = strndup(path, (size_t)(slash - path));
	if (dir && mkdir(dir, 0700) < 0 && errno != EEXIST)
		diag_print(stderr, "modelc: keygen: warning: cannot create %s: %s\n", dir, strerror(errno));
	free(dir);
}

int
cmd_keygen(int argc, char **argv)
{
	const char *pub_path = "minisign.pub", *comment = NULL, *sec_arg = NULL;
	char *sec_path = NULL;
	bool unencrypted = false, force = false;
	struct passphrase_opts po = {.source = PASSPHRASE_TTY};
	char err[1024];
	int rc = EXITCODE_REJECTED;
	const struct signset_option opts[] = {
		{"-W", "--unencrypted", NULL, &unencrypted}, {"-f", "--force", NULL, &force},
		{"-p", "--public-key", &pub_path, NULL}, {"-c", "--comment", &comment, NULL},
	};
	const struct signset_cmdline line = {"keygen", usage_text, opts, sizeof opts / sizeof opts[0],
	    NULL, NULL};
	int parsed = signset_parse(argc, argv, &line, &po, &sec_arg);
	if (parsed >= 0)
		return parsed;
	if (unencrypted && po.source != PASSPHRASE_TTY)
		return keygen_usage("%s", "-W writes an unencrypted key; a passphrase option makes no sense with it");
	if (comment && strpbrk(comment, "\r\n"))
		return keygen_usage("%s", "-c: the comment must be one line");
	sec_path = sec_arg ? strdup(sec_arg) : signset_default_secret_key();
	if (!sec_path)
		abort();
	if (mskey_init(err, sizeof err)) {
		diag_print(stderr, "modelc: keygen: %s\n", err);
		free(sec_path);
		return EXITCODE_SYSTEM;
	}
	if (check_absent(sec_path, force) || check_absent(pub_path, force)) {
		free(sec_path);
		return EXITCODE_REJECTED;
	}
	mskey_protect_process();
	struct mskey_secret *sk = mskey_secret_new();
	char *pass = NULL, *text = NULL;
	size_t passlen = 0, textlen = 0;
	struct mskey_public pk;
	if (!sk) {
		diag_print(stderr, "modelc: keygen: cannot allocate locked memory for the key\n");
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	mskey_secret_generate(sk, &pk);
	if (!unencrypted) {
		if (passphrase_read(&po, "Passphrase for the new key: ", true, &pass, &passlen, err, sizeof err)) {
			diag_print(stderr, "modelc: keygen: %s; nothing written\n", err);
			goto out;
		}
		if (passlen == 0) {
			diag_print(stderr, "modelc: keygen: an empty passphrase does not protect the key; give one, or "
			    "pass -W for an unencrypted key; nothing written\n");
			goto out;
		}
		bool lowered;
		if (mskey_secret_encrypt(sk, pass, passlen, &lowered, err, sizeof err)) {
			diag_print(stderr, "modelc: keygen: %s; nothing written\n", err);
			rc = EXITCODE_SYSTEM;
			goto out;
		}
		if (lowered)
			diag_print(stderr, "modelc: keygen: warning: not enough memory for minisign's scrypt limits; "
			    "the key was encrypted with lower ones\n");
	}
	if (!comment)
		comment = unencrypted ? "minisign unencrypted secret key" : "minisign encrypted secret key";
	if (mskey_secret_format(sk, comment, &text, &textlen)) {
		diag_print(stderr, "modelc: keygen: -c: the comment is too long for a minisign key file\n");
		goto out;
	}
	char pubtext[256], id[MSKEY_ID_HEX_LEN + 1], b64[MSKEY_PUBLIC_B64_LEN + 1];
	int pl = mskey_public_format(&pk, pubtext, sizeof pubtext);
	/* Checked again: the passphrase prompt may have taken a while. */
	if (pl < 0 || check_absent(sec_path, force) || check_absent(pub_path, force))
		goto out;
	make_parent(sec_path);
	if (fileio_write_atomic(sec_path, text, textlen, 0600, FILEIO_EXACT_MODE, err, sizeof err) ||
	    fileio_write_atomic(pub_path, pubtext, (size_t)pl, 0644, FILEIO_EXACT_MODE, err, sizeof err)) {
		diag_print(stderr, "modelc: keygen: %s\n", err);
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	mskey_id_hex(pk.id, id);
	mskey_public_b64(&pk, b64);
	printf("modelc: keygen: secret key %s (%s; keep it secret)\n", sec_path,
	    unencrypted ? "not encrypted" : "encrypted with the passphrase");
	printf("modelc: keygen: public key %s, key id %s\n", pub_path, id);
	printf("modelc: keygen: to trust it, add it to models.yaml:\ntrust:\n  - %s\n", b64);
	rc = EXITCODE_OK;
out:
	if (text)
		sodium_free(text);
	passphrase_free(pass);
	mskey_secret_free(sk);
	free(sec_path);
	return rc;
}
