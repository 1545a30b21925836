/*
 * virtio-net transmit as a Linux driver sees it, with a socketpair for the
 * tap: while the guest streams packets the device keeps its notifications
 * off (the driver's kick test says "no kick") and still sends every packet,
 * by looking again after one turn of its I/O loop; once a look finds the
 * ring empty, the driver's next packet must kick. With and without
 * VIRTIO_F_RING_EVENT_IDX. Completions interrupt only as used_event asks.
 * No I/O thread runs: the test serves notifications and the device's
 * second looks (its rerun eventfd) by hand, as the loop would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio/net.h"
#include "devices/virtio/mmio_internal.h"
#include "tnet.h"

#define EVENT_IDX VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)
#define TXQ 1			/* vnet_txq(0) */
#define FRAME 200

struct fx {
	struct tnet t;
	int peer;		/* the "tap" end the test reads */
	uint64_t buf;		/* one packet's header + frame in guest RAM */
	uint16_t next_desc;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	f->peer = sv[1];
	assert_true(tn_make(&f->t, &sv[0], 1, false, 0));
	f->buf = tg_alloc(&f->t.g, VNET_HDR_LEN + FRAME);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tn_free(&f->t);
	close(f->peer);
	free(f);
	return 0;
}

static struct tguest *txring(struct fx *f) { return &f->t.q[TXQ]; }
static struct virtio_mmio *vdev(struct fx *f) { return &f->t.net.vdev; }

/*
 * The driver adds one packet and decides whether to kick as Linux's
 * virtqueue_kick_prepare() does (virtio 1.2 2.7.10 / 2.7.7.2); true: it must.
 */
static bool add_packet(struct fx *f)
{
	struct tguest *tx = txring(f);
	uint16_t old = tx->avail_idx;
	uint16_t d = f->next_desc++ % TN_QSIZE;

	tg_desc(tx, d, f->buf, VNET_HDR_LEN + FRAME, 0, 0);
	tg_publish(tx, d);
	if (!(virtio_mmio_features(vdev(f)) & EVENT_IDX))
		return !(tg_used_flags(tx) & VIRTQ_USED_F_NO_NOTIFY);
	uint16_t now = tx->avail_idx, ev = tg_avail_event(tx);
	return (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
}

/* Packets the "tap" received (each must be one whole packet). */
static unsigned tap_packets(struct fx *f)
{
	uint8_t got[VNET_HDR_LEN + FRAME + 16];
	unsigned n = 0;
	ssize_t r;

	while ((r = read(f->peer, got, sizeof(got))) > 0) {
		assert_int_equal(r, VNET_HDR_LEN + FRAME);
		n++;
	}
	assert_int_equal(errno, EAGAIN);
	return n;
}

static unsigned used(struct fx *f)
{
	uint32_t id, len;
	unsigned n = 0;

	while (tg_used(txring(f), &id, &len))
		n++;
	return n;
}

/* Did the device ask its I/O loop to look at the queue again? Then do what the loop does. */
static bool run_rerun(struct fx *f)
{
	if (!tg_wait_fd(vdev(f)->rerun_fd, 0))
		return false;
	assert_int_equal(vdev(f)->rerun, 1u << TXQ);
	vmmio_serve_reruns(vdev(f));
	return true;
}

static uint64_t interrupts(struct fx *f)
{
	return tg_wait_fd(vdev(f)->irq_fd, 0);
}

static void stream(struct fx *f)
{
	struct virtio_mmio_stats st;

	/* The first packet kicks; the device sends it and will look again. */
	assert_true(add_packet(f));
	assert_int_equal(tn_notify(&f->t, TXQ), 0);
	assert_int_equal(tap_packets(f), 1);
	assert_int_equal(used(f), 1);
	/* Streaming: the next two packets need no kick, and go out on the second look. */
	assert_false(add_packet(f));
	assert_false(add_packet(f));
	assert_true(run_rerun(f));
	assert_int_equal(tap_packets(f), 2);
	assert_int_equal(used(f), 2);
	/* Still none while the device looks again ... */
	assert_false(add_packet(f));
	assert_true(run_rerun(f));
	assert_int_equal(tap_packets(f), 1);
	/* ... until a look finds nothing: notifications are back on, no more looks. */
	assert_true(run_rerun(f));
	assert_int_equal(tap_packets(f), 0);
	assert_false(run_rerun(f));
	assert_true(add_packet(f));
	assert_int_equal(tn_notify(&f->t, TXQ), 0);
	assert_int_equal(tap_packets(f), 1);
	/* The looks are not counted as the driver's notifications; nothing failed. */
	virtio_mmio_get_stats(vdev(f), &st);
	assert_int_equal(st.failures, 0);
	struct virtio_net_stats s;
	virtio_net_get_stats(&f->t.net, &s);
	assert_int_equal(s.tx_packets, 5);
}

static void test_stream_event_idx(void **state)
{
	struct fx *f = *state;

	assert_true(tn_bringup(&f->t, EVENT_IDX) & VIRTIO_STATUS_DRIVER_OK);
	stream(f);
}

static void test_stream_no_notify_flag(void **state)
{
	struct fx *f = *state;

	assert_true(tn_bringup(&f->t, 0) & VIRTIO_STATUS_DRIVER_OK);
	stream(f);
}

/* A packet added between the device's last look and its re-enabling is not lost. */
static void test_race_at_rearm(void **state)
{
	struct fx *f = *state;

	assert_true(tn_bringup(&f->t, EVENT_IDX) & VIRTIO_STATUS_DRIVER_OK);
	assert_true(add_packet(f));
	assert_int_equal(tn_notify(&f->t, TXQ), 0);
	assert_true(run_rerun(f));		/* empty: notifications on */
	assert_int_equal(tap_packets(f), 1);
	/* The driver adds a packet and kicks; the device is served late, twice. */
	assert_true(add_packet(f));
	assert_int_equal(tn_notify(&f->t, TXQ), 0);
	assert_int_equal(tap_packets(f), 1);
	assert_true(run_rerun(f));
	assert_false(run_rerun(f));
	assert_true(add_packet(f));
}

/* Tx completions interrupt only when used_event asks (Linux frees tx buffers lazily). */
static void test_completions_follow_used_event(void **state)
{
	struct fx *f = *state;

	assert_true(tn_bringup(&f->t, EVENT_IDX) & VIRTIO_STATUS_DRIVER_OK);
	assert_true(add_packet(f));
	assert_int_equal(tn_notify(&f->t, TXQ), 0);
	interrupts(f);
	/* Used index 1; the driver wants an interrupt once the 4th packet is done. */
	tg_set_used_event(txring(f), 3);
	for (unsigned i = 0; i < 2; i++) {
		assert_false(add_packet(f));
		assert_true(run_rerun(f));
		assert_int_equal(interrupts(f), 0);
	}
	assert_false(add_packet(f));
	assert_true(run_rerun(f));
	assert_int_equal(interrupts(f), 1);
	assert_int_equal(tap_packets(f), 4);
	assert_int_equal(used(f), 4);
}

/* Poll cond (up to 5 s) while the I/O thread runs. */
#define WAIT_FOR(cond) do {						\
		for (unsigned ms_ = 0; !(cond) && ms_ < 5000; ms_++)	\
			usleep(1000);					\
		assert_true(cond);					\
	} while (0)

/* With the real I/O loop: after a burst the device turns notifications back on by itself. */
static void test_io_loop_rearms_after_burst(void **state)
{
	struct fx *f = *state;
	struct virtio_mmio_stats st;
	uint64_t one = 1;
	unsigned got = 0;

	assert_true(tn_bringup(&f->t, EVENT_IDX) & VIRTIO_STATUS_DRIVER_OK);
	for (unsigned q = 0; q < f->t.nq; q++)
		tg_wait_fd(vdev(f)->notify_fd[q], 0);	/* DRIVER_OK's look at every queue: done */
	assert_int_equal(virtio_mmio_start(vdev(f)), 0);
	for (unsigned i = 0; i < 2; i++) {
		/* Each packet after a quiet spell kicks, and goes out. */
		assert_true(add_packet(f));
		assert_int_equal(write(vdev(f)->notify_fd[TXQ], &one, sizeof(one)), sizeof(one));
		WAIT_FOR((got += tap_packets(f)) == i + 1);
		/* The second look found nothing: avail_event names the next buffer. */
		WAIT_FOR(tg_avail_event(txring(f)) == txring(f)->avail_idx);
	}
	virtio_mmio_get_stats(vdev(f), &st);
	assert_int_equal(st.notifies, 2);
	assert_int_equal(st.failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stream_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_no_notify_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race_at_rearm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_completions_follow_used_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_loop_rearms_after_burst, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
