/* The boot payload: kernel, initrd, device tree, ACPI tables, UEFI hand-off. */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stddef.h>
#include "compiler.h"
#include "acpi/acpi.h"
#include "arch/arm64/image.h"
#include "vmm/config.h"

struct vm;

/* Firmware area at the top of RAM: device tree, ACPI tables, UEFI hand-off. */
#define FW_AREA_SIZE	(2ULL << 20)
#define FW_DTB_OFFSET	0
#define FW_DTB_SIZE	(64ULL << 10)
#define FW_ACPI_OFFSET	FW_DTB_SIZE
#define FW_ACPI_SIZE	(960ULL << 10)
#define FW_UEFI_OFFSET	(FW_ACPI_OFFSET + FW_ACPI_SIZE)
#define FW_UEFI_SIZE	(64ULL << 10)

/*
 * Linux arm64's COMMAND_LINE_SIZE (arch/arm64/include/uapi/asm/setup.h):
 * the kernel silently cuts a longer /chosen/bootargs, so a longer command
 * line (the ACPI prefix included) is refused instead.
 */
#define BOOT_CMDLINE_SIZE	2048
#define BOOT_ACPI_CMDLINE_PREFIX "efi=noruntime"	/* no firmware stays resident */
/* The longest --cmdline the boot mode accepts, in bytes. */
static inline size_t boot_cmdline_max(enum boot_mode mode)
{
	return BOOT_CMDLINE_SIZE - 1 -
	       (mode == BOOT_MODE_ACPI ? sizeof(BOOT_ACPI_CMDLINE_PREFIX " ") - 1 : 0);
}

/* What boot_place() lays out: the Image header and the file sizes (untrusted). */
struct boot_place_in {
	uint64_t ram_base, ram_size;
	struct arm64_image img;
	const char *kernel;		/* file names, for the messages */
	uint64_t kernel_bytes;
	const char *initrd;		/* NULL: none */
	uint64_t initrd_bytes;
};

struct boot_place {
	uint64_t kernel_gpa, kernel_end;	/* reserved for the kernel, file at kernel_gpa */
	uint64_t kernel_bytes;
	uint64_t initrd_gpa, initrd_end;	/* initrd_gpa == initrd_end: none */
	uint64_t initrd_bytes;
	uint64_t fw_base;			/* the firmware area up to the end of RAM */
};

/*
 * Places kernel and initrd below the firmware area, overflow-safe. -EFBIG
 * with a message naming the file that does not fit; -EINVAL for a RAM size
 * that cannot hold the firmware area.
 */
int boot_place(const struct boot_place_in *in, struct boot_place *out, char *err, size_t errlen) WUR;

/*
 * Check the kernel and initrd files before any VM exists: readable, an arm64
 * Image, and both fit in cfg->memory_bytes (boot_place); err says why not.
 */
int boot_check_files(const struct vm_config *cfg, char *err, size_t errlen) WUR;
/* Load everything into guest memory and set vm->boot. */
int boot_prepare(struct vm *vm, char *err, size_t errlen) WUR;

/* The ACPI description of this machine for a given configuration. */
void boot_acpi_platform(const struct vm_config *cfg, bool pmu, struct acpi_cpu *cpus,
			struct acpi_platform *out);
/* Write every ACPI table of cfg as DIR/<SIGNATURE>.dat (--dump-acpi). */
int boot_dump_acpi(const struct vm_config *cfg, const char *dir, char *err, size_t errlen) WUR;

#endif
