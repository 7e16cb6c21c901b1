#ifndef MODELC_SWSTR_H
#define MODELC_SWSTR_H

/* Small string helpers for switch that keep libc's larger routines out of the static binary. */

/* Nonzero when needle occurs in hay (a plain scan: inputs here are short lines). */
int swstr_contains(const char *hay, const char *needle);

#endif
