#ifndef MODELC_EXITCODE_H
#define MODELC_EXITCODE_H

/*
 * The exit codes every program shares (STYLE.md): 0 ok; 1 the input was rejected (a bad
 * catalog, a hash mismatch, a model that does not fit); 2 usage; 3 a system failure (a file,
 * the network, memory). A launcher that waits for a server passes the server's status through
 * instead (128+N for signal N). Modules whose results become exit codes return these too.
 */

enum exitcode {
	EXITCODE_OK = 0,
	EXITCODE_REJECTED = 1,
	EXITCODE_USAGE = 2,
	EXITCODE_SYSTEM = 3
};

#endif
