/*
 * Crafted Image headers and oversized files: placement refuses them with a
 * message naming the file, before a byte is written, and nothing outside
 * guest RAM is ever touched (RAM sits between guard zones that must stay
 * intact; on a refusal RAM itself stays untouched too).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arm64/layout.h"
#include "vmm/boot.h"
#include "vmm/vm.h"

#define MiB (1ULL << 20)
#define RAM (64 * MiB)
#define GUARD (4 * MiB)
#define FILL 0xa5

struct fixture {
	char dir[64], kernel[128], initrd[128];
	uint8_t *mem;		/* GUARD | RAM | GUARD */
	struct vm vm;
	char err[512];
};

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void write_image(const char *path, uint64_t text_offset, uint64_t image_size, size_t file_size)
{
	uint8_t *img = calloc(1, file_size);

	assert_non_null(img);
	for (size_t i = 64; i < file_size; i++)
		img[i] = (uint8_t)(i * 13 + 1);
	put_le64(img + 8, text_offset);
	put_le64(img + 16, image_size);
	put_le64(img + 24, 0xa);
	memcpy(img + 56, "ARM\x64", 4);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, file_size, f), file_size);
	assert_int_equal(fclose(f), 0);
	free(img);
}

/* A sparse file of that size. */
static void write_sized(const char *path, uint64_t size)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), (off_t)size), 0);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/vmm-place-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->kernel, sizeof(fx->kernel), "%s/Image", fx->dir);
	snprintf(fx->initrd, sizeof(fx->initrd), "%s/initrd", fx->dir);
	fx->mem = malloc(RAM + 2 * GUARD);
	assert_non_null(fx->mem);
	memset(fx->mem, FILL, GUARD);
	memset(fx->mem + GUARD, 0, RAM);
	memset(fx->mem + GUARD + RAM, FILL, GUARD);
	fx->vm.cfg = (struct vm_config){
		.boot_cpus = 1, .max_cpus = 2, .memory_bytes = RAM,
		.kernel = fx->kernel, .boot_mode = BOOT_MODE_ACPI, .console = CONSOLE_NONE,
	};
	fx->vm.ram = fx->mem + GUARD;
	fx->vm.ram_base = RAM_BASE;
	fx->vm.ram_size = RAM;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	unlink(fx->kernel);
	unlink(fx->initrd);
	rmdir(fx->dir);
	free(fx->mem);
	free(fx);
	return 0;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	uint8_t ref[4096];

	memset(ref, v, sizeof(ref));
	for (size_t at = 0; at < n; at += sizeof(ref)) {
		size_t k = n - at < sizeof(ref) ? n - at : sizeof(ref);
		if (memcmp(p + at, ref, k))
			return false;
	}
	return true;
}

static void assert_guards_intact(struct fixture *fx)
{
	assert_true(all_bytes(fx->mem, GUARD, FILL));
	assert_true(all_bytes(fx->mem + GUARD + RAM, GUARD, FILL));
}

/*
 * Both the early check (main: exit status 2) and the load refuse with -EFBIG
 * and a message naming what (e.g. "kernel /tmp/x/Image"), RAM untouched.
 */
static void assert_refused(struct fixture *fx, const char *what, const char *path, const char *fragment)
{
	char want[256];

	snprintf(want, sizeof(want), "%s %s", what, path);
	assert_int_equal(boot_check_files(&fx->vm.cfg, fx->err, sizeof(fx->err)), -EFBIG);
	assert_non_null(strstr(fx->err, want));
	assert_non_null(strstr(fx->err, fragment));
	fx->err[0] = 0;
	assert_int_equal(boot_prepare(&fx->vm, fx->err, sizeof(fx->err)), -EFBIG);
	assert_non_null(strstr(fx->err, want));
	assert_non_null(strstr(fx->err, fragment));
	assert_guards_intact(fx);
	assert_true(all_bytes(fx->vm.ram, RAM, 0));
}

static void test_huge_text_offset(void **state)
{
	struct fixture *fx = *state;

	write_image(fx->kernel, 0xffffffffffe00000ULL, 2 * MiB, 4096);
	assert_refused(fx, "kernel", fx->kernel, "at offset 0xffffffffffe00000");
	/* Just past what 64 MiB can hold: worth more --memory. */
	write_image(fx->kernel, RAM, 2 * MiB, 4096);
	assert_refused(fx, "kernel", fx->kernel, "give more --memory");
}

static void test_huge_image_size(void **state)
{
	struct fixture *fx = *state;

	write_image(fx->kernel, 0, 0xfffffffffffff000ULL, 4096);
	assert_refused(fx, "kernel", fx->kernel, "asks for 0xfffffffffffff000 bytes");
	assert_null(strstr(fx->err, "give more --memory"));	/* no RAM size would do */
}

static void test_wrap_around(void **state)
{
	struct fixture *fx = *state;

	/* text_offset + image_size wraps to 2 MiB: the old end check passed. */
	write_image(fx->kernel, 0x8000000000000000ULL, 0x8000000000200000ULL, 4096);
	assert_refused(fx, "kernel", fx->kernel, "does not fit");
	write_image(fx->kernel, 0xfffffffffffff000ULL, 0x2000, 4096);
	assert_refused(fx, "kernel", fx->kernel, "does not fit");
}

static void test_kernel_overlaps_firmware_area(void **state)
{
	struct fixture *fx = *state;

	/* Ends 1 MiB into the firmware area (the top 2 MiB of RAM). */
	write_image(fx->kernel, 0, RAM - FW_AREA_SIZE + MiB, 4096);
	assert_refused(fx, "kernel", fx->kernel, "firmware area starts at offset 0x3e00000");
	/* Exactly up to it fits, with no room left for an initrd. */
	write_image(fx->kernel, 0, RAM - FW_AREA_SIZE, 4096);
	assert_int_equal(boot_prepare(&fx->vm, fx->err, sizeof(fx->err)), 0);
	assert_true(fx->vm.boot.kernel_end == RAM_BASE + RAM - FW_AREA_SIZE);
	assert_guards_intact(fx);
}

static void test_kernel_file_larger_than_ram(void **state)
{
	struct fixture *fx = *state;

	/* image_size says 2 MiB, but the file itself is bigger than RAM. */
	write_image(fx->kernel, 0, 2 * MiB, 4096);
	write_sized(fx->kernel, RAM + MiB);
	/* The sparse tail erased the header: rewrite it. */
	FILE *f = fopen(fx->kernel, "r+b");
	uint8_t hdr[64] = { 0 };
	put_le64(hdr + 16, 2 * MiB);
	memcpy(hdr + 56, "ARM\x64", 4);
	assert_non_null(f);
	assert_int_equal(fwrite(hdr, 1, 64, f), 64);
	assert_int_equal(fclose(f), 0);
	assert_refused(fx, "kernel", fx->kernel, "give more --memory");
}

static void test_initrd_too_big(void **state)
{
	struct fixture *fx = *state;

	write_image(fx->kernel, 0, 16 * MiB, 4096);
	write_sized(fx->initrd, 60 * MiB);
	fx->vm.cfg.initrd = fx->initrd;
	assert_refused(fx, "initrd", fx->initrd, "(60 MiB) does not fit");
	assert_non_null(strstr(fx->err, "46 MiB are free"));

	/* A kernel ending right at the firmware area leaves none. */
	write_image(fx->kernel, 0, RAM - FW_AREA_SIZE, 4096);
	write_sized(fx->initrd, 4096);
	assert_refused(fx, "initrd", fx->initrd, "0 MiB are free");
}

static void test_fits(void **state)
{
	struct fixture *fx = *state;

	write_image(fx->kernel, 0x80000, 16 * MiB + 4096, 8192);
	write_sized(fx->initrd, 44 * MiB - 4096);
	fx->vm.cfg.initrd = fx->initrd;
	assert_int_equal(boot_check_files(&fx->vm.cfg, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(boot_prepare(&fx->vm, fx->err, sizeof(fx->err)), 0);
	const struct boot_info *b = &fx->vm.boot;
	assert_true(b->kernel_gpa == RAM_BASE + 0x80000);
	assert_true(b->entry == b->kernel_gpa);
	assert_true(b->kernel_end == b->kernel_gpa + 16 * MiB + 4096);
	assert_true(b->initrd_gpa == RAM_BASE + 18 * MiB);	/* next 2 MiB boundary */
	assert_true(b->initrd_end == RAM_BASE + 64 * MiB - FW_AREA_SIZE - 4096);
	assert_true(b->dtb_gpa == RAM_BASE + RAM - FW_AREA_SIZE);
	assert_int_equal(fx->vm.ram[0x80000 + 100], (uint8_t)(100 * 13 + 1));
	assert_guards_intact(fx);
}

static void test_legacy_image(void **state)
{
	struct fixture *fx = *state;
	struct boot_place p;
	struct boot_place_in in = {
		.ram_base = RAM_BASE, .ram_size = RAM, .kernel = "Image", .kernel_bytes = 10 * MiB,
		.img = { .text_offset = 0x80000, .image_size = 0 },
	};

	(void)fx;
	/* No image_size: the file rounded to a page plus 16 MiB. */
	assert_int_equal(boot_place(&in, &p, fx->err, sizeof(fx->err)), 0);
	assert_true(p.kernel_end == RAM_BASE + 0x80000 + 26 * MiB);
	in.kernel_bytes = UINT64_MAX - 100;	/* the rounding itself overflows */
	assert_int_equal(boot_place(&in, &p, fx->err, sizeof(fx->err)), -EFBIG);
	assert_non_null(strstr(fx->err, "kernel Image does not fit"));
	/* RAM smaller than the firmware area, not in 2 MiB units, or wrapping the address space. */
	in.kernel_bytes = 4096;
	in.ram_size = MiB;
	assert_int_equal(boot_place(&in, &p, fx->err, sizeof(fx->err)), -EINVAL);
	in.ram_size = RAM + 4096;
	assert_int_equal(boot_place(&in, &p, fx->err, sizeof(fx->err)), -EINVAL);
	in.ram_size = 0ULL - (2 * MiB);
	assert_int_equal(boot_place(&in, &p, fx->err, sizeof(fx->err)), -EINVAL);
}

static void test_cmdline_limit(void **state)
{
	struct fixture *fx = *state;
	char line[BOOT_CMDLINE_SIZE + 16];

	write_image(fx->kernel, 0, 4 * MiB, 4096);
	/* ACPI prepends "efi=noruntime ": 2047 - 14 bytes are left. */
	assert_int_equal(boot_cmdline_max(BOOT_MODE_ACPI), 2033);
	assert_int_equal(boot_cmdline_max(BOOT_MODE_FDT), 2047);
	memset(line, 'x', sizeof(line));
	line[2033] = 0;
	fx->vm.cfg.cmdline = line;
	assert_int_equal(boot_prepare(&fx->vm, fx->err, sizeof(fx->err)), 0);
	line[2033] = 'x';
	line[2034] = 0;
	assert_int_equal(boot_prepare(&fx->vm, fx->err, sizeof(fx->err)), -E2BIG);
	assert_non_null(strstr(fx->err, "--cmdline"));
	fx->vm.cfg.boot_mode = BOOT_MODE_FDT;
	assert_int_equal(boot_prepare(&fx->vm, fx->err, sizeof(fx->err)), 0);
	assert_guards_intact(fx);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_huge_text_offset),
		T(test_huge_image_size),
		T(test_wrap_around),
		T(test_kernel_overlaps_firmware_area),
		T(test_kernel_file_larger_than_ram),
		T(test_initrd_too_big),
		T(test_fits),
		T(test_legacy_image),
		T(test_cmdline_limit),
	};
	return cmocka_run_group_tests_name("core_boot_place", tests, NULL, NULL);
}
