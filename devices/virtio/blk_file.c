#include "devices/virtio/blk_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* O_DIRECT needs aligned buffers and offsets: ask the kernel (Linux 6.1+), else assume 4 KiB. */
static void direct_alignment(struct blk_file *f)
{
	struct statx stx;
	int ssz;

	f->mem_align = f->off_align = 4096;
	if (statx(f->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
		f->mem_align = stx.stx_dio_mem_align;
		f->off_align = stx.stx_dio_offset_align;
	} else if (f->is_bdev && ioctl(f->fd, BLKSSZGET, &ssz) == 0 && ssz > 0) {
		f->mem_align = f->off_align = (uint32_t)ssz;
	}
}

int blk_file_open(struct blk_file *f, const char *path, bool read_only, bool direct,
		  char *err, size_t errlen)
{
	struct stat st;
	int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | (direct ? O_DIRECT : 0);

	memset(f, 0, sizeof(*f));
	f->fd = open(path, flags);
	if (f->fd < 0 && direct && errno == EINVAL) {
		snprintf(err, errlen, "--disk %s: direct=on: the filesystem does not support O_DIRECT", path);
		return -EINVAL;
	}
	if (f->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "--disk %s: cannot open%s: %s", path,
			 read_only ? "" : " for writing (readonly=on?)", strerror(e));
		return -e;
	}
	int r = 0;
	if (fstat(f->fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "--disk %s: %s", path, strerror(-r));
	} else if (S_ISBLK(st.st_mode)) {
		f->is_bdev = true;
		if (ioctl(f->fd, BLKGETSIZE64, &f->size) < 0) {
			r = -errno;
			snprintf(err, errlen, "--disk %s: cannot get the device size: %s", path, strerror(-r));
		}
	} else if (S_ISREG(st.st_mode)) {
		f->size = (uint64_t)st.st_size;
	} else {
		r = -EINVAL;
		snprintf(err, errlen, "--disk %s: not a regular file or block device", path);
	}
	if (r == 0 && f->size < 512) {
		r = -EINVAL;
		snprintf(err, errlen, "--disk %s: smaller than one 512-byte sector", path);
	}
	if (r) {
		close(f->fd);
		f->fd = -1;
		return r;
	}
	f->read_only = read_only;
	f->direct = direct;
	if (direct)
		direct_alignment(f);
	return 0;
}

int blk_file_close(struct blk_file *f)
{
	int r = 0;

	if (f->fd < 0)
		return 0;
	/* Writes the guest saw complete are in the page cache already; make them durable too. */
	if (!f->read_only && fdatasync(f->fd) < 0 && errno != EINVAL)
		r = -errno;
	close(f->fd);
	f->fd = -1;
	return r;
}
