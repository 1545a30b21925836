/*
 * The UEFI hand-off a firmware-less ACPI boot needs: a minimal EFI system
 * table whose configuration table points at the RSDP, and a UEFI memory map.
 * The kernel finds both through /chosen linux,uefi-* properties.
 */
#ifndef ARCH_ARM64_UEFI_H
#define ARCH_ARM64_UEFI_H

#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

enum uefi_mem_type {
	UEFI_MEM_LOADER_DATA,		/* kernel, initrd, device tree */
	UEFI_MEM_CONVENTIONAL,		/* free RAM */
	UEFI_MEM_ACPI_RECLAIM,		/* ACPI tables */
	UEFI_MEM_MMIO,			/* device registers mapped by AML */
};

struct uefi_mem_region {
	uint64_t base;		/* 4 KiB aligned */
	uint64_t size;		/* 4 KiB multiple */
	enum uefi_mem_type type;
};

struct uefi_handoff {
	uint64_t systab_gpa;
	uint64_t mmap_gpa;
	uint32_t mmap_size;
	uint32_t mmap_desc_size;
	uint32_t mmap_desc_ver;
	size_t used;		/* bytes of the buffer used */
};

/*
 * Write the system table (with its CRC32), the configuration table
 * (ACPI 2.0 GUID -> rsdp_gpa), a firmware vendor string and the memory map
 * into buf, seen by the guest at buf_gpa. RAM regions get EFI_MEMORY_WB,
 * MMIO regions EFI_MEMORY_UC and EFI_MEMORY_RUNTIME.
 */
int uefi_build_handoff(uint8_t *buf, size_t cap, uint64_t buf_gpa, uint64_t rsdp_gpa,
		       const struct uefi_mem_region *regions, unsigned nr_regions,
		       struct uefi_handoff *out) WUR;

#endif
