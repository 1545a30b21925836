/*
 * virtio-blk (device id 2, virtio 1.2 §5.2) on the virtio-mmio transport:
 * a raw image or block device served through io_uring, one ring per
 * virtqueue. Every queue is served on the device's I/O thread: its notify
 * eventfd pops chains, parses them (blk_req.c) and queues them on the
 * queue's ring (blk_io.c); one eventfd registered with every ring brings
 * the completions back to the same thread, which writes the status bytes,
 * pushes the used entries and interrupts the driver once per batch.
 */
#ifndef DEVICES_VIRTIO_BLK_H
#define DEVICES_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "devices/virtio/blk_file.h"
#include "devices/virtio/blk_io.h"
#include "devices/virtio/blk_req.h"
#include "devices/virtio/mmio.h"

/* Feature bits (virtio 1.2 §5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

#define VIRTIO_BLK_MAX_QUEUES		VIRTIO_MMIO_MAX_QUEUES
#define VIRTIO_BLK_MAX_SEG		254	/* data buffers per request (seg_max) */
#define VIRTIO_BLK_MAX_RANGES		8	/* ranges per DISCARD / WRITE_ZEROES */
#define VIRTIO_BLK_MAX_RANGE_SECTORS	(1u << 22)	/* 2 GiB per range */

/* Device configuration space (virtio 1.2 §5.2.4), little-endian, up to write_zeroes_may_unmap. */
struct virtio_blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback, unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

/* What the VMM asks for (from --disk). */
struct virtio_blk_params {
	const char *path;
	bool read_only;
	bool direct;
	unsigned num_queues;		/* 1..VIRTIO_BLK_MAX_QUEUES */
	unsigned queue_size;		/* power of two, 2..VIRTQ_MAX_SIZE */
	const char *serial;		/* GET_ID answer; NULL or "": 20 NUL bytes */
};

/* One virtqueue's share: its ring and its request slots. */
struct blk_queue {
	struct virtio_blk *blk;
	unsigned index;
	struct blk_engine eng;
	bool eng_ready;
	struct blk_io *ios;		/* queue_size slots */
	struct blk_io **free;		/* free slots, most recently used on top */
	unsigned nfree;
	bool pushed;			/* used entries not yet signalled */
	bool blocked;			/* stopped popping: no slot or ring room */
};

struct virtio_blk_stats {
	uint64_t requests;		/* chains served */
	uint64_t errors;		/* answered IOERR */
	uint64_t unsupported;		/* answered UNSUPP */
	uint64_t submits;		/* io_uring submissions (system calls) */
	uint64_t completion_wakeups;	/* times the completion eventfd woke the I/O thread */
};

struct virtio_blk {
	struct virtio_mmio vdev;	/* the transport: what the bus and the VMM see */
	struct virtio_dev_ops ops;
	struct blk_file file;
	struct blk_limits lim;
	struct virtio_blk_config config;
	unsigned nq;
	uint16_t queue_size;
	unsigned chain_cap;		/* iovecs per request slot */
	struct iovec *iov_pool;		/* 2 * chain_cap per slot: the chain, then its data */
	struct blk_range *range_pool;	/* VIRTIO_BLK_MAX_RANGES per slot */
	struct blk_queue q[VIRTIO_BLK_MAX_QUEUES];
	int done_fd;			/* every ring's completion eventfd */
	bool watching;
	bool discarding;		/* reset: completions are dropped, not pushed */
	bool bad_chain_logged;
	struct virtio_blk_stats stats;
};

/*
 * Open the disk and set up the transport (cfg: window, SPI, guest memory, log).
 * -errno with a one-line reason in err (a missing or unreadable file, no io_uring).
 */
int virtio_blk_init(struct virtio_blk *blk, const struct virtio_mmio_config *cfg,
		    const struct virtio_blk_params *p, char *err, size_t errlen) WUR;
/*
 * Stop: the I/O thread ends, requests in flight complete (their status
 * reaches the guest's memory), and what the guest saw written is made
 * durable (fdatasync) before the file is closed. -errno if that failed.
 */
int virtio_blk_destroy(struct virtio_blk *blk) WUR;
/* A snapshot of the counters (takes the transport's lock). */
void virtio_blk_get_stats(struct virtio_blk *blk, struct virtio_blk_stats *out);

#endif
