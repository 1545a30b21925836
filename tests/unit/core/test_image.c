/* arm64 Image header: where the kernel goes and how much room it needs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include "arch/arm64/image.h"

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A header as the kernel's head.S lays it out (booting.rst). */
static void build_header(uint8_t hdr[64], uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	memset(hdr, 0, 64);
	hdr[0] = 0x4d;	/* "MZ" (EFI stub) code0 */
	hdr[1] = 0x5a;
	put_le64(hdr + 8, text_offset);
	put_le64(hdr + 16, image_size);
	put_le64(hdr + 24, flags);
	memcpy(hdr + 56, "ARM\x64", 4);
	memcpy(hdr + 60, "PE\0\0", 4);	/* res5: offset of the PE header in real kernels */
}

static void test_parse_modern(void **state)
{
	uint8_t hdr[64];
	struct arm64_image img;

	(void)state;
	/* flags 0xa: 4K pages, 2 MiB base anywhere; little-endian. */
	build_header(hdr, 0x80000, 0x1e30000, 0xa);
	assert_int_equal(arm64_image_parse(hdr, sizeof(hdr), &img), 0);
	assert_true(img.text_offset == 0x80000);
	assert_true(img.image_size == 0x1e30000);
	assert_true(img.flags == 0xa);

	build_header(hdr, 0, 0x2b10000, 0x2);
	assert_int_equal(arm64_image_parse(hdr, sizeof(hdr), &img), 0);
	assert_true(img.text_offset == 0);
	assert_true(img.image_size == 0x2b10000);
}

static void test_parse_longer_buffer(void **state)
{
	uint8_t buf[4096];
	struct arm64_image img;

	(void)state;
	memset(buf, 0xcc, sizeof(buf));
	build_header(buf, 0x200000, 0x100000, 0);
	assert_int_equal(arm64_image_parse(buf, sizeof(buf), &img), 0);
	assert_true(img.text_offset == 0x200000);
	assert_true(img.image_size == 0x100000);
}

static void test_parse_old_kernel(void **state)
{
	uint8_t hdr[64];
	struct arm64_image img;

	(void)state;
	/* Before v3.17: image_size 0, text_offset to be taken as 0x80000. */
	build_header(hdr, 0, 0, 0);
	assert_int_equal(arm64_image_parse(hdr, sizeof(hdr), &img), 0);
	assert_true(img.text_offset == 0x80000);
	assert_true(img.image_size == 0);
}

static void test_no_magic(void **state)
{
	uint8_t hdr[64];
	struct arm64_image img;

	(void)state;
	build_header(hdr, 0x80000, 0x100000, 0);
	memcpy(hdr + 56, "ARM\x65", 4);
	assert_int_equal(arm64_image_parse(hdr, sizeof(hdr), &img), -ENOEXEC);

	/* An ELF vmlinux instead of the Image. */
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, "\x7f" "ELF\x02\x01\x01", 7);
	assert_int_equal(arm64_image_parse(hdr, sizeof(hdr), &img), -ENOEXEC);

	/* The magic at the wrong offset. */
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr + 52, "ARM\x64", 4);
	assert_int_equal(arm64_image_parse(hdr, sizeof(hdr), &img), -ENOEXEC);
}

static void test_short_buffer(void **state)
{
	uint8_t hdr[64];
	struct arm64_image img;

	(void)state;
	build_header(hdr, 0x80000, 0x100000, 0);
	assert_int_equal(arm64_image_parse(hdr, 63, &img), -ENOEXEC);
	assert_int_equal(arm64_image_parse(hdr, 60, &img), -ENOEXEC);
	assert_int_equal(arm64_image_parse(hdr, 0, &img), -ENOEXEC);
	assert_int_equal(arm64_image_parse(hdr, 64, &img), 0);
}

static void test_big_endian(void **state)
{
	uint8_t hdr[64];
	struct arm64_image img;

	(void)state;
	build_header(hdr, 0x80000, 0x100000, 0x1 | 0xa);
	assert_int_equal(arm64_image_parse(hdr, sizeof(hdr), &img), -EINVAL);
	/* Other flag bits alone are fine. */
	build_header(hdr, 0x80000, 0x100000, 0xe);
	assert_int_equal(arm64_image_parse(hdr, sizeof(hdr), &img), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_modern),
		cmocka_unit_test(test_parse_longer_buffer),
		cmocka_unit_test(test_parse_old_kernel),
		cmocka_unit_test(test_no_magic),
		cmocka_unit_test(test_short_buffer),
		cmocka_unit_test(test_big_endian),
	};
	return cmocka_run_group_tests_name("core_image", tests, NULL, NULL);
}
