#ifndef MODELC_PXAPI_H
#define MODELC_PXAPI_H

/*
 * The proxy's routes: what is answered by the proxy itself (/health, /v1/models, /running,
 * /load/ROLE, /unload/ROLE, /logs, /metrics, CORS preflight), what is forwarded (the OpenAI
 * routes by the body's "model", /upstream/ROLE/...), and what is refused (vLLM's development
 * routes, unknown paths, a missing API key).
 */

#include "px.h"

/* c's request is complete: answer it or forward it. */
void px_api_route(struct px_conn *c);

#endif
