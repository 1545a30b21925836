#include "devices/virtio/rng.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

static void stop_watching(struct virtio_rng *rng)
{
	if (rng->watching) {
		virtio_mmio_unwatch(&rng->vdev, rng->src_fd);
		rng->watching = false;
	}
}

static void src_readable(void *opaque, int fd, uint32_t events);

/* Keep at most `limit` bytes of the chain's writable buffers. */
static unsigned clip(const struct virtq_chain *c, struct iovec *out, unsigned cap, size_t limit)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->n_in && n < cap && limit; i++) {
		struct iovec v = c->iov[c->n_out + i];
		if (v.iov_len > limit)
			v.iov_len = limit;
		limit -= v.iov_len;
		out[n++] = v;
	}
	return n;
}

static int serve(struct virtio_rng *rng)
{
	struct virtio_mmio *vdev = &rng->vdev;
	struct virtq *q = virtio_mmio_queue(vdev, 0);
	struct iovec iov[VIRTIO_RNG_QUEUE_SIZE], fill[VIRTIO_RNG_QUEUE_SIZE];
	bool pushed = false;
	int r;

	for (;;) {
		struct virtq_chain c = { .iov = iov, .cap = ARRAY_SIZE(iov) };
		r = virtq_pop(q, &c);
		if (r <= 0)
			break;
		unsigned n = clip(&c, fill, ARRAY_SIZE(fill), VIRTIO_RNG_MAX_FILL);
		ssize_t got = n ? readv(rng->src_fd, fill, (int)n) : 0;
		if (n && got <= 0) {
			virtq_unpop(q);		/* serve it once the source has data */
			if (got == 0 && !rng->eof_logged) {
				rng->eof_logged = true;
				virtio_mmio_fail(vdev, "entropy source is exhausted");
			} else if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (!rng->watching &&
				    virtio_mmio_watch(vdev, rng->src_fd, EPOLLIN, src_readable, rng) == 0)
					rng->watching = true;
			} else if (got < 0) {
				virtio_mmio_fail(vdev, "reading the entropy source: %s", strerror(errno));
			}
			break;
		}
		rng->bytes += (uint64_t)got;
		if ((r = virtq_push(q, c.head, (uint32_t)got)) < 0)
			break;
		pushed = true;
	}
	if (pushed)
		virtio_mmio_used(vdev, 0);
	return r < 0 ? r : 0;
}

static void src_readable(void *opaque, int fd, uint32_t events)
{
	struct virtio_rng *rng = opaque;
	(void)fd;
	(void)events;
	stop_watching(rng);
	if (!virtio_mmio_running(&rng->vdev))
		return;
	int r = serve(rng);
	if (r < 0)
		virtio_mmio_fail(&rng->vdev, "queue 0: %s",
				 rng->vdev.vq[0].error ? rng->vdev.vq[0].error : strerror(-r));
}

static int rng_queue_notify(void *opaque, unsigned q)
{
	struct virtio_rng *rng = opaque;
	(void)q;
	if (rng->watching)
		return 0;	/* a chain already waits for the source */
	return serve(rng);
}

static void rng_reset(void *opaque)
{
	stop_watching(opaque);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.queue_max = VIRTIO_RNG_QUEUE_SIZE,
	.features = 0,
	.config_size = 0,
	.queue_notify = rng_queue_notify,
	.reset = rng_reset,
};

int virtio_rng_init(struct virtio_rng *rng, const struct virtio_mmio_config *cfg,
		    const char *src, char *err, size_t errlen)
{
	int r;

	memset(rng, 0, sizeof(*rng));
	rng->src_fd = open(src, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rng->src_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open the entropy source %s: %s", src, strerror(errno));
		return r;
	}
	r = virtio_mmio_init(&rng->vdev, cfg, &rng_ops, rng);
	if (r) {
		snprintf(err, errlen, "cannot set up virtio-rng: %s", strerror(-r));
		close(rng->src_fd);
		rng->src_fd = -1;
	}
	return r;
}

void virtio_rng_destroy(struct virtio_rng *rng)
{
	virtio_mmio_destroy(&rng->vdev);
	if (rng->src_fd >= 0)
		close(rng->src_fd);
	rng->src_fd = -1;
}
