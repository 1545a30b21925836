/* The arm64 Linux Image header (Documentation/arch/arm64/booting.rst). */
#ifndef ARCH_ARM64_IMAGE_H
#define ARCH_ARM64_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

#define ARM64_IMAGE_HEADER_SIZE 64
#define ARM64_IMAGE_MAGIC 0x644d5241u	/* "ARM\x64" */
#define ARM64_KERNEL_ALIGN (2ULL << 20)

struct arm64_image {
	uint64_t text_offset;	/* load offset from a 2 MiB aligned base */
	uint64_t image_size;	/* bytes the kernel needs from its load address */
	uint64_t flags;
};

/* -ENOEXEC when hdr is not an arm64 Image, -EINVAL for a little-endian mismatch. */
int arm64_image_parse(const uint8_t *hdr, size_t len, struct arm64_image *out) WUR;

#endif
