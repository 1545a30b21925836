/* --rng: on by default from /dev/urandom, another source, or off. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include "args_harness.h"

#define PARSE(...) parse_words((const char *[]){ "vmm", "--kernel", "Image", __VA_ARGS__, NULL })

static void test_default_on(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--memory", "1G"), 0);
	assert_string_equal(args.cfg.rng_source, "/dev/urandom");
}

static void test_source(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--rng", "src=/dev/random"), 0);
	assert_string_equal(args.cfg.rng_source, "/dev/random");
	assert_int_equal(PARSE("--rng=src=/tmp/fifo"), 0);
	assert_string_equal(args.cfg.rng_source, "/tmp/fifo");
}

static void test_off_and_on(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--rng", "off"), 0);
	assert_null(args.cfg.rng_source);
	assert_int_equal(PARSE("--rng", "off", "--rng", "on"), 0);	/* the last one wins */
	assert_string_equal(args.cfg.rng_source, "/dev/urandom");
}

static void test_bad_values(void **state)
{
	static const char *const bad[] = { "yes", "src=", "source=/dev/urandom", "/dev/urandom" };
	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE("--rng", bad[i]), -EINVAL);
		assert_non_null(strstr(err, "--rng"));
	}
	assert_int_equal(PARSE("--rng"), -EINVAL);
	assert_non_null(strstr(err, "--rng needs a value"));
}

static void test_help_mentions_rng(void **state)
{
	char buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	(void)state;
	cli_usage(f);
	fclose(f);
	assert_non_null(strstr(buf, "--rng src=PATH|on|off"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_on),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_off_and_on),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_help_mentions_rng),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
