/*
 * virtio-vsock's packet handling against an arbitrary guest and host. The
 * input is a list of records, each a kind byte and its data:
 *   0  a tx packet: 44 header bytes, then up to 4 KiB of payload (as many
 *      bytes as the header's len claims, if the input has them)
 *   1  post N (next byte, 1..16) rx buffers of 4 KiB + header
 *   2  host activity: write the next byte's count (0..63) of input bytes on
 *      the host client, then read and drop what it has
 *   3  the device's socket loop runs; the clock moves by next byte * 100 ms
 * Before the first record a unix listener waits at PATH_2000 and a client
 * has sent "CONNECT 1024\n" (its request goes out with the first rx buffer).
 * Invariants: the device never fails (the rings themselves are well formed),
 * every packet it gives the guest is a valid host->guest header with a
 * payload it had credit for, and no connection buffers more than
 * VSOCK_CONN_BUF.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../unit/virtio/tguest.h"
#include "devices/virtio/vsock.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant: %s\n", #c); __builtin_trap(); } } while (0)

#define QS	16
#define RAM	(1u << 20)
#define CID	3
#define RXBUF	(4096 + 44)

static uint64_t clock_ms;
static uint64_t fake_now(void) { return clock_ms; }

struct fz {
	struct tguest q[3];
	uint64_t rx_addr[QS];
	unsigned rx_out;		/* rx buffers the device holds */
	struct virtio_vsock vs;
	char path[64];
	int listener, client;
};

static void queue(struct tguest *dst, struct tguest *src)
{
	*dst = *src;
	dst->desc = tg_alloc(src, VIRTQ_DESC_BYTES(QS));
	dst->avail = tg_alloc(src, VIRTQ_AVAIL_BYTES(QS));
	dst->used = tg_alloc(src, VIRTQ_USED_BYTES(QS));
	dst->heap = tg_alloc(src, 64u << 10);
}

static void bringup(struct fz *f)
{
	struct virtio_mmio *v = &f->vs.vdev;
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	tg_wr(v, VIRTIO_MMIO_STATUS, 0);
	tg_wr(v, VIRTIO_MMIO_STATUS, st);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	tg_wr(v, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 3; q++) {
		struct tguest *t = &f->q[q];
		tg_wr(v, VIRTIO_MMIO_QUEUE_SEL, q);
		tg_wr(v, VIRTIO_MMIO_QUEUE_NUM, QS);
		tg_wr(v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)t->desc);
		tg_wr(v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)t->avail);
		tg_wr(v, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)t->used);
		tg_wr(v, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	tg_wr(v, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	CHECK(virtio_mmio_running(v));
}

static int unix_sock(const char *path, bool listen_it)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (listen_it) {
		CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 64) == 0);
	} else {
		CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	}
	return fd;
}

/* Everything the device put on rx: well-formed host->guest packets. */
static void drain_rx(struct fz *f)
{
	uint32_t id, len;
	while (tg_used(&f->q[0], &id, &len)) {
		struct vsock_hdr h;
		CHECK(id < QS && f->rx_out > 0);
		f->rx_out--;
		CHECK(len >= sizeof(h) && len <= RXBUF);
		memcpy(&h, tg_host(&f->q[0], f->rx_addr[id]), sizeof(h));
		CHECK(h.src_cid == VSOCK_HOST_CID && h.dst_cid == CID && h.type == VSOCK_TYPE_STREAM);
		CHECK(h.op >= VSOCK_OP_REQUEST && h.op <= VSOCK_OP_CREDIT_REQUEST);
		CHECK(len == sizeof(h) + h.len);
		CHECK(h.len == 0 || h.op == VSOCK_OP_RW);
		CHECK(h.buf_alloc == VSOCK_CONN_BUF);
	}
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = f->vs.conns[i];
		if (c)
			CHECK(vsock_conn_buffered(c) <= VSOCK_CONN_BUF);
	}
	CHECK(!f->vs.vdev.failed);
}

static void post_rx(struct fz *f, unsigned n)
{
	struct tguest *t = &f->q[0];
	for (unsigned i = 0; i < n && f->rx_out < QS; i++, f->rx_out++) {
		uint16_t d = t->avail_idx % QS;
		f->rx_addr[d] = t->heap + (uint64_t)d * ALIGN_UP(RXBUF, 16);	/* fixed per slot */
		tg_desc(t, d, f->rx_addr[d], RXBUF, VIRTQ_DESC_F_WRITE, 0);
		tg_publish(t, d);
	}
	CHECK(vsock_ops.queue_notify(&f->vs, VSOCK_QUEUE_RX) == 0);
}

static void send_tx(struct fz *f, const uint8_t *hdr, const uint8_t *payload, uint32_t len)
{
	struct tguest *t = &f->q[1];
	uint16_t d = (uint16_t)((t->avail_idx * 2) % QS);
	uint64_t ha = t->heap, pa = t->heap + 64;	/* one packet in flight at a time */

	memcpy(tg_host(t, ha), hdr, 44);
	memcpy(tg_host(t, pa), payload, len);
	tg_desc(t, d, ha, 44, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	tg_desc(t, (uint16_t)(d + 1), pa, len, 0, 0);
	tg_publish(t, d);
	CHECK(vsock_ops.queue_notify(&f->vs, VSOCK_QUEUE_TX) == 0);
	uint32_t id, l;
	while (tg_used(t, &id, &l))
		CHECK(l == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	char err[256], p2000[80], dir[] = "/tmp/fuzz-vsock-XXXXXX";

	memset(&f, 0, sizeof(f));
	CHECK(mkdtemp(dir));
	snprintf(f.path, sizeof(f.path), "%s/v", dir);
	tg_init(&f.q[0], RAM, QS);
	queue(&f.q[1], &f.q[0]);
	queue(&f.q[2], &f.q[0]);
	f.q[0].heap = tg_alloc(&f.q[0], 0);
	struct virtio_mmio_config cfg = { .base = 0x0a000000, .spi = 16, .mem = f.q[0].mem };
	CHECK(virtio_vsock_init(&f.vs, &cfg, CID, f.path, err, sizeof(err)) == 0);
	clock_ms = 1000;
	f.vs.now_ms = fake_now;
	bringup(&f);
	snprintf(p2000, sizeof(p2000), "%s_2000", f.path);
	f.listener = unix_sock(p2000, true);
	f.client = unix_sock(f.path, false);
	CHECK(send(f.client, "CONNECT 1024\n", 13, MSG_NOSIGNAL) == 13);
	virtio_vsock_poll(&f.vs);

	size_t i = 0;
	while (i < size) {
		uint8_t kind = data[i++] % 4;
		if (kind == 0) {
			if (size - i < 44)
				break;
			struct vsock_hdr h;
			memcpy(&h, data + i, 44);
			i += 44;
			uint32_t len = h.len < 4096 ? h.len : 4096;
			if (len > size - i)
				len = (uint32_t)(size - i);
			send_tx(&f, (const uint8_t *)&h, data + i, len);
			i += len;
		} else if (kind == 1 && i < size) {
			post_rx(&f, data[i++] % 16 + 1);
		} else if (kind == 2 && i < size) {
			size_t n = data[i++] % 64;
			if (n > size - i)
				n = size - i;
			if (n)
				(void)!send(f.client, data + i, n, MSG_NOSIGNAL);
			i += n;
			char sink[4096];
			(void)!read(f.client, sink, sizeof(sink));
			int a = accept(f.listener, NULL, NULL);	/* the guest's connection, if any */
			if (a >= 0) {
				(void)!send(a, "from-host", 9, MSG_NOSIGNAL);
				close(a);
			}
		} else if (kind == 3 && i < size) {
			clock_ms += (uint64_t)data[i++] * 100;
			virtio_vsock_poll(&f.vs);
		}
		drain_rx(&f);
	}
	virtio_vsock_poll(&f.vs);
	drain_rx(&f);
	virtio_vsock_destroy(&f.vs);
	close(f.client);
	close(f.listener);
	unlink(p2000);
	rmdir(dir);
	tg_free(&f.q[0]);
	return 0;
}
