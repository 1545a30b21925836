/*
 * Split virtqueues (virtio 1.2, 2.7) from the device side, with
 * VIRTIO_F_RING_EVENT_IDX and VIRTIO_F_RING_INDIRECT_DESC.
 *
 * The walker trusts nothing in guest memory:
 * - the three ring areas are checked against guest RAM (struct gmem) and
 *   for alignment once, at virtq_setup(); the queue size must be a power of
 *   two no larger than VIRTQ_MAX_SIZE;
 * - every descriptor is copied out of guest memory once, then validated; its
 *   buffer is checked against guest RAM before it becomes a host iovec;
 * - a chain may visit at most `size` descriptors (at most the table's entry
 *   count inside an indirect table), so a looping chain ends; `next` must be
 *   below the queue size (table size); an indirect table must be a non-empty
 *   multiple of 16 bytes, only at the head of a chain, never inside another
 *   indirect table, never with NEXT; device-readable descriptors must come
 *   before device-writable ones;
 * - the driver may not claim more than `size` new buffers at once, and a
 *   head index must be below `size`.
 * Any violation makes virtq_pop() return a negative errno and leaves the
 * reason in q->error; the queue is then broken until reset, and the
 * transport sets DEVICE_NEEDS_RESET. Nothing is ever written outside RAM.
 *
 * Notification suppression: while a device keeps popping, the driver is
 * asked not to notify (avail_event left behind, or VIRTQ_USED_F_NO_NOTIFY);
 * when virtq_pop() finds the ring empty it re-enables notifications and
 * checks once more, so no buffer is missed (virtq_pop_held() leaves them
 * off: the device promised to look again). virtq_needs_interrupt() applies
 * used_event / VIRTQ_AVAIL_F_NO_INTERRUPT in the other direction.
 *
 * Not thread-safe: one queue is served by one thread at a time (the
 * device's I/O thread, under the transport's lock).
 */
#ifndef DEVICES_VIRTIO_VIRTQ_H
#define DEVICES_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "compiler.h"
#include "devices/virtio/gmem.h"

#define VIRTQ_MAX_SIZE		1024	/* largest queue size the walker accepts */

#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	1

/* Guest-memory layouts (little-endian; arm64 hosts and guests are LE). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Byte sizes of the three areas for a queue of n entries (with the event fields). */
#define VIRTQ_DESC_BYTES(n)	(16ULL * (n))
#define VIRTQ_AVAIL_BYTES(n)	(6ULL + 2ULL * (n))
#define VIRTQ_USED_BYTES(n)	(6ULL + 8ULL * (n))

struct virtq {
	const struct gmem *mem;
	uint16_t size;			/* 0: not set up */
	bool event_idx;			/* negotiated VIRTIO_F_RING_EVENT_IDX */
	bool indirect;			/* negotiated VIRTIO_F_RING_INDIRECT_DESC */
	uint64_t desc_gpa, avail_gpa, used_gpa;

	/* Host pointers, valid after virtq_setup(). */
	struct virtq_desc *desc;
	uint16_t *avail;		/* flags, idx, ring[size], used_event */
	uint16_t *used;			/* flags, idx, then ring and avail_event */

	uint16_t last_avail;		/* next avail ring entry to take */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx at the last interrupt */
	bool signalled_valid;
	bool notify_off;		/* we asked the driver not to notify */
	bool broken;
	const char *error;		/* why it broke, for the log line */
};

/*
 * A descriptor chain as host iovecs: iov[0..n_out) are device-readable,
 * iov[n_out..n_out+n_in) device-writable. The caller provides iov and cap
 * before virtq_pop(); a chain with more buffers than cap is an error
 * (devices should offer cap >= the queue size, or bound it by a feature
 * such as virtio-blk's SEG_MAX).
 */
struct virtq_chain {
	struct iovec *iov;
	unsigned cap;
	uint16_t head;			/* hand back to virtq_push() */
	unsigned n_out, n_in;
	uint64_t out_bytes, in_bytes;
};

/*
 * Validate and attach the rings: -EINVAL for a bad size or misaligned
 * address, -EFAULT for an area outside RAM (q->error says which). On
 * success the queue starts at index 0 both ways.
 */
int virtq_setup(struct virtq *q, const struct gmem *mem, uint16_t size,
		uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		bool event_idx, bool indirect) WUR;
/* Forget everything: the queue is not set up. */
void virtq_reset(struct virtq *q);

/* 1: a chain was taken into *c; 0: the ring is empty; < 0: malformed (queue broken). */
int virtq_pop(struct virtq *q, struct virtq_chain *c) WUR;
/*
 * As virtq_pop(), but an empty ring leaves the driver's notifications as
 * they are (off while the device has been popping): for a device that will
 * look again by itself soon, and calls virtq_pop() when it stops looking.
 */
int virtq_pop_held(struct virtq *q, struct virtq_chain *c) WUR;
/* Give the last popped chain back (the device could not serve it yet). */
void virtq_unpop(struct virtq *q);
/* True when the driver has made buffers available that were not popped yet. */
bool virtq_has_avail(struct virtq *q);
/* Return a chain: `len` bytes were written into its device-writable part. */
int virtq_push(struct virtq *q, uint16_t head, uint32_t len) WUR;
/*
 * After one or more virtq_push(): should the driver be interrupted?
 * (used_event or VIRTQ_AVAIL_F_NO_INTERRUPT.) Records the interrupt as sent.
 */
bool virtq_needs_interrupt(struct virtq *q);

/* Copy between a chain's readable / writable part and a flat buffer; returns bytes copied. */
uint64_t virtq_chain_read(const struct virtq_chain *c, uint64_t offset, void *buf, uint64_t len);
uint64_t virtq_chain_write(const struct virtq_chain *c, uint64_t offset, const void *buf, uint64_t len);

#endif
