#ifndef MODELC_PXDRY_H
#define MODELC_PXDRY_H

/* switch proxy --dry-run: the options, each role's serving settings, the together: groups with
 * each member's limits, and the eviction order; nothing is started. */
void px_dry_run(void);

#endif
