/* The boot payload: kernel, initrd, device tree, ACPI tables, UEFI hand-off. */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stddef.h>
#include "compiler.h"
#include "acpi/acpi.h"
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

/* Check the kernel and initrd files before any VM exists; err says why not. */
int boot_check_files(const struct vm_config *cfg, char *err, size_t errlen) WUR;
/* Load everything into guest memory and set vm->boot. */
int boot_prepare(struct vm *vm, char *err, size_t errlen) WUR;

/* The ACPI description of this machine for a given configuration. */
void boot_acpi_platform(const struct vm_config *cfg, struct acpi_cpu *cpus,
			struct acpi_platform *out);
/* Write every ACPI table of cfg as DIR/<SIGNATURE>.dat (--dump-acpi). */
int boot_dump_acpi(const struct vm_config *cfg, const char *dir, char *err, size_t errlen) WUR;

#endif
