#ifndef MODELC_FIT_H
#define MODELC_FIT_H

/*
 * modelc fit's two forms: --config PATH with every setting on the command line (cmd_fit.c),
 * and ORG/REPO[@REV] --gpu PROFILE|SIZE from the Hub with the catalog's server settings
 * (fit_hub.c). Both print the same JSON object with --json.
 */

#include <jansson.h>

#include "budget.h"

/* Both forms' usage text. */
extern const char fit_usage[];

/* The breakdown as modelc fit prints it (docs/budget.md): the contract for scripts. */
json_t *fit_result_json(const struct budget_result *r, const char *vllm_version);

/* Print o to stdout, indented, with a newline; 0, or 3 after a message when stdout fails. */
int fit_print_json(json_t *o);

/* modelc fit ORG/REPO[@REV] ...: argv[1] is the repo. */
int fit_hub(int argc, char **argv);

#endif
