/* modelc: compile a catalog of local models into settings, manifests and a VRAM budget. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "diag.h"
#include "exitcode.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"check", cmd_check, "validate models.yaml and models.lock; write nothing"},
	{"build", cmd_build, "write generated/: .env, manifests, budget report, model table"},
	{"explain", cmd_explain, "show how a role's VRAM budget was computed"},
	{"fit", cmd_fit, "estimate whether a model fits a GPU (JSON for scripts)"},
	{"lock", cmd_lock, "resolve models.lock from the Hugging Face Hub"},
	{"quantize", cmd_quantize, "plan a 4-bit quantization of a role and write its script"},
	{"add", cmd_add, "add a model as a role: edit models.yaml, lock, build, show the fit"},
	{"gpu", cmd_gpu, "write the measured GPU (switch gpu's output, or nvidia-smi) into models.yaml"},
	{"adopt", cmd_adopt, "validate a quantized directory and adopt it for a role"},
	{"keygen", cmd_keygen, "make a minisign key pair for signing builds"},
	{"sign", cmd_sign, "sign models.lock, every manifest and the list of generated files"},
	{"verify", cmd_verify, "check those signatures against the catalog's trusted keys"},
};

static void
usage(FILE *out)
{
	fputs("usage: modelc COMMAND [OPTIONS] [ARGS]\n\ncommands:\n", out);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'modelc COMMAND --help' describes each command.\n", out);
}

int
main(int argc, char **argv)
{
	diag_use_colour();
	if (argc < 2) {
		usage(stderr);
		return EXITCODE_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXITCODE_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("modelc %s\n", MODELC_VERSION);
		return EXITCODE_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	diag_print(stderr, "modelc: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXITCODE_USAGE;
}
