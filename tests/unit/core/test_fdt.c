/* Device trees for both boot modes, read back with libfdt as the kernel would. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libfdt.h>
#include "arch/arm64/fdt.h"

#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(256ULL << 20)
#define GICD_BASE	0x08000000ULL
#define GICD_SIZE	0x10000ULL
#define GICR_BASE	0x080A0000ULL
#define GICR2_BASE	0x10000000ULL
#define UART_BASE	0x09000000ULL
#define UART_SPI	1
#define INITRD_START	0x42000000ULL
#define INITRD_END	0x42345678ULL

static uint8_t buf[65536];

static struct fdt_params fdt_mode_params(unsigned nr_cpus, unsigned max_cpus)
{
	return (struct fdt_params){
		.bootargs = "console=ttyAMA0 root=/dev/vda",
		.initrd_start = INITRD_START,
		.initrd_end = INITRD_END,
		.ram_base = RAM_BASE,
		.ram_size = RAM_SIZE,
		.nr_cpus = nr_cpus,
		.gicd_base = GICD_BASE,
		.gicd_size = GICD_SIZE,
		.nr_gicr = 1,
		.gicr = { { GICR_BASE, 0x20000ULL * max_cpus } },
		.pmu = true,
		.uart_base = UART_BASE,
		.uart_size = 0x1000,
		.uart_spi = UART_SPI,
	};
}

static int node(const char *path)
{
	int off = fdt_path_offset(buf, path);
	if (off < 0)
		fail_msg("no node %s: %s", path, fdt_strerror(off));
	return off;
}

static const void *prop(int off, const char *name, int *len)
{
	const void *p = fdt_getprop(buf, off, name, len);
	if (!p)
		fail_msg("node %s has no property %s", fdt_get_name(buf, off, NULL), name);
	return p;
}

static uint32_t prop_u32(int off, const char *name)
{
	int len;
	const void *p = prop(off, name, &len);
	assert_int_equal(len, 4);
	return fdt32_ld(p);
}

static uint64_t prop_u64(int off, const char *name)
{
	int len;
	const void *p = prop(off, name, &len);
	assert_int_equal(len, 8);
	return fdt64_ld(p);
}

static const char *prop_str(int off, const char *name)
{
	int len;
	const char *p = prop(off, name, &len);
	assert_true(len > 0 && p[len - 1] == 0);
	return p;
}

/* Cell i of a property made of cells. */
static uint32_t cell(int off, const char *name, int i, int expect_cells)
{
	int len;
	const fdt32_t *p = prop(off, name, &len);
	assert_int_equal(len, expect_cells * 4);
	return fdt32_ld(p + i);
}

static uint64_t cell64(int off, const char *name, int i, int expect_pairs)
{
	return (uint64_t)cell(off, name, 2 * i, 2 * expect_pairs) << 32 | cell(off, name, 2 * i + 1, 2 * expect_pairs);
}

static void build_ok(const struct fdt_params *p)
{
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(fdt_build(buf, sizeof(buf), p), 0);
	assert_int_equal(fdt_check_header(buf), 0);
	assert_true(fdt_totalsize(buf) <= sizeof(buf));
}

static void test_fdt_root_and_memory(void **state)
{
	struct fdt_params p = fdt_mode_params(2, 4);

	(void)state;
	build_ok(&p);
	assert_int_equal(prop_u32(0, "#address-cells"), 2);
	assert_int_equal(prop_u32(0, "#size-cells"), 2);
	assert_string_equal(prop_str(0, "compatible"), "linux,dummy-virt");

	int mem = node("/memory@40000000");
	assert_string_equal(prop_str(mem, "device_type"), "memory");
	assert_true(cell64(mem, "reg", 0, 2) == RAM_BASE);
	assert_true(cell64(mem, "reg", 1, 2) == RAM_SIZE);
}

static void test_fdt_cpus(void **state)
{
	const unsigned counts[] = { 1, 2, 17 };

	(void)state;
	for (unsigned c = 0; c < 3; c++) {
		unsigned n = counts[c];
		struct fdt_params p = fdt_mode_params(n, n + 3);
		build_ok(&p);

		int cpus = node("/cpus");
		assert_int_equal(prop_u32(cpus, "#address-cells"), 1);
		assert_int_equal(prop_u32(cpus, "#size-cells"), 0);
		unsigned seen = 0;
		int sub;
		fdt_for_each_subnode(sub, buf, cpus) {
			/* KVM's MPIDR for vCPU i: Aff0 = i % 16, Aff1 = i / 16. */
			uint32_t want = (seen % 16) | ((seen / 16) << 8);
			char name[32];
			snprintf(name, sizeof(name), "cpu@%x", want);
			assert_string_equal(fdt_get_name(buf, sub, NULL), name);
			assert_string_equal(prop_str(sub, "device_type"), "cpu");
			assert_int_equal(prop_u32(sub, "reg"), want);
			assert_string_equal(prop_str(sub, "enable-method"), "psci");
			assert_int_equal(fdt_node_check_compatible(buf, sub, "arm,arm-v8"), 0);
			seen++;
		}
		/* Only the boot vCPUs are listed, never the hotplug headroom. */
		assert_int_equal(seen, n);
	}
}

static void test_fdt_psci(void **state)
{
	struct fdt_params p = fdt_mode_params(2, 2);

	(void)state;
	build_ok(&p);
	int psci = node("/psci");
	assert_string_equal(prop_str(psci, "method"), "hvc");
	assert_int_equal(fdt_node_check_compatible(buf, psci, "arm,psci-1.0"), 0);
	assert_int_equal(fdt_node_check_compatible(buf, psci, "arm,psci-0.2"), 0);
}

static void test_fdt_gic_timer(void **state)
{
	struct fdt_params p = fdt_mode_params(2, 8);

	(void)state;
	build_ok(&p);
	int gic = node("/intc@8000000");
	assert_int_equal(fdt_node_check_compatible(buf, gic, "arm,gic-v3"), 0);
	assert_non_null(fdt_getprop(buf, gic, "interrupt-controller", NULL));
	assert_int_equal(prop_u32(gic, "#interrupt-cells"), 3);
	assert_true(cell64(gic, "reg", 0, 4) == GICD_BASE);
	assert_true(cell64(gic, "reg", 1, 4) == GICD_SIZE);
	assert_true(cell64(gic, "reg", 2, 4) == GICR_BASE);
	/* One 128 KiB redistributor per possible vCPU. */
	assert_true(cell64(gic, "reg", 3, 4) == 8 * 0x20000ULL);
	/* Every interrupt in the tree goes to this GIC. */
	uint32_t ph = fdt_get_phandle(buf, gic);
	assert_true(ph != 0);
	assert_int_equal(prop_u32(0, "interrupt-parent"), ph);
	assert_int_equal(prop_u32(gic, "#redistributor-regions"), 1);
	/* No maintenance interrupt: the guest has no EL2. */
	assert_null(fdt_getprop(buf, gic, "interrupts", NULL));

	/* The vCPUs' PMU: PPI 7 (INTID 23), level. */
	int pmu = node("/pmu");
	assert_int_equal(fdt_node_check_compatible(buf, pmu, "arm,armv8-pmuv3"), 0);
	assert_int_equal(cell(pmu, "interrupts", 0, 3), 1);
	assert_int_equal(cell(pmu, "interrupts", 1, 3), 7);
	assert_int_equal(cell(pmu, "interrupts", 2, 3), 4);

	int timer = node("/timer");
	assert_int_equal(fdt_node_check_compatible(buf, timer, "arm,armv8-timer"), 0);
	/* Secure, non-secure physical, virtual, hypervisor: PPIs 13, 14, 11, 10. */
	const uint32_t ppis[4] = { 13, 14, 11, 10 };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(cell(timer, "interrupts", 3 * i, 12), 1);
		assert_int_equal(cell(timer, "interrupts", 3 * i + 1, 12), ppis[i]);
		assert_int_equal(cell(timer, "interrupts", 3 * i + 2, 12), 4);
	}
}

static void test_fdt_uart(void **state)
{
	struct fdt_params p = fdt_mode_params(1, 1);

	(void)state;
	build_ok(&p);
	int uart = node("/pl011@9000000");
	assert_int_equal(fdt_node_check_compatible(buf, uart, "arm,pl011"), 0);
	assert_int_equal(fdt_node_check_compatible(buf, uart, "arm,primecell"), 0);
	assert_true(cell64(uart, "reg", 0, 2) == UART_BASE);
	assert_true(cell64(uart, "reg", 1, 2) == 0x1000);
	assert_int_equal(cell(uart, "interrupts", 0, 3), 0);	/* SPI */
	assert_int_equal(cell(uart, "interrupts", 1, 3), UART_SPI);
	assert_int_equal(cell(uart, "interrupts", 2, 3), 4);	/* level high */

	/* Both clocks point at a fixed clock node that exists. */
	uint32_t clk = cell(uart, "clocks", 0, 2);
	assert_int_equal(cell(uart, "clocks", 1, 2), clk);
	int clk_node = fdt_node_offset_by_phandle(buf, clk);
	assert_true(clk_node >= 0);
	assert_int_equal(fdt_node_check_compatible(buf, clk_node, "fixed-clock"), 0);
	assert_true(prop_u32(clk_node, "clock-frequency") > 0);
	int len;
	const char *names = prop(uart, "clock-names", &len);
	assert_int_equal(len, (int)sizeof("uartclk\0apb_pclk"));
	assert_string_equal(names, "uartclk");
	assert_string_equal(names + 8, "apb_pclk");
}

/* A level-triggered transport and an edge-triggered one (a vhost-user backend's). */
static void test_fdt_virtio_triggers(void **state)
{
	struct fdt_params p = fdt_mode_params(1, 1);

	(void)state;
	p.nr_virtio = 2;
	p.virtio[0] = (struct fdt_virtio){ .base = 0x0a000000, .size = 0x200, .spi = 16 };
	p.virtio[1] = (struct fdt_virtio){ .base = 0x0a000200, .size = 0x200, .spi = 17, .edge = true };
	assert_int_equal(fdt_build(buf, sizeof(buf), &p), 0);
	int level = node("/virtio_mmio@a000000"), edge = node("/virtio_mmio@a000200");
	assert_int_equal(cell(level, "interrupts", 1, 3), 16);
	assert_int_equal(cell(level, "interrupts", 2, 3), 4);	/* IRQ_TYPE_LEVEL_HIGH */
	assert_int_equal(cell(edge, "interrupts", 0, 3), 0);	/* SPI */
	assert_int_equal(cell(edge, "interrupts", 1, 3), 17);
	assert_int_equal(cell(edge, "interrupts", 2, 3), 1);	/* IRQ_TYPE_EDGE_RISING */
}

static void test_fdt_chosen(void **state)
{
	struct fdt_params p = fdt_mode_params(1, 1);

	(void)state;
	build_ok(&p);
	int chosen = node("/chosen");
	assert_string_equal(prop_str(chosen, "bootargs"), "console=ttyAMA0 root=/dev/vda");
	assert_true(prop_u64(chosen, "linux,initrd-start") == INITRD_START);
	assert_true(prop_u64(chosen, "linux,initrd-end") == INITRD_END);
	const char *out = prop_str(chosen, "stdout-path");
	/* stdout-path must name the UART node. */
	assert_int_equal(fdt_path_offset(buf, out), node("/pl011@9000000"));
	assert_null(fdt_getprop(buf, chosen, "linux,uefi-system-table", NULL));

	/* No initrd: no initrd properties. */
	p.initrd_end = p.initrd_start;
	build_ok(&p);
	chosen = node("/chosen");
	assert_null(fdt_getprop(buf, chosen, "linux,initrd-start", NULL));
	assert_null(fdt_getprop(buf, chosen, "linux,initrd-end", NULL));
}

/* 256 possible vCPUs: two redistributor regions, in order after the distributor. */
static void test_fdt_two_redist_regions(void **state)
{
	struct fdt_params p = fdt_mode_params(1, 256);

	(void)state;
	p.nr_gicr = 2;
	p.gicr[0].size = 123 * 0x20000ULL;
	p.gicr[1].base = GICR2_BASE;
	p.gicr[1].size = 133 * 0x20000ULL;
	p.pmu = false;
	build_ok(&p);
	int gic = node("/intc@8000000");
	assert_int_equal(prop_u32(gic, "#redistributor-regions"), 2);
	assert_true(cell64(gic, "reg", 0, 6) == GICD_BASE);
	assert_true(cell64(gic, "reg", 2, 6) == GICR_BASE);
	assert_true(cell64(gic, "reg", 3, 6) == 123 * 0x20000ULL);
	assert_true(cell64(gic, "reg", 4, 6) == GICR2_BASE);
	assert_true(cell64(gic, "reg", 5, 6) == 133 * 0x20000ULL);
	/* Without a PMU in the vCPUs, none is described. */
	assert_true(fdt_path_offset(buf, "/pmu") < 0);

	/* No region, or more than the tree can hold, is refused. */
	p.nr_gicr = 0;
	assert_int_equal(fdt_build(buf, sizeof(buf), &p), -EINVAL);
	p.nr_gicr = FDT_MAX_GICR + 1;
	assert_int_equal(fdt_build(buf, sizeof(buf), &p), -EINVAL);
}

static void test_acpi_mode(void **state)
{
	const struct fdt_uefi_params uefi = {
		.systab_gpa = 0x4fff0000ULL,
		.mmap_gpa = 0x4fff1000ULL,
		.mmap_size = 9 * 48,
		.mmap_desc_size = 48,
		.mmap_desc_ver = 1,
	};
	struct fdt_params p = {
		.bootargs = "efi=noruntime quiet",
		.initrd_start = INITRD_START,
		.initrd_end = INITRD_END,
		.uefi = &uefi,
	};

	(void)state;
	build_ok(&p);
	int chosen = node("/chosen");
	assert_true(prop_u64(chosen, "linux,uefi-system-table") == uefi.systab_gpa);
	assert_true(prop_u64(chosen, "linux,uefi-mmap-start") == uefi.mmap_gpa);
	assert_int_equal(prop_u32(chosen, "linux,uefi-mmap-size"), 9 * 48);
	assert_int_equal(prop_u32(chosen, "linux,uefi-mmap-desc-size"), 48);
	assert_int_equal(prop_u32(chosen, "linux,uefi-mmap-desc-ver"), 1);
	assert_int_equal(prop_u32(chosen, "linux,uefi-secure-boot"), 0);
	assert_string_equal(prop_str(chosen, "bootargs"), "efi=noruntime quiet");
	assert_true(prop_u64(chosen, "linux,initrd-start") == INITRD_START);
	assert_true(prop_u64(chosen, "linux,initrd-end") == INITRD_END);

	/* The machine comes from ACPI: /chosen is the only node. */
	int sub, n = 0;
	fdt_for_each_subnode(sub, buf, 0) {
		assert_string_equal(fdt_get_name(buf, sub, NULL), "chosen");
		n++;
	}
	assert_int_equal(n, 1);
	assert_true(fdt_path_offset(buf, "/cpus") < 0);
	assert_true(fdt_path_offset(buf, "/memory") < 0);
	assert_true(fdt_path_offset(buf, "/psci") < 0);
	assert_null(fdt_getprop(buf, chosen, "stdout-path", NULL));
}

static void test_too_small(void **state)
{
	struct fdt_params p = fdt_mode_params(8, 8);

	(void)state;
	assert_int_equal(fdt_build(buf, 256, &p), -ENOSPC);
	assert_int_equal(fdt_build(buf, 64, &p), -ENOSPC);

	/* The smallest size that works is deterministic: find it, one less fails. */
	build_ok(&p);
	size_t need = fdt_totalsize(buf);
	assert_int_equal(fdt_build(buf, need, &p), 0);
	assert_int_equal(fdt_build(buf, need - 8, &p), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdt_root_and_memory),
		cmocka_unit_test(test_fdt_cpus),
		cmocka_unit_test(test_fdt_psci),
		cmocka_unit_test(test_fdt_gic_timer),
		cmocka_unit_test(test_fdt_two_redist_regions),
		cmocka_unit_test(test_fdt_uart),
		cmocka_unit_test(test_fdt_virtio_triggers),
		cmocka_unit_test(test_fdt_chosen),
		cmocka_unit_test(test_acpi_mode),
		cmocka_unit_test(test_too_small),
	};
	return cmocka_run_group_tests_name("core_fdt", tests, NULL, NULL);
}
