/*
 * The VM on a fake hypervisor: the CPU hotplug controller through vm_api_ops
 * and the guest's side of it, and two VMs in one process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <unistd.h>

#include "arch/arm64/layout.h"
#include "arch/arm64/psci.h"
#include "testvm.h"

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
	struct cpu_info c;
	assert_int_equal(vm_api_ops.cpu_remove_cancel(t.vm, 1, &c), 0);
	assert_true(c.enabled);
	assert_string_equal(c.state, "enabled");
	assert_true(testvm_cpu(&t, 1).enabled);
	assert_int_equal(testvm_cpu(&t, 1).pending, CPU_PENDING_NONE);
	assert_int_equal(vm_api_ops.cpu_remove_cancel(t.vm, 1, NULL), -VM_ERR_INVALID_STATE);
	assert_int_equal(vm_api_ops.cpu_remove_cancel(t.vm, 99, NULL), -VM_ERR_NO_SUCH_CPU);
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
	/* _EJ0: disabled at once (the _STA that follows reads it so)... */
	assert_int_equal(guest_eject(&t, 0, 1), 0);
	struct cpu_info c = testvm_cpu(&t, 1);
	assert_false(c.enabled);
	assert_false(c.online);
	assert_string_equal(c.state, "ejected");
	/* ...but the removal is done only when the guest reports it (_OST). */
	assert_int_equal(c.pending, CPU_PENDING_REMOVE);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_DISABLED, 1), 0);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 1), -VM_ERR_BUSY);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, -1), 2);	/* another CPU is free */
	assert_int_equal(guest_eject(&t, 0, 1), 0);		/* still disabled for the guest */
	guest_ost(&t, 0, 1, OST_EVENT_EJECT_REQUEST, 0);

	c = testvm_cpu(&t, 1);
	assert_false(c.enabled);
	assert_int_equal(c.pending, CPU_PENDING_NONE);
	assert_string_equal(c.state, "disabled");
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_DISABLED, 1), 1);
	/* Gone for the guest too. */
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_DENIED);
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), -VM_ERR_NOT_ENABLED);

	/* And it can be plugged back in. */
	assert_int_equal(vm_api_ops.cpu_add(t.vm, -1), 1);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_DISABLED, 1), 1);
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_SUCCESS);
	assert_true(fake_hv_wait_resets(t.fh, 1, 2, TMO));
	testvm_finish(&t);
}

/*
 * A guest that ejects but never reports it (_OST): the removal ends after
 * a grace period, at the next add or at the remove's own timeout (cancel).
 */
static void test_hotplug_eject_unreported(void **state)
{
	struct testvm t;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	for (unsigned id = 2; id <= 3; id++) {
		assert_int_equal(vm_api_ops.cpu_add(t.vm, (int)id), (int)id);
		mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_SELECT, 4, id);
		mmio_write(&t, 0, CPUHP_BASE + CPUHP_REG_COMMAND, 4, CPUHP_CMD_CLEAR_INSERT);
		assert_int_equal(vm_api_ops.cpu_remove(t.vm, id), 0);
		assert_int_equal(guest_eject(&t, 0, id), 0);
	}
	/* Nothing free while both are in their grace period. */
	assert_int_equal(vm_api_ops.cpu_add(t.vm, -1), -VM_ERR_NO_FREE_CPU);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 3), -VM_ERR_BUSY);
	/* The remove's timeout: nothing to cancel, the removal is over. */
	assert_int_equal(vm_api_ops.cpu_remove_cancel(t.vm, 2, NULL), -VM_ERR_NOT_ENABLED);
	assert_string_equal(testvm_cpu(&t, 2).state, "disabled");
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_DISABLED, 2), 1);
	/* After the grace period, vCPU 3 counts as free: an add ends its removal. */
	usleep(2100 * 1000);
	assert_int_equal(testvm_cpu(&t, 3).pending, CPU_PENDING_NONE);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_DISABLED, 3), 0);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 3), 3);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_DISABLED, 3), 1);
	assert_true(testvm_cpu(&t, 3).enabled);
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
		cmocka_unit_test(test_hotplug_add_then_cpu_on),
		cmocka_unit_test(test_hotplug_errors),
		cmocka_unit_test(test_hotplug_add_lowest),
		cmocka_unit_test(test_hotplug_fdt_unsupported),
		cmocka_unit_test(test_hotplug_eject),
		cmocka_unit_test(test_hotplug_eject_unreported),
		cmocka_unit_test(test_hotplug_ost),
		cmocka_unit_test(test_hotplug_concurrent_add),
		cmocka_unit_test(test_two_vms),
	};
	return cmocka_run_group_tests_name("core_vm_hotplug", tests, NULL, NULL);
}
