/*
 * The console sink: guest lines reach the output whole, partial lines once
 * the guest is quiet; writers never block, even on a pipe nobody reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/console.h"

static void read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = 0;
	fclose(f);
}

static uint64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_line_buffered(void **state)
{
	char path[] = "/tmp/vmm-console-XXXXXX", err[128], out[4096];
	struct console c;
	(void)state;

	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(console_open(&c, CONSOLE_FILE, path, err, sizeof(err)), 0);

	/* Writers only queue: the file changes when the main loop drains. */
	console_write(&c, (const uint8_t *)"ab", 2);
	console_write(&c, (const uint8_t *)"c\nd", 3);
	read_file(path, out, sizeof(out));
	assert_string_equal(out, "");
	/* A complete line is waiting: the loop's kick fd says so. */
	char k;
	assert_int_equal(read(console_kick_fd(&c), &k, 1), 1);
	assert_false(console_drain(&c, false));
	read_file(path, out, sizeof(out));
	assert_string_equal(out, "abc\n");	/* the whole line, not the partial one */
	/* ...the partial one goes out once the guest has been quiet for a while. */
	usleep((CONSOLE_IDLE_MS + 20) * 1000);
	assert_false(console_drain(&c, false));
	read_file(path, out, sizeof(out));
	assert_string_equal(out, "abc\nd");

	/* A line longer than the old 1 KiB buffer is kept whole. */
	char big[1500];
	memset(big, 'x', sizeof(big));
	console_write(&c, (const uint8_t *)big, sizeof(big));
	console_close(&c);
	read_file(path, out, sizeof(out));
	assert_int_equal(strlen(out), 5 + sizeof(big));
	unlink(path);
}

static void test_bad_path(void **state)
{
	struct console c;
	char err[128];
	(void)state;
	assert_int_equal(console_open(&c, CONSOLE_FILE, "/nonexistent-dir/x", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-dir/x"));
}

struct writer {
	struct console *c;
	size_t total;
	uint64_t took_ms;
};

/* A guest writing 80-column lines as fast as it can. */
static void *write_lots(void *arg)
{
	struct writer *w = arg;
	char line[80];
	uint64_t t0 = ms_now();

	memset(line, 'g', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (size_t done = 0; done < w->total; done += sizeof(line))
		console_write(w->c, (const uint8_t *)line, sizeof(line));
	w->took_ms = ms_now() - t0;
	return NULL;
}

static void test_unread_pipe_never_blocks(void **state)
{
	struct console c;
	char err[128], path[64];
	int p[2];
	pthread_t th;
	(void)state;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_true(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	assert_int_equal(console_open(&c, CONSOLE_FILE, path, err, sizeof(err)), 0);

	/* 8 MiB from a "vCPU" while the "main loop" drains into a pipe nobody reads. */
	struct writer w = { .c = &c, .total = 8u << 20 };
	assert_int_equal(pthread_create(&th, NULL, write_lots, &w), 0);
	unsigned drains = 0, pending = 0;
	uint64_t worst = 0;
	for (uint64_t t0 = ms_now(); ms_now() - t0 < 200 || pthread_tryjoin_np(th, NULL); drains++) {
		uint64_t d0 = ms_now();
		pending += console_drain(&c, false);
		if (ms_now() - d0 > worst)
			worst = ms_now() - d0;
		assert_true(ms_now() - t0 < 20000);
	}
	assert_true(w.took_ms < 10000);		/* minutes if a write had blocked: never */
	assert_true(worst < 1000);		/* the loop never waits for the reader */
	assert_true(pending > 0);		/* it was told the output is full */

	/* What could not go anywhere was dropped, oldest first, and counted. */
	uint64_t total = 0, n = console_take_dropped(&c, &total);
	assert_true(n == total);
	assert_true(total >= (8u << 20) - CONSOLE_BUF_SIZE - 4096);
	assert_int_equal(console_take_dropped(&c, NULL), 0);	/* reported once */

	/* Closing waits a bounded time for the reader, then drops the rest. */
	uint64_t t0 = ms_now();
	console_close(&c);
	assert_true(ms_now() - t0 < CONSOLE_CLOSE_WAIT_MS + 500);
	/* The reader got a piece of the guest's output, in order: lines of 80. */
	char out[4096];
	ssize_t got = read(p[0], out, sizeof(out));
	assert_true(got >= 160);
	char *nl = memchr(out, '\n', 80);
	assert_non_null(nl);
	for (; nl + 80 < out + got; nl += 80)
		assert_int_equal(nl[80], '\n');
	close(p[0]);
	close(p[1]);
}

static void test_drop_oldest(void **state)
{
	struct console c;
	char err[128], path[64];
	int p[2];
	(void)state;

	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	assert_int_equal(console_open(&c, CONSOLE_FILE, path, err, sizeof(err)), 0);
	/* Two rings' worth, numbered: only the newest ring's worth is kept. */
	static char data[2 * CONSOLE_BUF_SIZE];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + (i / 1024) % 26);
	console_write(&c, (const uint8_t *)data, CONSOLE_BUF_SIZE + 100);
	console_write(&c, (const uint8_t *)data + CONSOLE_BUF_SIZE + 100, CONSOLE_BUF_SIZE - 100);
	uint64_t total;
	assert_int_equal(console_take_dropped(&c, &total), CONSOLE_BUF_SIZE);
	console_flush(&c);
	static char out[CONSOLE_BUF_SIZE + 1];
	ssize_t got = read(p[0], out, sizeof(out));
	assert_true(got > 0);
	assert_memory_equal(out, data + CONSOLE_BUF_SIZE, (size_t)got);
	console_close(&c);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_buffered),
		cmocka_unit_test(test_bad_path),
		cmocka_unit_test(test_unread_pipe_never_blocks),
		cmocka_unit_test(test_drop_oldest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
