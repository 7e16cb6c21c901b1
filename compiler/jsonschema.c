/*
 * Validation: walk a document against a loaded schema and collect every violation at its
 * node, then report them in document order. The keywords on scalars live in
 * jsonschema_scalar.c, loading in jsonschema_load.c.
 */
#include "jsonschema_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "suggest.h"

enum { JSCHEMA_MAX_KEY_SHOWN = 200 };

static void jschema_check(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct diag_pos anchor, struct jschema_errs *out);
static const char *jschema_required_hint(struct jschema_ctx *c, const json_t *props, const char *key);

/* Room for one more error in out: the array doubles (from 8) when full. */
static void
jschema_reserve(struct jschema_ctx *c, struct jschema_errs *out)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		struct jschema_err *v = arena_alloc(c->a, cap * sizeof *v);
		if (out->n)
			memcpy(v, out->v, out->n * sizeof *v);
		out->v = v;
		out->cap = cap;
	}
}

void
jschema_push(struct jschema_ctx *c, struct jschema_errs *out, struct diag_pos pos,
    const char *path, const char *msg)
{
	jschema_reserve(c, out);
	out->v[out->n].pos = pos;
	out->v[out->n].seq = c->seq++;
	out->v[out->n].msg = *path ? arena_printf(c->a, "%s: %s", path, msg) : msg;
	out->n++;
}

static void
jschema_append(struct jschema_ctx *c, struct jschema_errs *out, const struct jschema_errs *in)
{
	for (size_t i = 0; i < in->n; i++) {
		jschema_reserve(c, out);
		out->v[out->n++] = in->v[i];
	}
}

/* A key that can follow a '.': a letter or '_', then letters, digits or '_'. */
static bool
jschema_plain_key(const char *key)
{
	if (!((*key >= 'a' && *key <= 'z') || (*key >= 'A' && *key <= 'Z') || *key == '_'))
		return false;
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

const char *
jschema_path_key(struct arena *a, const char *path, const char *key)
{
	if (jschema_plain_key(key))
		return *path ? arena_printf(a, "%s.%s", path, key) : key;
	/* Anything else in brackets, as JSON would quote it: models["Qwen/Qwen2.5-7B@main"]. */
	size_t len = strlen(key), shown = len > JSCHEMA_MAX_KEY_SHOWN ? JSCHEMA_MAX_KEY_SHOWN : len;
	while (shown < len && shown > 0 && ((unsigned char)key[shown] & 0xc0) == 0x80)
		shown--;
	char *q = arena_alloc(a, shown * 4 + 4), *o = q;
	for (size_t i = 0; i < shown; i++) {
		unsigned char ch = (unsigned char)key[i];
		if (ch == '"' || ch == '\\' || ch == '\n' || ch == '\t') {
			*o++ = '\\';
			*o++ = ch == '\n' ? 'n' : ch == '\t' ? 't' : (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += sprintf(o, "\\x%02x", ch);
		} else {
			*o++ = (char)ch;
		}
	}
	if (shown < len)
		o += sprintf(o, "...");
	*o = '\0';
	return arena_printf(a, "%s[\"%s\"]", path, q);
}

/*
 * The bounds min_key and max_key set on count, the entries of a mapping or the items of a
 * sequence: one error for each bound broken, counting in one or many.
 */
static void
jschema_check_count(struct jschema_ctx *c, const json_t *schema, const char *min_key,
    const char *max_key, const char *one, const char *many, size_t count, const char *path,
    struct diag_pos anchor, struct jschema_errs *out)
{
	const json_t *v;

	if ((v = json_object_get(schema, min_key)) && count < (size_t)json_integer_value(v))
		jschema_push(c, out, anchor, path, arena_printf(c->a,
		    "must have at least %lld %s, found %zu", (long long)json_integer_value(v),
		    json_integer_value(v) == 1 ? one : many, count));
	if ((v = json_object_get(schema, max_key)) && count > (size_t)json_integer_value(v))
		jschema_push(c, out, anchor, path, arena_printf(c->a,
		    "must have at most %lld %s, found %zu", (long long)json_integer_value(v),
		    json_integer_value(v) == 1 ? one : many, count));
}

static void
jschema_check_object(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct diag_pos anchor, struct jschema_errs *out)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *pprops = json_object_get(schema, "patternProperties");
	const json_t *addl = json_object_get(schema, "additionalProperties");
	const json_t *names = json_object_get(schema, "propertyNames");
	const json_t *v;

	for (size_t i = 0; i < node->count; i++) {
		const char *key = node->keys[i];
		const struct ynode *val = node->items[i];
		const char *child = jschema_path_key(c->a, path, key);
		struct diag_pos kpos = node->key_pos[i];
		bool matched = false;

		if (names) {
			struct ynode kn = {.kind = YNODE_STRING, .pos = kpos, .text = key,
			    .text_len = strlen(key), .quoted = true};
			jschema_check(c, names, &kn, path, kpos, out);
		}
		const json_t *sub = props ? json_object_get(props, key) : NULL;
		if (sub) {
			matched = true;
			jschema_check(c, sub, val, child, kpos, out);
		}
		if (pprops) {
			const char *pk;
			json_t *psub;
			json_object_foreach((json_t *)pprops, pk, psub) {
				if (jschema_match(c->s, pk, key, strlen(key))) {
					matched = true;
					jschema_check(c, psub, val, child, kpos, out);
				}
			}
		}
		if (matched || !addl)
			continue;
		if (json_is_false(addl)) {
			const char *hint = "";
			if (props) {
				size_t n = json_object_size(props), k = 0;
				const char **cands = arena_alloc(c->a, (n + 1) * sizeof *cands);
				const char *pk;
				json_t *psub;
				json_object_foreach((json_t *)props, pk, psub)
					cands[k++] = pk;
				const char *best = suggest_best(key, cands, k);
				if (best)
					hint = arena_printf(c->a, " (did you mean '%s'?)", best);
			}
			jschema_push(c, out, kpos, path, arena_printf(c->a, "unknown key '%s'%s",
			    yamldoc_quote(c->a, key, strlen(key)), hint));
		} else {
			jschema_check(c, addl, val, child, kpos, out);
		}
	}
	if ((v = json_object_get(schema, "required"))) {
		size_t i;
		json_t *r;
		json_array_foreach(v, i, r)
			if (!yamldoc_get(node, json_string_value(r)))
				jschema_push(c, out, anchor, path, arena_printf(c->a, "missing required key '%s'%s",
				    json_string_value(r), jschema_required_hint(c, props, json_string_value(r))));
	}
	jschema_check_count(c, schema, "minProperties", "maxProperties", "entry", "entries", node->count,
	    path, anchor, out);
}

static void
jschema_check_array(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct diag_pos anchor, struct jschema_errs *out)
{
	const json_t *items = json_object_get(schema, "items");

	for (size_t i = 0; items && i < node->count; i++) {
		const char *child = arena_printf(c->a, "%s[%zu]", path, i);
		jschema_check(c, items, node->items[i], child, node->items[i]->pos, out);
	}
	jschema_check_count(c, schema, "minItems", "maxItems", "item", "items", node->count, path, anchor, out);
}

/* The schema a branch stands for once its $ref chain is followed. */
static const json_t *
jschema_deref(const struct jschema *s, const json_t *schema)
{
	for (int i = 0; i < JSCHEMA_MAX_REF_DEPTH && json_is_object(schema); i++) {
		const json_t *ref = json_object_get(schema, "$ref");
		if (!ref)
			break;
		schema = jschema_resolve(s->root, json_string_value(ref));
	}
	return schema;
}

/*
 * What to give for a missing required key: its schema's title, else its enum's values, so
 * that the message names the choices (quantization: 'none' for unquantized weights).
 */
static const char *
jschema_required_hint(struct jschema_ctx *c, const json_t *props, const char *key)
{
	const json_t *sub = props ? jschema_deref(c->s, json_object_get(props, key)) : NULL;
	if (!sub)
		return "";
	const char *title = jschema_title(sub);
	if (title)
		return arena_printf(c->a, ": give %s", title);
	const json_t *list = json_object_get(sub, "enum");
	if (!json_is_array(list) || !json_array_size(list))
		return "";
	const char *shown = "";
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		shown = arena_printf(c->a, "%s%s%s", shown, i ? ", " : "", jschema_value_text(c->a, v));
	return arena_printf(c->a, " (one of %s)", shown);
}

/* A branch that only says which keys must be present: {"required": ["repo"]}. */
static bool
jschema_required_only(const json_t *schema, const char **key)
{
	const char *k;
	json_t *v;
	const json_t *req = NULL;
	if (!json_is_object(schema))
		return false;
	json_object_foreach((json_t *)schema, k, v) {
		if (strcmp(k, "required") == 0)
			req = v;
		else if (jschema_keyword(k)->shape != KW_ANNOTATION)
			return false;
	}
	if (!req || json_array_size(req) != 1)
		return false;
	*key = json_string_value(json_array_get(req, 0));
	return true;
}

/*
 * anyOf and oneOf. Each branch is checked on its own; when none passes, the message tries to
 * say what was meant rather than listing every branch's complaint.
 */
static void
jschema_check_choice(struct jschema_ctx *c, const json_t *schema, const char *kw,
    const struct ynode *node, const char *path, struct diag_pos anchor, struct jschema_errs *out)
{
	const json_t *list = json_object_get(schema, kw);
	size_t n = json_array_size(list);
	struct jschema_errs *errs = arena_alloc(c->a, n * sizeof *errs);
	size_t passed = 0;

	for (size_t i = 0; i < n; i++) {
		jschema_check(c, json_array_get(list, i), node, path, anchor, &errs[i]);
		passed += errs[i].n == 0;
	}
	bool one = strcmp(kw, "oneOf") == 0;
	if (passed == 1 || (passed > 1 && !one))
		return;
	if (passed > 1) {
		const char *keys = "";
		bool all_required = true;
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			const char *key;
			if (errs[i].n)
				continue;
			if (!jschema_required_only(jschema_deref(c->s, json_array_get(list, i)), &key)) {
				all_required = false;
				break;
			}
			keys = arena_printf(c->a, "%s%s'%s'", keys, k++ ? " and " : "", key);
		}
		if (all_required)
			jschema_push(c, out, anchor, path, arena_printf(c->a,
			    "%s exclude each other; give only one", keys));
		else
			jschema_push(c, out, node->pos, path, "matches more than one of the allowed forms");
		return;
	}
	/* Every branch is "required: [one key]": name the keys that would each do
	 * (before the title: a titled object that lacks them is still an object). */
	const char *keys = "";
	bool all_required = true;
	for (size_t i = 0; i < n && all_required; i++) {
		const char *key;
		all_required = jschema_required_only(jschema_deref(c->s, json_array_get(list, i)), &key);
		if (all_required)
			keys = arena_printf(c->a, "%s%s'%s'", keys, i == 0 ? "" : i + 1 == n ? " or " : ", ", key);
	}
	if (all_required) {
		jschema_push(c, out, anchor, path, arena_printf(c->a, "missing required key %s", keys));
		return;
	}
	const char *title = jschema_title(schema);
	if (title) {
		if (node->kind == YNODE_SEQ || node->kind == YNODE_MAP)
			jschema_push(c, out, node->pos, path, arena_printf(c->a, "expected %s, found %s",
			    title, jschema_kind_word(c, node->kind)));
		else
			jschema_push(c, out, node->pos, path, arena_printf(c->a, "%s is not %s",
			    jschema_found(c, node), title));
		return;
	}
	/* Otherwise report the branch whose type fits the value and that has the fewest complaints. */
	size_t best = n;
	const char *types = "";
	for (size_t i = 0; i < n; i++) {
		const json_t *b = jschema_deref(c->s, json_array_get(list, i));
		const json_t *t = json_is_object(b) ? json_object_get(b, "type") : NULL;
		if (t && !jschema_type_ok(node, t)) {
			types = arena_printf(c->a, "%s%s%s", types, *types ? " or " : "",
			    jschema_types_text(c, t));
			continue;
		}
		if (best == n || errs[i].n < errs[best].n)
			best = i;
	}
	if (best < n) {
		jschema_append(c, out, &errs[best]);
		return;
	}
	jschema_push(c, out, node->pos, path, arena_printf(c->a, "expected %s, found %s", types,
	    jschema_describe(c, node)));
}

/* yes, no, on, off, y, n: booleans in YAML 1.1, plain strings in 1.2. */
static bool
jschema_yaml11_bool(const struct ynode *n)
{
	static const char *const words[] = {"yes", "no", "on", "off", "y", "n"};
	if (n->kind != YNODE_STRING || n->quoted)
		return false;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasecmp(n->text, words[i]) == 0)
			return true;
	return false;
}

static bool
jschema_allows(const json_t *type, const char *name)
{
	if (json_is_string(type))
		return strcmp(json_string_value(type), name) == 0;
	size_t i;
	json_t *t;
	json_array_foreach(type, i, t)
		if (strcmp(json_string_value(t), name) == 0)
			return true;
	return false;
}

/*
 * not: the value must fail sub. The message says what the value should be when the schema
 * has a title: the same words as its pattern's, so that the two complaints become one.
 */
static void
jschema_check_not(struct jschema_ctx *c, const json_t *schema, const json_t *sub,
    const struct ynode *node, const char *path, struct diag_pos anchor, struct jschema_errs *out)
{
	struct jschema_errs errs = {0};
	jschema_check(c, sub, node, path, anchor, &errs);
	if (errs.n)
		return;
	const char *title = jschema_title(schema);
	if (title && (node->kind == YNODE_SEQ || node->kind == YNODE_MAP))
		jschema_push(c, out, node->pos, path, arena_printf(c->a, "expected %s, found %s", title,
		    jschema_kind_word(c, node->kind)));
	else if (title)
		jschema_push(c, out, node->pos, path, arena_printf(c->a, "%s is not %s", jschema_found(c, node), title));
	else
		jschema_push(c, out, node->pos, path, arena_printf(c->a, "%s is not allowed here",
		    jschema_describe(c, node)));
}

static void
jschema_check(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct diag_pos anchor, struct jschema_errs *out)
{
	const json_t *v;

	if (json_is_true(schema))
		return;
	if (json_is_false(schema)) {
		jschema_push(c, out, node->pos, path, "no value is allowed here");
		return;
	}
	if (++c->depth > JSCHEMA_MAX_REF_DEPTH) {
		jschema_push(c, out, node->pos, path, "the schema refers to itself without end");
		c->depth--;
		return;
	}
	if ((v = json_object_get(schema, "$ref")))
		jschema_check(c, jschema_resolve(c->s->root, json_string_value(v)), node, path, anchor, out);
	if ((v = json_object_get(schema, "type")) && !jschema_type_ok(node, v)) {
		/* One clear complaint: the other keywords of this schema assume the right type. */
		const char *hint = "";
		if (jschema_yaml11_bool(node) && jschema_allows(v, "boolean"))
			hint = " (YAML 1.2 reads it as a string: write true or false)";
		jschema_push(c, out, node->pos, path, arena_printf(c->a, "expected %s, found %s%s",
		    jschema_types_text(c, v), jschema_describe(c, node), hint));
		c->depth--;
		return;
	}
	if ((v = json_object_get(schema, "const")) && !jschema_equal(v, node))
		jschema_push(c, out, node->pos, path, arena_printf(c->a, "must be '%s', found %s",
		    jschema_value_text(c->a, v), jschema_found(c, node)));
	if ((v = json_object_get(schema, "enum")))
		jschema_check_enum(c, v, node, path, out);
	if (node->kind == YNODE_STRING)
		jschema_check_string(c, schema, node, path, out);
	if (node->kind == YNODE_INT || node->kind == YNODE_FLOAT)
		jschema_check_number(c, schema, node, path, out);
	if (node->kind == YNODE_MAP)
		jschema_check_object(c, schema, node, path, anchor, out);
	if (node->kind == YNODE_SEQ)
		jschema_check_array(c, schema, node, path, anchor, out);
	if (json_object_get(schema, "anyOf"))
		jschema_check_choice(c, schema, "anyOf", node, path, anchor, out);
	if (json_object_get(schema, "oneOf"))
		jschema_check_choice(c, schema, "oneOf", node, path, anchor, out);
	if ((v = json_object_get(schema, "not")))
		jschema_check_not(c, schema, v, node, path, anchor, out);
	c->depth--;
}

static int
jschema_err_cmp_pos(const struct jschema_err *a, const struct jschema_err *b)
{
	if (a->pos.line != b->pos.line)
		return a->pos.line < b->pos.line ? -1 : 1;
	if (a->pos.col != b->pos.col)
		return a->pos.col < b->pos.col ? -1 : 1;
	return 0;
}

static int
jschema_err_cmp(const void *x, const void *y)
{
	const struct jschema_err *a = x, *b = y;
	int r = jschema_err_cmp_pos(a, b);
	return r ? r : a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sort out's errors into document order and report each once; returns how many were reported. */
static unsigned
jschema_report(struct arena *a, struct diag_sink *diag, const struct jschema_errs *errs)
{
	/* Ties keep the order they were found in. */
	struct jschema_err *sorted = arena_alloc(a, (errs->n + 1) * sizeof *sorted);
	if (errs->n)
		memcpy(sorted, errs->v, errs->n * sizeof *sorted);
	qsort(sorted, errs->n, sizeof *sorted, jschema_err_cmp);
	unsigned reported = 0;
	for (size_t i = 0; i < errs->n; i++) {
		/* Two keywords may say the same thing about one value (pattern and not, with one title). */
		bool seen = false;
		for (size_t k = i; k-- > 0 && !jschema_err_cmp_pos(&sorted[k], &sorted[i]) && !seen;)
			seen = strcmp(sorted[k].msg, sorted[i].msg) == 0;
		if (seen)
			continue;
		diag_error(diag, sorted[i].pos, "%s", sorted[i].msg);
		reported++;
	}
	return reported;
}

static unsigned
jschema_run(const struct jschema *s, struct arena *a, struct diag_sink *diag, const struct ynode *doc,
    bool json)
{
	struct jschema_ctx c = {s, a, json, 0, 0};
	struct jschema_errs errs = {0};
	jschema_check(&c, s->root, doc, "", doc->pos, &errs);
	return jschema_report(a, diag, &errs);
}

unsigned
jschema_validate(const struct jschema *s, struct arena *a, struct diag_sink *diag,
    const struct ynode *doc)
{
	return jschema_run(s, a, diag, doc, false);
}

unsigned
jschema_validate_json(const struct jschema *s, struct arena *a, struct diag_sink *diag,
    const struct ynode *doc)
{
	return jschema_run(s, a, diag, doc, true);
}
