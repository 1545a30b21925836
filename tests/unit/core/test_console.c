/* The console sink: guest lines reach the terminal whole, partial lines on flush. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void test_line_buffered(void **state)
{
	char path[] = "/tmp/vmm-console-XXXXXX", err[128], out[2048];
	struct console c;
	(void)state;

	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(console_open(&c, CONSOLE_FILE, path, err, sizeof(err)), 0);

	console_write(&c, (const uint8_t *)"ab", 2);
	read_file(path, out, sizeof(out));
	assert_string_equal(out, "");		/* no line yet */
	console_write(&c, (const uint8_t *)"c\nd", 3);
	read_file(path, out, sizeof(out));
	assert_string_equal(out, "abc\n");	/* the whole line, not the partial one */
	/* The main loop's idle flush leaves a line the guest is still writing... */
	console_flush_idle(&c);
	read_file(path, out, sizeof(out));
	assert_string_equal(out, "abc\n");
	/* ...and writes it out once the guest has been quiet for a while. */
	usleep((CONSOLE_IDLE_MS + 20) * 1000);
	console_flush_idle(&c);
	read_file(path, out, sizeof(out));
	assert_string_equal(out, "abc\nd");

	/* A line longer than the buffer is written out, nothing is lost. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_buffered),
		cmocka_unit_test(test_bad_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
