/*
 * A VM of many possible vCPUs on the fake backend: the vGIC's redistributor
 * regions and how the tables describe them, and the vCPUs' PMU (given where
 * the host has one, described only then).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <libfdt.h>

#include "arch/arm64/layout.h"
#include "vmm/boot.h"
#include "testvm.h"

/* The dtb vCPU 0 starts with. */
static const void *boot_dtb(struct testvm *t)
{
	struct fake_reset rs;
	assert_int_equal(fake_hv_resets(t->fh, 0, &rs), 1);
	assert_true(rs.arg >= t->vm->ram_base && rs.arg < t->vm->ram_base + t->vm->ram_size);
	const void *dtb = t->vm->ram + (rs.arg - t->vm->ram_base);
	assert_int_equal(fdt_check_header(dtb), 0);
	return dtb;
}

static void test_gic_regions_256(void **state)
{
	struct testvm t;
	struct testvm_opts o = { .boot = 1, .max = 256, .mode = BOOT_MODE_FDT };
	struct hv_gic_config gic;
	unsigned at_gic;

	(void)state;
	create_ok(&t, &o);
	assert_true(fake_hv_gic(t.fh, &gic, &at_gic));
	assert_int_equal(at_gic, 256);
	/* The first window's 123, then the other 133 in the second. */
	assert_int_equal(gic.nr_redist, 2);
	assert_true(gic.redist[0].base == GIC_REDIST_BASE);
	assert_int_equal(gic.redist[0].count, 123);
	assert_true(gic.redist[1].base == GIC_REDIST2_BASE);
	assert_int_equal(gic.redist[1].count, 133);

	/* The device tree names both regions. */
	start_ok(&t);
	const void *dtb = boot_dtb(&t);
	int node = fdt_path_offset(dtb, "/intc@8000000");
	assert_true(node >= 0);
	int len;
	const fdt32_t *n = fdt_getprop(dtb, node, "#redistributor-regions", &len);
	assert_non_null(n);
	assert_int_equal(fdt32_ld(n), 2);
	const fdt64_t *reg = fdt_getprop(dtb, node, "reg", &len);
	assert_int_equal(len, 6 * 8);
	assert_true(fdt64_ld(&reg[2]) == GIC_REDIST_BASE);
	assert_true(fdt64_ld(&reg[3]) == 123 * GIC_REDIST_STRIDE);
	assert_true(fdt64_ld(&reg[4]) == GIC_REDIST2_BASE);
	assert_true(fdt64_ld(&reg[5]) == 133 * GIC_REDIST_STRIDE);
	testvm_finish(&t);
}

/* What the MADT is built from: every possible vCPU has a redistributor. */
static void test_acpi_platform_regions(void **state)
{
	static struct acpi_cpu cpus[512];
	const unsigned maxes[] = { 1, 123, 124, 256, 512 };

	(void)state;
	for (unsigned k = 0; k < sizeof(maxes) / sizeof(maxes[0]); k++) {
		struct vm_config cfg = { .boot_cpus = 1, .max_cpus = maxes[k] };
		struct acpi_platform p;
		uint64_t covered = 0;

		boot_acpi_platform(&cfg, true, cpus, &p);
		assert_int_equal(p.nr_gicr, maxes[k] > 123 ? 2 : 1);
		assert_true(p.gicr[0].base == GIC_REDIST_BASE);
		for (unsigned i = 0; i < p.nr_gicr; i++)
			covered += p.gicr[i].length;
		assert_true(covered == (uint64_t)maxes[k] * GIC_REDIST_STRIDE);
		if (p.nr_gicr == 2)
			assert_true(p.gicr[1].base == GIC_REDIST2_BASE);
		assert_int_equal(p.ppi_pmu, PPI_PMU);
		boot_acpi_platform(&cfg, false, cpus, &p);
		assert_int_equal(p.ppi_pmu, 0);
	}
}

/* Each vCPU's PMU gets PPI 23, after the vGIC exists; the tables say so. */
static void test_pmu(void **state)
{
	struct testvm t;
	struct testvm_opts o = { .boot = 2, .max = 4, .mode = BOOT_MODE_FDT };
	struct fake_op_rec ops[64];

	(void)state;
	create_ok(&t, &o);
	assert_true(t.vm->pmu);
	unsigned n = fake_hv_ops(t.fh, ops, 64), gic_at = n, pmus = 0;
	for (unsigned i = 0; i < n && i < 64; i++) {
		if (ops[i].op == FAKE_OP_CREATE_GIC)
			gic_at = i;
		if (ops[i].op == FAKE_OP_VCPU_INIT_PMU) {
			assert_true(i > gic_at);
			pmus++;
		}
	}
	assert_int_equal(pmus, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(fake_hv_pmu_ppi(t.fh, i), PPI_PMU);
	start_ok(&t);
	const void *dtb = boot_dtb(&t);
	int pmu = fdt_path_offset(dtb, "/pmu");
	assert_true(pmu >= 0);
	assert_int_equal(fdt_node_check_compatible(dtb, pmu, "arm,armv8-pmuv3"), 0);
	testvm_finish(&t);
}

/* A host without a PMU for its guests: none is set up or described. */
static void test_no_pmu(void **state)
{
	struct testvm t;
	struct testvm_opts o = { .boot = 1, .max = 2, .mode = BOOT_MODE_FDT, .no_pmu = true };
	struct fake_op_rec ops[64];

	(void)state;
	create_ok(&t, &o);
	assert_false(t.vm->pmu);
	unsigned n = fake_hv_ops(t.fh, ops, 64);
	for (unsigned i = 0; i < n && i < 64; i++)
		assert_int_not_equal(ops[i].op, FAKE_OP_VCPU_INIT_PMU);
	assert_int_equal(fake_hv_pmu_ppi(t.fh, 0), 0);
	start_ok(&t);
	assert_true(fdt_path_offset(boot_dtb(&t), "/pmu") < 0);
	testvm_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gic_regions_256),
		cmocka_unit_test(test_acpi_platform_regions),
		cmocka_unit_test(test_pmu),
		cmocka_unit_test(test_no_pmu),
	};
	return cmocka_run_group_tests_name("vm_scale", tests, NULL, NULL);
}
