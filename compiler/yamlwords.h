#ifndef MODELC_YAMLWORDS_H
#define MODELC_YAMLWORDS_H

/*
 * libyaml's syntax problems and contexts ("mapping values are not allowed in this context",
 * "while parsing a block mapping") in our words: what is wrong and how to fix it. A text that
 * is not known comes back unchanged.
 */
const char *yamlwords_problem(const char *problem);

/* "while parsing a block mapping" -> "the mapping that starts" (followed by " at LINE:COL"). */
const char *yamlwords_context(const char *context);

#endif
