/*
 * The virtio-mmio interrupt handshake: the guest's InterruptStatus read and
 * InterruptACK write go through while the I/O thread holds the transport's
 * lock (a batch of data in flight), and on a level line (resample wired) a
 * raise while the last one is still pending does not signal the irqfd again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "tguest.h"

#define QSIZE 16
#define RAM (1u << 20)

static const struct virtio_dev_ops quiet_ops = {
	.name = "quiet",
	.device_id = 42,
	.num_queues = 1,
	.queue_max = QSIZE,
};

struct fx {
	struct tguest g;
	struct virtio_mmio v;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	tg_init(&f->g, RAM, QSIZE);
	struct virtio_mmio_config cfg = { .base = 0x0a000000, .spi = 16, .mem = f->g.mem };
	assert_int_equal(virtio_mmio_init(&f->v, &cfg, &quiet_ops, NULL), 0);
	assert_true(tg_mmio_bringup(&f->v, &f->g, VIRTIO_MMIO_TRANSPORT_FEATURES) &
		    VIRTIO_STATUS_DRIVER_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	virtio_mmio_destroy(&f->v);
	tg_free(&f->g);
	free(f);
	return 0;
}

/* What the I/O thread does when it used buffers (lock held). */
static void device_interrupts(struct fx *f)
{
	pthread_mutex_lock(&f->v.lock);
	virtio_mmio_interrupt(&f->v);
	pthread_mutex_unlock(&f->v.lock);
}

struct handler {
	struct fx *f;
	uint32_t status;
};

/* The guest's interrupt handler on a vCPU thread: read the status, ACK it. */
static void *guest_handler(void *arg)
{
	struct handler *h = arg;
	h->status = tg_rd(&h->f->v, VIRTIO_MMIO_INTERRUPT_STATUS);
	tg_wr(&h->f->v, VIRTIO_MMIO_INTERRUPT_ACK, h->status);
	return NULL;
}

static void test_handshake_while_device_busy(void **state)
{
	struct fx *f = *state;
	struct handler h = { .f = f };
	pthread_t t;
	struct timespec until;

	device_interrupts(f);
	assert_true(tg_wait_fd(f->v.irq_fd, 0) > 0);
	pthread_mutex_lock(&f->v.lock);		/* the I/O thread in the middle of a batch */
	assert_int_equal(pthread_create(&t, NULL, guest_handler, &h), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	int r = pthread_timedjoin_np(t, NULL, &until);
	pthread_mutex_unlock(&f->v.lock);
	if (r == ETIMEDOUT)
		pthread_join(t, NULL);
	assert_int_equal(r, 0);			/* it did not wait for the lock */
	assert_int_equal(h.status, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(tg_rd(&f->v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

static void test_level_line_signalled_once_while_pending(void **state)
{
	struct fx *f = *state;
	struct virtio_mmio_stats st;
	uint64_t one = 1;

	virtio_mmio_set_resample(&f->v, true);
	assert_int_equal(virtio_mmio_start(&f->v), 0);
	tg_wait_fd(f->v.irq_fd, 0);
	device_interrupts(f);
	device_interrupts(f);
	device_interrupts(f);
	/* One signal: the line is up until the guest's EOI. */
	assert_int_equal(tg_wait_fd(f->v.irq_fd, 0), 1);
	/* EOI without an ACK: the resample raises it again (still pending). */
	assert_int_equal(write(f->v.resample_fd, &one, 8), 8);
	assert_int_equal(tg_wait_fd(f->v.irq_fd, 5000), 1);
	/* ACKed: the next use signals again. */
	tg_wr(&f->v, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	device_interrupts(f);
	assert_int_equal(tg_wait_fd(f->v.irq_fd, 0), 1);
	virtio_mmio_get_stats(&f->v, &st);
	assert_int_equal(st.interrupts, 2);
}

static void test_edge_line_signalled_each_time(void **state)
{
	struct fx *f = *state;

	tg_wait_fd(f->v.irq_fd, 0);
	device_interrupts(f);
	device_interrupts(f);
	assert_int_equal(tg_wait_fd(f->v.irq_fd, 0), 2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_handshake_while_device_busy),
		T(test_level_line_signalled_once_while_pending),
		T(test_edge_line_signalled_each_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
