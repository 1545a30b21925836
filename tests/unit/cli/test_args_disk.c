/* --disk: what a user typing disk options gets back (config or message). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "args_harness.h"

#define PARSE(...) parse_words((const char *[]){ "vmm", __VA_ARGS__, NULL })

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--kernel", "k"), 0);
	assert_int_equal(args.cfg.ndisks, 0);
	assert_int_equal(PARSE("--kernel", "k", "--disk", "path=/img/root.raw"), 0);
	assert_int_equal(args.cfg.ndisks, 1);
	const struct disk_config *d = &args.cfg.disks[0];
	assert_string_equal(d->path, "/img/root.raw");
	assert_false(d->read_only);
	assert_false(d->direct);
	assert_int_equal(d->num_queues, 0);	/* one per possible vCPU */
	assert_int_equal(d->queue_size, DISK_DEFAULT_QUEUE_SIZE);
	assert_string_equal(d->serial, "");
}

static void test_all_keys_repeatable(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--kernel", "k",
			       "--disk", "path=a.img,readonly=on,direct=on,num_queues=4,queue_size=128,serial=ROOT-0001",
			       "--disk=path=/dev/vdb,readonly=off,direct=off,num_queues=1,queue_size=1024"), 0);
	assert_int_equal(args.cfg.ndisks, 2);
	const struct disk_config *a = &args.cfg.disks[0], *b = &args.cfg.disks[1];
	assert_string_equal(a->path, "a.img");
	assert_true(a->read_only);
	assert_true(a->direct);
	assert_int_equal(a->num_queues, 4);
	assert_int_equal(a->queue_size, 128);
	assert_string_equal(a->serial, "ROOT-0001");
	assert_string_equal(b->path, "/dev/vdb");
	assert_false(b->read_only);
	assert_int_equal(b->num_queues, 1);
	assert_int_equal(b->queue_size, 1024);
	/* A serial of exactly 20 characters fits. */
	assert_int_equal(PARSE("--kernel", "k", "--disk", "serial=01234567890123456789,path=x"), 0);
	assert_string_equal(args.cfg.disks[0].serial, "01234567890123456789");
}

static void test_bad_values(void **state)
{
	static const struct { const char *arg, *msg; } bad[] = {
		{ "readonly=on", "path= is required" },
		{ "path=", "path= is required" },
		{ "path=a,readonly=yes", "readonly= expects on or off, got 'yes'" },
		{ "path=a,direct=1", "direct= expects on or off" },
		{ "path=a,num_queues=0", "num_queues='0' must be 1 to 16" },
		{ "path=a,num_queues=17", "must be 1 to 16" },
		{ "path=a,num_queues=-1", "num_queues='-1'" },
		{ "path=a,queue_size=100", "queue_size='100' must be a power of two" },
		{ "path=a,queue_size=2048", "power of two from 2 to 1024" },
		{ "path=a,queue_size=1", "power of two" },
		{ "path=a,serial=012345678901234567890", "longer than 20 characters" },
		{ "path=a,cache=none", "unknown key 'cache'" },
		{ "a.img", "expected key=value, got 'a.img'" },
	};
	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE("--kernel", "k", "--disk", bad[i].arg), -EINVAL);
		assert_err_contains(bad[i].msg);
	}
	assert_int_equal(PARSE("--kernel", "k", "--disk"), -EINVAL);
	assert_err_contains("--disk needs a value");
}

static void test_too_many(void **state)
{
	const char *words[2 + 2 * (VM_MAX_DISKS + 1) + 2] = { "vmm", "--kernel", "k" };
	int n = 3;
	(void)state;
	for (unsigned i = 0; i <= VM_MAX_DISKS; i++) {
		words[n++] = "--disk";
		words[n++] = "path=d.img";
	}
	words[n] = NULL;
	assert_int_equal(parse_words(words), -EINVAL);
	assert_err_contains("at most 8 disks");
	words[n - 2] = NULL;
	assert_int_equal(parse_words(words), 0);
	assert_int_equal(args.cfg.ndisks, VM_MAX_DISKS);
}

static void test_help(void **state)
{
	char buf[8192] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	(void)state;
	cli_usage(f);
	fclose(f);
	assert_non_null(strstr(buf, "--disk path=FILE[,readonly=on][,direct=on][,num_queues=N][,queue_size=N][,serial=ID]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys_repeatable),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
