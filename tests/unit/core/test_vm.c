/*
 * The VM on a fake hypervisor: creation, boot hand-off, PSCI through the real
 * vCPU threads, MMIO, and the hotplug controller behind the API.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libfdt.h>

#include "arch/arm64/layout.h"
#include "arch/arm64/psci.h"
#include "testvm.h"
#include "vmm/boot.h"

#define ENTRY		(RAM_BASE + TEST_TEXT_OFFSET)
#define MiB		(1ULL << 20)

static const struct testvm_opts acpi_2_4 = { .boot = 2, .max = 4, .mode = BOOT_MODE_ACPI };

static void create_ok(struct testvm *t, const struct testvm_opts *o)
{
	if (testvm_create(t, o))
		fail_msg("vm_create: %s", t->err);
}

/* Start and wait until vCPU 0 runs the guest (blocks for its first exit). */
static void start_ok(struct testvm *t)
{
	testvm_start(t);
	assert_true(fake_hv_wait_resets(t->fh, 0, 1, TMO));
	assert_true(fake_hv_wait_idle(t->fh, 0, TMO));
}

static int64_t psci(struct testvm *t, unsigned vcpu, uint32_t func, uint64_t a1, uint64_t a2, uint64_t a3)
{
	int64_t r = fake_hv_call(t->fh, vcpu, func, a1, a2, a3, TMO);
	if (r == INT64_MIN || r == INT64_MIN + 1)
		fail_msg("vcpu%u: hypercall 0x%x was not answered", vcpu, func);
	return r;
}

static uint64_t mmio_read(struct testvm *t, unsigned vcpu, uint64_t addr, unsigned len)
{
	bool ok;
	uint64_t v = fake_hv_mmio_read(t->fh, vcpu, addr, len, TMO, &ok);
	if (!ok)
		fail_msg("vcpu%u: MMIO read of 0x%llx not answered (or junk above len)", vcpu,
			 (unsigned long long)addr);
	return v;
}

/* MMIO writes, then wait until the vCPU asks for more (all were handled). */
static void mmio_write(struct testvm *t, unsigned vcpu, uint64_t addr, unsigned len, uint64_t v)
{
	unsigned n = fake_hv_answer_count(t->fh, vcpu);
	fake_hv_push_mmio_write(t->fh, vcpu, addr, len, v);
	assert_true(fake_hv_wait_answers(t->fh, vcpu, n + 1, TMO));
}

/* Guest-side CPU_ON of vCPU id (SMC64), as Linux issues it. */
static int64_t cpu_on(struct testvm *t, unsigned caller, unsigned id, uint64_t entry, uint64_t ctx)
{
	return psci(t, caller, PSCI_FN64_CPU_ON, arm64_mpidr_of_vcpu(id), entry, ctx);
}

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
	assert_true(gic.redist_base == GIC_REDIST_BASE);
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

/* ---------------------------------------------------------------- PSCI */

static void test_psci_cpu_lifecycle(void **state)
{
	struct testvm t;
	struct fake_reset rs;
	const uint64_t e1 = RAM_BASE + 0x100000, c1 = 0x1234, e2 = RAM_BASE + 0x200000, c2 = 0xfeed;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);

	assert_int_equal(psci(&t, 0, PSCI_FN_VERSION, 0, 0, 0), 0x10001);
	assert_int_equal(psci(&t, 0, PSCI_FN_FEATURES, PSCI_FN64_CPU_ON, 0, 0), 0);

	/* CPU_ON vCPU 1: it is reset to the given entry and context and runs. */
	assert_int_equal(cpu_on(&t, 0, 1, e1, c1), PSCI_RET_SUCCESS);
	assert_true(fake_hv_wait_resets(t.fh, 1, 1, TMO));
	assert_int_equal(fake_hv_resets(t.fh, 1, &rs), 1);
	assert_true(rs.pc == e1);
	assert_true(rs.arg == c1);
	assert_true(fake_hv_wait_idle(t.fh, 1, TMO));
	assert_true(testvm_cpu(&t, 1).online);
	assert_int_equal(psci(&t, 1, PSCI_FN64_AFFINITY_INFO, 0, 0, 0), PSCI_AFFINITY_ON);

	/* vCPU 3 is possible but not enabled (boot=2). */
	assert_int_equal(cpu_on(&t, 0, 3, e1, 0), PSCI_RET_DENIED);
	assert_int_equal(fake_hv_resets(t.fh, 3, NULL), 0);
	/* No such vCPU. */
	assert_int_equal(cpu_on(&t, 0, 4, e1, 0), PSCI_RET_INVALID_PARAMETERS);
	assert_int_equal(cpu_on(&t, 0, 1, e2, c2), PSCI_RET_ALREADY_ON);
	assert_int_equal(fake_hv_resets(t.fh, 1, NULL), 1);

	/* vCPU 1 turns itself off; the call does not return. */
	fake_hv_push_hypercall(t.fh, 1, PSCI_FN_CPU_OFF, 0, 0, 0);
	assert_true(testvm_wait_online(&t, 1, false, TMO));
	assert_int_equal(psci(&t, 0, PSCI_FN64_AFFINITY_INFO, 1, 0, 0), PSCI_AFFINITY_OFF);
	assert_true(testvm_wait_events(&t, VM_EVENT_CPU_OFFLINE, 1, 1, TMO));

	/* Back on: a second clean reset at the new entry. */
	assert_int_equal(cpu_on(&t, 0, 1, e2, c2), PSCI_RET_SUCCESS);
	assert_true(fake_hv_wait_resets(t.fh, 1, 2, TMO));
	assert_int_equal(fake_hv_resets(t.fh, 1, &rs), 2);
	assert_true(rs.pc == e2);
	assert_true(rs.arg == c2);
	assert_int_equal(psci(&t, 1, PSCI_FN_VERSION, 0, 0, 0), 0x10001);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_ONLINE, 1), 2);
	/* CPU_OFF got no answer: its only answer is the PSCI_VERSION above (after AFFINITY_INFO). */
	assert_int_equal(fake_hv_answer_count(t.fh, 1), 2);

	/* A non-PSCI hypercall is refused, the guest keeps running. */
	assert_int_equal(psci(&t, 0, 0xC6000000u, 0, 0, 0), PSCI_RET_NOT_SUPPORTED);

	/* SYSTEM_OFF ends the VM. */
	fake_hv_push_hypercall(t.fh, 0, PSCI_FN_SYSTEM_OFF, 0, 0, 0);
	assert_true(testvm_wait_stopped(&t, TMO));
	vm_join(t.vm);
	assert_int_equal(t.vm->exit_reason, VM_EXIT_POWEROFF);
	assert_non_null(strstr(t.vm->exit_message, "SYSTEM_OFF"));
	assert_non_null(strstr(t.vm->exit_message, "vcpu0"));
	struct vm_info info;
	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_int_equal(info.state, VM_STATE_SHUTTING_DOWN);
	testvm_finish(&t);
}

static void test_psci_smc32_cpu_on(void **state)
{
	struct testvm t;
	struct fake_reset rs;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	/* A 32-bit guest's CPU_ON: only the low halves of x1..x3 count. */
	assert_int_equal(psci(&t, 0, PSCI_FN_CPU_ON, 0xdead000000000001ULL, 0xffffffff40080000ULL,
			      0x1111111100000007ULL), PSCI_RET_SUCCESS);
	assert_true(fake_hv_wait_resets(t.fh, 1, 1, TMO));
	fake_hv_resets(t.fh, 1, &rs);
	assert_true(rs.pc == 0x40080000ULL);
	assert_true(rs.arg == 7);
	testvm_finish(&t);
}

static void test_system_reset_and_crash(void **state)
{
	struct testvm t;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	fake_hv_push_hypercall(t.fh, 0, PSCI_FN_SYSTEM_RESET, 0, 0, 0);
	assert_true(testvm_wait_stopped(&t, TMO));
	vm_join(t.vm);
	assert_int_equal(t.vm->exit_reason, VM_EXIT_RESET);
	assert_non_null(strstr(t.vm->exit_message, "reset"));
	testvm_finish(&t);

	/* In-kernel PSCI events (system event exits) and a crash on vCPU 1. */
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), 0);
	assert_true(fake_hv_wait_idle(t.fh, 1, TMO));
	fake_hv_push_system_event(t.fh, 1, VCPU_SYSTEM_CRASH);
	assert_true(testvm_wait_stopped(&t, TMO));
	vm_join(t.vm);
	assert_int_equal(t.vm->exit_reason, VM_EXIT_ERROR);
	assert_non_null(strstr(t.vm->exit_message, "crash"));
	assert_non_null(strstr(t.vm->exit_message, "vcpu1"));
	testvm_finish(&t);

	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	fake_hv_push_system_event(t.fh, 0, VCPU_SYSTEM_SHUTDOWN);
	assert_true(testvm_wait_stopped(&t, TMO));
	vm_join(t.vm);
	assert_int_equal(t.vm->exit_reason, VM_EXIT_POWEROFF);
	testvm_finish(&t);
}

static void test_run_error_stops_vm(void **state)
{
	struct testvm t;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	fake_hv_push_run_error(t.fh, 0, -EFAULT);
	assert_true(testvm_wait_stopped(&t, TMO));
	vm_join(t.vm);
	assert_int_equal(t.vm->exit_reason, VM_EXIT_ERROR);
	assert_non_null(strstr(t.vm->exit_message, "vcpu0"));
	assert_non_null(strstr(t.vm->exit_message, strerror(EFAULT)));
	testvm_finish(&t);

	/* A vCPU that cannot be reset for CPU_ON stops the VM too. */
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	fake_hv_fail(t.fh, FAKE_OP_VCPU_RESET, -EIO);
	fake_hv_push_hypercall(t.fh, 0, PSCI_FN64_CPU_ON, 1, ENTRY, 0);
	assert_true(testvm_wait_stopped(&t, TMO));
	vm_join(t.vm);
	assert_int_equal(t.vm->exit_reason, VM_EXIT_ERROR);
	assert_non_null(strstr(t.vm->exit_message, "vcpu1"));
	testvm_finish(&t);
}

static void test_pause_resume(void **state)
{
	struct testvm t;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	assert_int_equal(vm_api_ops.resume(t.vm), -VM_ERR_INVALID_STATE);
	unsigned runs = fake_hv_runs(t.fh, 0);
	assert_int_equal(vm_api_ops.pause(t.vm), 0);
	assert_int_equal(vm_api_ops.pause(t.vm), -VM_ERR_INVALID_STATE);
	struct vm_info info;
	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_int_equal(info.state, VM_STATE_PAUSED);
	/* While paused, a pending exit is not taken. */
	fake_hv_push_hypercall(t.fh, 0, PSCI_FN_VERSION, 0, 0, 0);
	assert_false(fake_hv_wait_consumed(t.fh, 0, 1, 100));
	assert_int_equal(fake_hv_runs(t.fh, 0), runs);	/* vcpu_run returned (kicked), not re-entered */
	assert_int_equal(vm_api_ops.resume(t.vm), 0);
	assert_true(fake_hv_wait_answers(t.fh, 0, 1, TMO));
	struct vcpu_exit e;
	assert_true(fake_hv_answer(t.fh, 0, 0, &e));
	assert_true(e.hypercall.ret[0] == PSCI_VERSION_1_1);
	testvm_finish(&t);
}

/* ---------------------------------------------------------------- MMIO */

static void test_mmio_console_and_unmapped(void **state)
{
	struct testvm t;
	struct testvm_opts o = { .boot = 1, .max = 1, .mode = BOOT_MODE_FDT, .console_file = true };
	char out[64];

	(void)state;
	create_ok(&t, &o);
	start_ok(&t);
	const char *msg = "hello\n";
	for (const char *p = msg; *p; p++)
		fake_hv_push_mmio_write(t.fh, 0, UART_BASE + 0x000, 4, (uint8_t)*p);
	assert_true(fake_hv_wait_answers(t.fh, 0, 6, TMO));
	testvm_console(&t, out, sizeof(out));
	assert_string_equal(out, "hello\n");

	/* Nothing behind the address: reads as all ones, of the access width only. */
	assert_true(mmio_read(&t, 0, 0x0a000000ULL, 4) == 0xffffffffULL);
	assert_true(mmio_read(&t, 0, 0x0a000000ULL, 1) == 0xffULL);
	assert_true(mmio_read(&t, 0, 0x0a000000ULL, 8) == UINT64_MAX);
	/* Between devices, too. */
	assert_true(mmio_read(&t, 0, UART_BASE + UART_SIZE, 4) == 0xffffffffULL);
	/* A write there is dropped and the guest goes on. */
	mmio_write(&t, 0, 0x0a000000ULL, 4, 0x12345678);

	/* Devices answer: the PL011 ID, its flags (TX FIFO empty), the hotplug CPU count. */
	assert_true(mmio_read(&t, 0, UART_BASE + 0xfe0, 4) == 0x11);
	assert_true(mmio_read(&t, 0, UART_BASE + 0x18, 4) & (1u << 7));
	assert_true(mmio_read(&t, 0, CPUHP_BASE + CPUHP_REG_COUNT, 4) == 1);

	/* Writes of other sizes reach the UART as well. */
	mmio_write(&t, 0, UART_BASE, 1, '!');
	testvm_console(&t, out, sizeof(out));
	assert_string_equal(out, "hello\n!");
	testvm_finish(&t);
}

/* ---------------------------------------------------------------- hotplug */

static void test_hotplug_add_then_cpu_on(void **state)
{
	struct testvm t;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	assert_false(testvm_cpu(&t, 2).enabled);
	assert_int_equal(cpu_on(&t, 0, 2, ENTRY, 0), PSCI_RET_DENIED);
	assert_int_equal(fake_hv_irq_calls(t.fh, GED_SPI, true), 0);

	assert_int_equal(vm_api_ops.cpu_add(t.vm, 2), 2);
	struct cpu_info c = testvm_cpu(&t, 2);
	assert_true(c.enabled);
	assert_false(c.online);
	assert_int_equal(c.pending, CPU_PENDING_INSERT);
	assert_true(c.mpidr == 2);
	assert_int_equal(fake_hv_irq_calls(t.fh, GED_SPI, true), 1);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_ENABLED, 2), 1);

	/* The guest's AML: read the GED event (clears and lowers the line), scan, clear insert. */
	assert_true(mmio_read(&t, 0, GED_BASE, 4) == GED_EVENT_CPU_HOTPLUG);
	assert_int_equal(fake_hv_irq_calls(t.fh, GED_SPI, false), 1);
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_SELECT, 4, 2);
	assert_true(mmio_read(&t, 0, CPUHP_BASE + CPUHP_REG_STATUS, 4) ==
		    (CPUHP_STATUS_ENABLED | CPUHP_STATUS_INSERT));
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_COMMAND, 4, CPUHP_CMD_CLEAR_INSERT);
	assert_int_equal(testvm_cpu(&t, 2).pending, CPU_PENDING_NONE);

	/* Now the guest can bring it up. */
	assert_int_equal(cpu_on(&t, 0, 2, ENTRY + 0x1000, 42), PSCI_RET_SUCCESS);
	assert_true(fake_hv_wait_resets(t.fh, 2, 1, TMO));
	assert_true(testvm_wait_online(&t, 2, true, TMO));
	struct vm_info info;
	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_int_equal(info.enabled_cpus, 3);
	assert_int_equal(info.online_cpus, 2);
	testvm_finish(&t);
}

static void test_hotplug_errors(void **state)
{
	struct testvm t;

	(void)state;
	create_ok(&t, &acpi_2_4);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 1), -VM_ERR_ALREADY_ENABLED);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 0), -VM_ERR_ALREADY_ENABLED);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 4), -VM_ERR_NO_SUCH_CPU);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 1000), -VM_ERR_NO_SUCH_CPU);
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 0), -VM_ERR_BOOT_CPU);
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 4), -VM_ERR_NO_SUCH_CPU);
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 3), -VM_ERR_NOT_ENABLED);
	/* None of these changed anything or raised the GED. */
	assert_int_equal(fake_hv_irq_calls(t.fh, GED_SPI, true), 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(testvm_cpu(&t, i).enabled, i < 2);
		assert_int_equal(testvm_cpu(&t, i).pending, CPU_PENDING_NONE);
	}

	/* Remove: event raised; a second remove while pending is BUSY. */
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), 0);
	assert_int_equal(testvm_cpu(&t, 1).pending, CPU_PENDING_REMOVE);
	assert_true(testvm_cpu(&t, 1).enabled);
	assert_int_equal(fake_hv_irq_calls(t.fh, GED_SPI, true), 1);
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), -VM_ERR_BUSY);

	/* The wait timed out: cancel keeps it enabled and a new remove is accepted. */
	vm_api_ops.cpu_remove_cancel(t.vm, 1);
	assert_true(testvm_cpu(&t, 1).enabled);
	assert_int_equal(testvm_cpu(&t, 1).pending, CPU_PENDING_NONE);
	vm_api_ops.cpu_remove_cancel(t.vm, 99);	/* ignored */
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), 0);
	testvm_finish(&t);
}

static void test_hotplug_add_lowest(void **state)
{
	struct testvm t;
	struct testvm_opts o = { .boot = 1, .max = 4, .mode = BOOT_MODE_ACPI };

	(void)state;
	create_ok(&t, &o);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 2), 2);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, -1), 1);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, -1), 3);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, -1), -VM_ERR_NO_FREE_CPU);
	struct vm_info info;
	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_int_equal(info.enabled_cpus, 4);
	testvm_finish(&t);
}

static void test_hotplug_fdt_unsupported(void **state)
{
	struct testvm t;
	struct testvm_opts o = { .boot = 1, .max = 4, .mode = BOOT_MODE_FDT };

	(void)state;
	create_ok(&t, &o);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 1), -VM_ERR_NOT_SUPPORTED);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, -1), -VM_ERR_NOT_SUPPORTED);
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), -VM_ERR_NOT_SUPPORTED);
	assert_false(testvm_cpu(&t, 1).enabled);
	assert_int_equal(fake_hv_irq_calls(t.fh, GED_SPI, true), 0);
	testvm_finish(&t);
}

static void test_hotplug_eject(void **state)
{
	struct testvm t;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_SUCCESS);
	assert_true(testvm_wait_online(&t, 1, true, TMO));

	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), 0);
	assert_int_equal(fake_hv_irq_calls(t.fh, GED_SPI, true), 1);
	/* The guest offlines it (CPU_OFF on vCPU 1), then its AML ejects it. */
	fake_hv_push_hypercall(t.fh, 1, PSCI_FN_CPU_OFF, 0, 0, 0);
	assert_true(testvm_wait_online(&t, 1, false, TMO));
	assert_true(mmio_read(&t, 0, GED_BASE, 4) == GED_EVENT_CPU_HOTPLUG);
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_SELECT, 4, 1);
	assert_true(mmio_read(&t, 0, CPUHP_BASE + CPUHP_REG_STATUS, 4) ==
		    (CPUHP_STATUS_ENABLED | CPUHP_STATUS_REMOVE));
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_COMMAND, 4, CPUHP_CMD_EJECT);

	struct cpu_info c = testvm_cpu(&t, 1);
	assert_false(c.enabled);
	assert_false(c.online);
	assert_int_equal(c.pending, CPU_PENDING_NONE);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_DISABLED, 1), 1);
	assert_true(mmio_read(&t, 0, CPUHP_BASE + CPUHP_REG_STATUS, 4) == 0);
	/* Gone for the guest too. */
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_DENIED);
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), -VM_ERR_NOT_ENABLED);

	/* And it can be plugged back in. */
	assert_int_equal(vm_api_ops.cpu_add(t.vm, -1), 1);
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_SUCCESS);
	assert_true(fake_hv_wait_resets(t.fh, 1, 2, TMO));
	testvm_finish(&t);
}

/* _OST reports from the AML reach the API as events. */
static void test_hotplug_ost(void **state)
{
	struct testvm t;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_SELECT, 4, 1);
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_OST_EVENT, 4, 3);
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_OST_STATUS, 4, 0x80);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_OST, 1), 1);
	pthread_mutex_lock(&t.ev_lock);
	bool found = false;
	for (unsigned i = 0; i < t.nevents; i++) {
		if (t.events[i].kind == VM_EVENT_CPU_OST) {
			assert_int_equal(t.events[i].ost_event, 3);
			assert_int_equal(t.events[i].ost_status, 0x80);
			found = true;
		}
	}
	pthread_mutex_unlock(&t.ev_lock);
	assert_true(found);
	testvm_finish(&t);
}

struct race {
	struct testvm *t;
	pthread_barrier_t *go;
	int id;
	int result;
};

static void *race_add(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(r->go);
	r->result = vm_api_ops.cpu_add(r->t->vm, r->id);
	return NULL;
}

static void test_hotplug_concurrent_add(void **state)
{
	enum { N = 6 };
	struct testvm t;
	struct testvm_opts o = { .boot = 1, .max = 8, .mode = BOOT_MODE_ACPI };
	pthread_t th[N];
	struct race r[N];
	pthread_barrier_t go;

	(void)state;
	create_ok(&t, &o);
	/* Same id from every thread: exactly one wins, the others see it enabled. */
	for (int round = 1; round <= 3; round++) {
		pthread_barrier_init(&go, NULL, N);
		for (int i = 0; i < N; i++) {
			r[i] = (struct race){ .t = &t, .go = &go, .id = round };
			pthread_create(&th[i], NULL, race_add, &r[i]);
		}
		int wins = 0;
		for (int i = 0; i < N; i++) {
			pthread_join(th[i], NULL);
			if (r[i].result == round)
				wins++;
			else
				assert_int_equal(r[i].result, -VM_ERR_ALREADY_ENABLED);
		}
		pthread_barrier_destroy(&go);
		assert_int_equal(wins, 1);
		assert_int_equal(testvm_events(&t, VM_EVENT_CPU_ENABLED, (unsigned)round), 1);
	}
	/* Without an id: 4 free CPUs (4..7), 6 threads, each CPU handed out once. */
	pthread_barrier_init(&go, NULL, N);
	for (int i = 0; i < N; i++) {
		r[i] = (struct race){ .t = &t, .go = &go, .id = -1 };
		pthread_create(&th[i], NULL, race_add, &r[i]);
	}
	unsigned seen = 0, full = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		if (r[i].result == -VM_ERR_NO_FREE_CPU) {
			full++;
			continue;
		}
		assert_true(r[i].result >= 4 && r[i].result < 8);
		assert_false(seen & (1u << r[i].result));
		seen |= 1u << r[i].result;
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(seen, 0xf0);
	assert_int_equal(full, 2);
	testvm_finish(&t);
}

/* ---------------------------------------------------------------- two VMs */

static void test_two_vms(void **state)
{
	struct testvm a, b;
	struct testvm_opts oa = { .boot = 1, .max = 2, .mode = BOOT_MODE_ACPI, .console_file = true };
	struct testvm_opts ob = { .boot = 2, .max = 2, .mode = BOOT_MODE_FDT, .console_file = true };
	char out[16];

	(void)state;
	create_ok(&a, &oa);
	create_ok(&b, &ob);
	assert_ptr_not_equal(a.vm->ram, b.vm->ram);
	start_ok(&a);
	start_ok(&b);

	mmio_write(&a, 0, UART_BASE, 1, 'A');
	mmio_write(&b, 0, UART_BASE, 1, 'B');
	testvm_console(&a, out, sizeof(out));
	assert_string_equal(out, "A");
	testvm_console(&b, out, sizeof(out));
	assert_string_equal(out, "B");

	/* vCPU 1 is disabled in A, enabled in B. */
	assert_int_equal(cpu_on(&a, 0, 1, ENTRY, 0), PSCI_RET_DENIED);
	assert_int_equal(cpu_on(&b, 0, 1, ENTRY, 5), PSCI_RET_SUCCESS);
	assert_true(fake_hv_wait_resets(b.fh, 1, 1, TMO));
	assert_int_equal(fake_hv_resets(a.fh, 1, NULL), 0);
	assert_int_equal(vm_api_ops.cpu_add(a.vm, 1), 1);
	assert_int_equal(vm_api_ops.cpu_add(b.vm, 1), -VM_ERR_NOT_SUPPORTED);
	assert_int_equal(fake_hv_irq_calls(a.fh, GED_SPI, true), 1);
	assert_int_equal(fake_hv_irq_calls(b.fh, GED_SPI, true), 0);

	/* A powers off; B keeps running. */
	fake_hv_push_hypercall(a.fh, 0, PSCI_FN_SYSTEM_OFF, 0, 0, 0);
	assert_true(testvm_wait_stopped(&a, TMO));
	vm_join(a.vm);
	assert_int_equal(a.vm->exit_reason, VM_EXIT_POWEROFF);
	assert_false(testvm_wait_stopped(&b, 50));
	assert_int_equal(psci(&b, 1, PSCI_FN_VERSION, 0, 0, 0), 0x10001);
	assert_int_equal(b.vm->exit_reason, VM_EXIT_NONE);
	testvm_finish(&a);

	mmio_write(&b, 1, UART_BASE, 1, 'b');
	testvm_console(&b, out, sizeof(out));
	assert_string_equal(out, "Bb");
	testvm_finish(&b);
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
		cmocka_unit_test(test_psci_cpu_lifecycle),
		cmocka_unit_test(test_psci_smc32_cpu_on),
		cmocka_unit_test(test_system_reset_and_crash),
		cmocka_unit_test(test_run_error_stops_vm),
		cmocka_unit_test(test_pause_resume),
		cmocka_unit_test(test_mmio_console_and_unmapped),
		cmocka_unit_test(test_hotplug_add_then_cpu_on),
		cmocka_unit_test(test_hotplug_errors),
		cmocka_unit_test(test_hotplug_add_lowest),
		cmocka_unit_test(test_hotplug_fdt_unsupported),
		cmocka_unit_test(test_hotplug_eject),
		cmocka_unit_test(test_hotplug_ost),
		cmocka_unit_test(test_hotplug_concurrent_add),
		cmocka_unit_test(test_two_vms),
	};
	return cmocka_run_group_tests_name("core_vm", tests, NULL, NULL);
}
