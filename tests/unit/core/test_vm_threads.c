/*
 * vCPU thread names follow the guest's use of a CPU: "vcpuN" from the
 * guest's first CPU_ON of an enabled CPU (vCPU 0: from the start) until it
 * is ejected, "vcpuN-off" otherwise (Kata Containers counts ^vcpu[0-9]+$
 * threads as the vCPUs the guest runs on, and waits for them after a resize).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "arch/arm64/psci.h"
#include "testvm.h"

static const char *name_of(struct testvm *t, unsigned id, char *buf)
{
	assert_int_equal(pthread_getname_np(t->vm->vcpus[id].thread, buf, 16), 0);
	return buf;
}

static void test_names_follow_guest_use(void **state)
{
	struct testvm t;
	char n[16];

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	/* vCPU 1 is enabled at boot but the guest has not started it yet. */
	assert_string_equal(name_of(&t, 0, n), "vcpu0");
	assert_string_equal(name_of(&t, 1, n), "vcpu1-off");
	assert_string_equal(name_of(&t, 2, n), "vcpu2-off");
	assert_string_equal(name_of(&t, 3, n), "vcpu3-off");
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_SUCCESS);
	assert_string_equal(name_of(&t, 1, n), "vcpu1");

	/* Hot-added: still "-off" while only vmm has enabled it. */
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 3), 3);
	assert_true(testvm_cpu(&t, 3).enabled);
	assert_string_equal(name_of(&t, 3, n), "vcpu3-off");
	/* The guest takes the insert event, then starts it: renamed at CPU_ON. */
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_SELECT, 4, 3);
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_COMMAND, 4, CPUHP_CMD_CLEAR_INSERT);
	assert_string_equal(name_of(&t, 3, n), "vcpu3-off");
	assert_int_equal(cpu_on(&t, 0, 3, ENTRY, 0), PSCI_RET_SUCCESS);
	assert_string_equal(name_of(&t, 3, n), "vcpu3");
	assert_string_equal(name_of(&t, 2, n), "vcpu2-off");
	/* A refused CPU_ON (vCPU 2 is disabled) names nothing. */
	assert_int_equal(cpu_on(&t, 0, 2, ENTRY, 0), PSCI_RET_DENIED);
	assert_string_equal(name_of(&t, 2, n), "vcpu2-off");

	/* Offlined by the guest without an eject: still enabled, still "vcpu3". */
	assert_true(testvm_wait_online(&t, 3, true, TMO));
	fake_hv_push_hypercall(t.fh, 3, PSCI_FN_CPU_OFF, 0, 0, 0);
	assert_true(testvm_wait_online(&t, 3, false, TMO));
	assert_true(testvm_cpu(&t, 3).enabled);
	assert_string_equal(name_of(&t, 3, n), "vcpu3");

	/* Removed: renamed only when the guest has ejected it. */
	assert_true(testvm_wait_online(&t, 1, true, TMO));
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), 0);
	assert_string_equal(name_of(&t, 1, n), "vcpu1");
	fake_hv_push_hypercall(t.fh, 1, PSCI_FN_CPU_OFF, 0, 0, 0);
	assert_true(testvm_wait_online(&t, 1, false, TMO));
	assert_string_equal(name_of(&t, 1, n), "vcpu1");
	assert_int_equal(guest_eject(&t, 0, 1), 0);
	assert_false(testvm_cpu(&t, 1).enabled);
	assert_string_equal(name_of(&t, 1, n), "vcpu1-off");
	guest_ost(&t, 0, 1, OST_EVENT_EJECT_REQUEST, 0);

	/* Enabled again: "-off" until the guest starts it again. */
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 1), 1);
	assert_string_equal(name_of(&t, 1, n), "vcpu1-off");
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_SELECT, 4, 1);
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_COMMAND, 4, CPUHP_CMD_CLEAR_INSERT);
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_SUCCESS);
	assert_string_equal(name_of(&t, 1, n), "vcpu1");
	testvm_finish(&t);
}

/* Renaming a parked vCPU's thread (hot-add, eject) does not wake it. */
static void test_rename_leaves_parked_thread_asleep(void **state)
{
	struct testvm t;
	char n[16];

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_SUCCESS);
	assert_true(testvm_wait_online(&t, 1, true, TMO));
	fake_hv_push_hypercall(t.fh, 1, PSCI_FN_CPU_OFF, 0, 0, 0);
	assert_true(testvm_wait_online(&t, 1, false, TMO));
	assert_true(testvm_wait_parked(&t, 1));
	assert_true(testvm_wait_parked(&t, 2));
	unsigned long w1 = testvm_wakeups(&t, 1), w2 = testvm_wakeups(&t, 2);

	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), 0);
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_SELECT, 4, 1);
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_COMMAND, 4, CPUHP_CMD_EJECT);
	assert_string_equal(name_of(&t, 1, n), "vcpu1-off");
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 2), 2);
	assert_string_equal(name_of(&t, 2, n), "vcpu2-off");
	usleep(20000);
	assert_int_equal(testvm_wakeups(&t, 1), w1);
	assert_int_equal(testvm_wakeups(&t, 2), w2);
	testvm_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_follow_guest_use),
		cmocka_unit_test(test_rename_leaves_parked_thread_asleep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
