/*
 * Guest memory as the devices see it: the one accessor every device and the
 * queue walker go through. Every (address, length) a guest hands us is
 * checked against guest RAM with overflow-safe arithmetic before a host
 * pointer is formed; nothing else in devices/virtio/ dereferences a guest
 * physical address.
 *
 * Guest RAM is one contiguous mapping (vm->ram), so a range that passes the
 * check is one host span: a device can give the pointer straight to
 * readv/writev or io_uring.
 */
#ifndef DEVICES_VIRTIO_GMEM_H
#define DEVICES_VIRTIO_GMEM_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "compiler.h"

struct gmem {
	uint8_t *host;		/* host address of guest physical address `base` */
	uint64_t base;
	uint64_t size;
};

/* True when [gpa, gpa + len) lies inside guest RAM (len 0 included). */
static inline bool gmem_valid(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	if (!m->host || gpa < m->base)
		return false;
	uint64_t off = gpa - m->base;
	return off <= m->size && len <= m->size - off;
}

/* The host pointer for [gpa, gpa + len), or NULL if any byte is outside RAM. */
static inline void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	return gmem_valid(m, gpa, len) ? m->host + (gpa - m->base) : NULL;
}

/* Copy out of / into guest memory; -EFAULT (nothing copied) if out of RAM. */
static inline WUR int gmem_read(const struct gmem *m, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

static inline WUR int gmem_write(const struct gmem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

#endif
