/* --vsock cid=N,socket=PATH: what a user gets back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "args_harness.h"

#define PARSE(...) parse_words((const char *[]){ "vmm", "--kernel", "Image", __VA_ARGS__, NULL })

static void expect_error(int r, const char *needle)
{
	assert_int_equal(r, -EINVAL);
	assert_err_contains(needle);
}

static void test_vsock_good(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--memory", "512M"), 0);
	assert_null(args.cfg.vsock.socket);		/* off by default */
	assert_int_equal(PARSE("--vsock", "cid=3,socket=/run/kata/clh.sock"), 0);
	assert_int_equal(args.cfg.vsock.cid, 3);
	assert_string_equal(args.cfg.vsock.socket, "/run/kata/clh.sock");
	/* Either order; the path runs to the end of the value, commas included. */
	assert_int_equal(PARSE("--vsock=socket=/tmp/a,b.sock"), -EINVAL);
	assert_int_equal(PARSE("--vsock=cid=4294967294,socket=/tmp/a,b.sock"), 0);
	assert_int_equal(args.cfg.vsock.cid, 4294967294ULL);
	assert_string_equal(args.cfg.vsock.socket, "/tmp/a,b.sock");
}

static void test_vsock_bad(void **state)
{
	(void)state;
	char longpath[200];

	expect_error(PARSE("--vsock", "cid=2,socket=/tmp/v"), "cid='2' must be a number from 3");
	expect_error(PARSE("--vsock", "cid=0,socket=/tmp/v"), "cid=");
	expect_error(PARSE("--vsock", "cid=4294967295,socket=/tmp/v"), "cid=");
	expect_error(PARSE("--vsock", "cid=18446744073709551619,socket=/tmp/v"), "cid=");
	expect_error(PARSE("--vsock", "cid=-3,socket=/tmp/v"), "cid=");
	expect_error(PARSE("--vsock", "cid=03,socket=/tmp/v"), "cid=");
	expect_error(PARSE("--vsock", "cid=,socket=/tmp/v"), "cid=");
	expect_error(PARSE("--vsock", "cid=3"), "both required");
	expect_error(PARSE("--vsock", "socket=/tmp/v"), "both required");
	expect_error(PARSE("--vsock", "cid=3,socket="), "both required");
	expect_error(PARSE("--vsock", "cid=3,port=5,socket=/tmp/v"), "unknown key");
	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "cid=3,socket=/", 14);
	longpath[sizeof(longpath) - 1] = 0;
	expect_error(PARSE("--vsock", longpath), "longer than");
	expect_error(PARSE("--vsock", "cid=3,socket=/a", "--vsock", "cid=4,socket=/b"), "only one");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vsock_good),
		cmocka_unit_test(test_vsock_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
