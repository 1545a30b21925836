/* The split-virtqueue walker against a fake guest memory and a hostile driver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tguest.h"

#define QSIZE 8
#define RAM (1u << 20)

struct fx {
	struct tguest g;
	struct virtq q;
	struct iovec iov[64];
	struct virtq_chain c;
};

static int setup_opts(void **state, bool event_idx, bool indirect)
{
	struct fx *f = calloc(1, sizeof(*f));
	tg_init(&f->g, RAM, QSIZE);
	assert_int_equal(virtq_setup(&f->q, &f->g.mem, QSIZE, f->g.desc, f->g.avail, f->g.used,
				     event_idx, indirect), 0);
	f->c = (struct virtq_chain){ .iov = f->iov, .cap = ARRAY_SIZE(f->iov) };
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_opts(state, true, true);
}

static int setup_plain(void **state)
{
	return setup_opts(state, false, false);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tg_free(&f->g);
	free(f);
	return 0;
}

/* Pop expecting a malformed chain: negative, broken, reason given, nothing returned to the driver. */
static void expect_broken(struct fx *f, int err, const char *reason_part)
{
	uint16_t used_before = tg_used_idx(&f->g);
	assert_int_equal(virtq_pop(&f->q, &f->c), err);
	assert_true(f->q.broken);
	assert_non_null(f->q.error);
	assert_non_null(strstr(f->q.error, reason_part));
	assert_int_equal(virtq_pop(&f->q, &f->c), -EIO);
	assert_int_equal(virtq_push(&f->q, 0, 0), -EIO);
	assert_int_equal(tg_used_idx(&f->g), used_before);
}

static void test_setup_rejects_bad_rings(void **state)
{
	struct fx *f = *state;
	struct virtq q;
	const struct gmem *m = &f->g.mem;
	uint64_t end = TG_RAM_BASE + RAM;

	assert_int_equal(virtq_setup(&q, m, 0, f->g.desc, f->g.avail, f->g.used, true, true), -EINVAL);
	assert_int_equal(virtq_setup(&q, m, 3, f->g.desc, f->g.avail, f->g.used, true, true), -EINVAL);
	assert_non_null(strstr(q.error, "power of two"));
	assert_int_equal(virtq_setup(&q, m, 2048, f->g.desc, f->g.avail, f->g.used, true, true), -EINVAL);
	assert_int_equal(virtq_setup(&q, m, 8, f->g.desc + 8, f->g.avail, f->g.used, true, true), -EINVAL);
	assert_int_equal(virtq_setup(&q, m, 8, f->g.desc, f->g.avail + 1, f->g.used, true, true), -EINVAL);
	assert_int_equal(virtq_setup(&q, m, 8, f->g.desc, f->g.avail, f->g.used + 2, true, true), -EINVAL);
	/* Unset (0), below RAM, straddling its end, wrapping the address space. */
	assert_int_equal(virtq_setup(&q, m, 8, 0, f->g.avail, f->g.used, true, true), -EFAULT);
	assert_non_null(strstr(q.error, "descriptor table is outside"));
	assert_int_equal(virtq_setup(&q, m, 8, f->g.desc, end - 16, f->g.used, true, true), -EFAULT);
	assert_int_equal(virtq_setup(&q, m, 8, f->g.desc, f->g.avail, end - 32, true, true), -EFAULT);
	assert_int_equal(virtq_setup(&q, m, 8, 0xfffffffffffffff0ULL, f->g.avail, f->g.used, true, true),
			 -EFAULT);
	assert_int_equal(q.size, 0);
	/* The last bytes of RAM are fine. */
	assert_int_equal(virtq_setup(&q, m, 8, end - 128, f->g.avail, end - VIRTQ_USED_BYTES(8) - 2,
				     true, true), 0);
}

static void test_chain_out_then_in(void **state)
{
	struct fx *f = *state;
	uint64_t a = tg_alloc(&f->g, 16), b = tg_alloc(&f->g, 100), c = tg_alloc(&f->g, 1);
	uint32_t id, len;

	tg_desc(&f->g, 3, a, 16, VIRTQ_DESC_F_NEXT, 5);
	tg_desc(&f->g, 5, b, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	tg_desc(&f->g, 0, c, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&f->g, 3);
	assert_true(virtq_has_avail(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 3);
	assert_int_equal(f->c.n_out, 1);
	assert_int_equal(f->c.n_in, 2);
	assert_int_equal(f->c.out_bytes, 16);
	assert_int_equal(f->c.in_bytes, 101);
	assert_ptr_equal(f->iov[0].iov_base, tg_host(&f->g, a));
	assert_ptr_equal(f->iov[1].iov_base, tg_host(&f->g, b));
	assert_int_equal(f->iov[2].iov_len, 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);

	/* Data crosses descriptor boundaries in both helpers. */
	memset(tg_host(&f->g, a), 0x5a, 16);
	uint8_t buf[128];
	assert_int_equal(virtq_chain_read(&f->c, 10, buf, 100), 6);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(virtq_chain_write(&f->c, 95, buf, 10), 6);
	assert_int_equal(*(uint8_t *)tg_host(&f->g, c), 0xa5);

	assert_int_equal(virtq_push(&f->q, f->c.head, 101), 0);
	assert_true(tg_used(&f->g, &id, &len));
	assert_int_equal(id, 3);
	assert_int_equal(len, 101);
	assert_false(tg_used(&f->g, &id, &len));
	assert_int_equal(virtq_push(&f->q, QSIZE, 0), -EINVAL);
}

static void test_wraparound(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	tg_start_at(&f->g, &f->q, 65533);
	for (int round = 0; round < 3; round++) {
		for (uint16_t i = 0; i < 4; i++) {
			tg_desc(&f->g, i, tg_alloc(&f->g, 8), 8, VIRTQ_DESC_F_WRITE, 0);
			tg_publish(&f->g, i);
		}
		for (uint16_t i = 0; i < 4; i++) {
			assert_int_equal(virtq_pop(&f->q, &f->c), 1);
			assert_int_equal(f->c.head, i);
			assert_int_equal(virtq_push(&f->q, f->c.head, i + 1), 0);
		}
		assert_int_equal(virtq_pop(&f->q, &f->c), 0);
		for (uint16_t i = 0; i < 4; i++) {
			assert_true(tg_used(&f->g, &id, &len));
			assert_int_equal(id, i);
			assert_int_equal(len, i + 1);
		}
	}
	assert_int_equal(tg_used_idx(&f->g), (uint16_t)(65533 + 12));
	assert_int_equal(f->q.last_avail, 9);
}

static void test_indirect(void **state)
{
	struct fx *f = *state;
	uint64_t t = tg_alloc(&f->g, 3 * 16);
	struct virtq_desc tab[3] = {
		{ tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_NEXT, 2 },
		{ tg_alloc(&f->g, 8), 8, VIRTQ_DESC_F_WRITE, 0 },
		{ tg_alloc(&f->g, 2), 2, VIRTQ_DESC_F_NEXT, 1 },
	};
	memcpy(tg_host(&f->g, t), tab, sizeof(tab));
	tg_desc(&f->g, 6, t, sizeof(tab), VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&f->g, 6);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 6);
	assert_int_equal(f->c.n_out, 2);
	assert_int_equal(f->c.n_in, 1);
	assert_int_equal(f->c.out_bytes, 6);
	assert_ptr_equal(f->iov[1].iov_base, tg_host(&f->g, tab[2].addr));
	assert_ptr_equal(f->iov[2].iov_base, tg_host(&f->g, tab[1].addr));
}

/* One indirect table to corrupt per test. */
static uint64_t indirect_table(struct fx *f, const struct virtq_desc *tab, unsigned n, uint32_t len,
			       uint16_t head_flags)
{
	uint64_t t = tg_alloc(&f->g, 16ULL * n);
	memcpy(tg_host(&f->g, t), tab, 16ULL * n);
	tg_desc(&f->g, 0, t, len, head_flags, 1);
	tg_publish(&f->g, 0);
	return t;
}

static void test_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;
	struct virtq_desc tab[1] = { { tg_alloc(&f->g, 4), 4, 0, 0 } };
	indirect_table(f, tab, 1, 16, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, -EINVAL, "without VIRTIO_F_RING_INDIRECT_DESC");
}

static void test_indirect_in_indirect(void **state)
{
	struct fx *f = *state;
	struct virtq_desc tab[2] = {
		{ tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_NEXT, 1 },
		{ tg_alloc(&f->g, 32), 32, VIRTQ_DESC_F_INDIRECT, 0 },
	};
	indirect_table(f, tab, 2, 32, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, -EINVAL, "inside an indirect table");
}

static void test_indirect_zero_length(void **state)
{
	struct fx *f = *state;
	struct virtq_desc tab[1] = { { tg_alloc(&f->g, 4), 4, 0, 0 } };
	indirect_table(f, tab, 1, 0, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, -EINVAL, "zero or not a multiple of 16");
}

static void test_indirect_odd_length(void **state)
{
	struct fx *f = *state;
	struct virtq_desc tab[2] = { { tg_alloc(&f->g, 4), 4, 0, 0 } };
	indirect_table(f, tab, 2, 24, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, -EINVAL, "multiple of 16");
}

static void test_indirect_with_next(void **state)
{
	struct fx *f = *state;
	struct virtq_desc tab[1] = { { tg_alloc(&f->g, 4), 4, 0, 0 } };
	indirect_table(f, tab, 1, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT);
	expect_broken(f, -EINVAL, "NEXT");
}

static void test_indirect_loop(void **state)
{
	struct fx *f = *state;
	struct virtq_desc tab[3] = {
		{ tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_NEXT, 1 },
		{ tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_NEXT, 2 },
		{ tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_NEXT, 0 },
	};
	indirect_table(f, tab, 3, 48, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, -ELOOP, "loops");
}

static void test_indirect_next_out_of_range(void **state)
{
	struct fx *f = *state;
	struct virtq_desc tab[2] = {
		{ tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_NEXT, 2 },	/* the table has 2 entries */
		{ tg_alloc(&f->g, 4), 4, 0, 0 },
	};
	indirect_table(f, tab, 2, 32, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, -EINVAL, "out of range");
}

static void test_indirect_table_outside_ram(void **state)
{
	struct fx *f = *state;
	tg_desc(&f->g, 0, TG_RAM_BASE + RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&f->g, 0);
	expect_broken(f, -EFAULT, "indirect table is outside guest RAM");
}

static void test_indirect_not_at_head(void **state)
{
	struct fx *f = *state;
	tg_desc(&f->g, 0, tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&f->g, 1, tg_alloc(&f->g, 16), 16, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&f->g, 0);
	expect_broken(f, -EINVAL, "head");
}

static void test_loop(void **state)
{
	struct fx *f = *state;
	uint64_t a = tg_alloc(&f->g, 4);
	tg_desc(&f->g, 0, a, 4, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&f->g, 1, a, 4, VIRTQ_DESC_F_NEXT, 0);
	tg_publish(&f->g, 0);
	expect_broken(f, -ELOOP, "loops");
}

static void test_self_loop(void **state)
{
	struct fx *f = *state;
	tg_desc(&f->g, 2, tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	tg_publish(&f->g, 2);
	expect_broken(f, -ELOOP, "loops");
}

static void test_next_out_of_range(void **state)
{
	struct fx *f = *state;
	tg_desc(&f->g, 0, tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_NEXT, QSIZE);
	tg_publish(&f->g, 0);
	expect_broken(f, -EINVAL, "next is out of range");
}

static void test_head_out_of_range(void **state)
{
	struct fx *f = *state;
	tg_publish(&f->g, 0xffff);
	expect_broken(f, -EINVAL, "out of range");
}

static void test_buffer_outside_ram(void **state)
{
	static const uint64_t bad[][2] = {
		{ 0, 16 },				/* below RAM */
		{ TG_RAM_BASE + RAM - 8, 16 },		/* straddles the end */
		{ TG_RAM_BASE + RAM, 1 },		/* just past it */
		{ 0xfffffffffffffff8ULL, 16 },		/* addr + len wraps */
		{ TG_RAM_BASE, 0xffffffff },		/* longer than RAM */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		struct fx *f;
		setup((void **)&f);
		tg_desc(&f->g, 1, bad[i][0], (uint32_t)bad[i][1], VIRTQ_DESC_F_WRITE, 0);
		tg_publish(&f->g, 1);
		expect_broken(f, -EFAULT, "outside guest RAM");
		teardown((void **)&f);
	}
	(void)state;
}

static void test_readable_after_writable(void **state)
{
	struct fx *f = *state;
	tg_desc(&f->g, 0, tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	tg_desc(&f->g, 1, tg_alloc(&f->g, 4), 4, 0, 0);
	tg_publish(&f->g, 0);
	expect_broken(f, -EINVAL, "readable descriptor after");
}

static void test_avail_idx_lies(void **state)
{
	struct fx *f = *state;
	tg_set_avail_idx(&f->g, QSIZE + 1);
	expect_broken(f, -EINVAL, "more buffers available than the queue holds");
}

static void test_too_many_buffers_for_device(void **state)
{
	struct fx *f = *state;
	for (uint16_t i = 0; i < 4; i++)
		tg_desc(&f->g, i, tg_alloc(&f->g, 4), 4, i < 3 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	tg_publish(&f->g, 0);
	f->c.cap = 3;
	expect_broken(f, -ENOBUFS, "more buffers than the device accepts");
}

static void test_unpop(void **state)
{
	struct fx *f = *state;
	tg_desc(&f->g, 4, tg_alloc(&f->g, 4), 4, 0, 0);
	tg_publish(&f->g, 4);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	virtq_unpop(&f->q);
	assert_true(virtq_has_avail(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 4);
}

/* Driver -> device with EVENT_IDX: avail_event stays behind while busy, catches up when empty. */
static void test_event_idx_kick_suppression(void **state)
{
	struct fx *f = *state;
	for (uint16_t i = 0; i < 3; i++) {
		tg_desc(&f->g, i, tg_alloc(&f->g, 4), 4, 0, 0);
		tg_publish(&f->g, i);
	}
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(tg_avail_event(&f->g), 0);	/* not moved while there is work */
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	assert_int_equal(tg_avail_event(&f->g), 3);	/* "notify me when you add entry 3" */
	assert_int_equal(tg_used_flags(&f->g), 0);	/* flags are not used with EVENT_IDX */
}

/* Device -> driver with EVENT_IDX: interrupt only when used_event is crossed. */
static void test_event_idx_interrupt_suppression(void **state)
{
	struct fx *f = *state;
	for (uint16_t i = 0; i < 8; i++) {
		tg_desc(&f->g, i, tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_WRITE, 0);
		tg_publish(&f->g, i);
	}
	for (uint16_t i = 0; i < 8; i++)
		assert_int_equal(virtq_pop(&f->q, &f->c), 1);

	assert_int_equal(virtq_push(&f->q, 0, 0), 0);
	assert_true(virtq_needs_interrupt(&f->q));	/* first interrupt always */
	assert_false(virtq_needs_interrupt(&f->q));	/* nothing new */
	tg_set_used_event(&f->g, 3);			/* "interrupt me after entry 3" */
	assert_int_equal(virtq_push(&f->q, 1, 0), 0);
	assert_int_equal(virtq_push(&f->q, 2, 0), 0);	/* used idx 3 */
	assert_false(virtq_needs_interrupt(&f->q));
	assert_int_equal(virtq_push(&f->q, 3, 0), 0);	/* used idx 4: entry 3 is used */
	assert_true(virtq_needs_interrupt(&f->q));
	/* A batch that jumps over used_event still interrupts once. */
	tg_set_used_event(&f->g, 5);
	for (uint16_t i = 4; i < 8; i++)
		assert_int_equal(virtq_push(&f->q, i, 0), 0);
	assert_true(virtq_needs_interrupt(&f->q));
	assert_false(virtq_needs_interrupt(&f->q));
}

/* Without EVENT_IDX: the flags. */
static void test_flags_suppression(void **state)
{
	struct fx *f = *state;
	for (uint16_t i = 0; i < 2; i++) {
		tg_desc(&f->g, i, tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_WRITE, 0);
		tg_publish(&f->g, i);
	}
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(tg_used_flags(&f->g), VIRTQ_USED_F_NO_NOTIFY);	/* busy: no kicks */
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	assert_int_equal(tg_used_flags(&f->g), 0);			/* idle: kick me */
	assert_int_equal(tg_avail_event(&f->g), 0);

	assert_int_equal(virtq_push(&f->q, 0, 0), 0);
	tg_set_avail_flags(&f->g, VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_false(virtq_needs_interrupt(&f->q));
	tg_set_avail_flags(&f->g, 0);
	assert_int_equal(virtq_push(&f->q, 1, 0), 0);
	assert_true(virtq_needs_interrupt(&f->q));
}

/* An indirect descriptor when the feature was not negotiated, on a plain queue. */
static void test_plain_queue_refuses_indirect(void **state)
{
	struct fx *f = *state;
	tg_desc(&f->g, 0, tg_alloc(&f->g, 16), 16, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&f->g, 0);
	expect_broken(f, -EINVAL, "INDIRECT_DESC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_setup_rejects_bad_rings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_out_then_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wraparound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_not_negotiated, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_in_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_zero_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_odd_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_with_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_next_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_table_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_not_at_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_out_of_range, setup, teardown),
		cmocka_unit_test(test_buffer_outside_ram),
		cmocka_unit_test_setup_teardown(test_readable_after_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_idx_lies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_buffers_for_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unpop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_kick_suppression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_interrupt_suppression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags_suppression, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_plain_queue_refuses_indirect, setup_plain, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
