#ifndef MODELC_SWFOLDER_H
#define MODELC_SWFOLDER_H

/*
 * A model folder outside the catalog: config.json and at least one *.safetensors file, which
 * switch --set exports and switch serve serves as it is (no computed limits: vLLM decides).
 */

#include "swtable.h"

enum { SWFOLDER_CONFIG = 1, SWFOLDER_WEIGHTS = 2, SWFOLDER_MODEL = 3 };

/*
 * dir's absolute path into abs (SWTABLE_PATH_MAX bytes, no trailing '/'), and what it holds:
 * SWFOLDER_CONFIG | SWFOLDER_WEIGHTS; 0 when neither (or dir is not a folder).
 */
int swfolder_check(const char *dir, char *abs);

/* The warning that nothing was fitted for the folder abs, with how to size it. */
void swfolder_warn_unsized(const char *abs);

#endif
