/* UEFI hand-off: parse the system table and memory map back, byte by byte. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include "arch/arm64/uefi.h"

#define BUF_GPA		0x40000000ULL
#define RSDP_GPA	0x40100000ULL
#define MMIO_RUNTIME_UC	((1ULL << 63) | 0x1)

static uint8_t buf[8192];

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Table-driven CRC-32, unlike the bitwise one under test. */
static uint32_t ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t table[256], crc = 0xffffffffu;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* Guest address -> our buffer. */
static const uint8_t *at(uint64_t gpa)
{
	assert_true(gpa >= BUF_GPA && gpa < BUF_GPA + sizeof(buf));
	return buf + (gpa - BUF_GPA);
}

static const struct uefi_mem_region regions[] = {
	/* deliberately out of order: the map comes back sorted */
	{ 0x40200000, 0x3fe00000, UEFI_MEM_CONVENTIONAL },
	{ 0x40000000, 0x00100000, UEFI_MEM_LOADER_DATA },
	{ 0x40100000, 0x00100000, UEFI_MEM_ACPI_RECLAIM },
	{ 0x09010000, 0x00001000, UEFI_MEM_MMIO },
	{ 0x09020000, 0x00001000, UEFI_MEM_MMIO },
};

static void build(struct uefi_handoff *h)
{
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, regions,
					    5, h), 0);
}

static void test_crc_reference(void **state)
{
	(void)state;
	assert_int_equal(ref_crc32((const uint8_t *)"123456789", 9), 0xcbf43926);
}

static void test_system_table(void **state)
{
	struct uefi_handoff h;
	uint8_t copy[120];
	const uint8_t *st;

	(void)state;
	build(&h);
	assert_int_equal(h.systab_gpa, BUF_GPA);
	st = at(h.systab_gpa);
	assert_memory_equal(st, "IBI SYST", 8);
	assert_int_equal(le64(st), 0x5453595320494249ULL);
	assert_int_equal(le32(st + 8), (2 << 16) | 70);
	assert_int_equal(le32(st + 12), 120);
	assert_int_equal(le32(st + 20), 0);

	memcpy(copy, st, sizeof(copy));
	memset(copy + 16, 0, 4);
	assert_int_equal(le32(st + 16), ref_crc32(copy, sizeof(copy)));

	/* FirmwareVendor: UTF-16 "vmm" */
	assert_memory_equal(at(le64(st + 24)), "v\0m\0m\0\0\0", 8);
	assert_int_not_equal(le32(st + 32), 0);
	/* Consoles, RuntimeServices, BootServices */
	for (unsigned off = 40; off <= 96; off += 8)
		assert_int_equal(le64(st + off), 0);
	assert_int_equal(le64(st + 104), 1);
	assert_int_equal(le64(st + 112) % 8, 0);
	assert_true(h.used <= sizeof(buf));
	assert_int_equal(buf[h.used], 0xa5);	/* nothing written past used */
}

static void test_config_table(void **state)
{
	static const uint8_t acpi20_guid[16] = {
		0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
		0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81,
	};
	struct uefi_handoff h;
	const uint8_t *ct;

	(void)state;
	build(&h);
	ct = at(le64(at(h.systab_gpa) + 112));
	/* Data1..3 little-endian: 0x8868e871, 0xe4f1, 0x11d3 */
	assert_int_equal(le32(ct), 0x8868e871);
	assert_memory_equal(ct, acpi20_guid, 16);
	assert_int_equal(le64(ct + 16), RSDP_GPA);
}

static void test_memory_map(void **state)
{
	static const struct { uint32_t type; uint64_t base, pages; } want[] = {
		{ 11, 0x09010000, 1 }, { 11, 0x09020000, 1 },
		{ 2, 0x40000000, 0x100 }, { 9, 0x40100000, 0x100 }, { 7, 0x40200000, 0x3fe00 },
	};
	struct uefi_handoff h;

	(void)state;
	build(&h);
	assert_int_equal(h.mmap_desc_size, 48);
	assert_int_equal(h.mmap_desc_ver, 1);
	assert_int_equal(h.mmap_size, 5 * 48);
	assert_int_equal(h.mmap_gpa % 8, 0);
	assert_true(h.mmap_gpa + h.mmap_size <= BUF_GPA + h.used);
	for (unsigned i = 0; i < 5; i++) {
		const uint8_t *d = at(h.mmap_gpa + 48ULL * i);
		uint64_t attr = le64(d + 32);

		assert_int_equal(le32(d), want[i].type);
		assert_int_equal(le32(d + 4), 0);
		assert_int_equal(le64(d + 8), want[i].base);
		assert_int_equal(le64(d + 16), 0);
		assert_int_equal(le64(d + 24), want[i].pages);
		if (want[i].type == 11) {
			assert_int_equal(attr, MMIO_RUNTIME_UC);
		} else {
			assert_int_equal(attr & 0x8, 0x8);		/* WB */
			assert_int_equal(attr & (1ULL << 63), 0);	/* not runtime */
		}
		assert_int_equal(le64(d + 40), 0);	/* padding to 48 */
	}
}

static void test_errors(void **state)
{
	struct uefi_handoff h;
	struct uefi_mem_region r[2] = {
		{ 0x40000000, 0x1000, UEFI_MEM_CONVENTIONAL },
		{ 0x40001000, 0x1000, UEFI_MEM_CONVENTIONAL },
	};
	size_t need;

	(void)state;
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, r, 2, &h), 0);
	need = h.used;
	assert_int_equal(uefi_build_handoff(buf, need, BUF_GPA, RSDP_GPA, r, 2, &h), 0);
	assert_int_equal(uefi_build_handoff(buf, need - 1, BUF_GPA, RSDP_GPA, r, 2, &h), -ENOSPC);
	assert_int_equal(uefi_build_handoff(buf, 0, BUF_GPA, RSDP_GPA, r, 2, &h), -ENOSPC);

	assert_int_equal(uefi_build_handoff(NULL, 64, BUF_GPA, RSDP_GPA, r, 2, &h), -EINVAL);
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, r, 2, NULL), -EINVAL);
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA + 4, RSDP_GPA, r, 2, &h), -EINVAL);
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, 0, r, 2, &h), -EINVAL);
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, r, 0, &h), -EINVAL);
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, NULL, 2, &h), -EINVAL);
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), ~0ULL - 7, RSDP_GPA, r, 2, &h), -EINVAL);

	r[1].base = 0x40000800;		/* misaligned base */
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, r, 2, &h), -EINVAL);
	r[1].base = 0x40001000;
	r[1].size = 0x800;		/* size not a page multiple */
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, r, 2, &h), -EINVAL);
	r[1].size = 0;			/* empty */
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, r, 2, &h), -EINVAL);
	r[1].size = 0x1000;
	r[1].base = 0x40000000;		/* overlap */
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, r, 2, &h), -EINVAL);
	r[1].base = 0x3ffff000;
	r[1].size = 0x2000;		/* overlap from below */
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, r, 2, &h), -EINVAL);
	r[1].base = ~0ULL - 0xfff;	/* wraps */
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, r, 2, &h), -EINVAL);
	r[1].base = 0x40001000;
	r[1].size = 0x1000;
	r[1].type = (enum uefi_mem_type)42;	/* unknown type */
	assert_int_equal(uefi_build_handoff(buf, sizeof(buf), BUF_GPA, RSDP_GPA, r, 2, &h), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_reference),
		cmocka_unit_test(test_system_table),
		cmocka_unit_test(test_config_table),
		cmocka_unit_test(test_memory_map),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
