/*
 * The VM on a fake hypervisor: PSCI through the real vCPU threads (CPU_ON/OFF,
 * system events, run errors, pause/resume) and MMIO (console, unmapped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "arch/arm64/layout.h"
#include "arch/arm64/psci.h"
#include "testvm.h"

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

/* ------------------------------------------------------- parked vCPUs */

/*
 * A parked vCPU sleeps until its own state changes: other vCPUs running,
 * starting or stopping never wake it (no thundering herd).
 */
static void test_parked_vcpus_stay_asleep(void **state)
{
	struct testvm t;
	const struct testvm_opts o = { .boot = 2, .max = 8, .mode = BOOT_MODE_ACPI };

	(void)state;
	create_ok(&t, &o);
	start_ok(&t);
	for (unsigned id = 1; id < 8; id++)
		assert_true(testvm_wait_parked(&t, id));
	/* vCPU 0 works: many exits, a CPU_ON of vCPU 1, and vCPU 1 going off again. */
	for (int i = 0; i < 50; i++)
		assert_int_equal(psci(&t, 0, PSCI_FN_VERSION, 0, 0, 0), 0x10001);
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_SUCCESS);
	assert_true(fake_hv_wait_resets(t.fh, 1, 1, TMO));
	assert_true(fake_hv_wait_idle(t.fh, 1, TMO));
	fake_hv_push_hypercall(t.fh, 1, PSCI_FN_CPU_OFF, 0, 0, 0);
	assert_true(testvm_wait_online(&t, 1, false, TMO));
	for (int i = 0; i < 50; i++)
		assert_int_equal(cpu_on(&t, 0, 5, ENTRY, 0), PSCI_RET_DENIED);

	/* Wake-ups counted: vCPU 1 woke for its own CPU_ON; 2..7 never. */
	assert_true(testvm_wakeups(&t, 1) >= 1 && testvm_wakeups(&t, 1) <= 2);
	for (unsigned id = 2; id < 8; id++)
		assert_int_equal(testvm_wakeups(&t, id), 0);

	/* Pause and resume are every vCPU's business: one wake-up each. */
	assert_int_equal(vm_pause(t.vm), 0);
	assert_int_equal(vm_resume(t.vm), 0);
	for (unsigned id = 2; id < 8; id++)
		assert_true(testvm_wakeups(&t, id) <= 1);
	testvm_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psci_cpu_lifecycle),
		cmocka_unit_test(test_psci_smc32_cpu_on),
		cmocka_unit_test(test_system_reset_and_crash),
		cmocka_unit_test(test_run_error_stops_vm),
		cmocka_unit_test(test_pause_resume),
		cmocka_unit_test(test_mmio_console_and_unmapped),
		cmocka_unit_test(test_parked_vcpus_stay_asleep),
	};
	return cmocka_run_group_tests_name("core_vm_psci", tests, NULL, NULL);
}
