/*
 * Where the boot payload goes in guest RAM, computed from sizes alone so that
 * every bound is checked before a byte is written. The Image header and the
 * file sizes are untrusted: every sum is overflow-checked, and anything that
 * does not fit below the firmware area is refused with the file's name.
 */
#include "vmm/boot.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arch/arm64/image.h"

#define PAGE 4096ULL
/* Room the kernel's bss, page tables and early allocations take beyond the file. */
#define LEGACY_SLACK (16ULL << 20)

#define MiB(x) ((unsigned long long)((x) >> 20))

/* Bytes from its load address the kernel needs; false when that overflows. */
static bool kernel_footprint(const struct arm64_image *img, uint64_t file_bytes, uint64_t *out)
{
	uint64_t fp = img->image_size;

	if (fp == 0) {	/* before v3.17: no image_size, assume the file plus slack */
		if (__builtin_add_overflow(file_bytes, PAGE - 1, &fp) ||
		    __builtin_add_overflow(fp & ~(PAGE - 1), LEGACY_SLACK, &fp))
			return false;
	}
	*out = fp > file_bytes ? fp : file_bytes;
	return true;
}

int boot_place(const struct boot_place_in *in, struct boot_place *out, char *err, size_t errlen)
{
	uint64_t ram_end, fw_base, footprint = UINT64_MAX, kend, iend;

	memset(out, 0, sizeof(*out));
	if (in->ram_size < FW_AREA_SIZE || (in->ram_base & (ARM64_KERNEL_ALIGN - 1)) ||
	    (in->ram_size & (ARM64_KERNEL_ALIGN - 1)) ||
	    __builtin_add_overflow(in->ram_base, in->ram_size, &ram_end)) {
		snprintf(err, errlen, "guest memory of %llu MiB cannot hold the firmware area",
			 MiB(in->ram_size));
		return -EINVAL;
	}
	fw_base = ram_end - FW_AREA_SIZE;
	out->fw_base = fw_base;

	/* The kernel: [ram_base + text_offset, + footprint) must end at or below fw_base. */
	uint64_t room = fw_base - in->ram_base;
	if (!kernel_footprint(&in->img, in->kernel_bytes, &footprint) ||
	    in->img.text_offset > room || footprint > room - in->img.text_offset) {
		bool absurd = in->img.text_offset > VM_MAX_MEMORY || footprint > VM_MAX_MEMORY;
		snprintf(err, errlen,
			 "kernel %s does not fit in %llu MiB of guest memory: its header asks for "
			 "0x%llx bytes at offset 0x%llx, and the firmware area starts at offset 0x%llx%s",
			 in->kernel, MiB(in->ram_size), (unsigned long long)footprint,
			 (unsigned long long)in->img.text_offset, (unsigned long long)room,
			 absurd ? "" : "; give more --memory");
		return -EFBIG;
	}
	out->kernel_gpa = in->ram_base + in->img.text_offset;
	out->kernel_end = kend = out->kernel_gpa + footprint;
	out->kernel_bytes = in->kernel_bytes;

	/* The initrd: from the next 2 MiB boundary after the kernel, below fw_base. */
	uint64_t igpa = ALIGN_UP(kend, ARM64_KERNEL_ALIGN);	/* kend <= fw_base: no wrap */
	out->initrd_gpa = out->initrd_end = igpa;
	if (!in->initrd)
		return 0;
	if (igpa > fw_base || in->initrd_bytes > fw_base - igpa) {
		snprintf(err, errlen,
			 "initrd %s (%llu MiB) does not fit in guest memory: %llu MiB are free between "
			 "the kernel and the firmware area; give more --memory",
			 in->initrd, MiB(in->initrd_bytes), igpa > fw_base ? 0 : MiB(fw_base - igpa));
		return -EFBIG;
	}
	iend = igpa + in->initrd_bytes;
	out->initrd_end = iend;
	out->initrd_bytes = in->initrd_bytes;
	return 0;
}
