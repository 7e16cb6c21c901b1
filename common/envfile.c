#include "envfile.h"

#include <stdbool.h>
#include <string.h>

/* Names shells drop, read back differently, or that change how later programs behave. */
static const char *const reserved_keys[] = {
	"BASHOPTS", "BASHPID", "BASH_ALIASES", "BASH_ARGC", "BASH_ARGV", "BASH_ARGV0",
	"BASH_CMDS", "BASH_COMPAT", "BASH_LINENO", "BASH_SOURCE", "BASH_SUBSHELL",
	"BASH_VERSINFO", "BASH_XTRACEFD", "COMP_WORDBREAKS", "DIRSTACK", "EPOCHREALTIME",
	"EPOCHSECONDS", "EUID", "FUNCNAME", "GROUPS", "HISTCMD", "LINENO", "OPTIND",
	"PIPESTATUS", "PPID", "RANDOM", "SECONDS", "SHELLOPTS", "SHLVL", "SRANDOM", "UID", "_",
	"BASH_ENV", "BASH_LOADABLES_PATH", "CDPATH", "ENV", "FUNCNEST", "GLOBIGNORE",
	"HISTFILE", "IFS", "LD_AUDIT", "LD_LIBRARY_PATH", "LD_PRELOAD", "MAIL", "MAILCHECK",
	"MAILPATH", "OLDPWD", "PATH", "POSIXLY_CORRECT", "PROMPT_COMMAND", "PS0", "PS1",
	"PS2", "PS3", "PS4", "PWD", "SHELL", "TMOUT",
};

const char *
envfile_check_key(const char *key)
{
	if (!*key)
		return "is empty";
	if (!(key[0] == '_' || (key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z')))
		return "must start with a letter or '_'";
	for (const char *p = key; *p; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9')))
			return "may contain only letters, digits and '_'";
	for (size_t i = 0; i < sizeof reserved_keys / sizeof reserved_keys[0]; i++)
		if (strcmp(key, reserved_keys[i]) == 0)
			return "is a name reserved by the shell";
	return NULL;
}

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 when it is invalid. */
static size_t
utf8_sequence(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

const char *
envfile_check_value(const char *key, const char *value, size_t len)
{
	const unsigned char *s = (const unsigned char *)value;
	bool squote = false, special = false;

	if (strlen(key) + 1 + len + 2 > ENVFILE_MAX_ASSIGNMENT)
		return "is longer than 131071 bytes with its key (no child process could start)";
	for (size_t i = 0; i < len;) {
		if (s[i] == '\0')
			return "contains a NUL byte";
		if (s[i] == '\r')
			return "contains a carriage return";
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '{')
			return "contains '${', which python-dotenv expands even inside quotes";
		if (s[i] == '\\' && i + 1 < len && s[i + 1] == '\\')
			return "contains two backslashes in a row, which python-dotenv reads as one";
		if (s[i] == '\'')
			squote = true;
		if (s[i] == '"' || s[i] == '\\' || s[i] == '$' || s[i] == '`')
			special = true;
		size_t n = utf8_sequence(s + i, len - i);
		if (n == 0)
			return "is not valid UTF-8";
		i += n;
	}
	if (len > 0 && s[len - 1] == '\\')
		return "ends with a backslash, which python-dotenv joins with the next line";
	if (squote && special)
		return "mixes a single quote with '\"', '\\', '$' or '`', which no quoting reads the same everywhere";
	return NULL;
}

void
envfile_write(FILE *out, const char *prefix, const char *key, const char *value)
{
	char q = strchr(value, '\'') ? '"' : '\'';
	fprintf(out, "%s%s=%c%s%c\n", prefix ? prefix : "", key, q, value, q);
}
