/*
 * The vCPU count target (vmm/cpu_target.c) on the real VM and its hotplug
 * state machine (fake hypervisor): an add step is held while the guest has
 * not taken the insert event (the CPU is insert-pending), and the walk goes
 * on once the guest's scan acknowledges it; a grow after a shrink re-adds a
 * CPU only once the guest has reported its eject.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "vmm/cpu_target.h"
#include "testvm.h"

/* Run the loop for ms milliseconds (the target's timer fires every 10 ms). */
static void spin(struct event_base *base, unsigned ms)
{
	const struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	assert_int_equal(event_base_loopexit(base, &tv), 0);
	assert_true(event_base_dispatch(base) >= 0);
}

static void ack_insert(struct testvm *t, unsigned cpu)
{
	mmio_write(t, 0, CPUHP_BASE + CPUHP_REG_SELECT, 4, cpu);
	mmio_write(t, 0, CPUHP_BASE + CPUHP_REG_COMMAND, 4, CPUHP_CMD_CLEAR_INSERT);
}

/* A running VM (2 of 4 vCPUs, ACPI) and a target on a loop of the test's own. */
struct fx {
	struct testvm t;
	struct event_base *base;
	struct cpu_target *ct;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base = event_base_new();
	assert_non_null(f->base);
	create_ok(&f->t, &acpi_2_4);
	start_ok(&f->t);
	assert_int_equal(cpu_target_new(&f->ct, f->base, &vm_api_ops, f->t.vm), 0);
	cpu_target_set_timeouts(f->ct, 100, 1000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cpu_target_free(f->ct);
	testvm_finish(&f->t);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void test_add_waits_for_insert_pending(void **state)
{
	struct fx *f = *state;
	struct testvm *t = &f->t;
	struct event_base *base = f->base;
	struct cpu_target *ct = f->ct;
	struct cpu_target_status st;

	assert_int_equal(cpu_target_set(ct, 4), 0);

	/* One CPU enabled, then held: vcpu2 is insert-pending, vcpu3 not added. */
	spin(base, 50);
	assert_true(testvm_cpu(t, 2).enabled);
	assert_int_equal(testvm_cpu(t, 2).pending, CPU_PENDING_INSERT);
	assert_string_equal(testvm_cpu(t, 2).state, "insert-pending");
	assert_false(testvm_cpu(t, 3).enabled);
	cpu_target_status(ct, &st);
	assert_int_equal(st.state, CPU_TARGET_CONVERGING);
	/* Past the acknowledgement wait it says which CPU it waits for. */
	spin(base, 200);
	assert_false(testvm_cpu(t, 3).enabled);
	cpu_target_status(ct, &st);
	assert_int_equal(st.state, CPU_TARGET_CONVERGING);
	assert_non_null(strstr(st.reason, "waiting for the guest to take the hotplug event of vcpu2"));

	/* The guest's scan takes it: vcpu3 follows, held the same way. */
	ack_insert(t, 2);
	spin(base, 50);
	assert_int_equal(testvm_cpu(t, 2).pending, CPU_PENDING_NONE);
	assert_true(testvm_cpu(t, 3).enabled);
	assert_int_equal(testvm_cpu(t, 3).pending, CPU_PENDING_INSERT);
	cpu_target_status(ct, &st);
	assert_string_equal(st.reason, "");
	ack_insert(t, 3);
	spin(base, 50);
	cpu_target_status(ct, &st);
	assert_int_equal(st.state, CPU_TARGET_IDLE);
	assert_int_equal(testvm_events(t, VM_EVENT_CPU_ENABLED, 2), 1);
	assert_int_equal(testvm_events(t, VM_EVENT_CPU_ENABLED, 3), 1);

}

/* Shrink, then grow at once: the ejected CPU comes back only after the guest's _OST. */
static void test_grow_waits_for_eject_report(void **state)
{
	struct fx *f = *state;
	struct testvm *t = &f->t;
	struct event_base *base = f->base;
	struct cpu_target *ct = f->ct;
	struct cpu_target_status st;

	assert_int_equal(cpu_target_set(ct, 1), 0);
	spin(base, 50);
	assert_int_equal(testvm_cpu(t, 1).pending, CPU_PENDING_REMOVE);
	/* The guest's scan and _EJ0 (vCPU 1 never ran): _STA reads disabled. */
	mmio_write(t, 0, CPUHP_BASE + CPUHP_REG_SELECT, 4, 1);
	mmio_write(t, 0, CPUHP_BASE + CPUHP_REG_COMMAND, 4, CPUHP_CMD_CLEAR_REMOVE);
	assert_int_equal(guest_eject(t, 0, 1), 0);

	/* A new target before the guest reported the eject: nothing is added yet. */
	assert_int_equal(cpu_target_set(ct, 2), 0);
	spin(base, 250);
	for (unsigned id = 1; id < 4; id++)
		assert_false(testvm_cpu(t, id).enabled);
	assert_int_equal(guest_eject(t, 0, 1), 0);	/* the guest's _STA check still sees it gone */
	cpu_target_status(ct, &st);
	assert_int_equal(st.state, CPU_TARGET_CONVERGING);
	assert_non_null(strstr(st.reason, "waiting for the guest to report the eject of vcpu1"));

	/* The report ends the removal; the walk re-adds the lowest free CPU. */
	guest_ost(t, 0, 1, OST_EVENT_EJECT_REQUEST, 0);
	spin(base, 50);
	assert_int_equal(testvm_events(t, VM_EVENT_CPU_DISABLED, 1), 1);
	assert_true(testvm_cpu(t, 1).enabled);
	assert_int_equal(testvm_cpu(t, 1).pending, CPU_PENDING_INSERT);
	ack_insert(t, 1);
	spin(base, 50);
	cpu_target_status(ct, &st);
	assert_int_equal(st.state, CPU_TARGET_IDLE);

}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_waits_for_insert_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grow_waits_for_eject_report, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
