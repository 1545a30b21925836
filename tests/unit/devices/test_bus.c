/* MMIO bus: window registration rules and how accesses reach a device. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include "devices/bus.h"

struct fake_dev {
	uint64_t last_offset, last_value;
	unsigned last_size, writes;
	uint64_t read_value;
};

static uint64_t fake_read(void *opaque, uint64_t offset, unsigned size)
{
	struct fake_dev *d = opaque;

	d->last_offset = offset;
	d->last_size = size;
	return d->read_value;
}

static void fake_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct fake_dev *d = opaque;

	d->last_offset = offset;
	d->last_value = value;
	d->last_size = size;
	d->writes++;
}

static const struct mmio_ops fake_ops = { .read = fake_read, .write = fake_write };
static const struct mmio_ops no_ops = { 0 };

static void test_register_rules(void **state)
{
	struct mmio_bus bus;
	struct fake_dev d = { 0 };

	(void)state;
	mmio_bus_init(&bus);
	assert_int_equal(mmio_bus_register(&bus, 0x1000, 0x1000, &fake_ops, &d, "a"), 0);
	/* Overlaps at the start, end, inside and around are all rejected. */
	assert_int_equal(mmio_bus_register(&bus, 0x0800, 0x1000, &fake_ops, &d, "b"), -EEXIST);
	assert_int_equal(mmio_bus_register(&bus, 0x1fff, 0x10, &fake_ops, &d, "b"), -EEXIST);
	assert_int_equal(mmio_bus_register(&bus, 0x1100, 0x10, &fake_ops, &d, "b"), -EEXIST);
	assert_int_equal(mmio_bus_register(&bus, 0x0000, 0x4000, &fake_ops, &d, "b"), -EEXIST);
	/* Adjacent windows are fine. */
	assert_int_equal(mmio_bus_register(&bus, 0x2000, 0x1000, &fake_ops, &d, "c"), 0);
	assert_int_equal(mmio_bus_register(&bus, 0x0000, 0x1000, &fake_ops, &d, "d"), 0);
	assert_int_equal(mmio_bus_register(&bus, 0x9000, 0, &fake_ops, &d, "e"), -EINVAL);
	assert_int_equal(mmio_bus_register(&bus, ~0ULL - 0xf, 0x100, &fake_ops, &d, "e"), -EINVAL);
	assert_int_equal(mmio_bus_register(&bus, 0x9000, 0x10, NULL, &d, "e"), -EINVAL);
	assert_string_equal(mmio_bus_find(&bus, 0x2abc)->name, "c");
	assert_null(mmio_bus_find(&bus, 0x3000));
}

static void test_full(void **state)
{
	struct mmio_bus bus;

	(void)state;
	mmio_bus_init(&bus);
	for (unsigned i = 0; i < MMIO_BUS_MAX_REGIONS; i++)
		assert_int_equal(mmio_bus_register(&bus, i * 0x1000ULL, 0x1000, &no_ops, NULL, "x"), 0);
	assert_int_equal(mmio_bus_register(&bus, 0x100000, 0x1000, &no_ops, NULL, "x"), -ENOSPC);
}

static void test_offsets_and_sizes(void **state)
{
	struct mmio_bus bus;
	struct fake_dev a = { .read_value = 0x1122334455667788ULL }, b = { 0 };
	uint64_t v = 0;

	(void)state;
	mmio_bus_init(&bus);
	assert_int_equal(mmio_bus_register(&bus, 0x09000000, 0x1000, &fake_ops, &a, "a"), 0);
	assert_int_equal(mmio_bus_register(&bus, 0x09010000, 0x1000, &fake_ops, &b, "b"), 0);

	assert_true(mmio_bus_read(&bus, 0x09000018, 4, &v));
	assert_int_equal(a.last_offset, 0x18);
	assert_int_equal(a.last_size, 4);
	assert_int_equal(v, 0x55667788);	/* masked to the access size */
	assert_true(mmio_bus_read(&bus, 0x09000000, 1, &v));
	assert_int_equal(v, 0x88);
	assert_true(mmio_bus_read(&bus, 0x09000000, 2, &v));
	assert_int_equal(v, 0x7788);
	assert_true(mmio_bus_read(&bus, 0x09000000, 8, &v));
	assert_int_equal(v, 0x1122334455667788ULL);

	assert_true(mmio_bus_write(&bus, 0x09010ffc, 2, 0xabcdef));
	assert_int_equal(b.last_offset, 0xffc);
	assert_int_equal(b.last_value, 0xcdef);
	assert_int_equal(b.last_size, 2);
	assert_int_equal(a.writes, 0);
}

static void test_unmapped(void **state)
{
	struct mmio_bus bus;
	struct fake_dev a = { 0 };
	uint64_t v = 0;

	(void)state;
	mmio_bus_init(&bus);
	assert_int_equal(mmio_bus_register(&bus, 0x1000, 0x1000, &fake_ops, &a, "a"), 0);
	assert_int_equal(mmio_bus_register(&bus, 0x2000, 0x1000, &no_ops, NULL, "hole"), 0);
	assert_false(mmio_bus_read(&bus, 0x3000, 4, &v));
	assert_int_equal(v, 0xffffffff);
	assert_false(mmio_bus_read(&bus, 0x0fff, 1, &v));
	assert_int_equal(v, 0xff);
	assert_false(mmio_bus_read(&bus, 0x3000, 2, &v));
	assert_int_equal(v, 0xffff);
	assert_false(mmio_bus_read(&bus, 0x3000, 8, &v));
	assert_int_equal(v, ~0ULL);
	assert_false(mmio_bus_write(&bus, 0x3000, 4, 1));
	assert_int_equal(a.writes, 0);
	/* A mapped window without a read handler also reads all ones. */
	assert_true(mmio_bus_read(&bus, 0x2000, 4, &v));
	assert_int_equal(v, 0xffffffff);
	assert_true(mmio_bus_write(&bus, 0x2000, 4, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_rules),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_offsets_and_sizes),
		cmocka_unit_test(test_unmapped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
