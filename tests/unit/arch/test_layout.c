/* The computed guest physical address map: redistributor regions and IPA size. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "arch/arm64/layout.h"

/* Every vCPU's 128 KiB, in order, inside the windows and clear of the devices. */
static void check_regions(unsigned nr, unsigned expect_regions)
{
	struct gic_redist_region rd[GIC_REDIST_MAX_REGIONS];
	unsigned n = layout_redist_regions(nr, rd), total = 0;

	assert_int_equal(n, expect_regions);
	for (unsigned i = 0; i < n; i++) {
		uint64_t end = rd[i].base + (uint64_t)rd[i].count * GIC_REDIST_STRIDE;
		assert_true(rd[i].count > 0);
		assert_int_equal(rd[i].base % 0x10000, 0);
		/* Not overlapping the distributor, the devices or RAM. */
		assert_true(rd[i].base >= GIC_DIST_BASE + GIC_DIST_SIZE);
		assert_true(end <= UART_BASE || rd[i].base >= CPUHP_BASE + CPUHP_SIZE);
		assert_true(end <= RAM_BASE);
		/* Regions never touch: each one's last redistributor says it is the last. */
		for (unsigned j = 0; j < i; j++) {
			uint64_t e2 = rd[j].base + (uint64_t)rd[j].count * GIC_REDIST_STRIDE;
			assert_true(end < rd[j].base || rd[i].base > e2);
		}
		total += rd[i].count;
	}
	assert_int_equal(total, nr);
}

static void test_redist_boundaries(void **state)
{
	struct gic_redist_region rd[GIC_REDIST_MAX_REGIONS];

	(void)state;
	check_regions(1, 1);
	check_regions(122, 1);
	check_regions(123, 1);
	check_regions(124, 2);
	check_regions(256, 2);
	check_regions(512, 2);

	/* 123 fill the first window exactly; the 124th starts the second. */
	assert_int_equal(layout_redist_regions(123, rd), 1);
	assert_true(rd[0].base == GIC_REDIST_BASE);
	assert_int_equal(rd[0].count, 123);
	assert_true(rd[0].base + 123 * GIC_REDIST_STRIDE == GIC_REDIST_LIMIT);
	assert_int_equal(layout_redist_regions(124, rd), 2);
	assert_int_equal(rd[0].count, 123);
	assert_true(rd[1].base == GIC_REDIST2_BASE);
	assert_int_equal(rd[1].count, 1);
	assert_int_equal(layout_redist_regions(256, rd), 2);
	assert_int_equal(rd[1].count, 133);
	assert_int_equal(layout_redist_regions(512, rd), 2);
	assert_int_equal(rd[1].count, 389);
	assert_true(rd[1].base + 389 * GIC_REDIST_STRIDE <= GIC_REDIST2_LIMIT);

	/* Nothing to place, or more than the limit. */
	assert_int_equal(layout_redist_regions(0, rd), 0);
	assert_int_equal(layout_redist_regions(LAYOUT_MAX_VCPUS + 1, rd), 0);
	assert_int_equal(layout_redist_regions(~0u, rd), 0);
}

static void test_ipa_bits(void **state)
{
	(void)state;
	/* RAM from 1 GiB: 64 MiB fits 32 bits (KVM's minimum), 3 GiB needs exactly 32. */
	assert_int_equal(layout_ipa_bits(64ULL << 20), 32);
	assert_int_equal(layout_ipa_bits(3ULL << 30), 32);
	assert_int_equal(layout_ipa_bits((3ULL << 30) + (2ULL << 20)), 33);
	assert_int_equal(layout_ipa_bits((1ULL << 40) - RAM_BASE), 40);
	assert_int_equal(layout_ipa_bits(1ULL << 40), 41);
	assert_int_equal(layout_ipa_bits(UINT64_MAX), 64);

	/* layout_max_ram is the inverse: the most RAM that still fits. */
	for (unsigned bits = 32; bits < 52; bits++) {
		uint64_t max = layout_max_ram(bits);
		assert_int_equal(layout_ipa_bits(max), bits);
		assert_int_equal(layout_ipa_bits(max + (2ULL << 20)), bits + 1);
	}
	assert_true(layout_max_ram(40) == (1ULL << 40) - RAM_BASE);
	assert_true(layout_max_ram(30) == 0);
	assert_true(layout_max_ram(0) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redist_boundaries),
		cmocka_unit_test(test_ipa_bits),
	};
	return cmocka_run_group_tests_name("arch_layout", tests, NULL, NULL);
}
