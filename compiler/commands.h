#ifndef MODELC_COMMANDS_H
#define MODELC_COMMANDS_H

/*
 * modelc's subcommands. Each gets argv with argv[0] = its name and returns the process exit
 * code (STYLE.md: 0 ok, 1 input rejected, 2 usage, 3 system failure).
 */

int cmd_check(int argc, char **argv);    /* validate only, write nothing */
int cmd_build(int argc, char **argv);    /* compile models.yaml + models.lock into generated/ */
int cmd_explain(int argc, char **argv);  /* one role's budget for people */
int cmd_fit(int argc, char **argv);      /* the estimator for scripts, one JSON object */
int cmd_lock(int argc, char **argv);     /* resolve models.lock from the Hub */
int cmd_quantize(int argc, char **argv); /* plan a 4-bit quantization and write its script */
int cmd_adopt(int argc, char **argv);    /* validate a quantized directory and adopt it as a role */
int cmd_add(int argc, char **argv);      /* add a role: edit models.yaml, lock, build, show the fit */
int cmd_gpu(int argc, char **argv);      /* write the measured GPU into models.yaml */
int cmd_keygen(int argc, char **argv);   /* a minisign key pair */
int cmd_sign(int argc, char **argv);     /* sign models.lock, the manifests and SHA256SUMS */
int cmd_verify(int argc, char **argv);   /* check those signatures and the files they cover */

#endif
