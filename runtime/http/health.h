#ifndef MODELC_HEALTH_H
#define MODELC_HEALTH_H

/*
 * A minimal HTTP/1.1 client over POSIX sockets, enough to ask a local inference server for
 * GET /health and to send it one POST /v1/completions. One request per connection
 * ("Connection: close"); no TLS, no redirects, no chunked bodies needed for the status line.
 */

#include <stddef.h>

enum { HEALTH_RESPONSE_MAX = 8192 };

/*
 * Send method path (with body as JSON when not NULL) to host:port and read the answer into
 * resp (NUL-terminated, cut at cap). Returns the HTTP status, or -1 when no response came
 * (connection refused, timeout, malformed status line); errno tells why.
 */
int health_request(const char *host, unsigned port, const char *method, const char *path,
    const char *body, int timeout_ms, char *resp, size_t cap);

/* The address to connect to for a server bound to host: wildcard addresses become loopback.
 * Only numeric IPv4 addresses, "::1" and "localhost" are supported. */
const char *health_connect_host(const char *host);

#endif
