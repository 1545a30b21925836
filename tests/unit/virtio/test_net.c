/*
 * virtio-net against a driver played by the test: a socketpair stands in
 * for the tap (SOCK_SEQPACKET keeps packet boundaries, as a tap does), so
 * what the guest sends is what the "tap" reads and the other way round.
 * The tap ioctls are tested on a real tap in test_net_tap.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio/net.h"
#include "tnet.h"

#define QSIZE TN_QSIZE
#define B(f) VIRTIO_BIT(VIRTIO_NET_F_##f)
#define ALL_OFFLOADS (VNET_TUN_F_CSUM | VNET_TUN_F_TSO4 | VNET_TUN_F_TSO6 | VNET_TUN_F_TSO_ECN)

struct fx {
	struct tnet t;
	struct tguest *g;		/* RAM */
	struct tguest *q;		/* rings */
	struct virtio_net *net;
	unsigned nq;
	int peer[2];			/* the "tap" ends the test reads and writes */
	const char *log;
};

static int make(struct fx **out, unsigned pairs)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fds[2];

	for (unsigned i = 0; i < pairs; i++) {
		int sv[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
		fds[i] = sv[0];
		f->peer[i] = sv[1];
	}
	assert_true(tn_make(&f->t, fds, pairs, false, ALL_OFFLOADS));
	f->g = &f->t.g;
	f->q = f->t.q;
	f->net = &f->t.net;
	f->nq = f->t.nq;
	f->log = f->t.log;
	*out = f;
	return 0;
}

static int setup1(void **state) { return make((struct fx **)state, 1); }
static int setup2(void **state) { return make((struct fx **)state, 2); }

static int teardown(void **state)
{
	struct fx *f = *state;
	tn_free(&f->t);
	for (unsigned i = 0; i < 2; i++) {
		if (f->peer[i] > 0)
			close(f->peer[i]);
	}
	free(f);
	return 0;
}

static uint32_t bringup(struct fx *f, uint64_t features)
{
	return tn_bringup(&f->t, features);
}

static void notify(struct fx *f, unsigned q)
{
	assert_int_equal(tn_notify(&f->t, q), 0);
}

static uint64_t post_rx(struct fx *f, unsigned q, uint16_t d, uint32_t len)
{
	return tn_post_rx(&f->t, q, d, len);
}

static bool fd_watched(struct fx *f, int fd, uint32_t events)
{
	return tn_watched(&f->t, fd, events);
}

static void test_features_offered(void **state)
{
	(void)state;
	uint64_t f = virtio_net_features(ALL_OFFLOADS, 1);
	uint64_t want = B(MAC) | B(STATUS) | B(MRG_RXBUF) | B(CSUM) | B(GUEST_CSUM) |
			B(GUEST_TSO4) | B(GUEST_TSO6) | B(GUEST_ECN) |
			B(HOST_TSO4) | B(HOST_TSO6) | B(HOST_ECN);
	assert_true(f == want);
	/* What the tap cannot offload is not offered to the guest. */
	f = virtio_net_features(VNET_TUN_F_CSUM, 1);
	assert_true(f & B(GUEST_CSUM));
	assert_false(f & (B(GUEST_TSO4) | B(GUEST_TSO6) | B(GUEST_ECN) | B(GUEST_UFO)));
	assert_false(virtio_net_features(0, 1) & B(GUEST_CSUM));
	assert_true(virtio_net_features(ALL_OFFLOADS | VNET_TUN_F_UFO, 1) & B(GUEST_UFO));
	/* Several pairs: MQ and the control queue. */
	f = virtio_net_features(ALL_OFFLOADS, 2);
	assert_true((f & (B(MQ) | B(CTRL_VQ))) == (B(MQ) | B(CTRL_VQ)));
}

static void test_offload_flags(void **state)
{
	(void)state;
	assert_int_equal(virtio_net_tap_offloads(0), 0);
	/* TSO without GUEST_CSUM gives nothing: the guest wants finished packets. */
	assert_int_equal(virtio_net_tap_offloads(B(GUEST_TSO4)), 0);
	assert_int_equal(virtio_net_tap_offloads(B(GUEST_CSUM)), VNET_TUN_F_CSUM);
	assert_int_equal(virtio_net_tap_offloads(B(GUEST_CSUM) | B(GUEST_TSO4) | B(GUEST_TSO6) |
						 B(GUEST_ECN) | B(HOST_TSO4) | B(CSUM)),
			 VNET_TUN_F_CSUM | VNET_TUN_F_TSO4 | VNET_TUN_F_TSO6 | VNET_TUN_F_TSO_ECN);
	assert_int_equal(virtio_net_tap_offloads(B(GUEST_CSUM) | B(GUEST_UFO)),
			 VNET_TUN_F_CSUM | VNET_TUN_F_UFO);
	/* Dependencies (5.1.3.1). */
	assert_true(virtio_net_features_valid(B(GUEST_CSUM) | B(GUEST_TSO4) | B(GUEST_ECN)));
	assert_false(virtio_net_features_valid(B(GUEST_TSO4)));
	assert_false(virtio_net_features_valid(B(GUEST_CSUM) | B(GUEST_ECN)));
	assert_false(virtio_net_features_valid(B(HOST_TSO6)));
	assert_false(virtio_net_features_valid(B(CSUM) | B(HOST_ECN)));
	assert_false(virtio_net_features_valid(B(MQ)));
	assert_true(virtio_net_features_valid(B(MQ) | B(CTRL_VQ)));
}

static void test_config_and_negotiation(void **state)
{
	struct fx *f = *state;
	struct virtio_mmio *v = &f->net->vdev;
	uint8_t mac[6];

	assert_int_equal(tg_rd(v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)virtio_mmio_ops.read(v, VIRTIO_MMIO_CONFIG + i, 1);
	assert_memory_equal(mac, ((uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0x56 }), 6);
	assert_int_equal(virtio_mmio_ops.read(v, VIRTIO_MMIO_CONFIG + 6, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(virtio_mmio_ops.read(v, VIRTIO_MMIO_CONFIG + 8, 2), 1);
	/* An invalid combination is refused at FEATURES_OK ... */
	assert_false(bringup(f, B(GUEST_TSO4)) & VIRTIO_STATUS_FEATURES_OK);
	/* ... a valid one accepted, and its offloads are what the tap gets. */
	uint32_t st = bringup(f, B(GUEST_CSUM) | B(GUEST_TSO4) | B(MRG_RXBUF));
	assert_true(st & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->net->offloads_set, VNET_TUN_F_CSUM | VNET_TUN_F_TSO4);
	tg_wr(v, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(f->net->offloads_set, 0);
}

static void test_tx_gather(void **state)
{
	struct fx *f = *state;
	struct tguest *tx = &f->q[vnet_txq(0)];
	struct virtio_net_hdr_v1 hdr = {
		.flags = 1 /* NEEDS_CSUM */, .gso_type = 1 /* TCPV4 */, .hdr_len = 54,
		.gso_size = 1448, .csum_start = 34, .csum_offset = 16,
	};
	uint8_t frame[300], got[512];
	uint32_t id, len;

	assert_true(bringup(f, B(CSUM) | B(HOST_TSO4)) & VIRTIO_STATUS_DRIVER_OK);
	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7);
	/* Header split across two descriptors, the frame across two more. */
	uint64_t a = tg_alloc(f->g, 8), b = tg_alloc(f->g, 4), c = tg_alloc(f->g, 100),
		 d = tg_alloc(f->g, 200);
	memcpy(tg_host(f->g, a), &hdr, 8);
	memcpy(tg_host(f->g, b), (uint8_t *)&hdr + 8, 4);
	memcpy(tg_host(f->g, c), frame, 100);
	memcpy(tg_host(f->g, d), frame + 100, 200);
	tg_desc(tx, 0, a, 8, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(tx, 1, b, 4, VIRTQ_DESC_F_NEXT, 2);
	tg_desc(tx, 2, c, 100, VIRTQ_DESC_F_NEXT, 3);
	tg_desc(tx, 3, d, 200, 0, 0);
	tg_publish(tx, 0);
	notify(f, vnet_txq(0));

	/* One packet on the tap: the header untouched, then the frame. */
	assert_int_equal(read(f->peer[0], got, sizeof(got)), VNET_HDR_LEN + sizeof(frame));
	assert_memory_equal(got, &hdr, VNET_HDR_LEN);
	assert_memory_equal(got + VNET_HDR_LEN, frame, sizeof(frame));
	assert_true(tg_used(tx, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 0);
	struct virtio_net_stats s;
	virtio_net_get_stats(f->net, &s);
	assert_int_equal(s.tx_packets, 1);
	assert_int_equal(s.tx_bytes, sizeof(frame));

	/* A chain shorter than the header is dropped and returned, nothing sent. */
	tg_desc(tx, 4, a, 8, 0, 0);
	tg_publish(tx, 4);
	notify(f, vnet_txq(0));
	assert_true(tg_used(tx, &id, &len));
	assert_int_equal(id, 4);
	assert_int_equal(read(f->peer[0], got, sizeof(got)), -1);
	assert_int_equal(errno, EAGAIN);
	virtio_net_get_stats(f->net, &s);
	assert_int_equal(s.tx_drops, 1);
	assert_false(f->net->vdev.failed);
}

static void test_tx_waits_for_room(void **state)
{
	struct fx *f = *state;
	struct tguest *tx = &f->q[vnet_txq(0)];
	int sndbuf = 4096;
	uint32_t id, len;
	unsigned sent = 0;

	assert_int_equal(setsockopt(f->net->pair[0].fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	assert_true(bringup(f, 0) & VIRTIO_STATUS_DRIVER_OK);
	uint64_t a = tg_alloc(f->g, 1500);
	for (uint16_t i = 0; i < QSIZE; i++) {
		tg_desc(tx, i, a, 1500, 0, 0);
		tg_publish(tx, i);
	}
	notify(f, vnet_txq(0));
	/* The socket filled up: the rest waits (not dropped) with the fd watched for room. */
	while (tg_used(tx, &id, &len))
		sent++;
	assert_true(sent < QSIZE);
	assert_true(f->net->pair[0].tx_wait);
	assert_true(fd_watched(f, f->net->pair[0].fd, EPOLLOUT));
	/* Drain the "tap", tell the device it has room: everything goes. */
	char buf[2048];
	while (read(f->peer[0], buf, sizeof(buf)) > 0)
		;
	tn_fire(&f->t, EPOLLOUT);
	while (read(f->peer[0], buf, sizeof(buf)) > 0)
		;
	while (tg_used(tx, &id, &len))
		sent++;
	assert_int_equal(sent, QSIZE);
	assert_false(f->net->pair[0].tx_wait);
	struct virtio_net_stats s;
	virtio_net_get_stats(f->net, &s);
	assert_int_equal(s.tx_packets, QSIZE);
	assert_int_equal(s.tx_drops, 0);
}

/* A packet as the tap delivers it: 12-byte header (num_buffers left 0), then the frame. */
static size_t tap_packet(uint8_t *buf, size_t frame_len, uint8_t seed)
{
	struct virtio_net_hdr_v1 h = { .flags = 2 /* DATA_VALID */, .num_buffers = 0 };
	memcpy(buf, &h, sizeof(h));
	for (size_t i = 0; i < frame_len; i++)
		buf[VNET_HDR_LEN + i] = (uint8_t)(seed + i);
	return VNET_HDR_LEN + frame_len;
}

static void test_rx_single_buffer(void **state)
{
	struct fx *f = *state;
	struct tguest *rx = &f->q[vnet_rxq(0)];
	uint8_t pkt[200];
	uint32_t id, len;

	assert_true(bringup(f, B(GUEST_CSUM)) & VIRTIO_STATUS_DRIVER_OK);
	size_t n = tap_packet(pkt, 150, 3);
	assert_int_equal(write(f->peer[0], pkt, n), n);
	/* No buffers yet: nothing happens, and the tap is not polled (no spinning). */
	notify(f, vnet_rxq(0));
	assert_false(fd_watched(f, f->net->pair[0].fd, EPOLLIN));
	uint64_t a = post_rx(f, vnet_rxq(0), 0, 1526);
	notify(f, vnet_rxq(0));
	assert_true(tg_used(rx, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, n);
	uint8_t *g = tg_host(f->g, a);
	assert_int_equal(g[0], 2);				/* the tap's header flags */
	assert_int_equal(g[VNET_HDR_NUM_BUFFERS_OFF], 1);	/* num_buffers */
	assert_memory_equal(g + VNET_HDR_LEN, pkt + VNET_HDR_LEN, 150);
	/* The ring is empty again: the tap is out of the loop until the next notify. */
	assert_false(fd_watched(f, f->net->pair[0].fd, EPOLLIN));
	/* Buffers there, tap empty: now the tap is watched. */
	post_rx(f, vnet_rxq(0), 1, 1526);
	notify(f, vnet_rxq(0));
	assert_true(fd_watched(f, f->net->pair[0].fd, EPOLLIN));
	assert_int_equal(write(f->peer[0], pkt, n), n);
	tn_fire(&f->t, EPOLLIN);
	assert_true(tg_used(rx, &id, &len));
	assert_int_equal(id, 1);
	struct virtio_net_stats s;
	virtio_net_get_stats(f->net, &s);
	assert_int_equal(s.rx_packets, 2);
	assert_int_equal(s.rx_bytes, 300);
}

static void test_rx_mergeable(void **state)
{
	struct fx *f = *state;
	struct tguest *rx = &f->q[vnet_rxq(0)];
	uint8_t pkt[1400], small[200];
	uint64_t buf[QSIZE];
	uint32_t id, len;

	assert_true(bringup(f, B(MRG_RXBUF) | B(GUEST_CSUM)) & VIRTIO_STATUS_DRIVER_OK);
	for (uint16_t i = 0; i < QSIZE; i++)
		buf[i] = post_rx(f, vnet_rxq(0), i, 512);
	size_t n = tap_packet(pkt, 1300, 9);		/* 1312 bytes: 512 + 512 + 288 */
	size_t m = tap_packet(small, 100, 77);
	assert_int_equal(write(f->peer[0], pkt, n), n);
	assert_int_equal(write(f->peer[0], small, m), m);
	notify(f, vnet_rxq(0));

	uint32_t want_len[] = { 512, 512, 288 };
	for (unsigned i = 0; i < 3; i++) {
		assert_true(tg_used(rx, &id, &len));
		assert_int_equal(id, i);
		assert_int_equal(len, want_len[i]);
	}
	/* num_buffers in the first buffer's header; the frame continues across the others. */
	uint16_t nb;
	memcpy(&nb, (uint8_t *)tg_host(f->g, buf[0]) + VNET_HDR_NUM_BUFFERS_OFF, 2);
	assert_int_equal(nb, 3);
	assert_memory_equal(tg_host(f->g, buf[0]) + VNET_HDR_LEN, pkt + VNET_HDR_LEN, 500);
	assert_memory_equal(tg_host(f->g, buf[1]), pkt + 512, 512);
	assert_memory_equal(tg_host(f->g, buf[2]), pkt + 1024, 288);
	/* The next packet takes the next buffer only. */
	assert_true(tg_used(rx, &id, &len));
	assert_int_equal(id, 3);
	assert_int_equal(len, m);
	memcpy(&nb, (uint8_t *)tg_host(f->g, buf[3]) + VNET_HDR_NUM_BUFFERS_OFF, 2);
	assert_int_equal(nb, 1);
	assert_memory_equal(tg_host(f->g, buf[3]) + VNET_HDR_LEN, small + VNET_HDR_LEN, 100);
	assert_false(tg_used(rx, &id, &len));
	/* Buffers left, tap empty: waiting for the tap. */
	assert_true(fd_watched(f, f->net->pair[0].fd, EPOLLIN));
}

static void test_rx_buffer_too_small_for_header(void **state)
{
	struct fx *f = *state;

	assert_true(bringup(f, 0) & VIRTIO_STATUS_DRIVER_OK);
	post_rx(f, vnet_rxq(0), 0, 8);
	assert_true(tn_notify(&f->t, vnet_rxq(0)) < 0);
	assert_true(tg_rd(&f->net->vdev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_non_null(strstr(f->log, "cannot hold the 12-byte header"));
}

/* A control command on the control queue; returns the ack (0xff: none written). */
static uint8_t ctrl(struct fx *f, uint16_t d, const void *cmd, uint32_t cmd_len)
{
	struct tguest *cq = &f->q[vnet_ctrlq(f->net)];
	uint64_t c = tg_alloc(f->g, cmd_len), a = tg_alloc(f->g, 1);
	uint32_t id, len;

	memcpy(tg_host(f->g, c), cmd, cmd_len);
	*(uint8_t *)tg_host(f->g, a) = 0xff;
	tg_desc(cq, d, c, cmd_len, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	tg_desc(cq, (uint16_t)(d + 1), a, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(cq, d);
	notify(f, vnet_ctrlq(f->net));
	assert_true(tg_used(cq, &id, &len));
	assert_int_equal(id, d);
	assert_int_equal(len, 1);
	return *(uint8_t *)tg_host(f->g, a);
}

static void test_ctrl_mq(void **state)
{
	struct fx *f = *state;
	uint8_t set2[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2, 0 };
	uint8_t set3[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 3, 0 };
	uint8_t set0[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 0, 0 };
	uint8_t rxmode[] = { 0 /* VIRTIO_NET_CTRL_RX */, 0, 1 };
	uint8_t pkt[100];
	uint32_t id, len;

	assert_int_equal(f->nq, 5);
	assert_int_equal(virtio_mmio_ops.read(&f->net->vdev, VIRTIO_MMIO_CONFIG + 8, 2), 2);
	assert_true(bringup(f, B(CTRL_VQ) | B(MQ)) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->net->active_pairs, 1);
	/* Pair 1 is not used until the driver enables it. */
	post_rx(f, vnet_rxq(1), 0, 1526);
	size_t n = tap_packet(pkt, 60, 1);
	assert_int_equal(write(f->peer[1], pkt, n), n);
	notify(f, vnet_rxq(1));
	assert_false(tg_used(&f->q[vnet_rxq(1)], &id, &len));

	assert_int_equal(ctrl(f, 0, set3, sizeof(set3)), VIRTIO_NET_ERR);	/* above max */
	assert_int_equal(ctrl(f, 2, set0, sizeof(set0)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, 4, rxmode, sizeof(rxmode)), VIRTIO_NET_ERR);	/* not offered */
	assert_int_equal(ctrl(f, 6, set2, 3), VIRTIO_NET_ERR);			/* truncated */
	assert_int_equal(f->net->active_pairs, 1);
	assert_int_equal(ctrl(f, 0, set2, sizeof(set2)), VIRTIO_NET_OK);
	assert_int_equal(f->net->active_pairs, 2);
	/* Enabled: the waiting packet arrives on pair 1. */
	assert_true(tg_used(&f->q[vnet_rxq(1)], &id, &len));
	assert_int_equal(len, n);
	assert_false(f->net->vdev.failed);
}

static void test_ctrl_without_mq_refused(void **state)
{
	struct fx *f = *state;
	uint8_t set1[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1, 0 };

	assert_true(bringup(f, B(CTRL_VQ)) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(ctrl(f, 0, set1, sizeof(set1)), VIRTIO_NET_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features_offered),
		cmocka_unit_test(test_offload_flags),
		cmocka_unit_test_setup_teardown(test_config_and_negotiation, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_tx_gather, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_tx_waits_for_room, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_rx_single_buffer, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_rx_mergeable, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_rx_buffer_too_small_for_header, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_mq, setup2, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_without_mq_refused, setup2, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
