/* --net: what a user typing the option gets (the device configuration, or one clear message). */
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

static void test_no_net_by_default(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--cpus", "1"), 0);
	assert_int_equal(args.cfg.nr_net, 0);
}

static void test_tap_by_name(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--net", "tap=vmmtap0"), 0);
	assert_int_equal(args.cfg.nr_net, 1);
	assert_string_equal(args.cfg.net[0].tap, "vmmtap0");
	assert_int_equal(args.cfg.net[0].nfds, 0);
	assert_int_equal(args.cfg.net[0].pairs, 1);
	assert_false(args.cfg.net[0].have_mac);

	assert_int_equal(PARSE("--net=tap=t1,mac=52:54:00:AB:cd:01,num_queues=4"), 0);
	assert_int_equal(args.cfg.net[0].pairs, 2);
	assert_true(args.cfg.net[0].have_mac);
	assert_memory_equal(args.cfg.net[0].mac, ((uint8_t[]){ 0x52, 0x54, 0, 0xab, 0xcd, 1 }), 6);
}

static void test_fds_as_kata_passes_them(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--net", "fd=3", "--net", "fd=7,fd=8,mac=02:00:00:00:00:01"), 0);
	assert_int_equal(args.cfg.nr_net, 2);
	assert_int_equal(args.cfg.net[0].nfds, 1);
	assert_int_equal(args.cfg.net[0].fds[0], 3);
	assert_int_equal(args.cfg.net[0].pairs, 1);
	assert_string_equal(args.cfg.net[0].tap, "");
	assert_int_equal(args.cfg.net[1].nfds, 2);
	assert_int_equal(args.cfg.net[1].fds[1], 8);
	assert_int_equal(args.cfg.net[1].pairs, 2);
	/* num_queues agrees with the fds (Kata sends num_queues:2 with one fd). */
	assert_int_equal(PARSE("--net", "fd=3,num_queues=2"), 0);
	assert_int_equal(PARSE("--net", "fd=3,num_queues=4"), -EINVAL);
	assert_err_contains("num_queues=4 needs 2 fds, got 1");
}

static void test_bad_values(void **state)
{
	(void)state;
	static const struct { const char *v, *msg; } bad[] = {
		{ "tap=a,fd=3", "either tap=NAME or fd=N" },
		{ "mac=52:54:00:12:34:56", "either tap=NAME or fd=N" },
		{ "tap=averyveryverylongname", "not an interface name" },
		{ "tap=", "not an interface name" },
		{ "tap=a/b", "not an interface name" },
		{ "fd=-1", "not a file descriptor number" },
		{ "fd=3x", "not a file descriptor number" },
		{ "fd=1,fd=2,fd=3,fd=4,fd=5,fd=6,fd=7,fd=8", "at most 7 fds" },
		{ "tap=t,mac=52:54:00:12:34", "not a unicast MAC" },
		{ "tap=t,mac=01:00:5e:00:00:01", "not a unicast MAC" },
		{ "tap=t,mac=52:54:00:12:34:5g", "not a unicast MAC" },
		{ "tap=t,mac=52-54-00-12-34-56", "not a unicast MAC" },
		{ "tap=t,num_queues=3", "an even number from 2 to 14" },
		{ "tap=t,num_queues=0", "an even number" },
		{ "tap=t,num_queues=16", "an even number" },
		{ "tap=t,queues=2", "unknown key 'queues'" },
		{ "tap", "expected key=value" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (PARSE("--net", bad[i].v) != -EINVAL)
			fail_msg("--net %s accepted", bad[i].v);
		assert_err_contains("--net");
		assert_err_contains(bad[i].msg);
	}
	assert_int_equal(PARSE("--net", "tap=a", "--net", "tap=b", "--net", "tap=c", "--net", "tap=d",
			       "--net", "tap=e"), -EINVAL);
	assert_err_contains("at most 4 devices");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_net_by_default),
		cmocka_unit_test(test_tap_by_name),
		cmocka_unit_test(test_fds_as_kata_passes_them),
		cmocka_unit_test(test_bad_values),
	};
	return cmocka_run_group_tests_name("cli_args_net", tests, NULL, NULL);
}
