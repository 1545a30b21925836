/*
 * virtio-fs with a fake vhost-user backend: config space, the order in
 * which memory and rings are handed over at DRIVER_OK, the kick and call
 * eventfds (the data path never goes through the VMM's queue code), the
 * rings stopped at reset, and a backend that dies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/virtio/fs.h"
#include "fake_vhu.h"
#include "tguest.h"

#define QSIZE 16
#define RAM (4u << 20)
#define TMO 2000
#define ST_OK (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | \
	       VIRTIO_STATUS_DRIVER_OK)
#define BACKEND_FEATURES (VIRTIO_MMIO_TRANSPORT_FEATURES | (1ULL << VHU_F_PROTOCOL_FEATURES))
#define HANDSHAKE_MSGS 5
#define ACTIVATE_MSGS (2 + 6 * 2)	/* features, mem table, 6 per ring */

struct fx {
	struct tguest g;
	struct fake_vhu fv;
	struct virtio_fs fs;
	bool fs_up;
	int ram_fd;
	char log[512];
	pthread_mutex_t log_lock;
};

static void log_line(void *opaque, const char *line)
{
	struct fx *f = opaque;
	pthread_mutex_lock(&f->log_lock);
	snprintf(f->log, sizeof(f->log), "%s", line);
	pthread_mutex_unlock(&f->log_lock);
}

static bool log_has(struct fx *f, const char *s)
{
	pthread_mutex_lock(&f->log_lock);
	bool r = strstr(f->log, s) != NULL;
	pthread_mutex_unlock(&f->log_lock);
	return r;
}

static void queue_handshake(struct fake_vhu *fv)
{
	fv_reply_u64(fv, VHU_GET_FEATURES, BACKEND_FEATURES);
	fv_reply_u64(fv, VHU_GET_PROTOCOL_FEATURES, VHU_PROTOCOL_WANTED);
	fv_reply_u64(fv, VHU_GET_QUEUE_NUM, 2);
	fv_reply_u64(fv, VHU_SET_OWNER, 0);
}

static void queue_activate_acks(struct fake_vhu *fv)
{
	for (unsigned i = 0; i < ACTIVATE_MSGS; i++)
		fv_reply_u64(fv, 0, 0);		/* request codes fixed below */
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	tg_init(&f->g, RAM, QSIZE);
	pthread_mutex_init(&f->log_lock, NULL);
	f->ram_fd = memfd_create("ram", MFD_CLOEXEC);
	fv_listen(&f->fv);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->fs_up)
		virtio_fs_destroy(&f->fs);
	fv_join(&f->fv);
	fv_cleanup(&f->fv);
	close(f->ram_fd);
	tg_free(&f->g);
	free(f);
	return 0;
}

static int start_with(struct fx *f, const char *tag, bool direct, char *err, size_t errlen)
{
	struct virtio_mmio_config cfg = {
		.base = 0x0a000200, .spi = 17, .mem = f->g.mem, .log = log_line, .log_opaque = f,
	};
	struct virtio_fs_params p = {
		.tag = tag, .socket = f->fv.path, .num_queues = 1, .queue_size = QSIZE, .ram_fd = f->ram_fd,
	};
	int r = virtio_fs_init(&f->fs, &cfg, &p, err, errlen);
	if (r == 0) {
		f->fs_up = true;
		if (direct)
			assert_int_equal(virtio_mmio_set_direct_calls(&f->fs.vdev), 0);
		assert_int_equal(virtio_mmio_start(&f->fs.vdev), 0);
	}
	return r;
}

static int start(struct fx *f, const char *tag, char *err, size_t errlen)
{
	return start_with(f, tag, false, err, errlen);
}

/* Linux's probe with both queues (hiprio on g's rings, one request queue further up). */
static uint64_t q1_desc;

static uint32_t bringup(struct fx *f)
{
	struct virtio_mmio *v = &f->fs.vdev;
	uint64_t d1 = tg_alloc(&f->g, 16 * QSIZE), a1 = tg_alloc(&f->g, 6 + 2 * QSIZE),
		 u1 = tg_alloc(&f->g, 6 + 8 * QSIZE);

	q1_desc = d1;
	tg_wr(v, VIRTIO_MMIO_STATUS, 0);
	tg_wr(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	tg_wr(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	tg_wr(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	const uint64_t rings[2][3] = { { f->g.desc, f->g.avail, f->g.used }, { d1, a1, u1 } };
	for (unsigned q = 0; q < 2; q++) {
		tg_wr(v, VIRTIO_MMIO_QUEUE_SEL, q);
		tg_wr(v, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		tg_wr(v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)rings[q][0]);
		tg_wr(v, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(rings[q][0] >> 32));
		tg_wr(v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)rings[q][1]);
		tg_wr(v, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(rings[q][1] >> 32));
		tg_wr(v, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)rings[q][2]);
		tg_wr(v, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(rings[q][2] >> 32));
		tg_wr(v, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	tg_wr(v, VIRTIO_MMIO_STATUS, ST_OK);
	return tg_rd(v, VIRTIO_MMIO_STATUS);
}

static void test_config_space(void **state)
{
	struct fx *f = *state;
	char err[256];
	const char *tag36 = "abcdefghijklmnopqrstuvwxyz0123456789";

	queue_handshake(&f->fv);
	fv_serve(&f->fv);
	assert_int_equal(start(f, tag36, err, sizeof(err)), 0);
	struct virtio_mmio *v = &f->fs.vdev;
	assert_int_equal(tg_rd(v, VIRTIO_MMIO_DEVICE_ID), 26);
	char tag[37] = { 0 };
	for (unsigned i = 0; i < 36; i += 4) {
		uint32_t w = tg_rd(v, VIRTIO_MMIO_CONFIG + i);
		memcpy(tag + i, &w, 4);
	}
	assert_string_equal(tag, tag36);	/* all 36 bytes, no NUL */
	assert_int_equal(tg_rd(v, VIRTIO_MMIO_CONFIG + 36), 1);	/* num_request_queues */
	assert_int_equal(tg_rd(v, VIRTIO_MMIO_QUEUE_NUM_MAX), QSIZE);
	virtio_fs_destroy(&f->fs);
	f->fs_up = false;
}

static void fix_ack_codes(struct fake_vhu *fv)
{
	/* Rewrite the placeholder ACKs' request codes in the order the device sends. */
	static const uint32_t order[ACTIVATE_MSGS] = {
		VHU_SET_FEATURES, VHU_SET_MEM_TABLE,
		VHU_SET_VRING_NUM, VHU_SET_VRING_BASE, VHU_SET_VRING_ADDR, VHU_SET_VRING_CALL,
		VHU_SET_VRING_KICK, VHU_SET_VRING_ENABLE,
		VHU_SET_VRING_NUM, VHU_SET_VRING_BASE, VHU_SET_VRING_ADDR, VHU_SET_VRING_CALL,
		VHU_SET_VRING_KICK, VHU_SET_VRING_ENABLE,
	};
	size_t off = fv->rlen - ACTIVATE_MSGS * (VHU_HDR_SIZE + 8);
	for (unsigned i = 0; i < ACTIVATE_MSGS; i++)
		memcpy(fv->replies + off + i * (VHU_HDR_SIZE + 8), &order[i], 4);
}

static const uint32_t expected_order[] = {
	VHU_GET_FEATURES, VHU_GET_PROTOCOL_FEATURES, VHU_SET_PROTOCOL_FEATURES, VHU_GET_QUEUE_NUM,
	VHU_SET_OWNER, VHU_SET_FEATURES, VHU_SET_MEM_TABLE,
	VHU_SET_VRING_NUM, VHU_SET_VRING_BASE, VHU_SET_VRING_ADDR, VHU_SET_VRING_CALL,
	VHU_SET_VRING_KICK, VHU_SET_VRING_ENABLE,
	VHU_SET_VRING_NUM, VHU_SET_VRING_BASE, VHU_SET_VRING_ADDR, VHU_SET_VRING_CALL,
	VHU_SET_VRING_KICK, VHU_SET_VRING_ENABLE,
};

static void test_rings_handed_over_at_driver_ok(void **state)
{
	struct fx *f = *state;
	struct fake_vhu *fv = &f->fv;
	char err[256];
	uint64_t u;

	queue_handshake(fv);
	queue_activate_acks(fv);
	fix_ack_codes(fv);
	uint32_t st[2] = { 0, 3 };
	fv_reply(fv, VHU_GET_VRING_BASE, st, 8);
	st[0] = 1;
	fv_reply(fv, VHU_GET_VRING_BASE, st, 8);
	fv_serve(fv);
	assert_int_equal(start(f, "share", err, sizeof(err)), 0);
	assert_int_equal(fv_wait(fv, HANDSHAKE_MSGS, TMO), HANDSHAKE_MSGS);
	assert_int_equal(bringup(f), ST_OK);
	unsigned n = HANDSHAKE_MSGS + ACTIVATE_MSGS;
	assert_int_equal(fv_wait(fv, n, TMO), n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(fv->msgs[i].req, expected_order[i]);
		if (i >= HANDSHAKE_MSGS)
			assert_true(fv->msgs[i].flags & VHU_FLAG_NEED_REPLY);
	}
	/* Features: the driver's, plus the protocol-features bit. */
	memcpy(&u, fv->msgs[5].payload, 8);
	assert_true(u == (VIRTIO_BIT(VIRTIO_F_VERSION_1) | (1ULL << VHU_F_PROTOCOL_FEATURES)));
	/* Memory: all of guest RAM at the VMM's address, with the memfd. */
	const struct fv_msg *mt = &fv->msgs[6];
	uint64_t d[4];
	memcpy(d, mt->payload + 8, 32);
	assert_int_equal(mt->nfds, 1);
	assert_true(d[0] == TG_RAM_BASE && d[1] == RAM && d[2] == (uintptr_t)f->g.mem.host);
	/* Ring 1's addresses are the VMM's virtual addresses of the guest's rings. */
	memcpy(d, fv->msgs[15].payload + 8, 32);
	assert_true(d[0] == (uintptr_t)tg_host(&f->g, q1_desc));
	/* ENABLE 1 for ring 1. */
	uint32_t en[2];
	memcpy(en, fv->msgs[18].payload, 8);
	assert_true(en[0] == 1 && en[1] == 1);

	/* Kick: the guest's notify reaches the backend's fd, not the VMM's queue code. */
	int kick1 = fv->msgs[17].fds[0], call1 = fv->msgs[16].fds[0];
	assert_int_equal(fv->msgs[17].nfds, 1);
	/* DRIVER_OK kicked every ready ring once (buffers queued before it). */
	assert_true(tg_wait_fd(kick1, TMO) == 1);
	tg_wr(&f->fs.vdev, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_true(tg_wait_fd(kick1, TMO) == 1);
	struct virtio_mmio_stats s;
	virtio_mmio_get_stats(&f->fs.vdev, &s);
	assert_true(s.notifies == 0);
	/* Call: the backend's signal is relayed: InterruptStatus.VRING and the irqfd. */
	uint64_t one = 1;
	assert_int_equal(write(call1, &one, 8), 8);
	assert_true(tg_wait_fd(f->fs.vdev.irq_fd, TMO) > 0);
	assert_int_equal(tg_rd(&f->fs.vdev, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	tg_wr(&f->fs.vdev, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(tg_rd(&f->fs.vdev, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	virtio_mmio_get_stats(&f->fs.vdev, &s);
	assert_true(s.relayed_calls == 1 && s.interrupts == 1 && !s.direct_calls);

	/* Reset: both rings are stopped with GET_VRING_BASE. */
	tg_wr(&f->fs.vdev, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(fv_wait(fv, n + 2, TMO), n + 2);
	assert_int_equal(fv->msgs[n].req, VHU_GET_VRING_BASE);
	assert_int_equal(fv->msgs[n + 1].req, VHU_GET_VRING_BASE);
	assert_int_equal(tg_rd(&f->fs.vdev, VIRTIO_MMIO_STATUS), 0);
}

/*
 * Direct calls (the VMM made call_fd[] irqfds): the backend's signal never
 * reaches the I/O thread, and InterruptStatus reports VRING while the
 * device runs so the driver looks at its rings on every interrupt.
 */
static void test_direct_calls(void **state)
{
	struct fx *f = *state;
	struct fake_vhu *fv = &f->fv;
	struct virtio_mmio *v = &f->fs.vdev;
	struct virtio_mmio_stats s;
	char err[256];
	uint64_t one = 1;

	queue_handshake(fv);
	queue_activate_acks(fv);
	fix_ack_codes(fv);
	fv_serve(fv);
	assert_int_equal(start_with(f, "share", true, err, sizeof(err)), 0);
	assert_int_equal(tg_rd(v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);	/* not running yet */
	assert_int_equal(bringup(f), ST_OK);
	unsigned n = HANDSHAKE_MSGS + ACTIVATE_MSGS;
	assert_int_equal(fv_wait(fv, n, TMO), n);
	/* The backend got the transport's call eventfds. */
	assert_int_equal(fv->msgs[10].nfds, 1);
	assert_int_equal(fv->msgs[16].nfds, 1);
	int call0 = fv->msgs[10].fds[0], call1 = fv->msgs[16].fds[0];
	assert_int_equal(write(call0, &one, 8), 8);
	assert_int_equal(write(call1, &one, 8), 8);
	/* Nobody in the VMM reads them: the hypervisor's irqfd would. */
	assert_true(tg_wait_fd(v->irq_fd, 100) == 0);
	assert_true(tg_wait_fd(v->call_fd[0], TMO) == 1);
	assert_true(tg_wait_fd(v->call_fd[1], TMO) == 1);
	assert_int_equal(tg_rd(v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	tg_wr(v, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(tg_rd(v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	virtio_mmio_get_stats(v, &s);
	assert_true(s.direct_calls && s.relayed_calls == 0 && s.interrupts == 0);
	/* Once started, the I/O thread owns its epoll set: too late to switch. */
	assert_int_equal(virtio_mmio_set_direct_calls(v), -EINVAL);
}

/* The backend goes away after DRIVER_OK: the device fails, says why, and keeps answering. */
static void test_backend_dies(void **state)
{
	struct fx *f = *state;
	struct fake_vhu *fv = &f->fv;
	char err[256];

	queue_handshake(fv);
	queue_activate_acks(fv);
	fix_ack_codes(fv);
	fv->close_after = HANDSHAKE_MSGS + ACTIVATE_MSGS;
	fv_serve(fv);
	assert_int_equal(start(f, "share", err, sizeof(err)), 0);
	assert_int_equal(bringup(f) & ~VIRTIO_STATUS_NEEDS_RESET, ST_OK);	/* the HUP may come first */
	fv_join(fv);
	uint32_t st = 0;
	for (int i = 0; i < TMO && !(st & VIRTIO_STATUS_NEEDS_RESET); i++, usleep(1000))
		st = tg_rd(&f->fs.vdev, VIRTIO_MMIO_STATUS);
	assert_true(st & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(log_has(f, "closed the connection"));
	assert_true(log_has(f, "device needs reset"));
	/* A reset and a new DRIVER_OK: refused at once (no hang), the device fails again. */
	assert_int_equal(bringup(f) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	assert_true(log_has(f, "cannot activate"));
}

/* No backend listening: a clear error at start-up. */
static void test_no_backend(void **state)
{
	struct fx *f = *state;
	char err[256];

	close(f->fv.listen_fd);
	unlink(f->fv.path);
	f->fv.listen_fd = -1;
	assert_true(start(f, "share", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot connect"));
	assert_non_null(strstr(err, f->fv.path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rings_handed_over_at_driver_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backend_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_backend, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
