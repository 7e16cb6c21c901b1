/*
 * modelc build: models.yaml + models.lock -> generated/. Every check runs first; when any
 * error was found nothing is written and the previous generated/ stays as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "compile.h"
#include "exitcode.h"
#include "outdir.h"

static void
usage(FILE *out)
{
	fputs("usage: modelc build [FILE] [-o DIR] [--lock FILE] [--json]\n"
	      "  FILE        the catalog (default models.yaml)\n"
	      "  -o DIR      where to write the outputs (default ./generated)\n"
	      "  --lock FILE the resolved facts (default models.lock next to FILE)\n"
	      "  --json      print a summary of the plan as one JSON object on stdout\n", out);
}

int
cmd_build(int argc, char **argv)
{
	struct compile_args args;
	const char *outdir = "generated";
	bool json = false;

	compile_args_init(&args);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			return EXITCODE_OK;
		} else if (strcmp(arg, "--version") == 0) {
			printf("modelc %s\n", MODELC_VERSION);
			return EXITCODE_OK;
		} else if (strcmp(arg, "-o") == 0 || strcmp(arg, "--lock") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "modelc: build: %s needs an argument\n", arg);
				usage(stderr);
				return EXITCODE_USAGE;
			}
			if (arg[1] == 'o')
				outdir = argv[++i];
			else
				args.lock = argv[++i];
		} else if (strcmp(arg, "--json") == 0) {
			json = true;
		} else if (arg[0] == '-' && arg[1]) {
			fprintf(stderr, "modelc: build: unknown option '%s'\n", arg);
			usage(stderr);
			return EXITCODE_USAGE;
		} else if (args.catalog_set) {
			fprintf(stderr, "modelc: build: more than one catalog ('%s' and '%s')\n", args.catalog, arg);
			usage(stderr);
			return EXITCODE_USAGE;
		} else {
			args.catalog = arg;
			args.catalog_set = true;
		}
	}

	struct compile_run run;
	int rc = compile_run(&run, &args, stderr);
	if (rc == 0 && outdir_write(&run.plan, outdir, &run.diag) != 0)
		rc = EXITCODE_SYSTEM;
	if (rc == 1)
		fprintf(stderr, "modelc: %u error%s; nothing written\n", run.diag.errors,
		    run.diag.errors == 1 ? "" : "s");
	if (json && rc != 3)
		compile_print_json(&run, stdout, rc == 0);
	compile_done(&run);
	return rc;
}
