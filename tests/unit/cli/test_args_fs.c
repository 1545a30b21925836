/* --memory shared=on and --fs: parsed values and clear errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include "args_harness.h"

#define PARSE(...) parse_words((const char *[]){ "vmm", "--kernel", "Image", __VA_ARGS__, NULL })
#define SHARED "--memory", "size=1G,shared=on"

static void test_memory_forms(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--memory", "512M"), 0);
	assert_true(args.cfg.memory_bytes == 512ULL << 20);
	assert_false(args.cfg.memory_shared);
	assert_int_equal(PARSE("--memory", "size=2G"), 0);
	assert_true(args.cfg.memory_bytes == 2ULL << 30);
	assert_int_equal(PARSE(SHARED), 0);
	assert_true(args.cfg.memory_bytes == 1ULL << 30);
	assert_true(args.cfg.memory_shared);
	assert_int_equal(PARSE("--memory", "shared=on,size=256M"), 0);
	assert_true(args.cfg.memory_bytes == 256ULL << 20 && args.cfg.memory_shared);
	assert_int_equal(PARSE("--memory", "size=1G,shared=off"), 0);
	assert_false(args.cfg.memory_shared);
}

static void test_memory_errors(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--memory", "size=1G,shared=yes"), -EINVAL);
	assert_non_null(strstr(err, "shared= expects on or off"));
	assert_int_equal(PARSE("--memory", "size=1G,huge=on"), -EINVAL);
	assert_non_null(strstr(err, "unknown key 'huge'"));
	assert_int_equal(PARSE("--memory", "size=lots"), -EINVAL);
	assert_non_null(strstr(err, "not a size"));
}

static void test_fs(void **state)
{
	(void)state;
	assert_int_equal(PARSE(SHARED, "--fs", "tag=kataShared,socket=/run/vfs.sock"), 0);
	assert_int_equal(args.cfg.nfs, 1);
	assert_string_equal(args.cfg.fs[0].tag, "kataShared");
	assert_string_equal(args.cfg.fs[0].socket, "/run/vfs.sock");
	assert_int_equal(args.cfg.fs[0].num_queues, 1);
	assert_int_equal(args.cfg.fs[0].queue_size, 1024);
	assert_int_equal(PARSE(SHARED, "--fs", "tag=a,socket=/a,num_queues=2,queue_size=256",
			       "--fs=socket=/b,tag=b"), 0);
	assert_int_equal(args.cfg.nfs, 2);
	assert_int_equal(args.cfg.fs[0].num_queues, 2);
	assert_int_equal(args.cfg.fs[0].queue_size, 256);
	assert_string_equal(args.cfg.fs[1].tag, "b");
	/* A 36-byte tag is the most the config space holds. */
	assert_int_equal(PARSE(SHARED, "--fs", "tag=abcdefghijklmnopqrstuvwxyz0123456789,socket=/s"), 0);
}

static void test_fs_needs_shared_memory(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--fs", "tag=a,socket=/s"), -EINVAL);
	assert_non_null(strstr(err, "--memory shared=on"));
	assert_int_equal(PARSE("--memory", "1G", "--fs", "tag=a,socket=/s"), -EINVAL);
}

static void test_fs_errors(void **state)
{
	(void)state;
	struct { const char *v, *msg; } bad[] = {
		{ "tag=a", "tag= and socket= are required" },
		{ "socket=/s", "tag= and socket= are required" },
		{ "tag=,socket=/s", "tag must be 1 to 36 bytes" },
		{ "tag=abcdefghijklmnopqrstuvwxyz0123456789X,socket=/s", "tag must be 1 to 36 bytes" },
		{ "tag=a,socket=/s,num_queues=0", "num_queues must be 1 to" },
		{ "tag=a,socket=/s,num_queues=99", "num_queues must be 1 to" },
		{ "tag=a,socket=/s,queue_size=1000", "queue_size must be a power of two" },
		{ "tag=a,socket=/s,queue_size=2048", "queue_size must be a power of two" },
		{ "tag=a,socket=/s,cache=always", "unknown key 'cache'" },
		{ "tag", "expected key=value" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE(SHARED, "--fs", bad[i].v), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("--fs %s: got '%s', expected '%s'", bad[i].v, err, bad[i].msg);
	}
	assert_int_equal(PARSE(SHARED, "--fs", "tag=a,socket=/s", "--fs", "tag=a,socket=/t"), -EINVAL);
	assert_non_null(strstr(err, "used twice"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_forms),
		cmocka_unit_test(test_memory_errors),
		cmocka_unit_test(test_fs),
		cmocka_unit_test(test_fs_needs_shared_memory),
		cmocka_unit_test(test_fs_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
