/*
 * The virtio-mmio transport: registers, feature negotiation, the status
 * state machine, reset, a driver that writes registers in the wrong order,
 * and the data path through the notify eventfd, the I/O thread and the irqfd.
 * The device is a small "echo" device defined here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tguest.h"

#define QSIZE 16
#define RAM (1u << 20)
#define ECHO_F_SHOUT 3		/* a device feature bit the echo device offers */
#define TMO 5000

/* Copies each chain's readable bytes into its writable ones. */
struct echo {
	struct virtio_mmio vdev;
	uint8_t config[8];
	unsigned resets, activations, notifies;
	uint64_t features_seen;
	bool refuse_features;
};

static void echo_config_read(void *opaque, uint32_t off, void *buf, unsigned len)
{
	struct echo *e = opaque;
	memcpy(buf, e->config + off, len);
}

static void echo_config_write(void *opaque, uint32_t off, const void *buf, unsigned len)
{
	struct echo *e = opaque;
	memcpy(e->config + off, buf, len);
}

static bool echo_features_ok(void *opaque, uint64_t f)
{
	struct echo *e = opaque;
	e->features_seen = f;
	return !e->refuse_features;
}

static int echo_activate(void *opaque)
{
	struct echo *e = opaque;
	e->activations++;
	return 0;
}

static int echo_notify(void *opaque, unsigned q)
{
	struct echo *e = opaque;
	struct virtq *vq = virtio_mmio_queue(&e->vdev, q);
	struct iovec iov[QSIZE];
	int r;

	e->notifies++;
	for (;;) {
		struct virtq_chain c = { .iov = iov, .cap = QSIZE };
		uint8_t buf[256];
		r = virtq_pop(vq, &c);
		if (r <= 0)
			break;
		uint64_t n = virtq_chain_read(&c, 0, buf, sizeof(buf));
		n = virtq_chain_write(&c, 0, buf, n);
		if ((r = virtq_push(vq, c.head, (uint32_t)n)))
			break;
		virtio_mmio_used(&e->vdev, q);
	}
	return r;
}

static void echo_reset(void *opaque)
{
	struct echo *e = opaque;
	e->resets++;
}

static const struct virtio_dev_ops echo_ops = {
	.name = "echo",
	.device_id = 42,
	.num_queues = 2,
	.queue_max = QSIZE,
	.features = VIRTIO_BIT(ECHO_F_SHOUT),
	.config_size = sizeof(((struct echo *)0)->config),
	.config_read = echo_config_read,
	.config_write = echo_config_write,
	.features_ok = echo_features_ok,
	.activate = echo_activate,
	.queue_notify = echo_notify,
	.reset = echo_reset,
};

struct fx {
	struct tguest g;
	struct echo e;
	char log[16][256];
	unsigned nlog;
	pthread_mutex_t log_lock;
};

static void log_line(void *opaque, const char *line)
{
	struct fx *f = opaque;
	pthread_mutex_lock(&f->log_lock);
	if (f->nlog < 16)
		snprintf(f->log[f->nlog++], sizeof(f->log[0]), "%s", line);
	pthread_mutex_unlock(&f->log_lock);
}

static bool logged(struct fx *f, const char *part)
{
	bool found = false;
	pthread_mutex_lock(&f->log_lock);
	for (unsigned i = 0; i < f->nlog; i++)
		found |= strstr(f->log[i], part) != NULL;
	pthread_mutex_unlock(&f->log_lock);
	return found;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	pthread_mutex_init(&f->log_lock, NULL);
	tg_init(&f->g, RAM, QSIZE);
	struct virtio_mmio_config cfg = {
		.base = 0x0a000000, .spi = 16, .mem = f->g.mem, .log = log_line, .log_opaque = f,
	};
	memcpy(f->e.config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	assert_int_equal(virtio_mmio_init(&f->e.vdev, &cfg, &echo_ops, &f->e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	virtio_mmio_destroy(&f->e.vdev);
	tg_free(&f->g);
	pthread_mutex_destroy(&f->log_lock);
	free(f);
	return 0;
}

#define V(f) (&(f)->e.vdev)
#define ALL_FEATURES (VIRTIO_MMIO_TRANSPORT_FEATURES | VIRTIO_BIT(ECHO_F_SHOUT))
#define ST_ACK_DRV (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER)
#define ST_FEAT (ST_ACK_DRV | VIRTIO_STATUS_FEATURES_OK)
#define ST_OK (ST_FEAT | VIRTIO_STATUS_DRIVER_OK)

/* The device failed the way the spec asks: NEEDS_RESET, a config interrupt, a log line. */
static void expect_needs_reset(struct fx *f, const char *why)
{
	assert_true(tg_rd(V(f), VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(tg_rd(V(f), VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	assert_true(tg_wait_fd(V(f)->irq_fd, 0) > 0);
	assert_true(logged(f, why));
	assert_true(logged(f, "device needs reset"));
}

static void test_identity(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_DEVICE_ID), 42);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_QUEUE_NUM_MAX), QSIZE);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_SEL, 2);		/* no such queue */
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);	/* no shared memory */
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	/* Registers are 32-bit: a byte read of the magic is not decoded. */
	assert_int_equal(virtio_mmio_ops.read(V(f), VIRTIO_MMIO_MAGIC_VALUE, 1), 0);
}

static void test_features_offered(void **state)
{
	struct fx *f = *state;
	tg_wr(V(f), VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = tg_rd(V(f), VIRTIO_MMIO_DEVICE_FEATURES);
	tg_wr(V(f), VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint32_t hi = tg_rd(V(f), VIRTIO_MMIO_DEVICE_FEATURES);
	tg_wr(V(f), VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_DEVICE_FEATURES), 0);
	assert_int_equal(lo, VIRTIO_BIT(ECHO_F_SHOUT) | VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC) |
			 VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX));
	assert_int_equal(hi, 1);	/* VIRTIO_F_VERSION_1 is bit 32 */
}

static void test_negotiation_accepts_subset(void **state)
{
	struct fx *f = *state;
	uint64_t want = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(ECHO_F_SHOUT);
	assert_int_equal(tg_mmio_bringup(V(f), &f->g, want), ST_OK);
	assert_int_equal(f->e.features_seen, want);
	assert_int_equal(virtio_mmio_features(V(f)), want);
	assert_int_equal(f->e.activations, 1);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_QUEUE_READY), 1);
	/* Not negotiated: the ring runs without event index or indirect descriptors. */
	assert_false(V(f)->vq[0].event_idx);
	assert_false(V(f)->vq[0].indirect);
}

static void test_features_ok_refused_for_unknown_feature(void **state)
{
	struct fx *f = *state;
	uint32_t st = tg_mmio_bringup(V(f), &f->g, ALL_FEATURES | (1ULL << 40));
	assert_int_equal(st, ST_ACK_DRV);	/* FEATURES_OK did not stick */
	assert_false(st & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(logged(f, "refusing driver features"));
	assert_int_equal(f->e.activations, 0);
}

static void test_features_ok_refused_without_version_1(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tg_mmio_bringup(V(f), &f->g, VIRTIO_BIT(ECHO_F_SHOUT)), ST_ACK_DRV);
}

static void test_features_ok_refused_by_device(void **state)
{
	struct fx *f = *state;
	f->e.refuse_features = true;
	assert_int_equal(tg_mmio_bringup(V(f), &f->g, ALL_FEATURES), ST_ACK_DRV);
}

static void test_features_written_after_features_ok(void **state)
{
	struct fx *f = *state;
	tg_wr(V(f), VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	tg_wr(V(f), VIRTIO_MMIO_STATUS, ST_ACK_DRV);
	tg_wr(V(f), VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	tg_wr(V(f), VIRTIO_MMIO_DRIVER_FEATURES, 1);
	tg_wr(V(f), VIRTIO_MMIO_STATUS, ST_FEAT);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_STATUS), ST_FEAT);
	tg_wr(V(f), VIRTIO_MMIO_DRIVER_FEATURES, 3);
	expect_needs_reset(f, "driver features written after FEATURES_OK");
	assert_int_equal(virtio_mmio_features(V(f)), VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

static void test_features_ok_before_driver(void **state)
{
	struct fx *f = *state;
	tg_wr(V(f), VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FEATURES_OK);
	expect_needs_reset(f, "FEATURES_OK before ACKNOWLEDGE and DRIVER");
}

static void test_driver_ok_without_features_ok(void **state)
{
	struct fx *f = *state;
	tg_wr(V(f), VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	tg_wr(V(f), VIRTIO_MMIO_STATUS, ST_ACK_DRV | VIRTIO_STATUS_DRIVER_OK);
	expect_needs_reset(f, "DRIVER_OK without FEATURES_OK");
	assert_int_equal(f->e.activations, 0);
}

static void test_status_bits_cleared(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tg_mmio_bringup(V(f), &f->g, ALL_FEATURES), ST_OK);
	tg_wr(V(f), VIRTIO_MMIO_STATUS, ST_ACK_DRV);
	expect_needs_reset(f, "driver cleared status bits");
}

/* Features negotiated, then queue 0 set up with these values. */
static void queue_setup(struct fx *f, uint32_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
	tg_wr(V(f), VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	tg_wr(V(f), VIRTIO_MMIO_STATUS, ST_ACK_DRV);
	tg_wr(V(f), VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	tg_wr(V(f), VIRTIO_MMIO_DRIVER_FEATURES, 1);
	tg_wr(V(f), VIRTIO_MMIO_STATUS, ST_FEAT);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_SEL, 0);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_NUM, num);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_READY, 1);
}

static void test_queue_ready_with_unset_addresses(void **state)
{
	struct fx *f = *state;
	queue_setup(f, QSIZE, 0, 0, 0);
	expect_needs_reset(f, "outside guest RAM");
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_QUEUE_READY), 0);
}

static void test_queue_size_not_power_of_two(void **state)
{
	struct fx *f = *state;
	queue_setup(f, 12, f->g.desc, f->g.avail, f->g.used);
	expect_needs_reset(f, "power of two");
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_QUEUE_READY), 0);
}

static void test_queue_size_above_max(void **state)
{
	struct fx *f = *state;
	queue_setup(f, 2 * QSIZE, f->g.desc, f->g.avail, f->g.used);
	expect_needs_reset(f, "above the maximum");
}

static void test_queue_ring_wraps_address_space(void **state)
{
	struct fx *f = *state;
	queue_setup(f, QSIZE, 0xfffffffffffffff0ULL, f->g.avail, f->g.used);
	expect_needs_reset(f, "descriptor table is outside guest RAM");
}

static void test_queue_ready_before_features_ok(void **state)
{
	struct fx *f = *state;
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_SEL, 0);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_READY, 1);
	expect_needs_reset(f, "made ready before FEATURES_OK");
}

static void test_queue_register_written_while_ready(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tg_mmio_bringup(V(f), &f->g, ALL_FEATURES), ST_OK);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	expect_needs_reset(f, "written while the queue is ready");
	assert_int_equal(V(f)->vq[0].desc_gpa, f->g.desc);	/* unchanged */
}

static void test_config_space(void **state)
{
	struct fx *f = *state;
	assert_int_equal(virtio_mmio_ops.read(V(f), VIRTIO_MMIO_CONFIG, 4), 0x44332211);
	assert_int_equal(virtio_mmio_ops.read(V(f), VIRTIO_MMIO_CONFIG + 6, 2), 0x8877);
	assert_int_equal(virtio_mmio_ops.read(V(f), VIRTIO_MMIO_CONFIG + 7, 1), 0x88);
	/* Past the end, or straddling it: nothing. */
	assert_int_equal(virtio_mmio_ops.read(V(f), VIRTIO_MMIO_CONFIG + 6, 4), 0);
	assert_int_equal(virtio_mmio_ops.read(V(f), VIRTIO_MMIO_CONFIG + 0xf0, 4), 0);
	virtio_mmio_ops.write(V(f), VIRTIO_MMIO_CONFIG + 1, 0xab, 1);
	assert_int_equal(f->e.config[1], 0xab);
	virtio_mmio_ops.write(V(f), VIRTIO_MMIO_CONFIG + 7, 0xffff, 2);	/* straddles: dropped */
	assert_int_equal(f->e.config[7], 0x88);

	assert_int_equal(tg_mmio_bringup(V(f), &f->g, ALL_FEATURES), ST_OK);
	uint32_t gen = tg_rd(V(f), VIRTIO_MMIO_CONFIG_GENERATION);
	pthread_mutex_lock(&V(f)->lock);
	virtio_mmio_config_changed(V(f));
	pthread_mutex_unlock(&V(f)->lock);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_true(tg_wait_fd(V(f)->irq_fd, 0) > 0);
	tg_wr(V(f), VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

/* One echo request on queue 0: "ping" out, 8 bytes in. Returns the head. */
static uint16_t post_ping(struct fx *f, uint64_t *in)
{
	uint64_t out = tg_alloc(&f->g, 4);
	*in = tg_alloc(&f->g, 8);
	memcpy(tg_host(&f->g, out), "ping", 4);
	tg_desc(&f->g, 0, out, 4, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&f->g, 1, *in, 8, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&f->g, 0);
	return 0;
}

static void test_data_path_on_io_thread(void **state)
{
	struct fx *f = *state;
	uint64_t in;
	uint32_t id, len;

	assert_int_equal(virtio_mmio_start(V(f)), 0);
	assert_int_equal(tg_mmio_bringup(V(f), &f->g, ALL_FEATURES), ST_OK);
	tg_wait_fd(V(f)->irq_fd, 0);
	post_ping(f, &in);
	/* The guest's QueueNotify as KVM's ioeventfd delivers it. */
	uint64_t one = 1;
	assert_int_equal(write(V(f)->notify_fd[0], &one, 8), 8);
	assert_true(tg_wait_fd(V(f)->irq_fd, TMO) > 0);
	assert_true(tg_used(&f->g, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 4);
	assert_memory_equal(tg_host(&f->g, in), "ping", 4);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);

	/* Level semantics: EOI before the ACK re-raises the line; after it, nothing. */
	virtio_mmio_set_resample(V(f), true);
	assert_int_equal(write(V(f)->resample_fd, &one, 8), 8);
	assert_true(tg_wait_fd(V(f)->irq_fd, TMO) > 0);
	tg_wr(V(f), VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(write(V(f)->resample_fd, &one, 8), 8);
	assert_int_equal(tg_wait_fd(V(f)->irq_fd, 200), 0);

	struct virtio_mmio_stats st;
	virtio_mmio_get_stats(V(f), &st);
	assert_int_equal(st.vcpu_notifies, 0);
	assert_true(st.notifies >= 1);
}

/* Without ioeventfd a QueueNotify write reaches the transport: it only kicks the I/O thread. */
static void test_notify_register_without_ioeventfd(void **state)
{
	struct fx *f = *state;
	uint64_t in;
	uint32_t id, len;

	assert_int_equal(virtio_mmio_start(V(f)), 0);
	assert_int_equal(tg_mmio_bringup(V(f), &f->g, ALL_FEATURES), ST_OK);
	post_ping(f, &in);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_NOTIFY, 7);	/* no such queue: ignored */
	assert_true(tg_wait_fd(V(f)->irq_fd, TMO) > 0);
	assert_true(tg_used(&f->g, &id, &len));
	struct virtio_mmio_stats st;
	virtio_mmio_get_stats(V(f), &st);
	assert_int_equal(st.vcpu_notifies, 1);
}

/* Buffers made available before DRIVER_OK are served once it is set. */
static void test_buffers_before_driver_ok(void **state)
{
	struct fx *f = *state;
	uint64_t in;
	uint32_t id, len;

	assert_int_equal(virtio_mmio_start(V(f)), 0);
	queue_setup(f, QSIZE, f->g.desc, f->g.avail, f->g.used);
	post_ping(f, &in);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_NOTIFY, 0);	/* before DRIVER_OK: not served */
	usleep(50000);
	assert_false(tg_used(&f->g, &id, &len));
	tg_wr(V(f), VIRTIO_MMIO_STATUS, ST_OK);
	assert_true(tg_wait_fd(V(f)->irq_fd, TMO) > 0);
	assert_true(tg_used(&f->g, &id, &len));
}

static void test_malformed_chain_fails_device(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	assert_int_equal(virtio_mmio_start(V(f)), 0);
	assert_int_equal(tg_mmio_bringup(V(f), &f->g, ALL_FEATURES), ST_OK);
	tg_desc(&f->g, 0, tg_alloc(&f->g, 4), 4, VIRTQ_DESC_F_NEXT, 0);	/* loops on itself */
	tg_publish(&f->g, 0);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (int i = 0; i < TMO && !(tg_rd(V(f), VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET); i++)
		usleep(1000);
	expect_needs_reset(f, "queue 0: descriptor chain loops");
	assert_false(tg_used(&f->g, &id, &len));

	/* Broken: further notifications are not served, even a good chain. */
	pthread_mutex_lock(&V(f)->lock);
	unsigned served = f->e.notifies;
	pthread_mutex_unlock(&V(f)->lock);
	uint64_t in;
	post_ping(f, &in);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	usleep(50000);
	pthread_mutex_lock(&V(f)->lock);
	assert_int_equal(f->e.notifies, served);
	pthread_mutex_unlock(&V(f)->lock);

	/* Reset, bring up again: the device works. */
	tg_reset_rings(&f->g);
	assert_int_equal(tg_mmio_bringup(V(f), &f->g, ALL_FEATURES), ST_OK);
	post_ping(f, &in);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(tg_wait_fd(V(f)->irq_fd, TMO) > 0);
	assert_true(tg_used(&f->g, &id, &len));
	assert_int_equal(len, 4);
}

static void test_reset_clears_everything(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tg_mmio_bringup(V(f), &f->g, ALL_FEATURES), ST_OK);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_SEL, 1);
	tg_wr(V(f), VIRTIO_MMIO_QUEUE_NUM, 4);
	pthread_mutex_lock(&V(f)->lock);
	virtio_mmio_fail(V(f), "test failure");
	pthread_mutex_unlock(&V(f)->lock);
	assert_true(tg_rd(V(f), VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);

	unsigned resets = f->e.resets;
	tg_wr(V(f), VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(f->e.resets, resets + 1);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(virtio_mmio_features(V(f)), 0);
	for (unsigned q = 0; q < 2; q++) {
		tg_wr(V(f), VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(tg_rd(V(f), VIRTIO_MMIO_QUEUE_READY), 0);
		assert_int_equal(V(f)->qreg[q].num, 0);
		assert_int_equal(V(f)->vq[q].size, 0);
	}
	assert_false(virtio_mmio_running(V(f)));
	/* And it comes up again. */
	assert_int_equal(tg_mmio_bringup(V(f), &f->g, ALL_FEATURES), ST_OK);
	assert_true(virtio_mmio_running(V(f)));
}

static void test_init_rejects_bad_ops(void **state)
{
	struct fx *f = *state;
	struct virtio_mmio v;
	struct virtio_dev_ops ops = echo_ops;
	struct virtio_mmio_config cfg = { .mem = f->g.mem };

	ops.queue_max = 12;
	assert_int_equal(virtio_mmio_init(&v, &cfg, &ops, NULL), -EINVAL);
	ops = echo_ops;
	ops.num_queues = VIRTIO_MMIO_MAX_QUEUES + 1;
	assert_int_equal(virtio_mmio_init(&v, &cfg, &ops, NULL), -EINVAL);
	ops = echo_ops;
	ops.config_size = VIRTIO_MMIO_CONFIG_MAX + 1;
	assert_int_equal(virtio_mmio_init(&v, &cfg, &ops, NULL), -EINVAL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity),
		T(test_features_offered),
		T(test_negotiation_accepts_subset),
		T(test_features_ok_refused_for_unknown_feature),
		T(test_features_ok_refused_without_version_1),
		T(test_features_ok_refused_by_device),
		T(test_features_written_after_features_ok),
		T(test_features_ok_before_driver),
		T(test_driver_ok_without_features_ok),
		T(test_status_bits_cleared),
		T(test_queue_ready_with_unset_addresses),
		T(test_queue_size_not_power_of_two),
		T(test_queue_size_above_max),
		T(test_queue_ring_wraps_address_space),
		T(test_queue_ready_before_features_ok),
		T(test_queue_register_written_while_ready),
		T(test_config_space),
		T(test_data_path_on_io_thread),
		T(test_notify_register_without_ioeventfd),
		T(test_buffers_before_driver_ok),
		T(test_malformed_chain_fails_device),
		T(test_reset_clears_everything),
		T(test_init_rejects_bad_ops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
