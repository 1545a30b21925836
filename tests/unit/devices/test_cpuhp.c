/* CPU hotplug block: every register, the error rules, and the callbacks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include "devices/cpuhp.h"

struct vmm {
	struct cpuhp hp;
	unsigned ejected_calls, ejected_cpu;
	uint32_t status_in_eject;	/* what cpuhp_status said inside the callback */
	unsigned ost_calls, ost_cpu;
	uint32_t ost_event, ost_status;
};

/* Calling back into the device proves the lock is not held (else deadlock). */
static void on_ejected(void *opaque, unsigned cpu)
{
	struct vmm *v = opaque;

	v->ejected_calls++;
	v->ejected_cpu = cpu;
	v->status_in_eject = cpuhp_status(&v->hp, cpu);
}

static void on_ost(void *opaque, unsigned cpu, uint32_t event, uint32_t status)
{
	struct vmm *v = opaque;

	v->ost_calls++;
	v->ost_cpu = cpu;
	v->ost_event = event;
	v->ost_status = status;
	(void)cpuhp_status(&v->hp, cpu);
}

static const struct cpuhp_ops vmm_ops = { .ejected = on_ejected, .ost = on_ost };

static uint32_t rd(struct vmm *v, uint64_t off)
{
	return (uint32_t)cpuhp_mmio_ops.read(&v->hp, off, 4);
}

static void wr(struct vmm *v, uint64_t off, uint32_t val)
{
	cpuhp_mmio_ops.write(&v->hp, off, val, 4);
}

static uint32_t sta(struct vmm *v, unsigned cpu)
{
	wr(v, CPUHP_REG_SELECT, cpu);
	return rd(v, CPUHP_REG_STATUS);
}

static int setup(void **state)
{
	struct vmm *v = calloc(1, sizeof(*v));

	if (!v || cpuhp_init(&v->hp, 4, &vmm_ops, v))
		return -1;
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	struct vmm *v = *state;

	cpuhp_destroy(&v->hp);
	free(v);
	return 0;
}

static void test_init_errors(void **state)
{
	struct cpuhp hp;

	(void)state;
	assert_int_equal(cpuhp_init(&hp, 0, &vmm_ops, NULL), -EINVAL);
	assert_int_equal(cpuhp_init(&hp, CPUHP_MAX_CPUS + 1, &vmm_ops, NULL), -EINVAL);
	assert_int_equal(cpuhp_init(&hp, CPUHP_MAX_CPUS, &vmm_ops, NULL), 0);
	cpuhp_destroy(&hp);
}

static void test_count_select_and_holes(void **state)
{
	struct vmm *v = *state;

	assert_int_equal(rd(v, CPUHP_REG_COUNT), 4);
	wr(v, CPUHP_REG_COUNT, 99);		/* read-only */
	assert_int_equal(rd(v, CPUHP_REG_COUNT), 4);
	assert_int_equal(rd(v, CPUHP_REG_SELECT), 0);
	wr(v, CPUHP_REG_SELECT, 3);
	assert_int_equal(rd(v, CPUHP_REG_SELECT), 3);
	wr(v, CPUHP_REG_SELECT, 1000);	/* stored even when out of range */
	assert_int_equal(rd(v, CPUHP_REG_SELECT), 1000);
	/* Write-only registers and holes read zero. */
	assert_int_equal(rd(v, CPUHP_REG_COMMAND), 0);
	assert_int_equal(rd(v, CPUHP_REG_OST_EVENT), 0);
	assert_int_equal(rd(v, CPUHP_REG_OST_STATUS), 0);
	assert_int_equal(rd(v, 0x18), 0);
	assert_int_equal(rd(v, 0xffc), 0);
}

static void test_boot_enabled(void **state)
{
	struct vmm *v = *state;

	assert_int_equal(cpuhp_set_boot_enabled(&v->hp, 0), 0);
	assert_int_equal(cpuhp_set_boot_enabled(&v->hp, 4), -EINVAL);
	assert_int_equal(sta(v, 0), CPUHP_STATUS_ENABLED);
	assert_int_equal(sta(v, 1), 0);
	assert_int_equal(cpuhp_status(&v->hp, 0), CPUHP_STATUS_ENABLED);
	assert_int_equal(cpuhp_status(&v->hp, 4), 0);
}

static void test_insert_rules(void **state)
{
	struct vmm *v = *state;

	assert_int_equal(cpuhp_insert(&v->hp, 4), -EINVAL);
	assert_int_equal(cpuhp_insert(&v->hp, 2), 0);
	assert_int_equal(sta(v, 2), CPUHP_STATUS_ENABLED | CPUHP_STATUS_INSERT);
	assert_int_equal(cpuhp_insert(&v->hp, 2), -EALREADY);
	assert_int_equal(cpuhp_set_boot_enabled(&v->hp, 0), 0);
	assert_int_equal(cpuhp_insert(&v->hp, 0), -EALREADY);

	wr(v, CPUHP_REG_SELECT, 2);
	wr(v, CPUHP_REG_COMMAND, CPUHP_CMD_CLEAR_INSERT);
	assert_int_equal(rd(v, CPUHP_REG_STATUS), CPUHP_STATUS_ENABLED);
	assert_int_equal(v->ejected_calls + v->ost_calls, 0);
}

static void test_remove_rules(void **state)
{
	struct vmm *v = *state;

	assert_int_equal(cpuhp_request_remove(&v->hp, 4), -EINVAL);
	assert_int_equal(cpuhp_request_remove(&v->hp, 1), -ENODEV);
	assert_int_equal(sta(v, 1), 0);
	assert_int_equal(cpuhp_set_boot_enabled(&v->hp, 1), 0);
	assert_int_equal(cpuhp_request_remove(&v->hp, 1), 0);
	assert_int_equal(sta(v, 1), CPUHP_STATUS_ENABLED | CPUHP_STATUS_REMOVE);

	/* Guest acknowledges the notification without ejecting. */
	wr(v, CPUHP_REG_COMMAND, CPUHP_CMD_CLEAR_REMOVE);
	assert_int_equal(rd(v, CPUHP_REG_STATUS), CPUHP_STATUS_ENABLED);

	/* A timed-out request is dropped by the VMM, Enabled stays. */
	assert_int_equal(cpuhp_request_remove(&v->hp, 1), 0);
	cpuhp_cancel_remove(&v->hp, 1);
	cpuhp_cancel_remove(&v->hp, 4);	/* out of range: ignored */
	assert_int_equal(sta(v, 1), CPUHP_STATUS_ENABLED);
	assert_int_equal(v->ejected_calls, 0);
}

static void test_eject(void **state)
{
	struct vmm *v = *state;

	assert_int_equal(cpuhp_insert(&v->hp, 3), 0);
	assert_int_equal(cpuhp_request_remove(&v->hp, 3), 0);
	wr(v, CPUHP_REG_SELECT, 3);
	wr(v, CPUHP_REG_COMMAND, CPUHP_CMD_EJECT);
	assert_int_equal(v->ejected_calls, 1);
	assert_int_equal(v->ejected_cpu, 3);
	/* Enabled and Remove are gone before the callback and right after _EJ0;
	 * a pending Insert is the guest's to clear. */
	assert_int_equal(v->status_in_eject, CPUHP_STATUS_INSERT);
	assert_int_equal(rd(v, CPUHP_REG_STATUS), CPUHP_STATUS_INSERT);

	/* Ejecting a CPU that is not enabled reports nothing. */
	wr(v, CPUHP_REG_COMMAND, CPUHP_CMD_EJECT);
	assert_int_equal(v->ejected_calls, 1);

	/* It can be inserted again. */
	assert_int_equal(cpuhp_insert(&v->hp, 3), 0);
}

static void test_unknown_command(void **state)
{
	struct vmm *v = *state;

	assert_int_equal(cpuhp_insert(&v->hp, 1), 0);
	assert_int_equal(cpuhp_request_remove(&v->hp, 1), 0);
	wr(v, CPUHP_REG_SELECT, 1);
	wr(v, CPUHP_REG_COMMAND, 0);
	wr(v, CPUHP_REG_COMMAND, 4);
	wr(v, CPUHP_REG_COMMAND, 0xffffffff);
	assert_int_equal(rd(v, CPUHP_REG_STATUS),
			 CPUHP_STATUS_ENABLED | CPUHP_STATUS_INSERT | CPUHP_STATUS_REMOVE);
	assert_int_equal(v->ejected_calls + v->ost_calls, 0);
}

static void test_ost(void **state)
{
	struct vmm *v = *state;

	wr(v, CPUHP_REG_SELECT, 2);
	wr(v, CPUHP_REG_OST_EVENT, 0x103);	/* ACPI eject request */
	wr(v, CPUHP_REG_OST_STATUS, 0x80);	/* ejection in progress */
	assert_int_equal(v->ost_calls, 1);
	assert_int_equal(v->ost_cpu, 2);
	assert_int_equal(v->ost_event, 0x103);
	assert_int_equal(v->ost_status, 0x80);

	/* The event stays latched for the next status. */
	wr(v, CPUHP_REG_SELECT, 1);
	wr(v, CPUHP_REG_OST_STATUS, 0);
	assert_int_equal(v->ost_calls, 2);
	assert_int_equal(v->ost_cpu, 1);
	assert_int_equal(v->ost_event, 0x103);
	assert_int_equal(v->ost_status, 0);
}

static void test_out_of_range_selection(void **state)
{
	struct vmm *v = *state;

	for (unsigned cpu = 0; cpu < 4; cpu++)
		assert_int_equal(cpuhp_insert(&v->hp, cpu), 0);
	wr(v, CPUHP_REG_SELECT, 4);
	assert_int_equal(rd(v, CPUHP_REG_STATUS), 0);
	wr(v, CPUHP_REG_COMMAND, CPUHP_CMD_EJECT);
	wr(v, CPUHP_REG_COMMAND, CPUHP_CMD_CLEAR_INSERT);
	wr(v, CPUHP_REG_OST_EVENT, 1);
	wr(v, CPUHP_REG_OST_STATUS, 0);
	wr(v, CPUHP_REG_SELECT, 0xffffffff);
	wr(v, CPUHP_REG_COMMAND, CPUHP_CMD_EJECT);
	assert_int_equal(rd(v, CPUHP_REG_STATUS), 0);
	assert_int_equal(v->ejected_calls + v->ost_calls, 0);
	for (unsigned cpu = 0; cpu < 4; cpu++)
		assert_int_equal(cpuhp_status(&v->hp, cpu),
				 CPUHP_STATUS_ENABLED | CPUHP_STATUS_INSERT);
}

static void test_null_ops(void **state)
{
	struct cpuhp hp;

	(void)state;
	assert_int_equal(cpuhp_init(&hp, 2, NULL, NULL), 0);
	assert_int_equal(cpuhp_insert(&hp, 1), 0);
	cpuhp_mmio_ops.write(&hp, CPUHP_REG_SELECT, 1, 4);
	cpuhp_mmio_ops.write(&hp, CPUHP_REG_COMMAND, CPUHP_CMD_EJECT, 4);
	cpuhp_mmio_ops.write(&hp, CPUHP_REG_OST_STATUS, 0, 4);
	assert_int_equal(cpuhp_status(&hp, 1), CPUHP_STATUS_INSERT);
	cpuhp_destroy(&hp);
}

static void test_two_instances(void **state)
{
	struct vmm *a = *state, *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	assert_int_equal(cpuhp_init(&b->hp, 8, &vmm_ops, b), 0);
	assert_int_equal(rd(b, CPUHP_REG_COUNT), 8);
	assert_int_equal(rd(a, CPUHP_REG_COUNT), 4);
	assert_int_equal(cpuhp_insert(&a->hp, 1), 0);
	assert_int_equal(cpuhp_status(&b->hp, 1), 0);
	assert_int_equal(cpuhp_insert(&b->hp, 1), 0);	/* not -EALREADY */
	wr(b, CPUHP_REG_SELECT, 1);
	assert_int_equal(rd(a, CPUHP_REG_SELECT), 0);
	wr(b, CPUHP_REG_COMMAND, CPUHP_CMD_EJECT);
	assert_int_equal(b->ejected_calls, 1);
	assert_int_equal(a->ejected_calls, 0);
	assert_int_equal(cpuhp_status(&a->hp, 1), CPUHP_STATUS_ENABLED | CPUHP_STATUS_INSERT);
	cpuhp_destroy(&b->hp);
	free(b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_errors),
		T(test_count_select_and_holes),
		T(test_boot_enabled),
		T(test_insert_rules),
		T(test_remove_rules),
		T(test_eject),
		T(test_unknown_command),
		T(test_ost),
		T(test_out_of_range_selection),
		cmocka_unit_test(test_null_ops),
		T(test_two_instances),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
