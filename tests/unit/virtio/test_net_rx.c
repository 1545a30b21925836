/*
 * virtio-net receive as a Linux driver sees it, with a socketpair for the
 * tap: interrupts follow the driver's used_event over a batch of packets,
 * a packet merged across several chains of several descriptors each, and a
 * tap with packets waiting while the driver has no buffers (the device asks
 * for a notification and loses nothing when buffers come).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio/net.h"
#include "tnet.h"

#define B(f) VIRTIO_BIT(VIRTIO_NET_F_##f)
#define EVENT_IDX VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)
#define RXQ 0			/* vnet_rxq(0) */
#define BUF 1536		/* one Linux mergeable buffer: any 1500-byte MTU frame fits */

struct fx {
	struct tnet t;
	int peer;		/* the "tap" end the test writes packets into */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	f->peer = sv[1];
	assert_true(tn_make(&f->t, &sv[0], 1, false, VNET_TUN_F_CSUM));
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

static struct tguest *rxring(struct fx *f) { return &f->t.q[RXQ]; }

/* A packet as the tap hands it over: the header, then frame_len bytes from seed. */
static size_t send_packet(struct fx *f, size_t frame_len, uint8_t seed)
{
	uint8_t buf[VNET_HDR_LEN + 2048] = { 0 };

	assert_true(frame_len <= 2048);
	for (size_t i = 0; i < frame_len; i++)
		buf[VNET_HDR_LEN + i] = (uint8_t)(seed + i);
	assert_int_equal(write(f->peer, buf, VNET_HDR_LEN + frame_len), VNET_HDR_LEN + frame_len);
	return VNET_HDR_LEN + frame_len;
}

static uint64_t interrupts(struct fx *f)
{
	return tg_wait_fd(f->t.net.vdev.irq_fd, 0);
}

static bool watched_for_packets(struct fx *f)
{
	return tn_watched(&f->t, f->t.net.pair[0].fd, EPOLLIN);
}

static unsigned count_used(struct fx *f, uint32_t *lens, unsigned max)
{
	uint32_t id, len;
	unsigned n = 0;

	while (tg_used(rxring(f), &id, &len)) {
		if (n < max)
			lens[n] = len;
		n++;
	}
	return n;
}

static void test_interrupts_follow_used_event(void **state)
{
	struct fx *f = *state;
	uint32_t lens[8];

	assert_true(tn_bringup(&f->t, EVENT_IDX | B(MRG_RXBUF) | B(GUEST_CSUM)) & VIRTIO_STATUS_DRIVER_OK);
	for (uint16_t d = 0; d < TN_QSIZE; d++)
		tn_post_rx(&f->t, RXQ, d, BUF);
	interrupts(f);
	/* The driver waits for the first buffer: three packets, one interrupt. */
	tg_set_used_event(rxring(f), 0);
	for (unsigned i = 0; i < 3; i++)
		send_packet(f, 100 + i, (uint8_t)i);
	assert_int_equal(tn_notify(&f->t, RXQ), 0);
	assert_int_equal(count_used(f, lens, 8), 3);
	assert_int_equal(lens[2], VNET_HDR_LEN + 102);
	assert_int_equal(interrupts(f), 1);
	/* It polled them and waits again from used index 3: one interrupt for two packets. */
	tg_set_used_event(rxring(f), 3);
	send_packet(f, 200, 1);
	send_packet(f, 201, 2);
	tn_fire(&f->t, EPOLLIN);
	assert_int_equal(count_used(f, lens, 8), 2);
	assert_int_equal(interrupts(f), 1);
	/* Still polling (Linux leaves used_event behind): no interrupt at all. */
	send_packet(f, 300, 3);
	tn_fire(&f->t, EPOLLIN);
	assert_int_equal(count_used(f, lens, 8), 1);
	assert_int_equal(interrupts(f), 0);
}

/* A chain of two device-writable descriptors (a + b bytes) at descriptors d, d + 1. */
static void post_chain2(struct fx *f, uint16_t d, uint32_t a, uint32_t b, uint64_t *ga, uint64_t *gb)
{
	*ga = tg_alloc(&f->t.g, a);
	*gb = tg_alloc(&f->t.g, b);
	tg_desc(rxring(f), d, *ga, a, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	tg_desc(rxring(f), (uint16_t)(d + 1), *gb, b, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(rxring(f), d);
}

static void test_mergeable_across_multi_descriptor_chains(void **state)
{
	struct fx *f = *state;
	uint64_t ga[4], gb[4];
	uint32_t id, len;
	uint16_t nb;

	assert_true(tn_bringup(&f->t, B(MRG_RXBUF) | B(GUEST_CSUM)) & VIRTIO_STATUS_DRIVER_OK);
	for (uint16_t c = 0; c < 4; c++)
		post_chain2(f, (uint16_t)(2 * c), 100, 300, &ga[c], &gb[c]);
	size_t n = send_packet(f, 700, 5);	/* 712 bytes: chain 0 (400) and 312 of chain 1 */
	size_t m = send_packet(f, 50, 9);	/* the next one starts on a chain of its own */
	assert_int_equal(tn_notify(&f->t, RXQ), 0);

	assert_true(tg_used(rxring(f), &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 400);
	assert_true(tg_used(rxring(f), &id, &len));
	assert_int_equal(id, 2);
	assert_int_equal(len, n - 400);
	memcpy(&nb, (uint8_t *)tg_host(&f->t.g, ga[0]) + VNET_HDR_NUM_BUFFERS_OFF, 2);
	assert_int_equal(nb, 2);
	/* The frame runs on through the four descriptors in order. */
	uint8_t frame[700];
	memcpy(frame, (uint8_t *)tg_host(&f->t.g, ga[0]) + VNET_HDR_LEN, 88);
	memcpy(frame + 88, tg_host(&f->t.g, gb[0]), 300);
	memcpy(frame + 388, tg_host(&f->t.g, ga[1]), 100);
	memcpy(frame + 488, tg_host(&f->t.g, gb[1]), 212);
	for (size_t i = 0; i < sizeof(frame); i++)
		assert_int_equal(frame[i], (uint8_t)(5 + i));
	/*
	 * 800 bytes left in two chains: too few for the largest frame (the tap
	 * would cut it), so the next packet waits for more buffers.
	 */
	assert_false(tg_used(rxring(f), &id, &len));
	post_chain2(f, 0, 100, 300, &ga[0], &gb[0]);
	post_chain2(f, 2, 100, 300, &ga[1], &gb[1]);
	assert_int_equal(tn_notify(&f->t, RXQ), 0);
	assert_true(tg_used(rxring(f), &id, &len));
	assert_int_equal(id, 4);
	assert_int_equal(len, m);
	memcpy(&nb, (uint8_t *)tg_host(&f->t.g, ga[2]) + VNET_HDR_NUM_BUFFERS_OFF, 2);
	assert_int_equal(nb, 1);
	assert_int_equal(((uint8_t *)tg_host(&f->t.g, ga[2]))[VNET_HDR_LEN + 49], (uint8_t)(9 + 49));
	assert_false(tg_used(rxring(f), &id, &len));
	struct virtio_net_stats s;
	virtio_net_get_stats(&f->t.net, &s);
	assert_int_equal(s.rx_packets, 2);
	assert_int_equal(s.rx_drops, 0);
}

static void test_no_buffers_waits_for_the_driver(void **state)
{
	struct fx *f = *state;
	uint32_t lens[8];

	assert_true(tn_bringup(&f->t, EVENT_IDX | B(MRG_RXBUF) | B(GUEST_CSUM)) & VIRTIO_STATUS_DRIVER_OK);
	send_packet(f, 100, 1);
	send_packet(f, 101, 2);
	send_packet(f, 102, 3);
	/* Packets but no buffers: the tap is left alone and the driver asked to notify. */
	assert_int_equal(tn_notify(&f->t, RXQ), 0);
	assert_false(watched_for_packets(f));
	assert_int_equal(tg_avail_event(rxring(f)), 0);
	assert_int_equal(count_used(f, lens, 8), 0);
	/* One buffer: one packet; empty again, and asking for the next buffer. */
	tn_post_rx(&f->t, RXQ, 0, BUF);
	assert_int_equal(tn_notify(&f->t, RXQ), 0);
	assert_int_equal(count_used(f, lens, 8), 1);
	assert_int_equal(lens[0], VNET_HDR_LEN + 100);
	assert_false(watched_for_packets(f));
	assert_int_equal(tg_avail_event(rxring(f)), 1);
	/* Three more: the two waiting packets, in order, and one buffer left for the tap. */
	for (uint16_t d = 1; d < 4; d++)
		tn_post_rx(&f->t, RXQ, d, BUF);
	assert_int_equal(tn_notify(&f->t, RXQ), 0);
	assert_int_equal(count_used(f, lens, 8), 2);
	assert_int_equal(lens[0], VNET_HDR_LEN + 101);
	assert_int_equal(lens[1], VNET_HDR_LEN + 102);
	assert_true(watched_for_packets(f));
	send_packet(f, 103, 4);
	tn_fire(&f->t, EPOLLIN);
	assert_int_equal(count_used(f, lens, 8), 1);
	assert_int_equal(lens[0], VNET_HDR_LEN + 103);
	struct virtio_net_stats s;
	virtio_net_get_stats(&f->t.net, &s);
	assert_int_equal(s.rx_packets, 4);
	assert_int_equal(s.rx_drops, 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_interrupts_follow_used_event),
		T(test_mergeable_across_multi_descriptor_chains),
		T(test_no_buffers_waits_for_the_driver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
