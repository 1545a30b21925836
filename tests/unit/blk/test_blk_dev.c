/*
 * The virtio-blk device end to end on the host: a driver played by the test
 * (tests/unit/virtio/tguest.c) sets it up through the virtio-mmio registers,
 * publishes chains and waits for the interrupt eventfd; the I/O thread and
 * io_uring do the rest against a temp file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/virtio/blk.h"
#include "tguest.h"

#define DISK_BYTES (1 << 20)
#define QSIZE 64
#define BASE_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | \
		       VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | \
		       VIRTIO_BIT(VIRTIO_BLK_F_MQ))

struct fx {
	char path[64];
	struct tguest g;
	struct virtio_blk blk;
	bool up;
	uint16_t next_desc;
};

static int make(struct fx *f, bool ro, uint64_t features)
{
	char err[256];
	strcpy(f->path, "/tmp/vmm-blkdev-XXXXXX");
	int fd = mkstemp(f->path);
	uint8_t *buf = malloc(DISK_BYTES);
	memset(buf, 0xaa, DISK_BYTES);
	assert_int_equal(pwrite(fd, buf, DISK_BYTES, 0), DISK_BYTES);
	free(buf);
	close(fd);
	tg_init(&f->g, 4 << 20, QSIZE);
	struct virtio_mmio_config cfg = { .base = 0x0a000000, .spi = 16, .mem = f->g.mem };
	struct virtio_blk_params p = { .path = f->path, .read_only = ro, .num_queues = 2,
				       .queue_size = QSIZE, .serial = "SERIAL-42" };
	assert_int_equal(virtio_blk_init(&f->blk, &cfg, &p, err, sizeof(err)), 0);
	assert_int_equal(virtio_mmio_start(&f->blk.vdev), 0);
	return (int)tg_mmio_bringup(&f->blk.vdev, &f->g, features);
}

static int setup_rw(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	*state = f;
	assert_true(make(f, false, BASE_FEATURES | VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
				 VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES)) & VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

static int setup_ro(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	*state = f;
	assert_true(make(f, true, BASE_FEATURES | VIRTIO_BIT(VIRTIO_BLK_F_RO)) & VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	assert_int_equal(virtio_blk_destroy(&f->blk), 0);
	tg_free(&f->g);
	unlink(f->path);
	free(f);
	return 0;
}

/* A chain: header, optional data (readable for writes, writable for reads), status. Returns its head. */
static uint16_t request(struct fx *f, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
			bool data_in, uint64_t *status)
{
	uint64_t h = tg_alloc(&f->g, 16);
	struct virtio_blk_outhdr hdr = { htole32(type), 0, htole64(sector) };
	memcpy(tg_host(&f->g, h), &hdr, sizeof(hdr));
	*status = tg_alloc(&f->g, 1);
	*(uint8_t *)tg_host(&f->g, *status) = 0xff;
	uint16_t d0 = f->next_desc, d = d0;
	f->next_desc = (uint16_t)((f->next_desc + 3) % QSIZE);
	tg_desc(&f->g, d, h, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	d++;
	if (len) {
		tg_desc(&f->g, d, data, len, VIRTQ_DESC_F_NEXT | (data_in ? VIRTQ_DESC_F_WRITE : 0),
			(uint16_t)(d + 1));
		d++;
	}
	tg_desc(&f->g, d, *status, 1, VIRTQ_DESC_F_WRITE, 0);
	return d0;
}

/* Publish, notify queue 0, wait for the used entry; returns the status byte. */
static uint8_t submit(struct fx *f, uint16_t head, const uint64_t *status, uint32_t *used_len)
{
	uint32_t id, len;
	tg_publish(&f->g, head);
	tg_wr(&f->blk.vdev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (int i = 0; i < 50 && !tg_used(&f->g, &id, &len); i++)
		tg_wait_fd(f->blk.vdev.irq_fd, 100);
	assert_int_equal(id, head);
	if (used_len)
		*used_len = len;
	return *(uint8_t *)tg_host(&f->g, *status);
}

static uint32_t cfg32(struct fx *f, uint32_t off)
{
	return tg_rd(&f->blk.vdev, VIRTIO_MMIO_CONFIG + off);
}

static void file_bytes(struct fx *f, uint64_t off, void *buf, size_t len)
{
	int fd = open(f->path, O_RDONLY);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void test_identity_and_config(void **state)
{
	struct fx *f = *state;
	struct virtio_mmio *v = &f->blk.vdev;
	assert_int_equal(tg_rd(v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	tg_wr(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t feat = tg_rd(v, VIRTIO_MMIO_DEVICE_FEATURES);
	uint32_t want = 1u << VIRTIO_BLK_F_SEG_MAX | 1u << VIRTIO_BLK_F_BLK_SIZE | 1u << VIRTIO_BLK_F_FLUSH |
			1u << VIRTIO_BLK_F_MQ | 1u << VIRTIO_BLK_F_DISCARD | 1u << VIRTIO_BLK_F_WRITE_ZEROES;
	assert_int_equal(feat & want, want);
	assert_int_equal(feat & (1u << VIRTIO_BLK_F_RO), 0);
	assert_int_equal(tg_rd(v, VIRTIO_MMIO_QUEUE_NUM_MAX), QSIZE);
	assert_int_equal(cfg32(f, 0), DISK_BYTES / 512);	/* capacity, low half */
	assert_int_equal(cfg32(f, 4), 0);
	assert_int_equal(cfg32(f, 12), QSIZE - 2);		/* seg_max */
	assert_int_equal(cfg32(f, 20), 512);			/* blk_size */
	assert_int_equal(cfg32(f, 32) >> 16, 2);		/* num_queues */
	assert_int_equal(cfg32(f, 36), VIRTIO_BLK_MAX_RANGE_SECTORS);
	assert_int_equal(cfg32(f, 40), VIRTIO_BLK_MAX_RANGES);
	assert_int_equal(cfg32(f, 56) & 0xff, 1);		/* write_zeroes_may_unmap */
}

static void test_write_read_flush_id(void **state)
{
	struct fx *f = *state;
	uint64_t st, data = tg_alloc(&f->g, 8192), back = tg_alloc(&f->g, 8192), id = tg_alloc(&f->g, 20);
	uint8_t *d = tg_host(&f->g, data), onfile[8192];
	uint32_t len;

	for (unsigned i = 0; i < 8192; i++)
		d[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_OUT, 100, data, 8192, false, &st), &st, &len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(len, 1);
	file_bytes(f, 100 * 512, onfile, sizeof(onfile));
	assert_memory_equal(onfile, d, 8192);

	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_IN, 100, back, 8192, true, &st), &st, &len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(len, 8193);
	assert_memory_equal(tg_host(&f->g, back), d, 8192);

	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &st), &st, NULL),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_GET_ID, 0, id, 20, true, &st), &st, &len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(len, 21);
	assert_memory_equal(tg_host(&f->g, id), "SERIAL-42\0\0\0\0\0\0\0\0\0\0\0", 20);

	struct virtio_blk_stats s;
	virtio_blk_get_stats(&f->blk, &s);
	assert_int_equal(s.requests, 4);
	assert_int_equal(s.errors, 0);
	assert_true(s.submits >= 3);
	assert_true(s.completion_wakeups >= 3);
}

static void test_errors_per_request(void **state)
{
	struct fx *f = *state;
	uint64_t st, data = tg_alloc(&f->g, 1024);

	assert_int_equal(submit(f, request(f, 42, 0, 0, 0, false, &st), &st, NULL), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_IN, DISK_BYTES / 512 - 1, data, 1024, true, &st),
				&st, NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_OUT, UINT64_MAX / 512, data, 1024, false, &st),
				&st, NULL), VIRTIO_BLK_S_IOERR);
	/* The device still works. */
	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_IN, 0, data, 1024, true, &st), &st, NULL),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(*(uint8_t *)tg_host(&f->g, data), 0xaa);
	assert_int_equal(tg_rd(&f->blk.vdev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_discard_write_zeroes(void **state)
{
	struct fx *f = *state;
	uint64_t st, r = tg_alloc(&f->g, 16);
	struct virtio_blk_discard_wz range = { htole64(8), htole32(8), 0 };
	uint8_t buf[4096], zero[4096] = { 0 };

	memcpy(tg_host(&f->g, r), &range, sizeof(range));
	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, r, 16, false, &st), &st, NULL),
			 VIRTIO_BLK_S_OK);
	file_bytes(f, 8 * 512, buf, 4096);
	assert_memory_equal(buf, zero, 4096);
	file_bytes(f, 16 * 512, buf, 1);
	assert_int_equal(buf[0], 0xaa);
	range.sector = htole64(64);
	memcpy(tg_host(&f->g, r), &range, sizeof(range));
	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_DISCARD, 0, r, 16, false, &st), &st, NULL),
			 VIRTIO_BLK_S_OK);
}

/* A chain with nowhere to put the status: the device asks for a reset, the VMM carries on. */
static void test_no_status_byte(void **state)
{
	struct fx *f = *state;
	uint64_t h = tg_alloc(&f->g, 16);
	uint32_t id, len;

	tg_desc(&f->g, 0, h, 16, 0, 0);
	tg_publish(&f->g, 0);
	tg_wr(&f->blk.vdev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (int i = 0; i < 50 && !(tg_rd(&f->blk.vdev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET); i++)
		tg_wait_fd(f->blk.vdev.irq_fd, 100);
	assert_true(tg_rd(&f->blk.vdev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(tg_used(&f->g, &id, &len));
}

static void test_read_only(void **state)
{
	struct fx *f = *state;
	uint64_t st, data = tg_alloc(&f->g, 512), r = tg_alloc(&f->g, 16);
	uint8_t onfile[512];

	tg_wr(&f->blk.vdev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t feat = tg_rd(&f->blk.vdev, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(feat & (1u << VIRTIO_BLK_F_RO));
	assert_false(feat & (1u << VIRTIO_BLK_F_DISCARD));
	memset(tg_host(&f->g, data), 0x11, 512);
	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_OUT, 0, data, 512, false, &st), &st, NULL),
			 VIRTIO_BLK_S_IOERR);
	struct virtio_blk_discard_wz range = { 0, htole32(8), 0 };
	memcpy(tg_host(&f->g, r), &range, sizeof(range));
	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, r, 16, false, &st), &st, NULL),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(submit(f, request(f, VIRTIO_BLK_T_IN, 0, data, 512, true, &st), &st, NULL),
			 VIRTIO_BLK_S_OK);
	file_bytes(f, 0, onfile, sizeof(onfile));
	for (unsigned i = 0; i < sizeof(onfile); i++)
		assert_int_equal(onfile[i], 0xaa);
}

/* Destroyed with a request in flight: if the guest saw it complete, the file has it. */
static void test_stop_drains(void **state)
{
	struct fx *f = *state;
	uint64_t st, data = tg_alloc(&f->g, 65536);
	uint8_t onfile[65536];

	memset(tg_host(&f->g, data), 0x77, 65536);
	uint16_t head = request(f, VIRTIO_BLK_T_OUT, 512, data, 65536, false, &st);
	tg_publish(&f->g, head);
	tg_wr(&f->blk.vdev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	struct virtio_blk_stats s = { 0 };
	for (int i = 0; i < 500 && !s.requests; i++) {
		usleep(1000);
		virtio_blk_get_stats(&f->blk, &s);
	}
	assert_int_equal(s.requests, 1);
	assert_int_equal(virtio_blk_destroy(&f->blk), 0);
	assert_int_equal(*(uint8_t *)tg_host(&f->g, st), VIRTIO_BLK_S_OK);
	file_bytes(f, 512 * 512, onfile, sizeof(onfile));
	for (unsigned i = 0; i < sizeof(onfile); i++)
		assert_int_equal(onfile[i], 0x77);
}

static void test_open_error(void **state)
{
	struct virtio_blk blk;
	struct tguest g;
	char err[256];
	(void)state;
	tg_init(&g, 1 << 20, QSIZE);
	struct virtio_mmio_config cfg = { .base = 0x0a000000, .spi = 16, .mem = g.mem };
	struct virtio_blk_params p = { .path = "/nonexistent.img", .num_queues = 1, .queue_size = 8 };
	assert_int_not_equal(virtio_blk_init(&blk, &cfg, &p, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent.img"));
	assert_int_equal(virtio_blk_destroy(&blk), 0);
	tg_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_and_config, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_flush_id, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_errors_per_request, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_discard_write_zeroes, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_no_status_byte, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup_ro, teardown),
		cmocka_unit_test_setup_teardown(test_stop_drains, setup_rw, teardown),
		cmocka_unit_test(test_open_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
