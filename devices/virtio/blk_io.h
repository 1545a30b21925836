/*
 * The virtio-blk I/O engine: one io_uring per virtqueue. Requests are queued
 * as SQEs without blocking, submitted in batches (one io_uring_enter per
 * batch), and completed through an eventfd registered with the ring, which
 * the device's I/O thread polls (one eventfd may serve several rings). Each engine bounds its in-flight operations
 * to the ring's completion queue, so completions are never dropped.
 */
#ifndef DEVICES_VIRTIO_BLK_IO_H
#define DEVICES_VIRTIO_BLK_IO_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "devices/virtio/blk_file.h"
#include "devices/virtio/blk_req.h"

/* One request in flight. The owner fills req (and its own fields) and keeps it alive until done. */
struct blk_io {
	struct blk_req req;
	uint16_t head;		/* the owner's: descriptor chain head */
	/* Engine state. */
	unsigned pending;	/* SQEs not yet completed */
	uint8_t status;
	struct iovec *cur;	/* READ/WRITE: what is left to transfer */
	unsigned ncur;
	uint64_t cur_off;
	void *bounce;		/* O_DIRECT copy of unaligned guest buffers */
	struct iovec bounce_iov;
};

struct blk_engine;
/* A request finished with a VIRTIO_BLK_S_* status; called on the engine's thread. */
typedef void (*blk_io_done_fn)(void *opaque, struct blk_io *io, uint8_t status);

struct blk_io_stats {
	uint64_t requests;	/* requests queued */
	uint64_t submits;	/* io_uring_enter calls that submitted SQEs */
	uint64_t wakeups;	/* reaps that found completions */
};

struct blk_engine {
	struct io_uring ring;
	bool ring_ready;
	const struct blk_file *file;
	bool writethrough;	/* FLUSH not negotiated: every write is RWF_DSYNC */
	unsigned inflight, max_inflight;	/* SQEs queued or running */
	unsigned unsubmitted;
	blk_io_done_fn done;
	void *opaque;
	struct blk_io_stats stats;
};

/*
 * A ring of `entries` SQEs (rounded up to a power of two by the kernel) that
 * signals efd (the caller's, left open by fini) when completions arrive.
 */
int blk_engine_init(struct blk_engine *e, const struct blk_file *f, unsigned entries, int efd,
		    blk_io_done_fn done, void *opaque) WUR;
/* Wait for everything in flight (see blk_engine_drain), then free the ring. */
void blk_engine_fini(struct blk_engine *e);
/* SQEs a request needs: one, or one per range. */
static inline unsigned blk_io_ops(const struct blk_req *r)
{
	return r->nranges > 1 ? r->nranges : 1;
}
/* Room for a request needing ops SQEs? When not, the caller waits for completions. */
static inline bool blk_engine_room(const struct blk_engine *e, unsigned ops)
{
	return e->inflight + ops <= e->max_inflight;
}
/*
 * Queue io (req.op is not BLK_OP_DONE) without submitting. A request that
 * cannot start (O_DIRECT offset not aligned, no memory for a bounce buffer)
 * completes at once with IOERR through the done callback.
 */
void blk_engine_queue(struct blk_engine *e, struct blk_io *io);
/* Submit what was queued: one system call for the whole batch. */
int blk_engine_submit(struct blk_engine *e) WUR;
/* The eventfd fired (the caller reads it): complete every finished request. Returns how many, or -errno. */
int blk_engine_reap(struct blk_engine *e) WUR;
/* Submit and wait until nothing is in flight (stop, reset). */
int blk_engine_drain(struct blk_engine *e) WUR;

#endif
