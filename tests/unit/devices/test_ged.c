/* GED: read-to-clear event register and its level-triggered line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include "devices/ged.h"

#define MAX_LOG 16

struct line {
	bool levels[MAX_LOG];	/* every level driven, in order */
	unsigned calls;
	int error;
};

static int line_set(void *opaque, bool level)
{
	struct line *l = opaque;

	if (l->calls < MAX_LOG)
		l->levels[l->calls] = level;
	l->calls++;
	return l->error;
}

static uint32_t rd(struct ged *g, uint64_t off)
{
	return (uint32_t)ged_mmio_ops.read(g, off, 4);
}

static void test_init_errors(void **state)
{
	struct ged g;

	(void)state;
	assert_int_equal(ged_init(&g, NULL, NULL), -EINVAL);
}

static void test_read_to_clear_and_line_sequence(void **state)
{
	struct ged g;
	struct line l = { 0 };

	(void)state;
	assert_int_equal(ged_init(&g, line_set, &l), 0);
	assert_int_equal(rd(&g, GED_REG_EVENT), 0);
	assert_int_equal(l.calls, 0);	/* nothing pending: the line never moved */

	assert_int_equal(ged_raise(&g, GED_EVENT_CPU_HOTPLUG), 0);
	assert_int_equal(l.calls, 1);
	assert_true(l.levels[0]);
	/* A second raise while asserted latches but does not re-drive. */
	assert_int_equal(ged_raise(&g, 1u << 3), 0);
	assert_int_equal(l.calls, 1);

	assert_int_equal(rd(&g, GED_REG_EVENT), GED_EVENT_CPU_HOTPLUG | (1u << 3));
	assert_int_equal(l.calls, 2);
	assert_false(l.levels[1]);
	assert_int_equal(rd(&g, GED_REG_EVENT), 0);
	assert_int_equal(l.calls, 2);

	/* The next event asserts again. */
	assert_int_equal(ged_raise(&g, GED_EVENT_CPU_HOTPLUG), 0);
	assert_int_equal(l.calls, 3);
	assert_true(l.levels[2]);
	ged_destroy(&g);
}

static void test_other_offsets_and_writes(void **state)
{
	struct ged g;
	struct line l = { 0 };

	(void)state;
	assert_int_equal(ged_init(&g, line_set, &l), 0);
	assert_int_equal(ged_raise(&g, GED_EVENT_CPU_HOTPLUG), 0);
	/* Writes are ignored: they neither clear nor set events. */
	ged_mmio_ops.write(&g, GED_REG_EVENT, 0, 4);
	ged_mmio_ops.write(&g, GED_REG_EVENT, 0xff, 4);
	ged_mmio_ops.write(&g, 0x10, 0xff, 4);
	/* Other offsets read zero and leave the pending bits alone. */
	assert_int_equal(rd(&g, 0x4), 0);
	assert_int_equal(rd(&g, 0xffc), 0);
	assert_int_equal(l.calls, 1);
	assert_int_equal(rd(&g, GED_REG_EVENT), GED_EVENT_CPU_HOTPLUG);
	ged_destroy(&g);
}

static void test_raise_errors(void **state)
{
	struct ged g;
	struct line l = { .error = -EIO };

	(void)state;
	assert_int_equal(ged_init(&g, line_set, &l), 0);
	assert_int_equal(ged_raise(&g, 0), -EINVAL);
	assert_int_equal(l.calls, 0);
	/* The callback's error comes back; the event stays latched ... */
	assert_int_equal(ged_raise(&g, GED_EVENT_CPU_HOTPLUG), -EIO);
	/* ... and the next raise drives the line again. */
	l.error = 0;
	assert_int_equal(ged_raise(&g, GED_EVENT_CPU_HOTPLUG), 0);
	assert_int_equal(l.calls, 2);
	assert_true(l.levels[1]);
	assert_int_equal(rd(&g, GED_REG_EVENT), GED_EVENT_CPU_HOTPLUG);
	ged_destroy(&g);
}

static void test_two_instances(void **state)
{
	struct ged a, b;
	struct line la = { 0 }, lb = { 0 };

	(void)state;
	assert_int_equal(ged_init(&a, line_set, &la), 0);
	assert_int_equal(ged_init(&b, line_set, &lb), 0);
	assert_int_equal(ged_raise(&a, GED_EVENT_CPU_HOTPLUG), 0);
	assert_int_equal(lb.calls, 0);
	assert_int_equal(rd(&b, GED_REG_EVENT), 0);
	assert_int_equal(rd(&a, GED_REG_EVENT), GED_EVENT_CPU_HOTPLUG);
	ged_destroy(&a);
	ged_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_read_to_clear_and_line_sequence),
		cmocka_unit_test(test_other_offsets_and_writes),
		cmocka_unit_test(test_raise_errors),
		cmocka_unit_test(test_two_instances),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
