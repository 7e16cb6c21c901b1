#include "envfile.h"

#include <stdbool.h>
#include <string.h>

#include "utf8.h"

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

size_t
envfile_assignment_bytes(const char *key, size_t len)
{
	return strlen(key) + 1 + len + 2;
}

const char *
envfile_check_value(const char *key, const char *value, size_t len)
{
	const unsigned char *s = (const unsigned char *)value;
	bool squote = false, special = false;

	if (envfile_assignment_bytes(key, len) > ENVFILE_MAX_ASSIGNMENT)
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
		size_t n = utf8_decode((const char *)s + i, len - i, NULL);
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
