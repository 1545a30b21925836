/*
 * CPU hotplug block: every register, and what it asks of the VMM. The VMM
 * here is a table of status bits that records every call.
 */
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
	uint32_t status[8];
	unsigned status_calls, next_calls;
	unsigned cmd_calls, cmd_cpu;
	uint32_t cmd;
	unsigned ost_calls, ost_cpu;
	uint32_t ost_event, ost_status;
	int next;		/* what next_event answers */
};

/* Each op reads a register of the device: proves the lock is not held (else deadlock). */
static uint32_t on_status(void *opaque, unsigned cpu)
{
	struct vmm *v = opaque;

	v->status_calls++;
	(void)cpuhp_accesses(&v->hp);
	return v->status[cpu];
}

static void on_command(void *opaque, unsigned cpu, uint32_t cmd)
{
	struct vmm *v = opaque;

	v->cmd_calls++;
	v->cmd_cpu = cpu;
	v->cmd = cmd;
	(void)cpuhp_accesses(&v->hp);
}

static int on_next(void *opaque)
{
	struct vmm *v = opaque;

	v->next_calls++;
	(void)cpuhp_accesses(&v->hp);
	return v->next;
}

static void on_ost(void *opaque, unsigned cpu, uint32_t event, uint32_t status)
{
	struct vmm *v = opaque;

	v->ost_calls++;
	v->ost_cpu = cpu;
	v->ost_event = event;
	v->ost_status = status;
	(void)cpuhp_accesses(&v->hp);
}

static const struct cpuhp_ops vmm_ops = {
	.status = on_status, .command = on_command, .next_event = on_next, .ost = on_ost,
};

static uint32_t rd(struct vmm *v, uint64_t off)
{
	return (uint32_t)cpuhp_mmio_ops.read(&v->hp, off, 4);
}

static void wr(struct vmm *v, uint64_t off, uint32_t val)
{
	cpuhp_mmio_ops.write(&v->hp, off, val, 4);
}

static int setup(void **state)
{
	struct vmm *v = calloc(1, sizeof(*v));

	if (!v || cpuhp_init(&v->hp, 4, &vmm_ops, v))
		return -1;
	v->next = -1;
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
	assert_int_equal(rd(v, 0x1c), 0);
	assert_int_equal(rd(v, 0xffc), 0);
	wr(v, CPUHP_REG_NEXT_EVENT, 2);		/* read-only */
	assert_int_equal(v->cmd_calls + v->ost_calls + v->status_calls, 0);
}

static void test_status_is_the_vmms(void **state)
{
	struct vmm *v = *state;

	v->status[2] = CPUHP_STATUS_ENABLED | CPUHP_STATUS_INSERT;
	wr(v, CPUHP_REG_SELECT, 2);
	assert_int_equal(rd(v, CPUHP_REG_STATUS), CPUHP_STATUS_ENABLED | CPUHP_STATUS_INSERT);
	v->status[2] = 0;	/* no copy in the device: the next read sees the change */
	assert_int_equal(rd(v, CPUHP_REG_STATUS), 0);
	assert_int_equal(v->status_calls, 2);
	wr(v, CPUHP_REG_STATUS, 7);		/* read-only */
	assert_int_equal(v->cmd_calls, 0);
}

static void test_commands_reach_the_vmm(void **state)
{
	struct vmm *v = *state;
	const uint32_t cmds[] = { CPUHP_CMD_CLEAR_INSERT, CPUHP_CMD_CLEAR_REMOVE, CPUHP_CMD_EJECT };

	wr(v, CPUHP_REG_SELECT, 3);
	for (unsigned i = 0; i < 3; i++) {
		wr(v, CPUHP_REG_COMMAND, cmds[i]);
		assert_int_equal(v->cmd_calls, i + 1);
		assert_int_equal(v->cmd_cpu, 3);
		assert_int_equal(v->cmd, cmds[i]);
	}
	/* Unknown commands never reach the VMM. */
	wr(v, CPUHP_REG_COMMAND, 0);
	wr(v, CPUHP_REG_COMMAND, 4);
	wr(v, CPUHP_REG_COMMAND, 0xffffffff);
	assert_int_equal(v->cmd_calls, 3);
}

static void test_next_event_selects(void **state)
{
	struct vmm *v = *state;

	wr(v, CPUHP_REG_SELECT, 1);
	assert_int_equal(rd(v, CPUHP_REG_NEXT_EVENT), CPUHP_NO_EVENT);
	assert_int_equal(rd(v, CPUHP_REG_SELECT), 1);	/* unchanged without an event */
	v->next = 3;
	assert_int_equal(rd(v, CPUHP_REG_NEXT_EVENT), 3);
	assert_int_equal(rd(v, CPUHP_REG_SELECT), 3);
	v->status[3] = CPUHP_STATUS_ENABLED | CPUHP_STATUS_REMOVE;
	assert_int_equal(rd(v, CPUHP_REG_STATUS), CPUHP_STATUS_ENABLED | CPUHP_STATUS_REMOVE);
	/* A VMM answer out of range is "no event", never a selection. */
	v->next = 4;
	assert_int_equal(rd(v, CPUHP_REG_NEXT_EVENT), CPUHP_NO_EVENT);
	assert_int_equal(rd(v, CPUHP_REG_SELECT), 3);
	assert_int_equal(v->next_calls, 3);
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

	wr(v, CPUHP_REG_SELECT, 4);
	assert_int_equal(rd(v, CPUHP_REG_STATUS), 0);
	wr(v, CPUHP_REG_COMMAND, CPUHP_CMD_EJECT);
	wr(v, CPUHP_REG_COMMAND, CPUHP_CMD_CLEAR_INSERT);
	wr(v, CPUHP_REG_OST_EVENT, 1);
	wr(v, CPUHP_REG_OST_STATUS, 0);
	wr(v, CPUHP_REG_SELECT, 0xffffffff);
	wr(v, CPUHP_REG_COMMAND, CPUHP_CMD_EJECT);
	assert_int_equal(rd(v, CPUHP_REG_STATUS), 0);
	assert_int_equal(v->cmd_calls + v->ost_calls + v->status_calls, 0);
}

static void test_access_counter(void **state)
{
	struct vmm *v = *state;

	assert_int_equal(cpuhp_accesses(&v->hp), 0);
	wr(v, CPUHP_REG_SELECT, 1);
	(void)rd(v, CPUHP_REG_STATUS);
	(void)rd(v, CPUHP_REG_NEXT_EVENT);
	wr(v, 0xffc, 1);			/* holes count too: each is an exit */
	assert_int_equal(cpuhp_accesses(&v->hp), 4);
}

static void test_null_ops(void **state)
{
	struct cpuhp hp;

	(void)state;
	assert_int_equal(cpuhp_init(&hp, 2, NULL, NULL), 0);
	cpuhp_mmio_ops.write(&hp, CPUHP_REG_SELECT, 1, 4);
	cpuhp_mmio_ops.write(&hp, CPUHP_REG_COMMAND, CPUHP_CMD_EJECT, 4);
	cpuhp_mmio_ops.write(&hp, CPUHP_REG_OST_STATUS, 0, 4);
	assert_int_equal(cpuhp_mmio_ops.read(&hp, CPUHP_REG_STATUS, 4), 0);
	assert_int_equal(cpuhp_mmio_ops.read(&hp, CPUHP_REG_NEXT_EVENT, 4), CPUHP_NO_EVENT);
	cpuhp_destroy(&hp);
}

static void test_two_instances(void **state)
{
	struct vmm *a = *state, *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	assert_int_equal(cpuhp_init(&b->hp, 8, &vmm_ops, b), 0);
	assert_int_equal(rd(b, CPUHP_REG_COUNT), 8);
	assert_int_equal(rd(a, CPUHP_REG_COUNT), 4);
	wr(b, CPUHP_REG_SELECT, 1);
	assert_int_equal(rd(a, CPUHP_REG_SELECT), 0);
	wr(b, CPUHP_REG_COMMAND, CPUHP_CMD_EJECT);
	assert_int_equal(b->cmd_calls, 1);
	assert_int_equal(a->cmd_calls, 0);
	cpuhp_destroy(&b->hp);
	free(b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_errors),
		T(test_count_select_and_holes),
		T(test_status_is_the_vmms),
		T(test_commands_reach_the_vmm),
		T(test_next_event_selects),
		T(test_ost),
		T(test_out_of_range_selection),
		T(test_access_counter),
		cmocka_unit_test(test_null_ops),
		T(test_two_instances),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
