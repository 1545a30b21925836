/* virtio-blk: features, configuration space, set-up, reset and tear-down. */
#include "devices/virtio/blk.h"
#include "devices/virtio/blk_internal.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void blk_config_read(void *opaque, uint32_t offset, void *buf, unsigned len)
{
	struct virtio_blk *b = opaque;
	memcpy(buf, (const uint8_t *)&b->config + offset, len);
}

/* Nothing in the configuration is writable without VIRTIO_BLK_F_CONFIG_WCE (not offered). */
static void blk_config_write(void *opaque, uint32_t offset, const void *buf, unsigned len)
{
	(void)opaque;
	(void)offset;
	(void)buf;
	(void)len;
}

/* DRIVER_OK: without FLUSH the driver expects a write-through disk. */
static int blk_activate(void *opaque)
{
	struct virtio_blk *b = opaque;
	bool flush = virtio_mmio_features(&b->vdev) & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
	for (unsigned qi = 0; qi < b->nq; qi++)
		b->q[qi].eng.writethrough = !flush;
	return 0;
}

static int blk_queue_notify(void *opaque, unsigned q)
{
	return blk_queue_serve(opaque, q);
}

/* The driver reset the device: let what is in flight finish, drop the answers. */
static void blk_reset(void *opaque)
{
	struct virtio_blk *b = opaque;
	b->discarding = true;
	if (blk_queue_drain(b) < 0)
		virtio_mmio_fail(&b->vdev, "reset: waiting for requests in flight failed");
	b->discarding = false;
}

static uint64_t offered_features(const struct virtio_blk *b)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		     VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_MQ);
	if (b->file.read_only)
		f |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	else
		f |= VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

static void fill_config(struct virtio_blk *b)
{
	struct virtio_blk_config *c = &b->config;
	uint32_t seg_max = b->chain_cap - 2;
	/*
	 * The guest's logical block size. 512 unless O_DIRECT needs larger
	 * aligned I/O (then partition tables must use that sector size too).
	 */
	uint32_t blk_size = b->file.direct && b->file.off_align > 512 && b->file.off_align <= 4096
				    ? b->file.off_align : 512;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(b->lim.capacity);
	c->seg_max = htole32(seg_max);
	c->blk_size = htole32(blk_size);
	c->num_queues = htole16((uint16_t)b->nq);
	if (!b->file.read_only) {
		c->max_discard_sectors = htole32(VIRTIO_BLK_MAX_RANGE_SECTORS);
		c->max_discard_seg = htole32(VIRTIO_BLK_MAX_RANGES);
		c->discard_sector_alignment = htole32(blk_size >> VIRTIO_BLK_SECTOR_SHIFT);
		c->max_write_zeroes_sectors = htole32(VIRTIO_BLK_MAX_RANGE_SECTORS);
		c->max_write_zeroes_seg = htole32(VIRTIO_BLK_MAX_RANGES);
		c->write_zeroes_may_unmap = 1;
	}
}

static void fill_limits(struct virtio_blk *b, const struct virtio_blk_params *p)
{
	struct blk_limits *l = &b->lim;
	memset(l, 0, sizeof(*l));
	l->capacity = b->file.size >> VIRTIO_BLK_SECTOR_SHIFT;
	l->read_only = b->file.read_only;
	l->discard = l->write_zeroes = !b->file.read_only;
	l->max_discard_sectors = l->max_write_zeroes_sectors = VIRTIO_BLK_MAX_RANGE_SECTORS;
	l->max_discard_seg = l->max_write_zeroes_seg = VIRTIO_BLK_MAX_RANGES;
	/* The id is 20 bytes, NUL-padded, not NUL-terminated when 20 long. */
	if (p->serial)
		memcpy(l->serial, p->serial, strnlen(p->serial, sizeof(l->serial)));
}

static int alloc_queues(struct virtio_blk *b)
{
	size_t slots = (size_t)b->nq * b->queue_size;

	/* Large and mostly untouched: slots are reused most-recent first, so few pages become resident. */
	b->iov_pool = calloc(slots * 2 * b->chain_cap, sizeof(struct iovec));
	b->range_pool = calloc(slots * VIRTIO_BLK_MAX_RANGES, sizeof(struct blk_range));
	if (!b->iov_pool || !b->range_pool)
		return -ENOMEM;
	for (unsigned qi = 0; qi < b->nq; qi++) {
		struct blk_queue *bq = &b->q[qi];
		bq->blk = b;
		bq->index = qi;
		bq->ios = calloc(b->queue_size, sizeof(*bq->ios));
		bq->free = calloc(b->queue_size, sizeof(*bq->free));
		if (!bq->ios || !bq->free)
			return -ENOMEM;
		for (unsigned i = b->queue_size; i-- > 0;)
			bq->free[bq->nfree++] = &bq->ios[i];
		int r = blk_engine_init(&bq->eng, &b->file, b->queue_size, b->done_fd, blk_queue_done, bq);
		if (r)
			return r;
		bq->eng_ready = true;
	}
	return 0;
}

static void free_queues(struct virtio_blk *b)
{
	for (unsigned qi = 0; qi < VIRTIO_BLK_MAX_QUEUES; qi++) {
		struct blk_queue *bq = &b->q[qi];
		if (bq->eng_ready)
			blk_engine_fini(&bq->eng);
		bq->eng_ready = false;
		free(bq->ios);
		free(bq->free);
		bq->ios = NULL;
		bq->free = NULL;
	}
	free(b->iov_pool);
	free(b->range_pool);
	b->iov_pool = NULL;
	b->range_pool = NULL;
}

int virtio_blk_init(struct virtio_blk *b, const struct virtio_mmio_config *cfg,
		    const struct virtio_blk_params *p, char *err, size_t errlen)
{
	int r;

	memset(b, 0, sizeof(*b));
	b->done_fd = -1;
	if (p->num_queues < 1 || p->num_queues > VIRTIO_BLK_MAX_QUEUES || p->queue_size < 2 ||
	    p->queue_size > VIRTQ_MAX_SIZE || (p->queue_size & (p->queue_size - 1))) {
		snprintf(err, errlen, "--disk %s: bad queue count or size", p->path);
		return -EINVAL;
	}
	r = blk_file_open(&b->file, p->path, p->read_only, p->direct, err, errlen);
	if (r)
		return r;
	b->nq = p->num_queues;
	b->queue_size = (uint16_t)p->queue_size;
	unsigned seg_max = p->queue_size > 2 ? p->queue_size - 2 : 1;
	b->chain_cap = (seg_max < VIRTIO_BLK_MAX_SEG ? seg_max : VIRTIO_BLK_MAX_SEG) + 2;
	fill_limits(b, p);
	fill_config(b);
	b->ops = (struct virtio_dev_ops){
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.num_queues = b->nq,
		.queue_max = b->queue_size,
		.features = offered_features(b),
		.config_size = sizeof(b->config),
		.config_read = blk_config_read,
		.config_write = blk_config_write,
		.activate = blk_activate,
		.queue_notify = blk_queue_notify,
		.reset = blk_reset,
	};
	b->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->done_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "--disk %s: eventfd: %s", p->path, strerror(errno));
		goto fail;
	}
	r = alloc_queues(b);
	if (r) {
		snprintf(err, errlen, "--disk %s: cannot set up io_uring: %s", p->path, strerror(-r));
		goto fail;
	}
	r = virtio_mmio_init(&b->vdev, cfg, &b->ops, b);
	if (r) {
		snprintf(err, errlen, "--disk %s: cannot set up virtio-mmio: %s", p->path, strerror(-r));
		goto fail;
	}
	r = virtio_mmio_watch(&b->vdev, b->done_fd, EPOLLIN, blk_queue_completions, b);
	if (r) {
		snprintf(err, errlen, "--disk %s: cannot watch completions: %s", p->path, strerror(-r));
		virtio_mmio_destroy(&b->vdev);
		goto fail;
	}
	b->watching = true;
	return 0;
fail:
	free_queues(b);
	if (b->done_fd >= 0)
		close(b->done_fd);
	b->done_fd = -1;
	int e = blk_file_close(&b->file);
	(void)e;
	return r;
}

int virtio_blk_destroy(struct virtio_blk *b)
{
	if (b->done_fd < 0)
		return 0;
	/* No more notifies; then every request in flight completes into guest memory. */
	virtio_mmio_stop(&b->vdev);
	int r = blk_queue_drain(b);
	virtio_mmio_destroy(&b->vdev);
	free_queues(b);
	close(b->done_fd);
	b->done_fd = -1;
	int c = blk_file_close(&b->file);
	return r ? r : c;
}

void virtio_blk_get_stats(struct virtio_blk *b, struct virtio_blk_stats *out)
{
	pthread_mutex_lock(&b->vdev.lock);
	*out = b->stats;
	pthread_mutex_unlock(&b->vdev.lock);
}
