#include "yamlwords.h"

#include <string.h>

/*
 * libyaml's problems (scanner.c, parser.c, reader.c) in the words of someone editing a catalog:
 * what is wrong at that spot and the usual fix. A problem not listed keeps libyaml's wording.
 */
static const struct {
	const char *libyaml;
	const char *ours;
} problems[] = {
	{"mapping values are not allowed in this context",
	    "a ':' followed by a space starts a new key here, where no key can start; quote the value "
	    "if it holds ': ' (why: 'a: b'), or indent the key like the keys beside it"},
	{"did not find expected key",
	    "this line is not indented like the keys of its mapping; line it up with the keys "
	    "beside it (spaces, not tabs)"},
	{"could not find expected ':'",
	    "a key without ':'; write 'key: value', and quote a value that spans several lines"},
	{"did not find expected node content", "a value is missing here; write one, or '' for empty text"},
	{"found character that cannot start any token",
	    "this character cannot start a value; YAML indents with spaces, not tabs, and a value "
	    "starting with '@' or '`' must be quoted"},
	{"found a tab character that violates indentation",
	    "a tab indents this line; YAML indents with spaces only"},
	{"found a tab character where an indentation space is expected",
	    "a tab indents this line; YAML indents with spaces only"},
	{"found unexpected end of stream",
	    "the file ends inside a quoted value or a [...] or {...} list; close it"},
	{"did not find expected ',' or ']'", "expected ',' or ']' in this [...] list"},
	{"did not find expected ',' or '}'", "expected ',' or '}' in this {...} mapping"},
	{"did not find expected '-' indicator",
	    "this line is not a '- ' entry of the list above it; indent it like the other entries"},
	{"block sequence entries are not allowed in this context",
	    "a '- ' list entry cannot start here; put the list on the lines under its key"},
	{"found unknown escape character",
	    "unknown escape in a \"...\" value; use '...' quotes, or write \\\\ for a backslash"},
	{"did not find expected <document start>",
	    "text after the end of the document; a catalog is one YAML mapping"},
	{"found unexpected ':'", "a ':' cannot be here; quote the value that holds it"},
	{"control characters are not allowed", "a control character; the file must be plain text"},
	{"invalid leading UTF-8 octet", "the file is not UTF-8 text"},
	{"invalid trailing UTF-8 octet", "the file is not UTF-8 text"},
	{"incomplete UTF-8 octet sequence", "the file is not UTF-8 text (a character is cut short)"},
};

static const struct {
	const char *libyaml;
	const char *ours;
} contexts[] = {
	{"while parsing a block mapping", "the mapping that starts"},
	{"while parsing a block collection", "the block that starts"},
	{"while parsing a flow sequence", "the [...] list that starts"},
	{"while parsing a flow mapping", "the {...} mapping that starts"},
	{"while scanning a simple key", "the key that starts"},
	{"while scanning a quoted scalar", "the quoted value that starts"},
	{"while scanning a plain scalar", "the value that starts"},
	{"while parsing a block node", "the value that starts"},
	{"while parsing a flow node", "the value that starts"},
	{"while scanning a block scalar", "the | or > text that starts"},
	{"while parsing a node", "the value that starts"},
	{"while parsing a quoted scalar", "the quoted value that starts"},
	{"while scanning for the next token", "the text that starts"},
};

const char *
yamlwords_problem(const char *problem)
{
	for (size_t i = 0; problem && i < sizeof problems / sizeof problems[0]; i++)
		if (strcmp(problem, problems[i].libyaml) == 0)
			return problems[i].ours;
	return problem;
}

const char *
yamlwords_context(const char *context)
{
	for (size_t i = 0; context && i < sizeof contexts / sizeof contexts[0]; i++)
		if (strcmp(context, contexts[i].libyaml) == 0)
			return contexts[i].ours;
	return context && strncmp(context, "while ", 6) == 0 ? "the text that starts" : context;
}
