/*
 * virtio-blk request parsing. The chain is seen as two byte streams: what the
 * driver wrote (header, then data for OUT or ranges for DISCARD and
 * WRITE_ZEROES) followed by what the device writes (data for IN and GET_ID,
 * then the status byte). Buffer boundaries carry no meaning (virtio 1.2
 * §2.6.4), so a header split over two descriptors is fine. The header and
 * ranges are copied out once: the guest may change its memory meanwhile.
 */
#include "devices/virtio/blk_req.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

/* The chain's two streams: what the driver wrote, what the device writes. */
struct stream {
	const struct iovec *iov;
	unsigned n;
};

/* Take len bytes at byte skip of a stream as iovecs. */
static int slice(struct stream st, uint64_t skip, uint64_t len, struct iovec *iov, unsigned cap,
		 unsigned *niov)
{
	unsigned n = 0;

	for (unsigned i = 0; i < st.n && len; i++) {
		if (st.iov[i].iov_len == 0)
			continue;
		if (skip >= st.iov[i].iov_len) {
			skip -= st.iov[i].iov_len;
			continue;
		}
		uint64_t take = st.iov[i].iov_len - skip;
		if (take > len)
			take = len;
		if (n == cap)
			return -E2BIG;
		iov[n].iov_base = (uint8_t *)st.iov[i].iov_base + skip;
		iov[n].iov_len = take;
		n++;
		len -= take;
		skip = 0;
	}
	*niov = n;
	return len ? -EINVAL : 0;
}

/* Copy len bytes at byte skip of a stream; the caller checked the length. */
static void gather(struct stream st, uint64_t skip, void *dst, size_t len)
{
	uint8_t *out = dst;

	for (unsigned i = 0; i < st.n && len; i++) {
		if (skip >= st.iov[i].iov_len) {
			skip -= st.iov[i].iov_len;
			continue;
		}
		size_t take = st.iov[i].iov_len - skip;
		if (take > len)
			take = len;
		memcpy(out, (const uint8_t *)st.iov[i].iov_base + skip, take);
		out += take;
		len -= take;
		skip = 0;
	}
}

static int done(struct blk_req *req, uint8_t status)
{
	req->op = BLK_OP_DONE;
	req->status = status;
	return 0;
}

/* sector and a byte length within the disk, without overflowing. */
static bool in_bounds(uint64_t capacity, uint64_t sector, uint64_t bytes)
{
	uint64_t sectors = bytes >> VIRTIO_BLK_SECTOR_SHIFT;
	return sector <= capacity && sectors <= capacity - sector;
}

static int parse_rw(struct stream out, struct stream in, const struct blk_limits *lim,
		    const struct blk_req_space *sp, uint64_t sector, uint64_t data_len, bool write,
		    struct blk_req *req)
{
	if (data_len % VIRTIO_BLK_SECTOR_SIZE || data_len >= UINT32_MAX ||
	    !in_bounds(lim->capacity, sector, data_len))
		return done(req, VIRTIO_BLK_S_IOERR);
	/* Readable data starts after the header; writable data at the stream's start. */
	if (slice(write ? out : in, write ? sizeof(struct virtio_blk_outhdr) : 0, data_len,
		  sp->iov, sp->iov_cap, &req->niov))
		return done(req, VIRTIO_BLK_S_IOERR);
	req->op = write ? BLK_OP_WRITE : BLK_OP_READ;
	req->iov = sp->iov;
	req->offset = sector << VIRTIO_BLK_SECTOR_SHIFT;
	req->len = data_len;
	req->data_in = write ? 0 : (uint32_t)data_len;
	return 0;
}

static int parse_get_id(struct stream in, const struct blk_limits *lim,
			uint64_t din, struct blk_req *req)
{
	struct iovec iov[VIRTIO_BLK_ID_BYTES];
	unsigned niov;
	uint64_t n = din < VIRTIO_BLK_ID_BYTES ? din : VIRTIO_BLK_ID_BYTES;

	if (slice(in, 0, n, iov, ARRAY_SIZE(iov), &niov))
		return done(req, VIRTIO_BLK_S_IOERR);
	const char *src = lim->serial;
	for (unsigned i = 0; i < niov; i++) {
		memcpy(iov[i].iov_base, src, iov[i].iov_len);
		src += iov[i].iov_len;
	}
	req->data_in = (uint32_t)n;
	return done(req, VIRTIO_BLK_S_OK);
}

static int parse_ranges(struct stream out, const struct blk_limits *lim,
			const struct blk_req_space *sp, uint64_t dout, bool wz, struct blk_req *req)
{
	uint32_t max_seg = wz ? lim->max_write_zeroes_seg : lim->max_discard_seg;
	uint32_t max_sectors = wz ? lim->max_write_zeroes_sectors : lim->max_discard_sectors;
	uint32_t allowed = wz ? VIRTIO_BLK_WZ_FLAG_UNMAP : 0;
	uint64_t n = dout / sizeof(struct virtio_blk_discard_wz);

	if (!(wz ? lim->write_zeroes : lim->discard))
		return done(req, VIRTIO_BLK_S_UNSUPP);
	if (lim->read_only)
		return done(req, VIRTIO_BLK_S_IOERR);
	if (n == 0 || dout % sizeof(struct virtio_blk_discard_wz) || n > max_seg || n > sp->range_cap)
		return done(req, VIRTIO_BLK_S_IOERR);
	for (unsigned i = 0; i < n; i++) {
		struct virtio_blk_discard_wz r;
		gather(out, sizeof(struct virtio_blk_outhdr) + i * sizeof(r), &r, sizeof(r));
		uint64_t sector = le64toh(r.sector);
		uint32_t num = le32toh(r.num_sectors), flags = le32toh(r.flags);
		/* Unknown flags, and unmap on a discard, are UNSUPP (virtio 1.2 §5.2.6.2). */
		if (flags & ~allowed)
			return done(req, VIRTIO_BLK_S_UNSUPP);
		if (num > max_sectors || !in_bounds(lim->capacity, sector, (uint64_t)num << VIRTIO_BLK_SECTOR_SHIFT))
			return done(req, VIRTIO_BLK_S_IOERR);
		sp->ranges[i] = (struct blk_range){
			.offset = sector << VIRTIO_BLK_SECTOR_SHIFT,
			.len = (uint64_t)num << VIRTIO_BLK_SECTOR_SHIFT,
			.unmap = flags & VIRTIO_BLK_WZ_FLAG_UNMAP,
		};
	}
	req->op = wz ? BLK_OP_WRITE_ZEROES : BLK_OP_DISCARD;
	req->ranges = sp->ranges;
	req->nranges = (unsigned)n;
	return 0;
}

static uint64_t stream_bytes(struct stream st)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < st.n; i++)
		n += st.iov[i].iov_len;
	return n;
}

int blk_req_parse(const struct iovec *iov, unsigned n_out, unsigned n_in,
		  const struct blk_limits *lim, const struct blk_req_space *sp, struct blk_req *req)
{
	struct stream out = { iov, n_out }, in = { iov + n_out, n_in };
	uint64_t readable = stream_bytes(out), writable = stream_bytes(in);

	memset(req, 0, sizeof(*req));
	/* The status byte is the last byte the device may write. */
	for (unsigned i = n_in; i-- > 0;) {
		if (in.iov[i].iov_len) {
			req->status_byte = (uint8_t *)in.iov[i].iov_base + in.iov[i].iov_len - 1;
			break;
		}
	}
	if (!req->status_byte)
		return -EINVAL;
	if (readable < sizeof(struct virtio_blk_outhdr))
		return done(req, VIRTIO_BLK_S_IOERR);

	struct virtio_blk_outhdr hdr;
	gather(out, 0, &hdr, sizeof(hdr));
	req->type = le32toh(hdr.type);
	uint64_t sector = le64toh(hdr.sector);
	uint64_t dout = readable - sizeof(hdr), din = writable - 1;

	switch (req->type) {
	case VIRTIO_BLK_T_IN:
		if (dout)
			return done(req, VIRTIO_BLK_S_IOERR);
		return parse_rw(out, in, lim, sp, sector, din, false, req);
	case VIRTIO_BLK_T_OUT:
		if (din || lim->read_only)
			return done(req, VIRTIO_BLK_S_IOERR);
		return parse_rw(out, in, lim, sp, sector, dout, true, req);
	case VIRTIO_BLK_T_FLUSH:
		if (lim->read_only)
			return done(req, VIRTIO_BLK_S_OK);	/* nothing was written */
		req->op = BLK_OP_FLUSH;
		return 0;
	case VIRTIO_BLK_T_GET_ID:
		if (dout)
			return done(req, VIRTIO_BLK_S_IOERR);
		return parse_get_id(in, lim, din, req);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (din)
			return done(req, VIRTIO_BLK_S_IOERR);
		return parse_ranges(out, lim, sp, dout, req->type == VIRTIO_BLK_T_WRITE_ZEROES, req);
	default:
		return done(req, VIRTIO_BLK_S_UNSUPP);
	}
}

const char *blk_req_type_name(uint32_t type)
{
	switch (type) {
	case VIRTIO_BLK_T_IN: return "read";
	case VIRTIO_BLK_T_OUT: return "write";
	case VIRTIO_BLK_T_FLUSH: return "flush";
	case VIRTIO_BLK_T_GET_ID: return "get-id";
	case VIRTIO_BLK_T_DISCARD: return "discard";
	case VIRTIO_BLK_T_WRITE_ZEROES: return "write-zeroes";
	default: return "unknown";
	}
}
