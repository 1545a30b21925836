/* The io_uring engine against temp files: data lands where asked, failures stay per request. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/virtio/blk_io.h"

#define DISK_BYTES (1 << 20)

struct fixture {
	char path[64];
	int efd;
	struct blk_file file;
	struct blk_engine eng;
	unsigned completed;
	uint8_t last_status;
	struct blk_io *last_io;
};

static void on_done(void *opaque, struct blk_io *io, uint8_t status)
{
	struct fixture *f = opaque;
	f->completed++;
	f->last_status = status;
	f->last_io = io;
}

static void make_file(struct fixture *f, int fill)
{
	strcpy(f->path, "/tmp/vmm-blk-XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	uint8_t *buf = malloc(DISK_BYTES);
	memset(buf, fill, DISK_BYTES);
	assert_int_equal(pwrite(fd, buf, DISK_BYTES, 0), DISK_BYTES);
	free(buf);
	close(fd);
}

static int open_disk(struct fixture *f, bool ro, bool direct)
{
	char err[256];
	int r = blk_file_open(&f->file, f->path, ro, direct, err, sizeof(err));
	if (r)
		return r;
	assert_int_equal(blk_engine_init(&f->eng, &f->file, 16, f->efd, on_done, f), 0);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(f->efd >= 0);
	make_file(f, 0xaa);
	assert_int_equal(open_disk(f, false, false), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	blk_engine_fini(&f->eng);
	assert_int_equal(blk_file_close(&f->file), 0);
	unlink(f->path);
	close(f->efd);
	free(f);
	return 0;
}

/* Queue, submit, and wait on the eventfd as an I/O thread would, until n more requests are done. */
static void run(struct fixture *f, struct blk_io *ios, unsigned n)
{
	unsigned want = f->completed + n;
	for (unsigned i = 0; i < n; i++)
		blk_engine_queue(&f->eng, &ios[i]);
	assert_int_equal(blk_engine_submit(&f->eng), 0);
	while (f->completed < want) {
		struct pollfd p = { f->efd, POLLIN, 0 };
		uint64_t v;
		assert_int_equal(poll(&p, 1, 5000), 1);
		assert_int_equal(read(f->efd, &v, sizeof(v)), sizeof(v));
		assert_true(blk_engine_reap(&f->eng) >= 0);
	}
	assert_int_equal(f->eng.inflight, 0);
}

static void rw(struct blk_io *io, enum blk_op op, uint64_t off, struct iovec *iov, unsigned n)
{
	memset(io, 0, sizeof(*io));
	io->req.op = op;
	io->req.offset = off;
	io->req.iov = iov;
	io->req.niov = n;
	for (unsigned i = 0; i < n; i++)
		io->req.len += iov[i].iov_len;
}

static void file_bytes(const struct fixture *f, uint64_t off, void *buf, size_t len)
{
	int fd = open(f->path, O_RDONLY);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void test_open_errors(void **state)
{
	struct blk_file bf;
	char err[256];
	(void)state;
	assert_int_equal(blk_file_open(&bf, "/nonexistent/disk.img", false, false, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/disk.img"));
	assert_int_not_equal(blk_file_open(&bf, "/tmp", true, false, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/tmp"));
	char path[] = "/tmp/vmm-blk-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(blk_file_open(&bf, path, false, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "smaller than one"));
	assert_int_equal(write(fd, "0123456789", 10) + ftruncate(fd, 4096), 10);
	assert_int_equal(blk_file_open(&bf, path, true, false, err, sizeof(err)), 0);
	assert_int_equal(bf.size, 4096);
	assert_int_equal(blk_file_close(&bf), 0);
	close(fd);
	unlink(path);
}

static void test_write_read_flush(void **state)
{
	struct fixture *f = *state;
	uint8_t a[4096], b[4096], back[8192], onfile[8192];
	struct iovec wiov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct iovec riov[3] = { { back, 512 }, { back + 512, 4096 }, { back + 4608, 8192 - 4608 } };
	struct blk_io io;

	for (unsigned i = 0; i < sizeof(a); i++) {
		a[i] = (uint8_t)i;
		b[i] = (uint8_t)(i * 7 + 3);
	}
	rw(&io, BLK_OP_WRITE, 16 * 512, wiov, 2);
	run(f, &io, 1);
	assert_int_equal(f->last_status, VIRTIO_BLK_S_OK);
	file_bytes(f, 16 * 512, onfile, sizeof(onfile));
	assert_memory_equal(onfile, a, sizeof(a));
	assert_memory_equal(onfile + 4096, b, sizeof(b));
	file_bytes(f, 16 * 512 - 1, onfile, 1);
	assert_int_equal(onfile[0], 0xaa);

	rw(&io, BLK_OP_READ, 16 * 512, riov, 3);
	run(f, &io, 1);
	assert_int_equal(f->last_status, VIRTIO_BLK_S_OK);
	assert_memory_equal(back, a, sizeof(a));
	assert_memory_equal(back + 4096, b, sizeof(b));

	memset(&io, 0, sizeof(io));
	io.req.op = BLK_OP_FLUSH;
	run(f, &io, 1);
	assert_int_equal(f->last_status, VIRTIO_BLK_S_OK);
	assert_true(f->eng.stats.submits >= 3);
}

/* Many requests in one batch: one submission, every completion reported once. */
static void test_batch(void **state)
{
	struct fixture *f = *state;
	static uint8_t bufs[8][512];
	struct iovec iov[8];
	struct blk_io ios[8];

	for (unsigned i = 0; i < 8; i++) {
		memset(bufs[i], 'a' + i, 512);
		iov[i] = (struct iovec){ bufs[i], 512 };
		rw(&ios[i], BLK_OP_WRITE, i * 4096, &iov[i], 1);
	}
	uint64_t submits = f->eng.stats.submits;
	run(f, ios, 8);
	assert_int_equal(f->completed, 8);
	assert_int_equal(f->eng.stats.submits, submits + 1);
	for (unsigned i = 0; i < 8; i++) {
		uint8_t c;
		file_bytes(f, i * 4096 + 511, &c, 1);
		assert_int_equal(c, 'a' + i);
	}
	/* In flight is bounded by the completion queue. */
	assert_true(f->eng.max_inflight >= 16);
	assert_true(blk_engine_room(&f->eng, f->eng.max_inflight));
	assert_false(blk_engine_room(&f->eng, f->eng.max_inflight + 1));
}

static void test_discard_write_zeroes(void **state)
{
	struct fixture *f = *state;
	struct blk_range ranges[2] = { { 4096, 8192, false }, { 65536, 512, false } };
	struct blk_io io = { .req = { .op = BLK_OP_DISCARD, .ranges = ranges, .nranges = 2 } };
	uint8_t buf[8192], zero[8192] = { 0 };
	struct stat st;

	run(f, &io, 1);
	assert_int_equal(f->last_status, VIRTIO_BLK_S_OK);
	/* A hole reads as zeroes where the file system can punch one (tmpfs, ext4, xfs). */
	file_bytes(f, 4096, buf, 8192);
	assert_memory_equal(buf, zero, 8192);
	file_bytes(f, 4096 - 1, buf, 1);
	assert_int_equal(buf[0], 0xaa);
	file_bytes(f, 4096 + 8192, buf, 1);
	assert_int_equal(buf[0], 0xaa);

	ranges[0] = (struct blk_range){ 512 * 1000, 1024, false };
	ranges[1] = (struct blk_range){ 512 * 1500, 512, true };
	io = (struct blk_io){ .req = { .op = BLK_OP_WRITE_ZEROES, .ranges = ranges, .nranges = 2 } };
	run(f, &io, 1);
	assert_int_equal(f->last_status, VIRTIO_BLK_S_OK);
	file_bytes(f, 512 * 1000, buf, 1024);
	assert_memory_equal(buf, zero, 1024);
	file_bytes(f, 512 * 1000 + 1024, buf, 1);
	assert_int_equal(buf[0], 0xaa);
	file_bytes(f, 512 * 1500, buf, 512);
	assert_memory_equal(buf, zero, 512);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, DISK_BYTES);
}

/* A host I/O failure is IOERR for that request; the next one works. */
static void test_failing_io(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[1024];
	struct iovec iov = { buf, sizeof(buf) };
	struct blk_io io;

	assert_int_equal(truncate(f->path, 4096), 0);	/* the disk shrank under us */
	rw(&io, BLK_OP_READ, 8192, &iov, 1);
	run(f, &io, 1);
	assert_int_equal(f->last_status, VIRTIO_BLK_S_IOERR);
	rw(&io, BLK_OP_READ, 4096 - 1024, &iov, 1);
	run(f, &io, 1);
	assert_int_equal(f->last_status, VIRTIO_BLK_S_OK);
	assert_int_equal(buf[0], 0xaa);
}

/* A read-only disk: the parser refuses the write and the file stays as it was. */
static void test_read_only_untouched(void **state)
{
	struct fixture *f = *state;
	uint8_t hdr[16] = { VIRTIO_BLK_T_OUT }, data[512], status = 0xff, onfile[512];
	struct iovec chain[3] = { { hdr, 16 }, { data, 512 }, { &status, 1 } };
	struct iovec iov[4];
	struct blk_range ranges[1];
	struct blk_req_space sp = { iov, 4, ranges, 1 };
	struct blk_limits lim = { .capacity = DISK_BYTES / 512, .read_only = true };
	struct blk_io io;

	blk_engine_fini(&f->eng);
	assert_int_equal(blk_file_close(&f->file), 0);
	assert_int_equal(open_disk(f, true, false), 0);
	memset(data, 0x55, sizeof(data));
	memset(&io, 0, sizeof(io));
	assert_int_equal(blk_req_parse(chain, 2, 1, &lim, &sp, &io.req), 0);
	run(f, &io, 1);
	assert_int_equal(f->last_status, VIRTIO_BLK_S_IOERR);
	file_bytes(f, 0, onfile, sizeof(onfile));
	assert_int_equal(onfile[0], 0xaa);
	assert_int_equal(onfile[511], 0xaa);
	/* Even a write that reached the engine fails on the read-only descriptor. */
	struct iovec d = { data, 512 };
	rw(&io, BLK_OP_WRITE, 0, &d, 1);
	run(f, &io, 1);
	assert_int_equal(f->last_status, VIRTIO_BLK_S_IOERR);
	file_bytes(f, 0, onfile, sizeof(onfile));
	assert_int_equal(onfile[0], 0xaa);
}

/* direct=on: unaligned guest buffers go through an aligned copy; unaligned offsets fail. */
static void test_direct(void **state)
{
	struct fixture *f = *state;
	blk_engine_fini(&f->eng);
	assert_int_equal(blk_file_close(&f->file), 0);
	if (open_disk(f, false, true) == -EINVAL) {
		skip();	/* the file system of /tmp has no O_DIRECT */
		return;
	}
	uint32_t al = f->file.off_align;
	uint8_t *mem = aligned_alloc(4096, 3 * 65536), *back = mem + 65536 + 1;
	struct iovec iov = { mem + 1, 2 * al };
	struct blk_io io;
	for (unsigned i = 0; i < 2 * al; i++)
		mem[1 + i] = (uint8_t)(i ^ 0x5a);
	rw(&io, BLK_OP_WRITE, 4 * al, &iov, 1);
	run(f, &io, 1);
	assert_int_equal(f->last_status, VIRTIO_BLK_S_OK);
	struct iovec riov = { back, 2 * al };
	rw(&io, BLK_OP_READ, 4 * al, &riov, 1);
	run(f, &io, 1);
	assert_int_equal(f->last_status, VIRTIO_BLK_S_OK);
	assert_memory_equal(back, mem + 1, 2 * al);
	if (al > 1) {
		rw(&io, BLK_OP_READ, 4 * al + al / 2, &riov, 1);
		run(f, &io, 1);
		assert_int_equal(f->last_status, VIRTIO_BLK_S_IOERR);
	}
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_write_read_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_write_zeroes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
