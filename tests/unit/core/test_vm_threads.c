/*
 * vCPU thread names follow the firmware view: "vcpuN" while CPU N is
 * enabled, "vcpuN-off" while it is not (Kata Containers counts
 * ^vcpu[0-9]+$ threads as the current vCPUs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "arch/arm64/psci.h"
#include "testvm.h"

static const char *name_of(struct testvm *t, unsigned id, char *buf)
{
	assert_int_equal(pthread_getname_np(t->vm->vcpus[id].thread, buf, 16), 0);
	return buf;
}

static void test_names_follow_enabled(void **state)
{
	struct testvm t;
	char n[16];

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	assert_string_equal(name_of(&t, 0, n), "vcpu0");
	assert_string_equal(name_of(&t, 1, n), "vcpu1");
	assert_string_equal(name_of(&t, 2, n), "vcpu2-off");
	assert_string_equal(name_of(&t, 3, n), "vcpu3-off");

	/* Enabled by a hot-add: named at once, before the guest onlines it. */
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 3), 3);
	assert_string_equal(name_of(&t, 3, n), "vcpu3");
	assert_string_equal(name_of(&t, 2, n), "vcpu2-off");

	/* Removed: renamed only when the guest has ejected it. */
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_SUCCESS);
	assert_true(testvm_wait_online(&t, 1, true, TMO));
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), 0);
	assert_string_equal(name_of(&t, 1, n), "vcpu1");
	fake_hv_push_hypercall(t.fh, 1, PSCI_FN_CPU_OFF, 0, 0, 0);
	assert_true(testvm_wait_online(&t, 1, false, TMO));
	assert_string_equal(name_of(&t, 1, n), "vcpu1");
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_SELECT, 4, 1);
	mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_COMMAND, 4, CPUHP_CMD_EJECT);
	assert_false(testvm_cpu(&t, 1).enabled);
	assert_string_equal(name_of(&t, 1, n), "vcpu1-off");
	testvm_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_follow_enabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
