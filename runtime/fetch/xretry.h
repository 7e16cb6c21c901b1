#ifndef MODELC_XRETRY_H
#define MODELC_XRETRY_H

/* The end of one hop of a job's transfer: follow, resume, retry, verify or fail (xfer.c's policy). */

#include <curl/curl.h>

#include "xfer.h"

/* Hop of job j ended with cc: act on the response (the job's state says what came). */
void xretry_completed(struct xfer *x, CURLM *multi, struct xfer_job *j, CURLcode cc);

/* Start job j's next hop (s->cur) on multi; the job fails when that cannot be set up. */
void xretry_restart_hop(struct xfer *x, CURLM *multi, struct xfer_job *j);

#endif
