#include "repoid.h"

#include <string.h>

#include "errmsg.h"

static int
repoid_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* One part (the owner or the name) of n bytes; what names it in messages. */
static int
repoid_part(const char *s, size_t n, const char *what, char *why, size_t wn)
{
	if (n == 0)
		return errmsg_fail(why, wn, "the %s is empty", what);
	for (size_t i = 0; i < n; i++)
		if (!repoid_word(s[i]) && s[i] != '-' && s[i] != '.')
			return errmsg_fail(why, wn, "only letters, digits, '-', '_' and '.' are allowed");
	if (!repoid_word(s[0]) || !repoid_word(s[n - 1]))
		return errmsg_fail(why, wn, "the %s must start and end with a letter, digit or '_'", what);
	if (n > REPOID_MAX_PART)
		return errmsg_fail(why, wn, "the %s is longer than %d characters", what, REPOID_MAX_PART);
	return 0;
}

int
repoid_check(const char *id, char *why, size_t n)
{
	/* In validate_repo_id's order, so that the reason is the one the Hub's client would give. */
	const char *slash = strchr(id, '/');
	if (slash && strchr(slash + 1, '/'))
		return errmsg_fail(why, n, "has more than one '/'");
	if (slash && repoid_part(id, (size_t)(slash - id), "owner", why, n))
		return -1;
	if (repoid_part(slash ? slash + 1 : id, strlen(slash ? slash + 1 : id), "name", why, n))
		return -1;
	if (strstr(id, "--") || strstr(id, ".."))
		return errmsg_fail(why, n, "contains '%s'", strstr(id, "--") ? "--" : "..");
	size_t len = strlen(id);
	if (len >= 4 && strcmp(id + len - 4, ".git") == 0)
		return errmsg_fail(why, n, "ends with '.git'");
	return 0;
}
