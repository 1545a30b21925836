/*
 * The split-virtqueue walker and the virtio-mmio transport against an
 * arbitrary guest. The input is a 16-byte header, then a guest memory image
 * (at most 64 KiB, placed at guest physical GUEST_BASE):
 *   byte 0     bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bits 2-5 log2 of the
 *              queue size (any value: sizes above the limit must be refused),
 *              bit 6 queue size taken raw from byte 1 instead, bit 7
 *              transport mode (below)
 *   byte 1     raw queue size
 *   bytes 2-3  the device's starting avail index (wrap-around)
 *   bytes 4-5  the device's starting used index
 *   byte 6     iovecs the device accepts per chain (1..64)
 *   byte 7     how many chains to serve at most
 *   bytes 8-13 desc, avail, used ring offsets from GUEST_BASE (16 bits each,
 *              so rings may be misaligned, straddle the end, or lie outside)
 *   bytes 14-15 unused
 * Walker mode: set the queue up, pop chains, copy through every buffer,
 * push them back, ask whether to interrupt. Every iovec must lie inside the
 * guest image; an error must leave the queue broken.
 * Transport mode: the image is also a list of 8-byte register writes
 * (offset 16 bits, value 32 bits, 16 bits unused) to a virtio-mmio device
 * whose queue 0 is served as above after each QueueNotify; the status must
 * say NEEDS_RESET exactly when the device failed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/mmio.h"
#include "devices/virtio/virtq.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant: %s\n", #c); __builtin_trap(); } } while (0)

#define GUEST_BASE	0x10000ULL
#define GUEST_MAX	(64u << 10)
#define HDR		16

static uint8_t scratch[VIRTQ_MAX_SIZE * 64];

static bool inside(const struct gmem *m, const struct iovec *v)
{
	uint8_t *p = v->iov_base;
	return p >= m->host && v->iov_len <= m->size && (uint64_t)(p - m->host) <= m->size - v->iov_len;
}

/* Serve up to max chains; returns pops that succeeded. */
static unsigned serve(struct virtq *q, const struct gmem *m, unsigned cap, unsigned max)
{
	struct iovec iov[64];
	unsigned served = 0;

	for (unsigned i = 0; i < max; i++) {
		struct virtq_chain c = { .iov = iov, .cap = cap };
		int r = virtq_pop(q, &c);
		CHECK(r <= 1);
		if (r < 0) {
			CHECK(q->broken && q->error);
			CHECK(virtq_pop(q, &c) < 0);
			break;
		}
		if (r == 0)
			break;
		CHECK(c.n_out + c.n_in <= cap && c.head < q->size);
		uint64_t out = 0, in = 0;
		for (unsigned k = 0; k < c.n_out + c.n_in; k++) {
			CHECK(inside(m, &iov[k]));
			*(k < c.n_out ? &out : &in) += iov[k].iov_len;
		}
		CHECK(out == c.out_bytes && in == c.in_bytes);
		uint64_t n = virtq_chain_read(&c, 0, scratch, sizeof(scratch));
		n = virtq_chain_write(&c, 1, scratch, n);
		CHECK(virtq_push(q, c.head, (uint32_t)n) == 0);
		(void)virtq_needs_interrupt(q);
		served++;
	}
	return served;
}

static void walker(const uint8_t *h, const struct gmem *m)
{
	struct virtq q;
	unsigned lg = (h[0] >> 2) & 15;
	uint16_t size = h[0] & 0x40 ? h[1] : (uint16_t)(lg < 16 ? 1u << lg : 0);
	uint64_t desc = GUEST_BASE + (h[8] | h[9] << 8);
	uint64_t avail = GUEST_BASE + (h[10] | h[11] << 8);
	uint64_t used = GUEST_BASE + (h[12] | h[13] << 8);
	unsigned cap = h[6] % 64 + 1;

	if (virtq_setup(&q, m, size, desc, avail, used, h[0] & 1, h[0] & 2)) {
		CHECK(q.size == 0 || q.broken);
		return;
	}
	CHECK(size && size <= VIRTQ_MAX_SIZE && !(size & (size - 1)));
	q.last_avail = (uint16_t)(h[2] | h[3] << 8);
	q.used_idx = (uint16_t)(h[4] | h[5] << 8);
	uint16_t used0 = q.used_idx;
	unsigned n = serve(&q, m, cap, h[7]);
	CHECK((uint16_t)(q.used_idx - used0) == n);
}

/* ---- transport mode: a device that serves queue 0 like the walker mode ---- */

struct fdev {
	struct virtio_mmio v;
	unsigned cap, max;
};

static int fdev_notify(void *opaque, unsigned qi)
{
	struct fdev *d = opaque;
	struct virtq *q = virtio_mmio_queue(&d->v, qi);
	serve(q, &d->v.cfg.mem, d->cap, d->max);
	virtio_mmio_used(&d->v, qi);
	return q->broken ? -EINVAL : 0;
}

static void fdev_config_read(void *opaque, uint32_t off, void *buf, unsigned len)
{
	(void)opaque;
	CHECK(off + len <= 8);
	memset(buf, 0x5a, len);
}

static const struct virtio_dev_ops fdev_ops = {
	.name = "fuzz", .device_id = 4, .num_queues = 2, .queue_max = 256, .config_size = 8,
	.config_read = fdev_config_read, .queue_notify = fdev_notify,
};

static void transport(const uint8_t *h, const struct gmem *m)
{
	static struct fdev d;
	struct virtio_mmio_config cfg = { .base = 0x0a000000, .spi = 16, .mem = *m };

	if (virtio_mmio_init(&d.v, &cfg, &fdev_ops, &d))
		return;
	d.cap = h[6] % 64 + 1;
	d.max = h[7];
	for (uint64_t off = 0; off + 8 <= m->size; off += 8) {
		const uint8_t *op = m->host + off;
		uint64_t reg = (uint64_t)(op[0] | op[1] << 8) & 0x1ff;
		uint32_t val = (uint32_t)op[2] | (uint32_t)op[3] << 8 | (uint32_t)op[4] << 16 |
			       (uint32_t)op[5] << 24;
		unsigned size = 1u << (op[6] & 3);
		if (op[7] & 1)
			(void)virtio_mmio_ops.read(&d.v, reg, size);
		else
			virtio_mmio_ops.write(&d.v, reg, val, size);
		/* What the I/O thread does on a notify, synchronously. */
		if (reg == VIRTIO_MMIO_QUEUE_NOTIFY && val < 2 && virtio_mmio_running(&d.v) &&
		    d.v.qreg[val].ready && fdev_notify(&d, val) < 0)
			virtio_mmio_fail(&d.v, "queue %u broken", val);
		CHECK(!!(d.v.status & VIRTIO_STATUS_NEEDS_RESET) == d.v.failed);
		CHECK(!(d.v.status & VIRTIO_STATUS_DRIVER_OK) || d.v.failed ||
		      (d.v.status & VIRTIO_STATUS_FEATURES_OK));
	}
	virtio_mmio_destroy(&d.v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram[GUEST_MAX];

	if (size < HDR)
		return 0;
	size_t n = size - HDR < GUEST_MAX ? size - HDR : GUEST_MAX;
	memcpy(ram, data + HDR, n);
	struct gmem m = { .host = ram, .base = GUEST_BASE, .size = n };
	if (data[0] & 0x80)
		transport(data, &m);
	else
		walker(data, &m);
	return 0;
}
