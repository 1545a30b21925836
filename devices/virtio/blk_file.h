/* The host side of a virtio-blk disk: a raw image file or a block device. */
#ifndef DEVICES_VIRTIO_BLK_FILE_H
#define DEVICES_VIRTIO_BLK_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

struct blk_file {
	int fd;
	uint64_t size;		/* bytes; the guest sees size / 512 sectors */
	bool read_only;
	bool direct;		/* opened with O_DIRECT */
	bool is_bdev;
	uint32_t mem_align;	/* O_DIRECT: buffer address and length alignment */
	uint32_t off_align;	/* O_DIRECT: file offset and length alignment */
};

/*
 * Open path for the guest. -errno with a one-line reason in err: a missing
 * or unreadable file, a directory, an image smaller than one sector, or
 * O_DIRECT refused by the filesystem.
 */
int blk_file_open(struct blk_file *f, const char *path, bool read_only, bool direct,
		  char *err, size_t errlen) WUR;
/* Make completed writes durable, then close. -errno if fdatasync failed (closed anyway). */
int blk_file_close(struct blk_file *f) WUR;

#endif
