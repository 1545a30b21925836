/*
 * The virtio-blk request parser: the chain layout, the header, the data and
 * the discard ranges are all the guest's. Input: one byte of device flags
 * (read-only, discard, write-zeroes), one byte of capacity shift, one byte
 * with the readable / writable buffer counts (4 bits each, at most 8), then
 * per buffer a little-endian 16-bit length, then the buffers' contents.
 * Each buffer is its own heap allocation of exactly its length, so ASan
 * reports any access outside it. Checks the parser's promises: every data
 * iovec lies inside one of the guest's buffers of the right direction,
 * lengths add up, reads and writes stay within the disk, nothing is written
 * to a read-only disk, and the used length fits the writable buffers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/blk_req.h"

#define MAX_BUFS 8
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant: %s\n", #c); __builtin_trap(); } } while (0)

static bool inside(const struct iovec *chain, unsigned from, unsigned to, const void *p, size_t len)
{
	for (unsigned i = from; i < to; i++) {
		const uint8_t *b = chain[i].iov_base;
		if ((const uint8_t *)p >= b && len <= chain[i].iov_len &&
		    (size_t)((const uint8_t *)p - b) <= chain[i].iov_len - len)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iovec chain[2 * MAX_BUFS], iov[MAX_BUFS * 2];
	struct blk_range ranges[4];
	struct blk_req req;

	if (size < 3)
		return 0;
	uint8_t flags = data[0], shift = data[1] & 63;
	unsigned n_out = (data[2] & 15) % (MAX_BUFS + 1), n_in = (data[2] >> 4) % (MAX_BUFS + 1);
	size_t pos = 3;
	struct blk_limits lim = {
		.capacity = (1ULL << shift) - (flags >> 4),
		.read_only = flags & 1,
		.discard = flags & 2,
		.write_zeroes = flags & 4,
		.max_discard_sectors = 1u << 16, .max_discard_seg = 4,
		.max_write_zeroes_sectors = 1u << 20, .max_write_zeroes_seg = 3,
		.serial = "fuzz-serial",
	};
	if (lim.capacity > (1ULL << 62))
		lim.capacity = 0;
	unsigned n = n_out + n_in;
	uint64_t writable = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t len = 0;
		if (pos + 2 <= size) {
			len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
			pos += 2;
		}
		len %= 8192;
		chain[i].iov_base = malloc(len ? len : 1);
		chain[i].iov_len = len;
		size_t take = size - pos < len ? size - pos : len;
		memcpy(chain[i].iov_base, data + pos, take);
		memset((uint8_t *)chain[i].iov_base + take, 0, len - take);
		pos += take;
		if (i >= n_out)
			writable += len;
	}
	struct blk_req_space sp = { iov, 1 + data[2] % ARRAY_SIZE(iov), ranges, ARRAY_SIZE(ranges) };
	int r = blk_req_parse(chain, n_out, n_in, &lim, &sp, &req);
	if (r == 0) {
		CHECK(inside(chain, n_out, n, req.status_byte, 1));
		CHECK(req.op == BLK_OP_DONE || !lim.read_only || req.op == BLK_OP_READ);
		switch (req.op) {
		case BLK_OP_DONE:
			CHECK(req.status <= VIRTIO_BLK_S_UNSUPP);
			CHECK(blk_req_used_len(&req, req.status) <= writable);
			break;
		case BLK_OP_READ:
		case BLK_OP_WRITE: {
			uint64_t sum = 0;
			bool in = req.op == BLK_OP_READ;
			CHECK(req.niov <= sp.iov_cap);
			for (unsigned i = 0; i < req.niov; i++) {
				CHECK(inside(chain, in ? n_out : 0, in ? n : n_out, req.iov[i].iov_base, req.iov[i].iov_len));
				CHECK(!in || !inside(&(struct iovec){ req.status_byte, 1 }, 0, 1,
						    req.iov[i].iov_base, req.iov[i].iov_len) || req.iov[i].iov_len == 0);
				sum += req.iov[i].iov_len;
				if (in)	/* the engine would write here */
					memset(req.iov[i].iov_base, 0x5a, req.iov[i].iov_len);
			}
			CHECK(sum == req.len && req.len % 512 == 0);
			CHECK(req.offset % 512 == 0 && req.offset / 512 <= lim.capacity &&
			      req.len / 512 <= lim.capacity - req.offset / 512);
			CHECK(blk_req_used_len(&req, VIRTIO_BLK_S_OK) <= writable);
			break;
		}
		case BLK_OP_FLUSH:
			CHECK(!lim.read_only);
			break;
		case BLK_OP_DISCARD:
		case BLK_OP_WRITE_ZEROES:
			CHECK(!lim.read_only && req.nranges >= 1 && req.nranges <= sp.range_cap);
			for (unsigned i = 0; i < req.nranges; i++) {
				const struct blk_range *rg = &req.ranges[i];
				CHECK(rg->offset / 512 <= lim.capacity && rg->len / 512 <= lim.capacity - rg->offset / 512);
				CHECK(!rg->unmap || req.op == BLK_OP_WRITE_ZEROES);
			}
			break;
		}
		blk_req_complete(&req, VIRTIO_BLK_S_OK);
	} else {
		CHECK(writable == 0);
	}
	for (unsigned i = 0; i < n; i++)
		free(chain[i].iov_base);
	return 0;
}
