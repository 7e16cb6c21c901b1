#define _DEFAULT_SOURCE
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../runtime/fetch/sink.h"

void suite_sink(void);

/* Bytes in odd sizes, a chunk larger than a buffer, and a full ring: the file and the digest
 * must equal a straight write of the same bytes. */
static void
test_order(void)
{
	char path[] = "/tmp/sink-test-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	size_t total = 3 * SINK_BUF + 12345 + 2 * SINK_BUF + 7;
	unsigned char *data = malloc(total);
	for (size_t i = 0; i < total; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	struct digest dg, ref;
	CU_ASSERT_EQUAL_FATAL(digest_init(&dg, true, total), 0);
	CU_ASSERT_EQUAL_FATAL(digest_init(&ref, true, total), 0);
	digest_update(&ref, data, total);
	struct sink s;
	CU_ASSERT_EQUAL_FATAL(sink_start(&s, fd, &dg, NULL, NULL), 0);
	size_t sizes[] = {1, 16384, 999999, 3 * SINK_BUF / 2, 65536, 7, SINK_BUF, 2 * SINK_BUF + 5};
	size_t off = 0, k = 0;
	while (off < total) {
		size_t n = sizes[k++ % (sizeof sizes / sizeof sizes[0])];
		if (n > total - off)
			n = total - off;
		int r;
		while ((r = sink_put(&s, data + off, n, off)) == 0)
			usleep(1000);  /* full: what curl's pause would do */
		CU_ASSERT_EQUAL_FATAL(r, 1);
		off += n;
	}
	CU_ASSERT_EQUAL(sink_drain(&s), 0);
	sink_stop(&s);
	char a[65], b[65], a1[41], b1[41];
	digest_final(&dg, a, a1);
	digest_final(&ref, b, b1);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_STRING_EQUAL(a1, b1);
	digest_free(&dg);
	digest_free(&ref);
	unsigned char *back = malloc(total);
	CU_ASSERT_EQUAL(pread(fd, back, total, 0), (ssize_t)total);
	CU_ASSERT_EQUAL(memcmp(back, data, total), 0);
	free(back);
	free(data);
	close(fd);
	unlink(path);
}

static void
test_error(void)
{
	struct digest dg;
	CU_ASSERT_EQUAL_FATAL(digest_init(&dg, false, 0), 0);
	struct sink s;
	int fd = open("/dev/null", O_RDONLY);  /* writes fail with EBADF */
	CU_ASSERT_EQUAL_FATAL(sink_start(&s, fd, &dg, NULL, NULL), 0);
	char buf[SINK_BUF];
	memset(buf, 1, sizeof buf);
	CU_ASSERT_EQUAL(sink_put(&s, buf, sizeof buf, 0), 1);  /* queued: the worker writes */
	CU_ASSERT_EQUAL(sink_drain(&s), EBADF);
	CU_ASSERT_EQUAL(sink_put(&s, buf, 10, SINK_BUF), -1);
	sink_stop(&s);
	digest_free(&dg);
	close(fd);
}

/* A small put is only buffered: its write error shows at the drain. */
static void
test_error_at_drain(void)
{
	struct digest dg;
	CU_ASSERT_EQUAL_FATAL(digest_init(&dg, false, 0), 0);
	struct sink s;
	int fd = open("/dev/null", O_RDONLY);
	CU_ASSERT_EQUAL_FATAL(sink_start(&s, fd, &dg, NULL, NULL), 0);
	char buf[100] = {0};
	CU_ASSERT_EQUAL(sink_put(&s, buf, sizeof buf, 0), 1);
	CU_ASSERT_EQUAL(sink_drain(&s), EBADF);
	CU_ASSERT_EQUAL(sink_put(&s, buf, 10, sizeof buf), -1);
	sink_stop(&s);
	digest_free(&dg);
	close(fd);
}

/* The fsync runs on the worker after the queued bytes; a failed write shows in its result. */
static void
test_sync(void)
{
	char path[] = "/tmp/sink-test-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	int bad = open("/dev/null", O_RDONLY);
	for (int k = 0; k < 2; k++) {
		struct digest dg;
		CU_ASSERT_EQUAL_FATAL(digest_init(&dg, false, 0), 0);
		struct sink s;
		CU_ASSERT_EQUAL_FATAL(sink_start(&s, k ? bad : fd, &dg, NULL, NULL), 0);
		char buf[1000];
		memset(buf, 'x', sizeof buf);
		CU_ASSERT_EQUAL(sink_put(&s, buf, sizeof buf, 0), 1);
		sink_sync_start(&s);
		int e = -1, t;
		for (t = 0; t < 10000 && !sink_sync_done(&s, &e); t++)
			usleep(1000);
		CU_ASSERT(t < 10000);
		CU_ASSERT_EQUAL(e, k ? EBADF : 0);
		sink_stop(&s);
		digest_free(&dg);
	}
	struct stat st;
	CU_ASSERT(fstat(fd, &st) == 0 && st.st_size == 1000);
	close(bad);
	close(fd);
	unlink(path);
}

static pthread_mutex_t notify_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned notified;

static void
count_notify(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&notify_mu);
	notified++;
	pthread_mutex_unlock(&notify_mu);
}

static unsigned
notify_count(void)
{
	pthread_mutex_lock(&notify_mu);
	unsigned n = notified;
	pthread_mutex_unlock(&notify_mu);
	return n;
}

/* A full ring turns the producer away at once, and only a turned-away producer is woken. */
static void
test_notify_when_paused(void)
{
	char path[] = "/tmp/sink-test-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	struct digest dg;
	CU_ASSERT_EQUAL_FATAL(digest_init(&dg, false, 0), 0);
	struct sink s;
	notified = 0;
	CU_ASSERT_EQUAL_FATAL(sink_start(&s, fd, &dg, count_notify, NULL), 0);
	unsigned char *buf = calloc(1, SINK_BUF);
	unsigned turned = 0;
	uint64_t off = 0;
	for (int k = 0; k < 32; k++) {
		int r;
		while ((r = sink_put(&s, buf, SINK_BUF, off)) == 0) {
			turned++;
			unsigned before = notify_count();
			/* The worker must wake us once a buffer frees (bounded: 10 s). */
			for (int t = 0; t < 10000 && !sink_has_space(&s); t++)
				usleep(1000);
			CU_ASSERT(sink_has_space(&s));
			for (int t = 0; t < 10000 && notify_count() == before; t++)
				usleep(1000);
			CU_ASSERT(notify_count() > before);
		}
		CU_ASSERT_EQUAL_FATAL(r, 1);
		off += SINK_BUF;
	}
	CU_ASSERT_EQUAL(sink_drain(&s), 0);
	sink_stop(&s);
	CU_ASSERT(notify_count() <= turned);
	free(buf);
	digest_free(&dg);
	close(fd);
	unlink(path);
}

void
suite_sink(void)
{
	CU_pSuite s = CU_add_suite("sink", NULL, NULL);
	CU_add_test(s, "bytes arrive in order, hashed once", test_order);
	CU_add_test(s, "a failed write stops the sink", test_error);
	CU_add_test(s, "a buffered write's error shows at the drain", test_error_at_drain);
	CU_add_test(s, "fsync on the worker, after the queued bytes", test_sync);
	CU_add_test(s, "a full ring pauses at once; only a paused producer is woken", test_notify_when_paused);
}
