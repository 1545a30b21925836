/*
 * virtio-blk requests (virtio 1.2 §5.2.6): turning a descriptor chain the
 * guest controls into a checked operation on the disk. Pure: no I/O, no
 * guest-memory access other than through the host pointers given in the
 * segments, so it is unit-tested and fuzzed on its own.
 */
#ifndef DEVICES_VIRTIO_BLK_REQ_H
#define DEVICES_VIRTIO_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "compiler.h"

#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define VIRTIO_BLK_ID_BYTES	20
#define VIRTIO_BLK_SECTOR_SHIFT	9
#define VIRTIO_BLK_SECTOR_SIZE	512u

#define VIRTIO_BLK_WZ_FLAG_UNMAP 1u

/* The 16-byte request header the driver puts first (little-endian). */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

/* One range of a DISCARD or WRITE_ZEROES request (little-endian). */
struct virtio_blk_discard_wz {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* What the device allows; the parser checks every request against it. */
struct blk_limits {
	uint64_t capacity;		/* in 512-byte sectors */
	bool read_only;
	bool discard;			/* VIRTIO_BLK_F_DISCARD offered */
	bool write_zeroes;		/* VIRTIO_BLK_F_WRITE_ZEROES offered */
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	char serial[VIRTIO_BLK_ID_BYTES];	/* GET_ID answer, NUL-padded */
};

enum blk_op {
	BLK_OP_DONE,		/* nothing to do on the host: complete with req.status */
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_DISCARD,
	BLK_OP_WRITE_ZEROES,
};

/* A byte range of the disk for DISCARD and WRITE_ZEROES. */
struct blk_range {
	uint64_t offset, len;
	bool unmap;		/* WRITE_ZEROES may deallocate */
};

/* Room the caller gives the parser for a request's data. */
struct blk_req_space {
	struct iovec *iov;
	unsigned iov_cap;
	struct blk_range *ranges;
	unsigned range_cap;	/* at least max(max_discard_seg, max_write_zeroes_seg) */
};

struct blk_req {
	enum blk_op op;
	uint32_t type;		/* the guest's type, for logs */
	uint8_t *status_byte;	/* guest memory: where the status goes */
	uint8_t status;		/* BLK_OP_DONE: the answer */
	uint64_t offset;	/* READ/WRITE: byte offset on the disk */
	uint64_t len;		/* READ/WRITE: bytes in iov */
	struct iovec *iov;	/* READ/WRITE: the data buffers in guest memory */
	unsigned niov;
	struct blk_range *ranges;
	unsigned nranges;
	uint32_t data_in;	/* READ/GET_ID: data bytes the device writes on success */
};

/*
 * Parse one descriptor chain, given as host iovecs (already checked against
 * guest RAM): iov[0..n_out) device-readable, then iov[n_out..n_out+n_in)
 * device-writable. 0: req is filled and req->status_byte is valid; either op
 * is BLK_OP_DONE with req->status set (GET_ID is answered here; bad requests
 * get IOERR or UNSUPP) or the op is for the I/O engine. -EINVAL: the chain
 * has no device-writable byte for the status: nothing can be reported.
 */
int blk_req_parse(const struct iovec *iov, unsigned n_out, unsigned n_in,
		  const struct blk_limits *lim, const struct blk_req_space *space,
		  struct blk_req *req) WUR;

/* The used-ring length: bytes written to the guest's buffers, status byte included. */
static inline uint32_t blk_req_used_len(const struct blk_req *req, uint8_t st)
{
	return (st == VIRTIO_BLK_S_OK ? req->data_in : 0) + 1;
}

/* Write the status byte. */
static inline void blk_req_complete(const struct blk_req *req, uint8_t st)
{
	__atomic_store_n(req->status_byte, st, __ATOMIC_RELAXED);
}

const char *blk_req_type_name(uint32_t type);

#endif
