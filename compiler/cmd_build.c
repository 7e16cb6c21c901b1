/*
 * modelc build: models.yaml + models.lock -> generated/. Every check runs first; when any
 * error was found nothing is written and the previous generated/ stays as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cliopt.h"
#include "commands.h"
#include "compile.h"
#include "exitcode.h"
#include "diag.h"
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

	static const struct option longopts[] = {
		{"help", 0, NULL, 'h'}, {"version", 0, NULL, 'V'}, {"lock", 1, NULL, 'l'}, {"json", 0, NULL, 'j'}, {NULL, 0, NULL, 0}};
	const char *arg;
	compile_args_init(&args);
	for (int c; (c = cliopt_next(argc, argv, "+:ho:", longopts, &arg)) != -1;) {
		switch (c) {
		case 'h': usage(stdout); return EXITCODE_OK;
		case 'V': printf("modelc %s\n", MODELC_VERSION); return EXITCODE_OK;
		case 'o': outdir = optarg; continue;
		case 'l': args.lock = optarg; continue;
		case 'j': json = true; continue;
		case 1:
			if (!args.catalog_set) {
				args.catalog = optarg;
				args.catalog_set = true;
				continue;
			}
			diag_print(stderr, "modelc: build: more than one catalog ('%s' and '%s')\n", args.catalog, arg);
			break;
		case ':': diag_print(stderr, "modelc: build: %s needs an argument\n", arg); break;
		default: diag_print(stderr, "modelc: build: unknown option '%s'\n", arg); break;
		}
		usage(stderr);
		return EXITCODE_USAGE;
	}

	struct compile_run run;
	int rc = compile_run(&run, &args, stderr);
	if (rc == 0 && outdir_write(&run.plan, outdir, &run.diag) != 0)
		rc = EXITCODE_SYSTEM;
	if (rc == 1)
		diag_print(stderr, "modelc: %u error%s; nothing written\n", run.diag.errors,
		    run.diag.errors == 1 ? "" : "s");
	if (json && rc != 3)
		compile_print_json(&run, stdout, rc == 0);
	compile_done(&run);
	return rc;
}
