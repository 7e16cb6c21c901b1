#include "suggest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { SUGGEST_MAX_LEN = 128, SUGGEST_MAX_DISTANCE = 3 };

size_t
suggest_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	/* Long strings are never typos of each other worth suggesting; keep the rows small. */
	if (n > SUGGEST_MAX_LEN || m > SUGGEST_MAX_LEN)
		return (size_t)-1;
	/* Three rows (i - 2, i - 1, i) of the table, on the stack: the proxy calls this in its threads. */
	size_t rows[3][SUGGEST_MAX_LEN + 1];
	for (size_t j = 0; j <= m; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		size_t *d = rows[i % 3], *up = rows[(i - 1) % 3], *up2 = rows[(i + 1) % 3];
		d[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = up[j] + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			if (up[j - 1] + cost < best)
				best = up[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && up2[j - 2] + 1 < best)
				best = up2[j - 2] + 1;
			d[j] = best;
		}
	}
	return rows[n % 3][m];
}

const char *
suggest_best(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	/* 'AWQ' for 'awq': a difference of case only is the likeliest slip of all. */
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(word, candidates[i]) == 0 && strcmp(word, candidates[i]) != 0)
			return candidates[i];
	for (size_t i = 0; i < n; i++) {
		size_t d = suggest_distance(word, candidates[i]);
		/* A third of the candidate's length, at least 1 and at most 3 edits, is a typo. */
		size_t limit = strlen(candidates[i]) / 3;
		if (limit < 1)
			limit = 1;
		if (limit > SUGGEST_MAX_DISTANCE)
			limit = SUGGEST_MAX_DISTANCE;
		if (d <= limit && d < best_d && d > 0) {
			best = candidates[i];
			best_d = d;
		}
	}
	/* "rtx3070" for "rtx3070-8gb": a clear start of one candidate is worth naming too. */
	size_t len = strlen(word);
	for (size_t i = 0; !best && len >= 3 && i < n; i++)
		if (strncmp(candidates[i], word, len) == 0 && candidates[i][len] != '\0')
			best = candidates[i];
	return best;
}
