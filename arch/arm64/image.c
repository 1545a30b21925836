#include "arch/arm64/image.h"

#include <errno.h>
#include <string.h>

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int arm64_image_parse(const uint8_t *hdr, size_t len, struct arm64_image *out)
{
	if (len < ARM64_IMAGE_HEADER_SIZE)
		return -ENOEXEC;
	uint32_t magic = (uint32_t)le64(hdr + 56);
	if (magic != ARM64_IMAGE_MAGIC)
		return -ENOEXEC;
	out->text_offset = le64(hdr + 8);
	out->image_size = le64(hdr + 16);
	out->flags = le64(hdr + 24);
	/* Bit 0 of flags: big-endian kernel, which we cannot run. */
	if (out->flags & 1)
		return -EINVAL;
	/* Before v3.17 image_size was 0 and text_offset was 0x80000. */
	if (out->image_size == 0) {
		out->text_offset = 0x80000;
		out->image_size = 0;
	}
	return 0;
}
