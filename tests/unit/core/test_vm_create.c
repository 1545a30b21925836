/*
 * The VM on a fake hypervisor: creation (backend calls, errors) and the boot
 * hand-off (the payload vCPU 0 starts with, FDT and ACPI).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <libfdt.h>

#include "arch/arm64/layout.h"
#include "testvm.h"

#define MiB		(1ULL << 20)

/* ---------------------------------------------------------------- creation */

static void test_create_order(void **state)
{
	struct testvm t;
	struct fake_op_rec ops[64];
	struct testvm_opts o = { .boot = 2, .max = 5, .mode = BOOT_MODE_ACPI };

	(void)state;
	create_ok(&t, &o);

	/* Every possible vCPU, ids 0..max-1, exists before the vGIC. */
	assert_int_equal(fake_hv_created_vcpus(t.fh), 5);
	unsigned n = fake_hv_ops(t.fh, ops, 64), vcpus = 0, gic_at = n, forwards = 0;
	for (unsigned i = 0; i < n && i < 64; i++) {
		if (ops[i].op == FAKE_OP_CREATE_VCPU) {
			assert_true(i < gic_at);
			assert_int_equal(ops[i].arg, vcpus);
			vcpus++;
		} else if (ops[i].op == FAKE_OP_CREATE_GIC) {
			assert_int_equal(gic_at, n);	/* only once */
			gic_at = i;
		} else if (ops[i].op == FAKE_OP_FORWARD_SMCCC) {
			assert_int_equal(vcpus, 0);	/* PSCI is ours before any vCPU exists */
			forwards++;
		}
	}
	assert_int_equal(vcpus, 5);
	assert_true(gic_at < n);
	assert_int_equal(forwards, 2);

	struct hv_gic_config gic;
	unsigned at_gic;
	assert_true(fake_hv_gic(t.fh, &gic, &at_gic));
	assert_int_equal(at_gic, 5);
	assert_true(gic.dist_base == GIC_DIST_BASE);
	assert_int_equal(gic.nr_redist, 1);
	assert_true(gic.redist[0].base == GIC_REDIST_BASE);
	assert_int_equal(gic.redist[0].count, 5);
	assert_int_equal(gic.nr_irqs % 32, 0);
	assert_true(gic.nr_irqs > GIC_SPI_BASE + GED_SPI);
	assert_true(gic.nr_irqs > GIC_SPI_BASE + UART_SPI);

	/* Both PSCI ranges (SMC32 and SMC64) are forwarded to us. */
	struct fake_range fwd[4];
	assert_int_equal(fake_hv_forwards(t.fh, fwd, 4), 2);
	bool r32 = false, r64 = false;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fwd[i].count, 0x20);
		r32 |= fwd[i].base == 0x84000000u;
		r64 |= fwd[i].base == 0xC4000000u;
	}
	assert_true(r32 && r64);

	/* RAM at 0x40000000, backed by vm->ram. */
	struct fake_map map[4];
	assert_int_equal(fake_hv_maps(t.fh, map, 4), 1);
	assert_true(map[0].gpa == 0x40000000ULL);
	assert_true(map[0].size == 64 * MiB);
	assert_ptr_equal(map[0].host, t.vm->ram);

	/* Nothing ran yet. */
	assert_int_equal(fake_hv_resets(t.fh, 0, NULL), 0);
	assert_int_equal(fake_hv_runs(t.fh, 0), 0);

	struct vm_info info;
	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_int_equal(info.boot_cpus, 2);
	assert_int_equal(info.max_cpus, 5);
	assert_int_equal(info.enabled_cpus, 2);
	assert_int_equal(info.online_cpus, 0);
	assert_true(info.hotplug_supported);
	assert_string_equal(info.boot_mode, "acpi");

	testvm_finish(&t);
}

static void test_destroy_releases_vcpus(void **state)
{
	struct testvm t;
	struct fake_hv *fh;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	/* Keep the fake alive past testvm_finish to look at it. */
	fh = t.fh;
	t.fh = NULL;
	testvm_finish(&t);
	assert_int_equal(fake_hv_destroyed_vcpus(fh), 4);
	fake_hv_free(fh);
}

static void test_create_errors(void **state)
{
	struct testvm t;

	(void)state;
	/* Not an Image. */
	struct testvm_opts o = acpi_2_4;
	o.bad_magic = true;
	assert_int_equal(testvm_create(&t, &o), -ENOEXEC);
	assert_non_null(strstr(t.err, "not an arm64 Linux Image"));
	assert_non_null(strstr(t.err, t.kernel));
	testvm_finish(&t);

	/* A kernel that does not fit below the firmware area. */
	o = acpi_2_4;
	o.image_size = 63 * MiB;
	assert_int_equal(testvm_create(&t, &o), -EFBIG);
	assert_non_null(strstr(t.err, "--memory"));
	testvm_finish(&t);
}

/* The backend refusing each step: vm_create says which and fails cleanly. */
static void test_create_backend_failures(void **state)
{
	const struct { enum fake_op op; const char *msg; } cases[] = {
		{ FAKE_OP_MAP_MEMORY, "guest memory" },
		{ FAKE_OP_FORWARD_SMCCC, "PSCI" },
		{ FAKE_OP_CREATE_VCPU, "vcpu0" },
		{ FAKE_OP_CREATE_GIC, "vGIC" },
		{ FAKE_OP_VCPU_INIT_PMU, "PMU" },
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct testvm t;
		struct testvm_opts o = acpi_2_4;

		o.fail_op = cases[i].op;
		o.fail_err = -EINVAL;
		assert_int_equal(testvm_create(&t, &o), -EINVAL);
		if (!strstr(t.err, cases[i].msg))
			fail_msg("failing op %d: message '%s' does not mention '%s'", cases[i].op, t.err,
				 cases[i].msg);
		testvm_finish(&t);
	}
}

/* ---------------------------------------------------------------- boot */

static const void *ram_at(struct testvm *t, uint64_t gpa)
{
	assert_true(gpa >= t->vm->ram_base && gpa < t->vm->ram_base + t->vm->ram_size);
	return t->vm->ram + (gpa - t->vm->ram_base);
}

static void test_start_fdt(void **state)
{
	struct testvm t;
	struct fake_reset rs;
	struct testvm_opts o = { .boot = 3, .max = 4, .mode = BOOT_MODE_FDT, .cmdline = "console=ttyAMA0" };

	(void)state;
	create_ok(&t, &o);
	start_ok(&t);

	/* vCPU 0 starts at the kernel (RAM base + text_offset) with x0 = the DTB. */
	assert_int_equal(fake_hv_resets(t.fh, 0, &rs), 1);
	assert_true(rs.pc == ENTRY);
	const uint8_t *kernel = ram_at(&t, ENTRY);
	assert_memory_equal(kernel + 56, "ARM\x64", 4);
	assert_int_equal(kernel[100], (uint8_t)(100 * 7 + 3));

	const void *dtb = ram_at(&t, rs.arg);
	assert_int_equal(fdt_check_header(dtb), 0);
	assert_int_equal(rs.arg % 8, 0);
	/* Not overlapping the kernel's reserved footprint. */
	assert_true(rs.arg >= ENTRY + TEST_IMAGE_SIZE);
	int chosen = fdt_path_offset(dtb, "/chosen");
	assert_true(chosen >= 0);
	assert_string_equal(fdt_getprop(dtb, chosen, "bootargs", NULL), "console=ttyAMA0");
	int cpus = fdt_path_offset(dtb, "/cpus"), sub, n = 0;
	assert_true(cpus >= 0);
	fdt_for_each_subnode(sub, dtb, cpus)
		n++;
	assert_int_equal(n, 3);
	int mem = fdt_path_offset(dtb, "/memory@40000000");
	assert_true(mem >= 0);
	const fdt64_t *reg = fdt_getprop(dtb, mem, "reg", NULL);
	assert_true(fdt64_ld(&reg[1]) == 64 * MiB);
	int gic = fdt_path_offset(dtb, "/intc@8000000");
	assert_true(gic >= 0);
	reg = fdt_getprop(dtb, gic, "reg", NULL);
	assert_true(fdt64_ld(&reg[3]) == 4 * GIC_REDIST_STRIDE);	/* max, not boot */

	/* Only vCPU 0 started; the others wait for CPU_ON. */
	for (unsigned i = 1; i < 4; i++)
		assert_int_equal(fake_hv_resets(t.fh, i, NULL), 0);
	assert_true(testvm_cpu(&t, 0).online);
	assert_false(testvm_cpu(&t, 1).online);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_ONLINE, 0), 1);

	struct vm_info info;
	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_false(info.hotplug_supported);
	assert_string_equal(info.boot_mode, "fdt");
	assert_int_equal(info.online_cpus, 1);
	assert_int_equal(info.state, VM_STATE_RUNNING);
	testvm_finish(&t);
}

static void test_start_acpi(void **state)
{
	struct testvm t;
	struct fake_reset rs;
	struct testvm_opts o = { .boot = 1, .max = 4, .mode = BOOT_MODE_ACPI, .cmdline = "quiet" };

	(void)state;
	create_ok(&t, &o);
	start_ok(&t);
	assert_int_equal(fake_hv_resets(t.fh, 0, &rs), 1);
	assert_true(rs.pc == ENTRY);
	const void *dtb = ram_at(&t, rs.arg);
	assert_int_equal(fdt_check_header(dtb), 0);
	assert_true(fdt_path_offset(dtb, "/cpus") < 0);
	assert_true(fdt_path_offset(dtb, "/memory@40000000") < 0);
	int chosen = fdt_path_offset(dtb, "/chosen");
	assert_true(chosen >= 0);
	/* No resident firmware: EFI runtime services off, then the user's line. */
	assert_string_equal(fdt_getprop(dtb, chosen, "bootargs", NULL), "efi=noruntime quiet");

	/* The UEFI system table and memory map the properties point at are in RAM. */
	const fdt64_t *st = fdt_getprop(dtb, chosen, "linux,uefi-system-table", NULL);
	const fdt64_t *mm = fdt_getprop(dtb, chosen, "linux,uefi-mmap-start", NULL);
	const fdt32_t *msz = fdt_getprop(dtb, chosen, "linux,uefi-mmap-size", NULL);
	const fdt32_t *dsz = fdt_getprop(dtb, chosen, "linux,uefi-mmap-desc-size", NULL);
	assert_non_null(st);
	assert_non_null(mm);
	assert_non_null(msz);
	assert_non_null(dsz);
	assert_non_null(fdt_getprop(dtb, chosen, "linux,uefi-mmap-desc-ver", NULL));
	assert_non_null(fdt_getprop(dtb, chosen, "linux,uefi-secure-boot", NULL));
	uint64_t systab = fdt64_ld(st), mmap = fdt64_ld(mm);
	uint64_t top = RAM_BASE + 64 * MiB;
	assert_true(systab >= RAM_BASE && systab < top);
	assert_true(mmap >= RAM_BASE && mmap + fdt32_ld(msz) <= top);
	assert_true(fdt32_ld(dsz) >= 40);
	assert_int_equal(fdt32_ld(msz) % fdt32_ld(dsz), 0);
	/* EFI system table signature "IBI SYST". */
	assert_memory_equal(ram_at(&t, systab), "IBI SYST", 8);
	/* The ACPI tables start with an RSDP somewhere the VM said. */
	assert_true(t.vm->boot.acpi_gpa >= RAM_BASE && t.vm->boot.acpi_gpa < top);
	testvm_finish(&t);
}

/* vm.info's uptime: started 1.x s ago, with the start's nanoseconds above now's. */
static void test_uptime(void **state)
{
	struct testvm t;
	struct timespec now;
	struct vm_info info;

	(void)state;
	create_ok(&t, &acpi_2_4);
	clock_gettime(CLOCK_MONOTONIC, &now);
	t.vm->started.tv_sec = now.tv_sec - 2;
	t.vm->started.tv_nsec = 999999999;
	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	if (info.uptime_ms < 1000 || info.uptime_ms > 3000)
		fail_msg("uptime %llu ms, expected 1000..3000", (unsigned long long)info.uptime_ms);

	/* Same second: plain subtraction. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	t.vm->started = now;
	t.vm->started.tv_sec -= 5;
	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_true(info.uptime_ms >= 5000 && info.uptime_ms < 6000);
	testvm_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_order),
		cmocka_unit_test(test_destroy_releases_vcpus),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_create_backend_failures),
		cmocka_unit_test(test_start_fdt),
		cmocka_unit_test(test_start_acpi),
		cmocka_unit_test(test_uptime),
	};
	return cmocka_run_group_tests_name("core_vm_create", tests, NULL, NULL);
}
