/* vm_run: the main loop's exit status for each way a guest can end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "arch/arm64/layout.h"
#include "arch/arm64/psci.h"
#include "testvm.h"
#include "vmm/run.h"

static const struct testvm_opts opts = { .boot = 2, .max = 2, .mode = BOOT_MODE_ACPI };

static int run(struct testvm *t)
{
	int r = vm_run(t->vm, t->err, sizeof(t->err));
	if (r < 0)
		fail_msg("vm_run could not run: %s", t->err);
	return r;
}

static void test_system_off_is_0(void **state)
{
	struct testvm t;

	(void)state;
	assert_int_equal(testvm_create(&t, &opts), 0);
	fake_hv_push_hypercall(t.fh, 0, PSCI_FN_VERSION, 0, 0, 0);
	fake_hv_push_hypercall(t.fh, 0, PSCI_FN_SYSTEM_OFF, 0, 0, 0);
	assert_int_equal(run(&t), 0);
	assert_int_equal(t.vm->exit_reason, VM_EXIT_POWEROFF);
	/* The guest really ran: its first call was answered. */
	struct vcpu_exit e;
	assert_true(fake_hv_answer(t.fh, 0, 0, &e));
	assert_true(e.hypercall.ret[0] == PSCI_VERSION_1_1);
	/* vm_run joined every vCPU thread. */
	for (unsigned i = 0; i < 2; i++)
		assert_false(t.vm->vcpus[i].thread_started);
	testvm_finish(&t);
}

static void test_system_reset_is_3(void **state)
{
	struct testvm t;

	(void)state;
	assert_int_equal(testvm_create(&t, &opts), 0);
	fake_hv_push_hypercall(t.fh, 0, PSCI_FN_SYSTEM_RESET, 0, 0, 0);
	assert_int_equal(run(&t), 3);
	assert_int_equal(t.vm->exit_reason, VM_EXIT_RESET);
	testvm_finish(&t);
}

static void test_fail_entry_is_1(void **state)
{
	struct testvm t;
	struct vcpu_exit fail = { .kind = VCPU_EXIT_FAIL_ENTRY };

	(void)state;
	fail.other.reason = 9;
	fail.other.detail = 0xbad0;
	assert_int_equal(testvm_create(&t, &opts), 0);
	/* vCPU 0 starts vCPU 1, which cannot enter the guest. */
	fake_hv_push_hypercall(t.fh, 0, PSCI_FN64_CPU_ON, 1, RAM_BASE + 0x80000, 0);
	fake_hv_push(t.fh, 1, &fail);
	assert_int_equal(run(&t), 1);
	assert_int_equal(t.vm->exit_reason, VM_EXIT_ERROR);
	assert_non_null(strstr(t.vm->exit_message, "vcpu1"));
	assert_non_null(strstr(t.vm->exit_message, "FAIL_ENTRY"));
	assert_non_null(strstr(t.vm->exit_message, "0xbad0"));
	testvm_finish(&t);
}

static void test_internal_error_is_1(void **state)
{
	struct testvm t;
	struct vcpu_exit e = { .kind = VCPU_EXIT_INTERNAL_ERROR };

	(void)state;
	e.other.reason = 17;
	e.other.detail = 1;
	assert_int_equal(testvm_create(&t, &opts), 0);
	fake_hv_push(t.fh, 0, &e);
	assert_int_equal(run(&t), 1);
	assert_non_null(strstr(t.vm->exit_message, "vcpu0"));
	assert_non_null(strstr(t.vm->exit_message, "INTERNAL_ERROR"));
	testvm_finish(&t);
}

struct killer {
	struct testvm *t;
	int sig;
};

static void *send_signal(void *arg)
{
	struct killer *k = arg;

	/* Once the guest runs, the loop is set up. */
	if (fake_hv_wait_idle(k->t->fh, 0, TMO))
		kill(getpid(), k->sig);
	return NULL;
}

static void test_sigterm_is_0(void **state)
{
	struct testvm t;
	pthread_t th;

	(void)state;
	assert_int_equal(testvm_create(&t, &opts), 0);
	struct killer k = { &t, SIGTERM };
	pthread_create(&th, NULL, send_signal, &k);
	assert_int_equal(run(&t), 0);
	pthread_join(th, NULL);
	assert_int_equal(t.vm->exit_reason, VM_EXIT_POWEROFF);
	assert_non_null(strstr(t.vm->exit_message, "SIGTERM"));
	testvm_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_off_is_0),
		cmocka_unit_test(test_system_reset_is_3),
		cmocka_unit_test(test_fail_entry_is_1),
		cmocka_unit_test(test_internal_error_is_1),
		cmocka_unit_test(test_sigterm_is_0),
	};
	return cmocka_run_group_tests_name("core_run", tests, NULL, NULL);
}
