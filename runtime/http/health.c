#define _DEFAULT_SOURCE
#include "health.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum { HEALTH_REQUEST_MAX = 4096 };

const char *
health_connect_host(const char *host)
{
	if (!host || !*host || strcmp(host, "0.0.0.0") == 0)
		return "127.0.0.1";
	if (strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0)
		return "::1";
	return host;
}

/* Parse a dotted-quad IPv4 address; 0 on success. */
static int
parse_v4(const char *s, struct in_addr *out)
{
	unsigned char b[4];
	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;
		for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
			v = v * 10 + (unsigned)(*s - '0');
		if (digits == 0 || digits > 3 || v > 255 || *s != (i < 3 ? '.' : '\0'))
			return -1;
		b[i] = (unsigned char)v;
		if (i < 3)
			s++;
	}
	memcpy(&out->s_addr, b, 4);
	return 0;
}

/*
 * Connect to a numeric IPv4 address, "::1" or "localhost": the servers switch starts listen on an address
 * it was given, and a resolver would add heap use and a third of switch's size.
 */
static int
connect_to(const char *host, unsigned port, int timeout_ms)
{
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr *sa;
	socklen_t len;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	const char *h = health_connect_host(host);
	int fd;

	if (strcmp(h, "localhost") == 0)
		h = "127.0.0.1";
	memset(&v4, 0, sizeof v4);
	memset(&v6, 0, sizeof v6);
	if (parse_v4(h, &v4.sin_addr) == 0) {
		v4.sin_family = AF_INET;
		v4.sin_port = htons((unsigned short)port);
		sa = (struct sockaddr *)&v4;
		len = sizeof v4;
	} else if (strcmp(h, "::1") == 0) {
		v6.sin6_addr = in6addr_loopback;
		v6.sin6_family = AF_INET6;
		v6.sin6_port = htons((unsigned short)port);
		sa = (struct sockaddr *)&v6;
		len = sizeof v6;
	} else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, sa, len) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* The status code of "HTTP/1.x NNN ..."; -1 when resp does not start with one. */
static int
status_of(const char *resp)
{
	if (strncmp(resp, "HTTP/1.", 7) != 0 || (resp[7] != '0' && resp[7] != '1') || resp[8] != ' ')
		return -1;
	int code = 0;
	for (int i = 9; i < 12; i++) {
		if (resp[i] < '0' || resp[i] > '9')
			return -1;
		code = code * 10 + (resp[i] - '0');
	}
	return code;
}

int
health_request(const char *host, unsigned port, const char *method, const char *path,
    const char *body, int timeout_ms, char *resp, size_t cap)
{
	char req[HEALTH_REQUEST_MAX];
	size_t len = 0;
	int n, fd, status;

	resp[0] = '\0';
	if (body)
		n = snprintf(req, sizeof req,
		    "%s %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s", method, path, health_connect_host(host), port, strlen(body), body);
	else
		n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\n\r\n",
		    method, path, health_connect_host(host), port);
	if (n < 0 || (size_t)n >= sizeof req) {
		errno = EMSGSIZE;
		return -1;
	}
	fd = connect_to(host, port, timeout_ms);
	if (fd < 0)
		return -1;
	for (size_t off = 0; off < (size_t)n;) {
		ssize_t w = send(fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		off += (size_t)w;
	}
	while (len + 1 < cap) {
		ssize_t r = recv(fd, resp + len, cap - 1 - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	resp[len] = '\0';
	close(fd);
	status = status_of(resp);
	if (status < 0)
		errno = EPROTO;
	return status;
}
