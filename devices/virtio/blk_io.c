/*
 * io_uring engine for virtio-blk. Reads and writes are readv/writev at the
 * request's offset straight from and into guest memory; FLUSH is an
 * fdatasync (IORING_OP_FSYNC); DISCARD punches a hole and WRITE_ZEROES zeroes
 * a range (IORING_OP_FALLOCATE, keeping the size). A short transfer is
 * resubmitted for the rest; any other failure is IOERR for that request.
 */
#include "devices/virtio/blk_io.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* user_data: the request's address, with the range index in the top 16 bits (pointers use 48). */
#define UD_IDX_SHIFT 48
#define UD_PTR_MASK ((1ULL << UD_IDX_SHIFT) - 1)

int blk_engine_init(struct blk_engine *e, const struct blk_file *f, unsigned entries, int efd,
		    blk_io_done_fn done, void *opaque)
{
	struct io_uring_params p;
	int r;

	memset(e, 0, sizeof(*e));
	e->file = f;
	e->done = done;
	e->opaque = opaque;
	memset(&p, 0, sizeof(p));
	r = io_uring_queue_init_params(entries, &e->ring, &p);
	if (r == 0) {
		e->ring_ready = true;
		r = io_uring_register_eventfd(&e->ring, efd);
	}
	if (r) {
		blk_engine_fini(e);
		return r;
	}
	/* The completion queue holds every operation in flight: none is ever dropped. */
	e->max_inflight = p.cq_entries;
	return 0;
}

void blk_engine_fini(struct blk_engine *e)
{
	if (e->ring_ready) {
		/* On failure, io_uring_queue_exit() waits for or cancels what is left. */
		int r = blk_engine_drain(e);
		(void)r;
		io_uring_queue_exit(&e->ring);
		e->ring_ready = false;
	}
}

static struct io_uring_sqe *get_sqe(struct blk_engine *e)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);
	if (!sqe && blk_engine_submit(e) >= 0)
		sqe = io_uring_get_sqe(&e->ring);
	return sqe;
}

static void prep(struct blk_engine *e, struct io_uring_sqe *sqe, struct blk_io *io, unsigned idx)
{
	int fd = e->file->fd;

	switch (io->req.op) {
	case BLK_OP_READ:
		io_uring_prep_readv(sqe, fd, io->cur, io->ncur, io->cur_off);
		break;
	case BLK_OP_WRITE:
		io_uring_prep_writev(sqe, fd, io->cur, io->ncur, io->cur_off);
		if (e->writethrough)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	default: {
		const struct blk_range *rg = &io->req.ranges[idx];
		int mode = FALLOC_FL_KEEP_SIZE;
		mode |= io->req.op == BLK_OP_WRITE_ZEROES && !rg->unmap ? FALLOC_FL_ZERO_RANGE
									 : FALLOC_FL_PUNCH_HOLE;
		io_uring_prep_fallocate(sqe, fd, mode, rg->offset, rg->len);
		break;
	}
	}
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)io | ((uint64_t)idx << UD_IDX_SHIFT));
}

/* Start one operation of io; false (and IOERR) if the ring has no room. */
static bool start_op(struct blk_engine *e, struct blk_io *io, unsigned idx)
{
	struct io_uring_sqe *sqe = get_sqe(e);
	if (!sqe) {
		io->status = VIRTIO_BLK_S_IOERR;
		return false;
	}
	prep(e, sqe, io, idx);
	e->inflight++;
	e->unsubmitted++;
	io->pending++;
	return true;
}

static void finish(struct blk_engine *e, struct blk_io *io)
{
	if (io->bounce) {
		if (io->req.op == BLK_OP_READ && io->status == VIRTIO_BLK_S_OK) {
			const uint8_t *src = io->bounce;
			for (unsigned i = 0; i < io->req.niov; i++) {
				memcpy(io->req.iov[i].iov_base, src, io->req.iov[i].iov_len);
				src += io->req.iov[i].iov_len;
			}
		}
		free(io->bounce);
		io->bounce = NULL;
	}
	e->done(e->opaque, io, io->status);
}

/*
 * O_DIRECT: offsets and lengths must be aligned (the guest is told blk_size,
 * so only a misbehaving driver gets IOERR here); guest buffers that are not
 * aligned go through an aligned copy.
 */
static int setup_direct(const struct blk_file *f, struct blk_io *io)
{
	bool aligned = true;

	if (io->req.offset % f->off_align || io->req.len % f->off_align)
		return -EINVAL;
	for (unsigned i = 0; i < io->req.niov && aligned; i++)
		aligned = (uintptr_t)io->req.iov[i].iov_base % f->mem_align == 0 &&
			  io->req.iov[i].iov_len % f->mem_align == 0;
	if (aligned)
		return 0;
	if (posix_memalign(&io->bounce, f->mem_align < sizeof(void *) ? sizeof(void *) : f->mem_align,
			   io->req.len))
		return -ENOMEM;
	if (io->req.op == BLK_OP_WRITE) {
		uint8_t *dst = io->bounce;
		for (unsigned i = 0; i < io->req.niov; i++) {
			memcpy(dst, io->req.iov[i].iov_base, io->req.iov[i].iov_len);
			dst += io->req.iov[i].iov_len;
		}
	}
	io->bounce_iov = (struct iovec){ io->bounce, io->req.len };
	io->cur = &io->bounce_iov;
	io->ncur = 1;
	return 0;
}

void blk_engine_queue(struct blk_engine *e, struct blk_io *io)
{
	struct blk_req *r = &io->req;

	e->stats.requests++;
	io->status = VIRTIO_BLK_S_OK;
	io->pending = 0;
	io->bounce = NULL;
	switch (r->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		io->cur = r->iov;
		io->ncur = r->niov;
		io->cur_off = r->offset;
		if (r->len == 0)
			break;
		if (e->file->direct && setup_direct(e->file, io)) {
			io->status = VIRTIO_BLK_S_IOERR;
			break;
		}
		start_op(e, io, 0);
		break;
	case BLK_OP_FLUSH:
		start_op(e, io, 0);
		break;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		for (unsigned i = 0; i < r->nranges; i++) {
			if (r->ranges[i].len && !start_op(e, io, i))
				break;
		}
		break;
	default:
		io->status = r->status;
		break;
	}
	if (io->pending == 0)
		finish(e, io);
}

/* Skip the n bytes a short transfer did. */
static void advance(struct blk_io *io, uint64_t n)
{
	io->cur_off += n;
	while (io->ncur && n >= io->cur->iov_len) {
		n -= io->cur->iov_len;
		io->cur++;
		io->ncur--;
	}
	if (io->ncur) {
		io->cur->iov_base = (uint8_t *)io->cur->iov_base + n;
		io->cur->iov_len -= n;
	}
}

/* One CQE: true when the operation is over (else it was queued again). */
static bool op_done(struct blk_engine *e, struct blk_io *io, unsigned idx, int res)
{
	struct blk_req *r = &io->req;
	bool rw = r->op == BLK_OP_READ || r->op == BLK_OP_WRITE;

	if (res == -EAGAIN || res == -EINTR)
		return !start_op(e, io, idx);
	if (rw && res > 0) {
		advance(io, (uint64_t)res);
		return io->ncur == 0 || !start_op(e, io, idx);
	}
	if (res == -EOPNOTSUPP && r->op == BLK_OP_DISCARD)
		return true;			/* a hint the file cannot take: data may stay */
	if (res == -EOPNOTSUPP && r->op == BLK_OP_WRITE_ZEROES && !r->ranges[idx].unmap) {
		r->ranges[idx].unmap = true;	/* no ZERO_RANGE here: a hole reads as zeroes too */
		return !start_op(e, io, idx);
	}
	if (res < 0 || (rw && res == 0))
		io->status = VIRTIO_BLK_S_IOERR;
	return true;
}

static void complete_cqe(struct blk_engine *e, uint64_t ud, int res)
{
	struct blk_io *io = (struct blk_io *)(uintptr_t)(ud & UD_PTR_MASK);
	unsigned idx = (unsigned)(ud >> UD_IDX_SHIFT);

	e->inflight--;
	io->pending--;
	if (op_done(e, io, idx, res) && io->pending == 0)
		finish(e, io);
}

int blk_engine_submit(struct blk_engine *e)
{
	if (!e->unsubmitted)
		return 0;
	int r = io_uring_submit(&e->ring);
	if (r < 0)
		return r;
	e->stats.submits++;
	e->unsubmitted -= (unsigned)r < e->unsubmitted ? (unsigned)r : e->unsubmitted;
	return 0;
}

int blk_engine_reap(struct blk_engine *e)
{
	struct io_uring_cqe *cqe;
	int n = 0;

	while (io_uring_peek_cqe(&e->ring, &cqe) == 0) {
		uint64_t ud = cqe->user_data;
		int res = cqe->res;
		io_uring_cqe_seen(&e->ring, cqe);
		complete_cqe(e, ud, res);
		n++;
	}
	if (n)
		e->stats.wakeups++;
	int r = blk_engine_submit(e);	/* resubmitted short transfers */
	return r < 0 ? r : n;
}

int blk_engine_drain(struct blk_engine *e)
{
	while (e->inflight) {
		struct io_uring_cqe *cqe;
		int r = blk_engine_submit(e);
		if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR)
			return r;
		r = io_uring_wait_cqe(&e->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		uint64_t ud = cqe->user_data;
		int res = cqe->res;
		io_uring_cqe_seen(&e->ring, cqe);
		complete_cqe(e, ud, res);
	}
	return blk_engine_submit(e);
}
