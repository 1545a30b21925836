/* Command line: what a user typing vmm options gets back (config or message). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "arch/arm64/layout.h"
#include "args_harness.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* Parse a NULL-terminated list of words as argv[1..]. */
#define PARSE(...) parse_words((const char *[]){ "vmm", __VA_ARGS__, NULL })

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--kernel", "Image"), 0);
	assert_string_equal(args.cfg.kernel, "Image");
	assert_int_equal(args.cfg.boot_cpus, 1);
	assert_int_equal(args.cfg.max_cpus, 1);
	assert_true(args.cfg.memory_bytes == 512 * MiB);
	assert_int_equal(args.cfg.boot_mode, BOOT_MODE_ACPI);
	assert_int_equal(args.cfg.console, CONSOLE_STDIO);
	assert_null(args.cfg.initrd);
	assert_null(args.cfg.cmdline);
	assert_null(args.cfg.api_socket);
	assert_null(args.cfg.dump_acpi_dir);
	assert_false(args.help);
	assert_false(args.version);
}

static void test_all_options(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--kernel", "/k/Image", "--initrd", "/k/initrd", "--cmdline", "quiet",
			       "--cpus", "boot=2,max=4", "--memory", "1G", "--boot", "fdt",
			       "--console", "file=/tmp/con.log", "--api-socket", "/run/vmm.sock"), 0);
	assert_string_equal(args.cfg.kernel, "/k/Image");
	assert_string_equal(args.cfg.initrd, "/k/initrd");
	assert_string_equal(args.cfg.cmdline, "quiet");
	assert_int_equal(args.cfg.boot_cpus, 2);
	assert_int_equal(args.cfg.max_cpus, 4);
	assert_true(args.cfg.memory_bytes == GiB);
	assert_int_equal(args.cfg.boot_mode, BOOT_MODE_FDT);
	assert_int_equal(args.cfg.console, CONSOLE_FILE);
	assert_string_equal(args.cfg.console_path, "/tmp/con.log");
	assert_string_equal(args.cfg.api_socket, "/run/vmm.sock");
}

static void test_equals_form(void **state)
{
	(void)state;
	/* Only the first '=' separates: the kernel command line keeps its own. */
	assert_int_equal(PARSE("--kernel=Image", "--cpus=boot=3,max=8", "--memory=256M",
			       "--cmdline=console=ttyAMA0 root=/dev/vda", "--boot=acpi", "--console=none"), 0);
	assert_string_equal(args.cfg.kernel, "Image");
	assert_int_equal(args.cfg.boot_cpus, 3);
	assert_int_equal(args.cfg.max_cpus, 8);
	assert_true(args.cfg.memory_bytes == 256 * MiB);
	assert_string_equal(args.cfg.cmdline, "console=ttyAMA0 root=/dev/vda");
	assert_int_equal(args.cfg.boot_mode, BOOT_MODE_ACPI);
	assert_int_equal(args.cfg.console, CONSOLE_NONE);
}

static void test_cpus_forms(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--kernel", "k", "--cpus", "3"), 0);
	assert_int_equal(args.cfg.boot_cpus, 3);
	assert_int_equal(args.cfg.max_cpus, 3);

	assert_int_equal(PARSE("--kernel", "k", "--cpus", "boot=2"), 0);
	assert_int_equal(args.cfg.boot_cpus, 2);
	assert_int_equal(args.cfg.max_cpus, 2);

	assert_int_equal(PARSE("--kernel", "k", "--cpus", "max=6,boot=1"), 0);
	assert_int_equal(args.cfg.boot_cpus, 1);
	assert_int_equal(args.cfg.max_cpus, 6);

	/* boot == max is allowed: no hotplug headroom. */
	assert_int_equal(PARSE("--kernel", "k", "--cpus", "boot=4,max=4"), 0);
	assert_int_equal(args.cfg.max_cpus, 4);
}

static void test_cpus_boot_larger_than_max(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--kernel", "k", "--cpus", "boot=4,max=2"), -EINVAL);
	assert_err_contains("boot (4) is larger than max (2)");
}

static void test_cpus_zero(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--kernel", "k", "--cpus", "boot=0,max=2"), -EINVAL);
	assert_err_contains("at least 1");
	assert_int_equal(PARSE("--kernel", "k", "--cpus", "0"), -EINVAL);
	assert_err_contains("at least 1");
}

static void test_cpus_max_limit(void **state)
{
	char ok[32], over[32];
	unsigned lim = cli_max_vcpus();

	(void)state;
	/* Without KVM to ask, the static limit: KVM's GICv3 limit, 512. */
	assert_int_equal(lim, 512);

	snprintf(ok, sizeof(ok), "boot=1,max=%u", lim);
	snprintf(over, sizeof(over), "boot=1,max=%u", lim + 1);
	assert_int_equal(PARSE("--kernel", "k", "--cpus", ok), 0);
	assert_int_equal(args.cfg.max_cpus, lim);
	assert_int_equal(PARSE("--kernel", "k", "--cpus", over), -EINVAL);
	assert_err_contains("beyond the limit");
	char num[16];
	snprintf(num, sizeof(num), "%u", lim);
	assert_err_contains(num);
}

static void test_cpus_bad_syntax(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--kernel", "k", "--cpus", "boot=2,cores=4"), -EINVAL);
	assert_err_contains("unknown key 'cores'");

	assert_int_equal(PARSE("--kernel", "k", "--cpus", "max=4"), -EINVAL);
	assert_err_contains("boot= is required");

	assert_int_equal(PARSE("--kernel", "k", "--cpus", "boot=two"), -EINVAL);
	assert_err_contains("not a number");

	assert_int_equal(PARSE("--kernel", "k", "--cpus", "boot=-1"), -EINVAL);
	assert_int_equal(PARSE("--kernel", "k", "--cpus", "boot=2,max"), -EINVAL);
	assert_err_contains("key=value");
	assert_int_equal(PARSE("--kernel", "k", "--cpus", "2x"), -EINVAL);
	assert_int_equal(PARSE("--kernel", "k", "--cpus", "boot=4294967296"), -EINVAL);
}

static void test_memory_sizes(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--kernel", "k", "--memory", "64M"), 0);
	assert_true(args.cfg.memory_bytes == 64 * MiB);
	assert_int_equal(PARSE("--kernel", "k", "--memory", "2G"), 0);
	assert_true(args.cfg.memory_bytes == 2 * GiB);
	assert_int_equal(PARSE("--kernel", "k", "--memory", "size=128M"), 0);
	assert_true(args.cfg.memory_bytes == 128 * MiB);
	assert_int_equal(PARSE("--kernel", "k", "--memory", "1T"), 0);
	assert_true(args.cfg.memory_bytes == 1024 * GiB);
	assert_int_equal(PARSE("--kernel", "k", "--memory", "134217728"), 0);
	assert_true(args.cfg.memory_bytes == 128 * MiB);

	assert_int_equal(PARSE("--kernel", "k", "--memory", "62M"), -EINVAL);
	assert_err_contains("between 64M and 1T");
	assert_int_equal(PARSE("--kernel", "k", "--memory", "65M"), -EINVAL);	/* not 2M aligned */
	assert_err_contains("multiple of 2M");
	assert_int_equal(PARSE("--kernel", "k", "--memory", "1026G"), -EINVAL);
	assert_int_equal(PARSE("--kernel", "k", "--memory", "lots"), -EINVAL);
	assert_err_contains("'lots' is not a size");
	assert_int_equal(PARSE("--kernel", "k", "--memory", "512Q"), -EINVAL);
}

static void test_missing_kernel(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--cpus", "2"), -EINVAL);
	assert_err_contains("--kernel is required");
	/* --dump-acpi needs no kernel. */
	assert_int_equal(PARSE("--dump-acpi", "/tmp/tables", "--cpus", "boot=1,max=4"), 0);
	assert_string_equal(args.cfg.dump_acpi_dir, "/tmp/tables");
	assert_null(args.cfg.kernel);
}

/* How Kata Containers starts a cloud-hypervisor binary: no kernel, the VM comes over the API. */
static void test_api_only_start(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--api-socket", "/run/clh-api.sock"), 0);
	assert_null(args.cfg.kernel);
	assert_string_equal(args.cfg.api_socket, "/run/clh-api.sock");
	assert_int_equal(args.cfg.verbosity, 0);
	assert_int_equal(PARSE("--api-socket", "/s", "-v", "--seccomp", "false"), 0);
	assert_int_equal(args.cfg.verbosity, 1);
	assert_true(args.seccomp_off);
	assert_int_equal(PARSE("--api-socket", "/s", "-vvv", "-v"), 0);
	assert_int_equal(args.cfg.verbosity, 4);
	assert_int_equal(PARSE("--api-socket=/s", "--seccomp=false"), 0);
	assert_true(args.seccomp_off);
	/* There is no filter to turn on. */
	assert_int_equal(PARSE("--api-socket", "/s", "--seccomp", "true"), -EINVAL);
	assert_err_contains("only 'false'");
	/* VM options without a kernel would be ignored: refused instead. */
	assert_int_equal(PARSE("--api-socket", "/s", "--cpus", "2"), -EINVAL);
	assert_err_contains("vm.create");
	assert_int_equal(PARSE("--api-socket", "/s", "-vx"), -EINVAL);
	/* With a kernel, -v and the API work as before. */
	assert_int_equal(PARSE("--kernel", "Image", "--api-socket", "/s", "-vv"), 0);
	assert_int_equal(args.cfg.verbosity, 2);
}

static void test_unknown_and_stray(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--kernel", "k", "--smp", "4"), -EINVAL);
	assert_err_contains("unknown option '--smp'");
	assert_int_equal(PARSE("--frobnicate=yes", "--kernel", "k"), -EINVAL);
	assert_err_contains("unknown option '--frobnicate'");
	assert_int_equal(PARSE("--kernel", "k", "--this-option-name-is-far-too-long-to-exist=1"), -EINVAL);
	assert_err_contains("unknown option");
	/* Last on the line: named as unknown, not as missing a value. */
	assert_int_equal(PARSE("--kernel", "k", "--verbose"), -EINVAL);
	assert_err_contains("unknown option '--verbose'");
	assert_int_equal(PARSE("--kernel", "k", "Image2"), -EINVAL);
	assert_err_contains("unexpected argument 'Image2'");
	assert_int_equal(PARSE("-k", "Image"), -EINVAL);
	assert_err_contains("'-k'");
}

static void test_missing_and_empty_values(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--cpus", "2", "--kernel"), -EINVAL);
	assert_err_contains("--kernel needs a value");
	assert_int_equal(PARSE("--kernel="), -EINVAL);
	assert_err_contains("--kernel: empty value");
	assert_int_equal(PARSE("--kernel", "k", "--initrd", ""), -EINVAL);
	assert_err_contains("--initrd: empty value");
}

static void test_boot_and_console_values(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--kernel", "k", "--boot", "uefi"), -EINVAL);
	assert_err_contains("expected acpi or fdt, got 'uefi'");
	assert_int_equal(PARSE("--kernel", "k", "--boot", "FDT"), -EINVAL);

	assert_int_equal(PARSE("--kernel", "k", "--console", "serial"), -EINVAL);
	assert_err_contains("--console");
	assert_err_contains("'serial'");
	assert_int_equal(PARSE("--kernel", "k", "--console", "file="), -EINVAL);
	assert_int_equal(PARSE("--kernel", "k", "--console", "file"), -EINVAL);

	assert_int_equal(PARSE("--kernel", "k", "--console", "stdio"), 0);
	assert_int_equal(args.cfg.console, CONSOLE_STDIO);
	assert_int_equal(PARSE("--kernel", "k", "--console", "none"), 0);
	assert_int_equal(args.cfg.console, CONSOLE_NONE);
}

static void test_help_version(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--help"), 0);
	assert_true(args.help);
	assert_int_equal(PARSE("-h"), 0);
	assert_true(args.help);
	/* Help wins over a missing --kernel and anything after it. */
	assert_int_equal(PARSE("--cpus", "2", "--help", "--bogus"), 0);
	assert_true(args.help);
	assert_int_equal(PARSE("--version"), 0);
	assert_true(args.version);
	assert_false(args.help);
	assert_int_equal(PARSE("-V"), 0);
	assert_true(args.version);
	/* ...but an error before it is still reported. */
	assert_int_equal(PARSE("--bogus", "1", "--help"), -EINVAL);
}

static void test_usage_mentions_limit(void **state)
{
	char buf[4096] = "", num[16];
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	assert_non_null(f);
	cli_usage(f);
	fclose(f);
	assert_non_null(strstr(buf, "--kernel"));
	assert_non_null(strstr(buf, "--cpus"));
	snprintf(num, sizeof(num), "at most %u", cli_max_vcpus());
	assert_non_null(strstr(buf, num));
}

static void test_parse_size(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(parse_size("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(parse_size("4096", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(parse_size("4K", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(parse_size("4k", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(parse_size("512M", &v), 0);
	assert_true(v == 512 * MiB);
	assert_int_equal(parse_size("3G", &v), 0);
	assert_true(v == 3 * GiB);
	assert_int_equal(parse_size("2T", &v), 0);
	assert_true(v == 2048 * GiB);
	assert_int_equal(parse_size("8KiB", &v), 0);
	assert_true(v == 8192);
	assert_int_equal(parse_size("16MiB", &v), 0);
	assert_true(v == 16 * MiB);
	assert_int_equal(parse_size("1GiB", &v), 0);
	assert_true(v == GiB);
	assert_int_equal(parse_size("1GB", &v), 0);
	assert_true(v == GiB);
	assert_int_equal(parse_size("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_size("17179869183G", &v), 0);
	assert_true(v == 17179869183ULL * GiB);
}

static void test_parse_size_bad(void **state)
{
	const char *bad[] = {
		"", "M", "-1", "+1", " 1", "1 ", "1X", "1Mx", "1KiBB", "1iB", "0x10", "1.5G",
		"18446744073709551616",		/* > UINT64_MAX */
		"17179869184G",			/* 2^34 GiB = 2^64 */
		"16777216T",			/* 2^24 TiB = 2^64 */
		"99999999999999999999999",
	};
	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 0xabcdULL;
		if (parse_size(bad[i], &v) != -EINVAL)
			fail_msg("parse_size(\"%s\") accepted", bad[i]);
		assert_true(v == 0xabcdULL);	/* untouched on error */
	}
	uint64_t v;
	assert_int_equal(parse_size(NULL, &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_equals_form),
		cmocka_unit_test(test_cpus_forms),
		cmocka_unit_test(test_cpus_boot_larger_than_max),
		cmocka_unit_test(test_cpus_zero),
		cmocka_unit_test(test_cpus_max_limit),
		cmocka_unit_test(test_cpus_bad_syntax),
		cmocka_unit_test(test_memory_sizes),
		cmocka_unit_test(test_missing_kernel),
		cmocka_unit_test(test_api_only_start),
		cmocka_unit_test(test_unknown_and_stray),
		cmocka_unit_test(test_missing_and_empty_values),
		cmocka_unit_test(test_boot_and_console_values),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_usage_mentions_limit),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_size_bad),
	};
	return cmocka_run_group_tests_name("cli_args", tests, NULL, NULL);
}
