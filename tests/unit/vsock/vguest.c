#include "vguest.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define RAM (32u << 20)

static uint64_t *clock_of;
static uint64_t fake_now(void)
{
	return *clock_of;
}

static void clone_queue(struct tguest *dst, struct tguest *src)
{
	*dst = *src;
	dst->desc = tg_alloc(src, VIRTQ_DESC_BYTES(VG_QSIZE));
	dst->avail = tg_alloc(src, VIRTQ_AVAIL_BYTES(VG_QSIZE));
	dst->used = tg_alloc(src, VIRTQ_USED_BYTES(VG_QSIZE));
	dst->heap = tg_alloc(src, 8u << 20);
}

static void queue_regs(struct virtio_mmio *v, unsigned q, struct tguest *t)
{
	tg_wr(v, VIRTIO_MMIO_QUEUE_SEL, q);
	tg_wr(v, VIRTIO_MMIO_QUEUE_NUM, t->size);
	tg_wr(v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)t->desc);
	tg_wr(v, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(t->desc >> 32));
	tg_wr(v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)t->avail);
	tg_wr(v, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(t->avail >> 32));
	tg_wr(v, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)t->used);
	tg_wr(v, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(t->used >> 32));
	tg_wr(v, VIRTIO_MMIO_QUEUE_READY, 1);
}

void vg_setup(struct vguest *g)
{
	char err[256];
	memset(g, 0, sizeof(*g));
	tg_init(&g->q[0], RAM, VG_QSIZE);
	clone_queue(&g->q[1], &g->q[0]);
	clone_queue(&g->q[2], &g->q[0]);
	g->q[0].heap = tg_alloc(&g->q[0], 0);	/* after the other queues' areas */
	snprintf(g->dir, sizeof(g->dir), "/tmp/vsock-test-XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	snprintf(g->path, sizeof(g->path), "%s/v.sock", g->dir);

	struct virtio_mmio_config cfg = { .base = 0x0a000000, .spi = 16, .mem = g->q[0].mem };
	assert_int_equal(virtio_vsock_init(&g->vs, &cfg, VG_CID, g->path, err, sizeof(err)), 0);
	clock_of = &g->now;
	g->now = 1000;
	g->vs.now_ms = fake_now;

	struct virtio_mmio *v = &g->vs.vdev;
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	assert_int_equal(tg_rd(v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
	tg_wr(v, VIRTIO_MMIO_STATUS, 0);
	tg_wr(v, VIRTIO_MMIO_STATUS, st);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	tg_wr(v, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 3; q++)
		queue_regs(v, q, &g->q[q]);
	tg_wr(v, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_true(virtio_mmio_running(v));
}

void vg_teardown(struct vguest *g)
{
	virtio_vsock_destroy(&g->vs);
	tg_free(&g->q[0]);
	rmdir(g->dir);
}

void vg_rx_post(struct vguest *g, unsigned n)
{
	struct tguest *t = &g->q[0];
	for (unsigned i = 0; i < n; i++) {
		uint16_t d = t->avail_idx % VG_QSIZE;
		g->rx_addr[d] = tg_alloc(t, VG_RX_BUF);
		tg_desc(t, d, g->rx_addr[d], VG_RX_BUF, VIRTQ_DESC_F_WRITE, 0);
		tg_publish(t, d);
	}
	assert_int_equal(vsock_ops.queue_notify(&g->vs, VSOCK_QUEUE_RX), 0);
}

void vg_send(struct vguest *g, uint32_t src_port, uint32_t dst_port, uint16_t op, uint32_t flags,
	     uint32_t buf_alloc, uint32_t fwd_cnt, const void *data, uint32_t len)
{
	struct tguest *t = &g->q[1];
	struct vsock_hdr h = {
		.src_cid = VG_CID, .dst_cid = VSOCK_HOST_CID, .src_port = src_port, .dst_port = dst_port,
		.len = len, .type = VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = buf_alloc, .fwd_cnt = fwd_cnt,
	};
	/* Header and payload in two descriptors, as older Linux drivers do. */
	uint16_t d = (uint16_t)((t->avail_idx * 2) % VG_QSIZE);
	uint64_t ha = tg_alloc(t, sizeof(h)), pa = tg_alloc(t, len ? len : 1);
	memcpy(tg_host(t, ha), &h, sizeof(h));
	if (len)
		memcpy(tg_host(t, pa), data, len);
	tg_desc(t, d, ha, sizeof(h), len ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(d + 1));
	tg_desc(t, (uint16_t)(d + 1), pa, len, 0, 0);
	tg_publish(t, d);
	assert_int_equal(vsock_ops.queue_notify(&g->vs, VSOCK_QUEUE_TX), 0);
	uint32_t id, ulen;
	while (tg_used(t, &id, &ulen))
		;
}

bool vg_recv(struct vguest *g, struct vsock_hdr *h, void *payload)
{
	uint32_t id, len;
	if (!tg_used(&g->q[0], &id, &len))
		return false;
	assert_true(len >= sizeof(*h));
	memcpy(h, tg_host(&g->q[0], g->rx_addr[id]), sizeof(*h));
	assert_int_equal(len, sizeof(*h) + h->len);
	assert_int_equal(h->src_cid, VSOCK_HOST_CID);
	assert_int_equal(h->dst_cid, VG_CID);
	assert_int_equal(h->type, VSOCK_TYPE_STREAM);
	assert_int_equal(h->buf_alloc, VSOCK_CONN_BUF);
	if (payload)
		memcpy(payload, tg_host(&g->q[0], g->rx_addr[id] + sizeof(*h)), h->len);
	return true;
}

void vg_poll(struct vguest *g)
{
	/* Let the kernel deliver what the test just wrote on the other end. */
	struct pollfd p = { .fd = g->vs.epoll_fd, .events = POLLIN };
	(void)poll(&p, 1, 20);
	virtio_vsock_poll(&g->vs);
}

int vg_client(struct vguest *g)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	strcpy(sa.sun_path, g->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

ssize_t vg_read(int fd, void *buf, size_t len, unsigned ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, (int)ms) != 1)
		return -1;
	ssize_t n = read(fd, buf, len);
	return n < 0 && errno == ECONNRESET ? 0 : n;
}

int vg_open(struct vguest *g, uint32_t guest_port, uint32_t *host_port)
{
	struct vsock_hdr h;
	char line[32], ok[32];
	int fd = vg_client(g);
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", guest_port);

	assert_int_equal(write(fd, line, (size_t)n), n);
	vg_poll(g);
	vg_poll(g);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_REQUEST);
	assert_int_equal(h.dst_port, guest_port);
	*host_port = h.src_port;
	vg_send(g, guest_port, h.src_port, VSOCK_OP_RESPONSE, 0, 65536, 0, NULL, 0);
	n = (int)vg_read(fd, ok, sizeof(ok) - 1, 1000);
	assert_true(n > 0);
	ok[n] = 0;
	snprintf(line, sizeof(line), "OK %u\n", *host_port);
	assert_string_equal(ok, line);
	return fd;
}
