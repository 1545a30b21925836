/* virtio-blk request parsing: layouts, bounds and status codes, on a fake guest memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "devices/virtio/blk_req.h"

#define CAPACITY 2048	/* sectors: a 1 MiB disk */

/* The fake guest memory the chains point into. */
static uint8_t mem[64 * 1024];

struct chain {
	struct iovec iov[16];
	unsigned n_out, n_in;
	struct iovec data_iov[8];
	struct blk_range ranges[4];
	struct blk_req_space sp;
	struct blk_limits lim;
	struct blk_req req;
};

static void setup_chain(struct chain *c)
{
	memset(mem, 0xee, sizeof(mem));
	memset(c, 0, sizeof(*c));
	c->sp = (struct blk_req_space){ c->data_iov, 8, c->ranges, 4 };
	c->lim = (struct blk_limits){
		.capacity = CAPACITY,
		.discard = true, .write_zeroes = true,
		.max_discard_sectors = 1024, .max_discard_seg = 4,
		.max_write_zeroes_sectors = 1024, .max_write_zeroes_seg = 4,
		.serial = "disk-serial-0123456",
	};
}

/* The header at mem[0]. */
static void hdr(struct chain *c, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { htole32(type), 0, htole64(sector) };
	memcpy(mem, &h, sizeof(h));
	c->iov[0] = (struct iovec){ mem, sizeof(h) };
	c->n_out = 1;
}

static void out(struct chain *c, size_t off, size_t len)
{
	c->iov[c->n_out++] = (struct iovec){ mem + off, len };
}

/* Writable buffers follow the readable ones. */
static void in(struct chain *c, size_t off, size_t len)
{
	c->iov[c->n_out + c->n_in++] = (struct iovec){ mem + off, len };
}

static int parse(struct chain *c)
{
	return blk_req_parse(c->iov, c->n_out, c->n_in, &c->lim, &c->sp, &c->req);
}

/* A request answered without I/O, with status st in the status byte at status_off. */
static void expect_done(struct chain *c, uint8_t st, size_t status_off)
{
	assert_int_equal(parse(c), 0);
	assert_int_equal(c->req.op, BLK_OP_DONE);
	assert_int_equal(c->req.status, st);
	assert_ptr_equal(c->req.status_byte, mem + status_off);
}

static void range(unsigned i, uint64_t sector, uint32_t num, uint32_t flags)
{
	struct virtio_blk_discard_wz r = { htole64(sector), htole32(num), htole32(flags) };
	memcpy(mem + 4096 + i * sizeof(r), &r, sizeof(r));
}

static void ranges_req(struct chain *c, uint32_t type, unsigned n)
{
	hdr(c, type, 0);
	out(c, 4096, n * sizeof(struct virtio_blk_discard_wz));
	in(c, 100, 1);
}

static void test_read(void **state)
{
	struct chain c;
	(void)state;
	setup_chain(&c);
	hdr(&c, VIRTIO_BLK_T_IN, 8);
	in(&c, 4096, 1024);
	in(&c, 8192, 512);
	in(&c, 100, 1);
	assert_int_equal(parse(&c), 0);
	assert_int_equal(c.req.op, BLK_OP_READ);
	assert_int_equal(c.req.offset, 8 * 512);
	assert_int_equal(c.req.len, 1536);
	assert_int_equal(c.req.niov, 2);
	assert_ptr_equal(c.req.iov[0].iov_base, mem + 4096);
	assert_ptr_equal(c.req.iov[1].iov_base, mem + 8192);
	assert_ptr_equal(c.req.status_byte, mem + 100);
	assert_int_equal(blk_req_used_len(&c.req, VIRTIO_BLK_S_OK), 1537);
	assert_int_equal(blk_req_used_len(&c.req, VIRTIO_BLK_S_IOERR), 1);
}

/* Data and status in one buffer, header split over two: framing carries no meaning. */
static void test_read_any_framing(void **state)
{
	struct chain c;
	(void)state;
	setup_chain(&c);
	hdr(&c, VIRTIO_BLK_T_IN, 1);
	c.iov[0].iov_len = 5;
	out(&c, 5, 11);
	in(&c, 4096, 513);
	assert_int_equal(parse(&c), 0);
	assert_int_equal(c.req.op, BLK_OP_READ);
	assert_int_equal(c.req.offset, 512);
	assert_int_equal(c.req.len, 512);
	assert_ptr_equal(c.req.status_byte, mem + 4096 + 512);
}

static void test_write(void **state)
{
	struct chain c;
	(void)state;
	setup_chain(&c);
	hdr(&c, VIRTIO_BLK_T_OUT, CAPACITY - 2);
	out(&c, 4096, 1024);
	in(&c, 100, 1);
	assert_int_equal(parse(&c), 0);
	assert_int_equal(c.req.op, BLK_OP_WRITE);
	assert_int_equal(c.req.offset, (CAPACITY - 2) * 512ULL);
	assert_int_equal(c.req.len, 1024);
	assert_ptr_equal(c.req.iov[0].iov_base, mem + 4096);
	assert_int_equal(blk_req_used_len(&c.req, VIRTIO_BLK_S_OK), 1);
}

static void test_write_read_only(void **state)
{
	struct chain c;
	(void)state;
	setup_chain(&c);
	c.lim.read_only = true;
	hdr(&c, VIRTIO_BLK_T_OUT, 0);
	out(&c, 4096, 512);
	in(&c, 100, 1);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	/* Discard and write-zeroes change data too. */
	for (uint32_t t = VIRTIO_BLK_T_DISCARD; t <= VIRTIO_BLK_T_WRITE_ZEROES; t += 2) {
		setup_chain(&c);
		c.lim.read_only = true;
		range(0, 0, 8, 0);
		ranges_req(&c, t, 1);
		expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	}
}

static void test_flush(void **state)
{
	struct chain c;
	(void)state;
	setup_chain(&c);
	hdr(&c, VIRTIO_BLK_T_FLUSH, 0);
	in(&c, 100, 1);
	assert_int_equal(parse(&c), 0);
	assert_int_equal(c.req.op, BLK_OP_FLUSH);
	c.lim.read_only = true;
	expect_done(&c, VIRTIO_BLK_S_OK, 100);
}

static void test_get_id(void **state)
{
	struct chain c;
	(void)state;
	setup_chain(&c);
	hdr(&c, VIRTIO_BLK_T_GET_ID, 0);
	in(&c, 4096, 7);
	in(&c, 5000, 14);	/* 20 id bytes over two buffers, then the status */
	expect_done(&c, VIRTIO_BLK_S_OK, 5013);
	assert_memory_equal(mem + 4096, "disk-se", 7);
	assert_memory_equal(mem + 5000, "rial-0123456", 13);
	assert_int_equal(blk_req_used_len(&c.req, VIRTIO_BLK_S_OK), 21);
	/* A shorter buffer gets the start of the id. */
	setup_chain(&c);
	hdr(&c, VIRTIO_BLK_T_GET_ID, 0);
	in(&c, 4096, 5);
	expect_done(&c, VIRTIO_BLK_S_OK, 4100);
	assert_memory_equal(mem + 4096, "disk", 4);
	assert_int_equal(mem[4095], 0xee);
}

static void test_unsupported(void **state)
{
	struct chain c;
	(void)state;
	setup_chain(&c);
	hdr(&c, 99, 0);
	in(&c, 100, 1);
	expect_done(&c, VIRTIO_BLK_S_UNSUPP, 100);
	setup_chain(&c);
	c.lim.discard = false;			/* not offered */
	range(0, 0, 8, 0);
	ranges_req(&c, VIRTIO_BLK_T_DISCARD, 1);
	expect_done(&c, VIRTIO_BLK_S_UNSUPP, 100);
	setup_chain(&c);
	c.lim.write_zeroes = false;
	range(0, 0, 8, 0);
	ranges_req(&c, VIRTIO_BLK_T_WRITE_ZEROES, 1);
	expect_done(&c, VIRTIO_BLK_S_UNSUPP, 100);
}

static void rw_at(struct chain *c, uint32_t type, uint64_t sector, size_t len)
{
	setup_chain(c);
	hdr(c, type, sector);
	if (type == VIRTIO_BLK_T_OUT)
		out(c, 4096, len);
	else
		in(c, 4096, len);
	in(c, 100, 1);
}

static void test_bounds(void **state)
{
	struct chain c;
	(void)state;
	rw_at(&c, VIRTIO_BLK_T_IN, CAPACITY - 1, 512);		/* the last sector */
	assert_int_equal(parse(&c), 0);
	assert_int_equal(c.req.op, BLK_OP_READ);
	rw_at(&c, VIRTIO_BLK_T_IN, CAPACITY - 1, 1024);	/* one past the end */
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	rw_at(&c, VIRTIO_BLK_T_OUT, CAPACITY, 512);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	rw_at(&c, VIRTIO_BLK_T_IN, CAPACITY, 0);		/* empty, at the end: fine */
	assert_int_equal(parse(&c), 0);
	assert_int_equal(c.req.op, BLK_OP_READ);
	/* sector * 512 and sector + len overflow 64 bits. */
	rw_at(&c, VIRTIO_BLK_T_IN, UINT64_MAX, 512);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	rw_at(&c, VIRTIO_BLK_T_OUT, (UINT64_MAX >> 9) + 1, 512);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	rw_at(&c, VIRTIO_BLK_T_OUT, UINT64_MAX - 1, 1024);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	/* Not a whole number of sectors. */
	rw_at(&c, VIRTIO_BLK_T_IN, 0, 500);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	rw_at(&c, VIRTIO_BLK_T_OUT, 0, 513);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
}

static void test_bad_layouts(void **state)
{
	struct chain c;
	(void)state;
	/* No device-writable byte: nothing can be answered. */
	setup_chain(&c);
	hdr(&c, VIRTIO_BLK_T_IN, 0);
	out(&c, 4096, 512);
	assert_int_equal(parse(&c), -EINVAL);
	in(&c, 100, 0);		/* an empty writable buffer does not count */
	assert_int_equal(parse(&c), -EINVAL);
	/* The status is the last writable byte, even before an empty buffer. */
	setup_chain(&c);
	hdr(&c, VIRTIO_BLK_T_FLUSH, 0);
	in(&c, 100, 1);
	in(&c, 200, 0);
	assert_int_equal(parse(&c), 0);
	assert_ptr_equal(c.req.status_byte, mem + 100);
	/* A header shorter than 16 bytes. */
	setup_chain(&c);
	hdr(&c, VIRTIO_BLK_T_IN, 0);
	c.iov[0].iov_len = 15;
	in(&c, 100, 1);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	/* Data in the wrong direction. */
	rw_at(&c, VIRTIO_BLK_T_IN, 0, 512);
	c.iov[1] = (struct iovec){ mem + 4096, 512 };	/* a readable data buffer in a read */
	c.iov[2] = (struct iovec){ mem + 100, 1 };
	c.n_out = 2;
	c.n_in = 1;
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	rw_at(&c, VIRTIO_BLK_T_OUT, 0, 512);
	in(&c, 8192, 512);	/* a writable data buffer in a write: status moves last */
	expect_done(&c, VIRTIO_BLK_S_IOERR, 8192 + 511);
	setup_chain(&c);
	hdr(&c, VIRTIO_BLK_T_GET_ID, 0);
	out(&c, 4096, 20);
	in(&c, 100, 21);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 120);
	/* More buffers than the device's room for them. */
	setup_chain(&c);
	hdr(&c, VIRTIO_BLK_T_IN, 0);
	for (unsigned i = 0; i < 9; i++)
		in(&c, 4096 + 512 * i, 512);
	in(&c, 100, 1);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
}

static void test_discard_write_zeroes(void **state)
{
	struct chain c;
	(void)state;
	setup_chain(&c);
	range(0, 8, 16, 0);
	range(1, CAPACITY - 8, 8, 0);
	ranges_req(&c, VIRTIO_BLK_T_DISCARD, 2);
	assert_int_equal(parse(&c), 0);
	assert_int_equal(c.req.op, BLK_OP_DISCARD);
	assert_int_equal(c.req.nranges, 2);
	assert_int_equal(c.req.ranges[0].offset, 8 * 512);
	assert_int_equal(c.req.ranges[0].len, 16 * 512);
	assert_int_equal(c.req.ranges[1].offset, (CAPACITY - 8) * 512ULL);
	assert_false(c.req.ranges[0].unmap);

	setup_chain(&c);
	range(0, 0, 8, VIRTIO_BLK_WZ_FLAG_UNMAP);
	range(1, 64, 8, 0);
	ranges_req(&c, VIRTIO_BLK_T_WRITE_ZEROES, 2);
	assert_int_equal(parse(&c), 0);
	assert_int_equal(c.req.op, BLK_OP_WRITE_ZEROES);
	assert_true(c.req.ranges[0].unmap);
	assert_false(c.req.ranges[1].unmap);

	/* UNMAP on a discard, unknown flags: unsupported. */
	setup_chain(&c);
	range(0, 0, 8, VIRTIO_BLK_WZ_FLAG_UNMAP);
	ranges_req(&c, VIRTIO_BLK_T_DISCARD, 1);
	expect_done(&c, VIRTIO_BLK_S_UNSUPP, 100);
	setup_chain(&c);
	range(0, 0, 8, 2);
	ranges_req(&c, VIRTIO_BLK_T_WRITE_ZEROES, 1);
	expect_done(&c, VIRTIO_BLK_S_UNSUPP, 100);
	/* Outside the disk, above the limits, too many or partial ranges. */
	setup_chain(&c);
	range(0, CAPACITY - 8, 9, 0);
	ranges_req(&c, VIRTIO_BLK_T_DISCARD, 1);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	setup_chain(&c);
	range(0, UINT64_MAX - 4, 8, 0);
	ranges_req(&c, VIRTIO_BLK_T_WRITE_ZEROES, 1);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	setup_chain(&c);
	range(0, 0, 1025, 0);
	ranges_req(&c, VIRTIO_BLK_T_DISCARD, 1);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	setup_chain(&c);
	for (unsigned i = 0; i < 5; i++)
		range(i, i * 8, 8, 0);
	ranges_req(&c, VIRTIO_BLK_T_DISCARD, 5);
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	setup_chain(&c);
	range(0, 0, 8, 0);
	ranges_req(&c, VIRTIO_BLK_T_DISCARD, 1);
	c.iov[1].iov_len = 15;
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
	c.iov[1].iov_len = 0;
	expect_done(&c, VIRTIO_BLK_S_IOERR, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_read_any_framing),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_write_read_only),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_get_id),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_bad_layouts),
		cmocka_unit_test(test_discard_write_zeroes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
