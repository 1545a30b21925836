/* The CONNECT line parser: good lines, partial lines, hostile lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/virtio/vsock_connect.h"

static int parse(const char *s, uint32_t *port, size_t *len)
{
	return vsock_connect_parse(s, strlen(s), port, len);
}

static void test_good(void **state)
{
	(void)state;
	uint32_t port = 0;
	size_t len = 0;

	assert_int_equal(parse("CONNECT 1024\n", &port, &len), 1);
	assert_int_equal(port, 1024);
	assert_int_equal(len, 13);
	assert_int_equal(parse("CONNECT 0\n", &port, &len), 1);
	assert_int_equal(port, 0);
	assert_int_equal(parse("CONNECT 4294967294\n", &port, &len), 1);
	assert_int_equal(port, 4294967294u);
	/* Stream data after the line is not part of it. */
	assert_int_equal(parse("CONNECT 52\nhello", &port, &len), 1);
	assert_int_equal(port, 52);
	assert_int_equal(len, 11);
}

static void test_partial(void **state)
{
	(void)state;
	uint32_t port;
	size_t len;
	const char *line = "CONNECT 1024\n";

	for (size_t n = 0; n < strlen(line); n++)
		assert_int_equal(vsock_connect_parse(line, n, &port, &len), 0);
}

static void test_hostile(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"X", "CONNECTX", "connect 1\n", "CONNECT\n", "CONNECT \n", "CONNECT  1\n",
		"CONNECT -1\n", "CONNECT +1\n", "CONNECT 1 \n", "CONNECT 1\r\n", "CONNECT 0x10\n",
		"CONNECT 01\n", "CONNECT 4294967295\n", "CONNECT 4294967296\n",
		"CONNECT 18446744073709551617\n", "CONNECT 123456789012345678901234567890",
		"CONNECT 1\0002\n", "OK 5\n", "GET / HTTP/1.1\r\n",
	};
	uint32_t port = 77;
	size_t len = 77;

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t n = strlen(bad[i]);
		if (i == 16)
			n = 12;		/* embedded NUL */
		assert_int_equal(vsock_connect_parse(bad[i], n, &port, &len), -EINVAL);
	}
	assert_int_equal(port, 77);
	assert_int_equal(len, 77);
	/* No '\n' within VSOCK_CONNECT_MAX bytes: refused, however it goes on. */
	char longl[64];
	memset(longl, '1', sizeof(longl));
	memcpy(longl, "CONNECT ", 8);
	assert_int_equal(vsock_connect_parse(longl, VSOCK_CONNECT_MAX, &port, &len), -EINVAL);
	/* Leading zeros padded to the limit. */
	memset(longl + 8, '0', 40);
	assert_int_equal(vsock_connect_parse(longl, 48, &port, &len), -EINVAL);
}

static void test_reply(void **state)
{
	(void)state;
	char out[24];
	assert_int_equal(vsock_connect_reply(out, sizeof(out), 1073741825u), 14);
	assert_string_equal(out, "OK 1073741825\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
