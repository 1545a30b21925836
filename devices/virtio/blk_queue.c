/*
 * virtio-blk data path, on the device's I/O thread under the transport's
 * lock: pop chains, parse, queue them on the queue's ring, submit the batch;
 * on the completion eventfd, reap every ring, push the used entries and
 * interrupt once per queue and batch.
 */
#include "devices/virtio/blk.h"
#include "devices/virtio/blk_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void slot_space(struct virtio_blk *b, struct blk_queue *bq, struct blk_io *io,
		       struct iovec **chain, struct blk_req_space *sp)
{
	size_t g = (size_t)bq->index * b->queue_size + (size_t)(io - bq->ios);
	*chain = b->iov_pool + g * 2 * b->chain_cap;
	*sp = (struct blk_req_space){
		.iov = *chain + b->chain_cap, .iov_cap = b->chain_cap,
		.ranges = b->range_pool + g * VIRTIO_BLK_MAX_RANGES, .range_cap = VIRTIO_BLK_MAX_RANGES,
	};
}

/* The engine finished a request (or the parser answered it): status to the guest, slot back. */
void blk_queue_done(void *opaque, struct blk_io *io, uint8_t status)
{
	struct blk_queue *bq = opaque;
	struct virtio_blk *b = bq->blk;

	if (status == VIRTIO_BLK_S_IOERR)
		b->stats.errors++;
	else if (status == VIRTIO_BLK_S_UNSUPP)
		b->stats.unsupported++;
	if (!b->discarding) {
		blk_req_complete(&io->req, status);
		struct virtq *vq = virtio_mmio_queue(&b->vdev, bq->index);
		if (virtq_push(vq, io->head, blk_req_used_len(&io->req, status)) == 0)
			bq->pushed = true;
	}
	bq->free[bq->nfree++] = io;
}

static void flush_used(struct virtio_blk *b, struct blk_queue *bq)
{
	if (bq->pushed) {
		bq->pushed = false;
		virtio_mmio_used(&b->vdev, bq->index);
	}
}

int blk_queue_serve(struct virtio_blk *b, unsigned qi)
{
	struct blk_queue *bq = &b->q[qi];
	struct virtq *vq = virtio_mmio_queue(&b->vdev, qi);
	int r = 0;

	bq->blocked = false;
	for (;;) {
		/* Bounded in flight: a slot per descriptor-queue entry, ring room for the largest request. */
		if (!bq->nfree || !blk_engine_room(&bq->eng, VIRTIO_BLK_MAX_RANGES)) {
			bq->blocked = true;
			break;
		}
		struct blk_io *io = bq->free[bq->nfree - 1];
		struct iovec *chain;
		struct blk_req_space sp;
		slot_space(b, bq, io, &chain, &sp);
		struct virtq_chain c = { .iov = chain, .cap = b->chain_cap };
		r = virtq_pop(vq, &c);
		if (r <= 0)
			break;
		bq->nfree--;
		io->head = c.head;
		b->stats.requests++;
		if (blk_req_parse(c.iov, c.n_out, c.n_in, &b->lim, &sp, &io->req)) {
			bq->free[bq->nfree++] = io;
			virtio_mmio_fail(&b->vdev, "queue %u: a request with no byte for its status", qi);
			r = 0;
			break;
		}
		blk_engine_queue(&bq->eng, io);
	}
	uint64_t before = bq->eng.stats.submits;
	int s = blk_engine_submit(&bq->eng);
	b->stats.submits += bq->eng.stats.submits - before;
	/*
	 * Buffered I/O that hits the host page cache often completes inside
	 * io_uring_enter: answer it now, in the same interrupt as the rest.
	 */
	if (s == 0 && bq->eng.inflight) {
		int n = blk_engine_reap(&bq->eng);
		if (n < 0 && n != -EAGAIN && n != -EBUSY && n != -EINTR)
			s = n;
	}
	flush_used(b, bq);
	if (r < 0)
		return r;
	/* A failed submission stays queued in the ring and goes with the next one. */
	return s == -EAGAIN || s == -EBUSY || s == -EINTR ? 0 : s;
}

void blk_queue_completions(void *opaque, int fd, uint32_t events)
{
	struct virtio_blk *b = opaque;
	uint64_t n;
	(void)events;

	/* Read first: completions that arrive while we reap signal again. */
	if (read(fd, &n, sizeof(n)) < 0)
		return;
	b->stats.completion_wakeups++;
	for (unsigned qi = 0; qi < b->nq; qi++) {
		struct blk_queue *bq = &b->q[qi];
		if (!bq->eng_ready || !bq->eng.inflight)
			continue;
		int r = blk_engine_reap(&bq->eng);
		if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR) {
			virtio_mmio_fail(&b->vdev, "queue %u: io_uring: %s", qi, strerror(-r));
			return;
		}
		flush_used(b, bq);
		if (bq->blocked && virtio_mmio_running(&b->vdev)) {
			r = blk_queue_serve(b, qi);
			if (r < 0) {
				struct virtq *vq = virtio_mmio_queue(&b->vdev, qi);
				virtio_mmio_fail(&b->vdev, "queue %u: %s", qi,
						 vq->error ? vq->error : strerror(-r));
				return;
			}
		}
	}
}

int blk_queue_drain(struct virtio_blk *b)
{
	int ret = 0;
	for (unsigned qi = 0; qi < b->nq; qi++) {
		if (!b->q[qi].eng_ready)
			continue;
		int r = blk_engine_drain(&b->q[qi].eng);
		if (r < 0 && !ret)
			ret = r;
		b->q[qi].blocked = false;
	}
	return ret;
}
