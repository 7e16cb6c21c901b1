#include "levers.h"

#include <string.h>

/* levers_compute's findings for people (explain) and scripts (explain --json). */

static const char *
gain(char *buf, size_t len, uint32_t fit, uint32_t now)
{
	if (fit > now)
		snprintf(buf, len, "+%u", fit - now);
	else if (fit < now)
		snprintf(buf, len, "-%u", now - fit);
	else
		snprintf(buf, len, "no change");
	return buf;
}

void
levers_print(FILE *out, const struct levers *l)
{
	char g[32];
	fprintf(out, "\n  levers: the largest context that fits with each change alone (now %u tokens", l->now);
	if (l->cap)
		fprintf(out, "; the model's limit is %u", l->cap);
	fputs(")\n", out);
	/* One column for the numbers, however long a change's label (a role's name is in one). */
	int width = 46;
	for (int k = 0; k < LEVER_COUNT; k++)
		if (l->one[k].change && (int)strlen(l->one[k].change) > width)
			width = (int)strlen(l->one[k].change);
	for (int k = 0; k < LEVER_COUNT; k++) {
		const struct lever *v = &l->one[k];
		if (v->applies)
			fprintf(out, "    %-*s %7u tokens (%s)\n", width, v->change, v->fit,
			    gain(g, sizeof g, v->fit, l->now));
		else
			fprintf(out, "    %-*s %7s        (%s)\n", width, v->change, "-", v->why_not);
	}
	if (!l->want)
		return;
	if (l->now >= l->want) {
		fprintf(out, "  %u tokens fit as configured; no change needed\n", l->want);
		return;
	}
	if (!l->reachable) {
		fprintf(out, "  %u tokens: no combination of these changes reaches it; the most is %u with all of them\n",
		    l->want, l->all_fit);
		return;
	}
	fprintf(out, "  to reach %u tokens: ", l->want);
	bool first = true;
	for (int k = 0; k < LEVER_COUNT; k++)
		if (l->set & (1u << k)) {
			fprintf(out, "%s%s", first ? "" : " and ", l->one[k].change);
			first = false;
		}
	fprintf(out, " (fits %u tokens)\n", l->set_fit);
}

json_t *
levers_json(const struct levers *l)
{
	json_t *o = json_object(), *list = json_array();
	json_object_set_new(o, "max_model_len_fit", json_integer(l->now));
	json_object_set_new(o, "want", l->want ? json_integer(l->want) : json_null());
	for (int k = 0; k < LEVER_COUNT; k++) {
		const struct lever *v = &l->one[k];
		json_t *e = json_object();
		json_object_set_new(e, "key", json_string(v->key));
		json_object_set_new(e, "value", json_string(v->value));
		json_object_set_new(e, "change", json_string(v->change));
		json_object_set_new(e, "applies", json_boolean(v->applies));
		json_object_set_new(e, "max_model_len_fit", v->applies ? json_integer(v->fit) : json_null());
		json_object_set_new(e, "why_not", v->applies ? json_null() : json_string(v->why_not));
		json_array_append_new(list, e);
	}
	json_object_set_new(o, "levers", list);
	if (l->want && l->now < l->want && l->reachable) {
		json_t *r = json_object(), *keys = json_array();
		for (int k = 0; k < LEVER_COUNT; k++)
			if (l->set & (1u << k))
				json_array_append_new(keys, json_string(l->one[k].key));
		json_object_set_new(r, "changes", keys);
		json_object_set_new(r, "max_model_len_fit", json_integer(l->set_fit));
		json_object_set_new(o, "reach", r);
	} else {
		json_object_set_new(o, "reach", json_null());
	}
	return o;
}
