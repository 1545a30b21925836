#include "tnet.h"

#include <stdio.h>
#include <string.h>

static void log_line(void *opaque, const char *line)
{
	struct tnet *t = opaque;
	snprintf(t->log, sizeof(t->log), "%s", line);
}

static void ring(struct tnet *t, unsigned i)
{
	struct tguest *r = &t->q[i];
	*r = t->g;
	r->desc = tg_alloc(&t->g, VIRTQ_DESC_BYTES(TN_QSIZE));
	r->avail = tg_alloc(&t->g, VIRTQ_AVAIL_BYTES(TN_QSIZE));
	r->used = tg_alloc(&t->g, VIRTQ_USED_BYTES(TN_QSIZE));
	r->avail_idx = r->used_seen = 0;
}

bool tn_make(struct tnet *t, const int *fds, unsigned nfds, bool tap, unsigned offloads)
{
	memset(t, 0, sizeof(*t));
	tg_init(&t->g, TN_RAM, TN_QSIZE);
	struct virtio_mmio_config cfg = {
		.base = 0x0a000000, .spi = 16, .mem = t->g.mem, .log = log_line, .log_opaque = t,
	};
	struct virtio_net_params p = {
		.fds = fds, .nfds = nfds, .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
		.tap = tap, .tap_offloads = offloads,
	};
	if (virtio_net_init(&t->net, &cfg, &p, t->log, sizeof(t->log))) {
		tg_free(&t->g);
		return false;
	}
	t->nq = t->net.ops.num_queues;
	for (unsigned i = 0; i < t->nq && i < TN_MAX_QUEUES; i++)
		ring(t, i);
	return true;
}

void tn_free(struct tnet *t)
{
	virtio_net_destroy(&t->net);
	tg_free(&t->g);
}

uint32_t tn_bringup(struct tnet *t, uint64_t features)
{
	struct virtio_mmio *v = &t->net.vdev;
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	features |= VIRTIO_BIT(VIRTIO_F_VERSION_1);
	tg_wr(v, VIRTIO_MMIO_STATUS, 0);
	tg_wr(v, VIRTIO_MMIO_STATUS, st);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	tg_wr(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	tg_wr(v, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK);
	if (!(tg_rd(v, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return tg_rd(v, VIRTIO_MMIO_STATUS);
	for (unsigned i = 0; i < t->nq && i < TN_MAX_QUEUES; i++) {
		struct tguest *r = &t->q[i];
		tg_wr(v, VIRTIO_MMIO_QUEUE_SEL, i);
		tg_wr(v, VIRTIO_MMIO_QUEUE_NUM, TN_QSIZE);
		tg_wr(v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
		tg_wr(v, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(r->desc >> 32));
		tg_wr(v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)r->avail);
		tg_wr(v, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(r->avail >> 32));
		tg_wr(v, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)r->used);
		tg_wr(v, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(r->used >> 32));
		tg_wr(v, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	tg_wr(v, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return tg_rd(v, VIRTIO_MMIO_STATUS);
}

int tn_notify(struct tnet *t, unsigned q)
{
	struct virtio_mmio *v = &t->net.vdev;
	int r = 0;

	pthread_mutex_lock(&v->lock);
	if (virtio_mmio_running(v))
		r = v->ops->queue_notify(v->opaque, q);
	if (r < 0)
		virtio_mmio_fail(v, "queue %u: %s", q, v->vq[q].error ? v->vq[q].error : "error");
	pthread_mutex_unlock(&v->lock);
	return r;
}

uint64_t tn_post_rx(struct tnet *t, unsigned q, uint16_t d, uint32_t len)
{
	uint64_t a = tg_alloc(&t->g, len);
	tg_desc(&t->q[q], d, a, len, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&t->q[q], d);
	return a;
}

void tn_fire(struct tnet *t, uint32_t events)
{
	struct virtio_mmio *v = &t->net.vdev;

	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_WATCH; i++) {
		struct virtio_watch w = v->watch[i];
		if (w.fn)
			w.fn(w.opaque, w.fd, events);
	}
	pthread_mutex_unlock(&v->lock);
}

bool tn_watched(struct tnet *t, int fd, uint32_t events)
{
	for (unsigned i = 0; i < t->net.pairs; i++) {
		const struct vnet_pair *p = &t->net.pair[i];
		if (p->fd == fd)
			return p->watched == events;
	}
	return false;
}
