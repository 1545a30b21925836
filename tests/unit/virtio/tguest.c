#include "tguest.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tg_init(struct tguest *g, uint64_t ram, uint16_t size)
{
	memset(g, 0, sizeof(*g));
	g->mem.host = calloc(1, ram);
	g->mem.base = TG_RAM_BASE;
	g->mem.size = ram;
	g->size = size;
	g->desc = TG_RAM_BASE;
	g->avail = ALIGN_UP(g->desc + VIRTQ_DESC_BYTES(size), 16);
	g->used = ALIGN_UP(g->avail + VIRTQ_AVAIL_BYTES(size), 16);
	g->heap = ALIGN_UP(g->used + VIRTQ_USED_BYTES(size), 4096);
}

void tg_free(struct tguest *g)
{
	free(g->mem.host);
	g->mem.host = NULL;
}

void tg_reset_rings(struct tguest *g)
{
	memset(tg_host(g, g->desc), 0, g->heap - g->desc);
	g->avail_idx = 0;
	g->used_seen = 0;
}

void *tg_host(struct tguest *g, uint64_t gpa)
{
	return g->mem.host + (gpa - g->mem.base);
}

uint64_t tg_alloc(struct tguest *g, uint64_t len)
{
	uint64_t a = g->heap;
	g->heap = ALIGN_UP(g->heap + len, 16);
	return a;
}

void tg_desc(struct tguest *g, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };
	memcpy(tg_host(g, g->desc + 16ULL * i), &d, sizeof(d));
}

static uint16_t *avail(struct tguest *g)
{
	return tg_host(g, g->avail);
}

static uint16_t *used(struct tguest *g)
{
	return tg_host(g, g->used);
}

void tg_publish(struct tguest *g, uint16_t head)
{
	avail(g)[2 + (g->avail_idx & (g->size - 1))] = head;
	g->avail_idx++;
	__atomic_store_n(&avail(g)[1], g->avail_idx, __ATOMIC_RELEASE);
}

void tg_set_avail_idx(struct tguest *g, uint16_t idx)
{
	g->avail_idx = idx;
	avail(g)[1] = idx;
}

void tg_set_avail_flags(struct tguest *g, uint16_t flags)
{
	avail(g)[0] = flags;
}

void tg_set_used_event(struct tguest *g, uint16_t ev)
{
	avail(g)[2 + g->size] = ev;
}

uint16_t tg_avail_event(struct tguest *g)
{
	return __atomic_load_n(&used(g)[2 + 4 * g->size], __ATOMIC_ACQUIRE);	/* the device may be running */
}

uint16_t tg_used_flags(struct tguest *g)
{
	return __atomic_load_n(&used(g)[0], __ATOMIC_ACQUIRE);
}

uint16_t tg_used_idx(struct tguest *g)
{
	return __atomic_load_n(&used(g)[1], __ATOMIC_ACQUIRE);
}

bool tg_used(struct tguest *g, uint32_t *id, uint32_t *len)
{
	if (tg_used_idx(g) == g->used_seen)
		return false;
	uint32_t *e = (uint32_t *)(void *)&used(g)[2 + 4 * (g->used_seen & (g->size - 1))];
	*id = e[0];
	*len = e[1];
	g->used_seen++;
	return true;
}

void tg_start_at(struct tguest *g, struct virtq *q, uint16_t idx)
{
	tg_set_avail_idx(g, idx);
	used(g)[1] = idx;
	g->used_seen = idx;
	q->last_avail = idx;
	q->used_idx = idx;
}

uint32_t tg_rd(struct virtio_mmio *v, uint64_t off)
{
	return (uint32_t)virtio_mmio_ops.read(v, off, 4);
}

void tg_wr(struct virtio_mmio *v, uint64_t off, uint32_t val)
{
	virtio_mmio_ops.write(v, off, val, 4);
}

uint32_t tg_mmio_bringup(struct virtio_mmio *v, struct tguest *g, uint64_t features)
{
	tg_wr(v, VIRTIO_MMIO_STATUS, 0);
	tg_wr(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	tg_wr(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	tg_wr(v, VIRTIO_MMIO_STATUS, st);
	if (!(tg_rd(v, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return tg_rd(v, VIRTIO_MMIO_STATUS);
	tg_wr(v, VIRTIO_MMIO_QUEUE_SEL, 0);
	tg_wr(v, VIRTIO_MMIO_QUEUE_NUM, g->size);
	tg_wr(v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)g->desc);
	tg_wr(v, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(g->desc >> 32));
	tg_wr(v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)g->avail);
	tg_wr(v, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(g->avail >> 32));
	tg_wr(v, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)g->used);
	tg_wr(v, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(g->used >> 32));
	tg_wr(v, VIRTIO_MMIO_QUEUE_READY, 1);
	tg_wr(v, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
	return tg_rd(v, VIRTIO_MMIO_STATUS);
}

uint64_t tg_wait_fd(int fd, unsigned ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t n = 0;

	if (poll(&p, 1, (int)ms) == 1 && read(fd, &n, sizeof(n)) == sizeof(n))
		return n;
	return 0;
}
