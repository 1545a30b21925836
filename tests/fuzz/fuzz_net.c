/*
 * virtio-net's request handling against an arbitrary driver: transmit
 * chains, control-queue commands and receive buffers built from the input,
 * on a device with two queue pairs whose "taps" are socketpairs.
 *
 * Input: byte 0 = driver features (bit 0 MRG_RXBUF, bit 1 CTRL_VQ + MQ,
 * bit 2 GUEST_CSUM + GUEST_TSO4, bit 3 INDIRECT_DESC, bit 4 EVENT_IDX,
 * bit 5 HOST offloads), then steps until the input ends:
 *   op (1 byte): bits 0-1 kind (0 tx, 1 ctrl, 2 rx, 3 reset + bring-up
 *                with the features in the op's other bits), bit 2 pair,
 *                bits 3-5 descriptors in the chain - 1, bits 6-7 shorten
 *                the command given to the control parser alone
 *   head (1 byte, mod 16: may be out of range); descriptor i goes to
 *                table entry (head + i) mod the queue size
 *   per descriptor 6 bytes: addr (16 bits, an offset from the data area,
 *                or with bit 15 of len set, a raw guest address built from
 *                it), len (15 bits), flags (8), next (8, mod 16)
 *   then 32 bytes copied into the data area at the first descriptor's
 *   address (packet headers, control commands).
 * For rx the chain is published on the rx queue and a packet of the op's
 * size is written to the pair's socket first.
 * Invariants: the device never returns more chains than were published,
 * a used length never exceeds what the chain could hold, a control ack is
 * VIRTIO_NET_OK or VIRTIO_NET_ERR, every frame the "tap" receives is at
 * least a header long, and a failed device says NEEDS_RESET.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio/net.h"
#include "tnet.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant: %s\n", #c); __builtin_trap(); } } while (0)

#define DATA_OFF	(256u << 10)	/* data area: guest RAM offset (RAM is TN_RAM) */
#define B(f)		VIRTIO_BIT(VIRTIO_NET_F_##f)

static uint64_t features_of(uint8_t b)
{
	uint64_t f = 0;

	if (b & 1)
		f |= B(MRG_RXBUF);
	if (b & 2)
		f |= B(CTRL_VQ) | B(MQ);
	if (b & 4)
		f |= B(GUEST_CSUM) | B(GUEST_TSO4);
	if (b & 8)
		f |= VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC);
	if (b & 16)
		f |= VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);
	if (b & 32)
		f |= B(CSUM) | B(HOST_TSO4) | B(HOST_ECN);
	return f;
}

static void drain(int fd)
{
	uint8_t buf[70000];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		CHECK(n >= VNET_HDR_LEN);	/* the device never sends less than a header */
}

/* Check what came back on queue q since the last look. */
static void used(struct tnet *t, unsigned q, unsigned published, bool ctrl)
{
	uint32_t id, len;
	unsigned n = 0;

	while (tg_used(&t->q[q], &id, &len)) {
		n++;
		CHECK(id < TN_QSIZE);
		CHECK(len <= 8 * 0x7fffu);	/* at most 8 buffers of at most 0x7fff bytes */
		CHECK(!ctrl || len <= 1);	/* a control reply is the ack byte or nothing */
	}
	CHECK(n <= published);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tnet t;
	int fds[2], peer[2];
	unsigned published[TN_MAX_QUEUES] = { 0 };

	if (size < 1)
		return 0;
	for (unsigned i = 0; i < 2; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv))
			abort();
		fds[i] = sv[0];
		peer[i] = sv[1];
	}
	if (!tn_make(&t, fds, 2, false, VNET_TUN_F_CSUM | VNET_TUN_F_TSO4 | VNET_TUN_F_TSO6))
		abort();
	uint64_t feat = features_of(data[0]);
	tn_bringup(&t, feat);
	size_t at = 1;
	uint64_t data_gpa = TG_RAM_BASE + DATA_OFF;

	while (at < size) {
		uint8_t op = data[at++];
		unsigned kind = op & 3, pair = (op >> 2) & 1, nd = ((op >> 3) & 7) + 1;
		if (kind == 3) {
			tn_bringup(&t, features_of(op));
			memset(published, 0, sizeof(published));
			for (unsigned q = 0; q < TN_MAX_QUEUES; q++) {
				struct tguest *r = &t.q[q];
				r->avail_idx = r->used_seen = 0;
				memset(tg_host(&t.g, r->avail), 0, VIRTQ_AVAIL_BYTES(TN_QSIZE));
				memset(tg_host(&t.g, r->used), 0, VIRTQ_USED_BYTES(TN_QSIZE));
			}
			continue;
		}
		unsigned q = kind == 0 ? vnet_txq(pair) : kind == 1 ? vnet_ctrlq(&t.net) : vnet_rxq(pair);
		struct tguest *r = &t.q[q];
		if (at + 1 + nd * 6 + 32 > size)
			break;
		uint16_t head = data[at++] % 16;
		uint64_t first = data_gpa;
		for (unsigned i = 0; i < nd; i++, at += 6) {
			uint16_t off, len;
			memcpy(&off, data + at, 2);
			memcpy(&len, data + at + 2, 2);
			uint64_t addr = (len & 0x8000) ? (uint64_t)off << 16 : data_gpa + off;
			uint8_t flags = data[at + 4];
			if (kind == 2)
				flags |= VIRTQ_DESC_F_WRITE;
			tg_desc(r, (uint16_t)((head + i) % TN_QSIZE), addr, len & 0x7fff,
				flags & 7, data[at + 5] % 16);
			if (i == 0)
				first = addr;
		}
		if (first >= data_gpa && first - data_gpa < TN_RAM - DATA_OFF - 32)
			memcpy(tg_host(&t.g, first), data + at, 32);
		at += 32;
		if (kind == 2) {
			uint8_t pkt[2048];
			size_t n = VNET_HDR_LEN + (size_t)op * 7;
			memset(pkt, op, n);
			(void)!write(peer[pair], pkt, n);
		}
		tg_publish(r, head);
		published[q]++;
		(void)tn_notify(&t, q);
		tn_fire(&t, 1 /* EPOLLIN */ | 4 /* EPOLLOUT */);
		used(&t, q, published[q], kind == 1);
		if (kind == 1) {	/* the command parser alone, on the same bytes */
			uint8_t ack = vnet_ctrl_request(&t.net, data + at - 32, 32 - (op >> 6) * 13);
			CHECK(ack == VIRTIO_NET_OK || ack == VIRTIO_NET_ERR);
		}
		drain(peer[pair]);
		uint32_t st = tg_rd(&t.net.vdev, VIRTIO_MMIO_STATUS);
		CHECK(!t.net.vdev.failed || (st & VIRTIO_STATUS_NEEDS_RESET));
		if (t.net.vdev.failed)
			break;
	}
	struct virtio_net_stats s;
	virtio_net_get_stats(&t.net, &s);
	CHECK(s.rx_bytes <= s.rx_packets * 70000);
	tn_free(&t);
	close(peer[0]);
	close(peer[1]);
	return 0;
}
