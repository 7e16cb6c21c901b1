#ifndef MODELC_FPROGRESS_H
#define MODELC_FPROGRESS_H

/*
 * What fetch tells people and scripts: a redrawn status line on a TTY (files, bytes, rate,
 * ETA), one line per event otherwise, or one JSON object per event with --json.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum fprogress_mode { FPROGRESS_TTY, FPROGRESS_LINES, FPROGRESS_JSON };

struct fprogress {
	enum fprogress_mode mode;
	FILE *out;                      /* events and the report */
	FILE *errs;                     /* error lines (stderr) */
	uint64_t bytes_total;           /* to download in this run */
	uint64_t bytes_done;
	unsigned files_total, files_done;
	double t0, last_draw;
	bool line_shown;
	const char *current;            /* a file being downloaded, for the status line */
	uint64_t current_done, current_size;
};

/* Start reporting to out (errors to errs) in mode. */
void fprogress_init(struct fprogress *p, enum fprogress_mode mode, FILE *out, FILE *errs);

/*
 * One event: kind is plan, skip, verify, start, resume, restart, retry, wait, done, corrupt,
 * fallback, error or report; role and file may be NULL; bytes is the event's byte count.
 * message is printf-formatted text for people (also the "message" of the JSON object); its
 * format is recorded (diag_record).
 */
void fprogress_event(struct fprogress *p, const char *kind, const char *role, const char *file,
    uint64_t bytes, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Count bytes received and redraw the TTY line at most ten times a second. */
void fprogress_bytes(struct fprogress *p, uint64_t n);

/* Remove the TTY line before the final report. */
void fprogress_finish(struct fprogress *p);

/* Monotonic seconds. */
double fprogress_now(void);

/* "1.5 GiB" style text into buf. */
const char *fprogress_size(uint64_t n, char *buf, size_t len);

#endif
