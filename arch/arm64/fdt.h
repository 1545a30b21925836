/* Device trees for the two boot modes, built with libfdt. */
#ifndef ARCH_ARM64_FDT_H
#define ARCH_ARM64_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

#define FDT_MAX_GICR 4

struct fdt_uefi_params {
	uint64_t systab_gpa;
	uint64_t mmap_gpa;
	uint32_t mmap_size, mmap_desc_size, mmap_desc_ver;
};

/* A virtio-mmio transport: window and SPI. */
struct fdt_virtio {
	uint64_t base, size;
	uint32_t spi;
	bool edge;		/* IRQ_TYPE_EDGE_RISING, else IRQ_TYPE_LEVEL_HIGH */
};

#define FDT_MAX_VIRTIO 32

struct fdt_params {
	const char *bootargs;
	uint64_t initrd_start, initrd_end;	/* end == start: no initrd */

	/* Device-tree boot: the whole machine. */
	uint64_t ram_base, ram_size;
	unsigned nr_cpus;			/* CPUs listed: the boot vCPUs */
	uint64_t gicd_base, gicd_size;
	unsigned nr_gicr;			/* redistributor regions, 1..FDT_MAX_GICR */
	struct {
		uint64_t base, size;
	} gicr[FDT_MAX_GICR];
	bool pmu;				/* a PMUv3 node (interrupt PPI_PMU) */
	uint64_t uart_base, uart_size;
	uint32_t uart_spi;

	/* virtio-mmio transports ("virtio,mmio" nodes), device-tree boot only. */
	unsigned nr_virtio;
	struct fdt_virtio virtio[FDT_MAX_VIRTIO];

	/* ACPI boot: when set, the tree holds /chosen only, with the UEFI hand-off. */
	const struct fdt_uefi_params *uefi;
};

/* Returns 0, -ENOSPC if buf is too small, -EINVAL on a libfdt error. */
int fdt_build(void *buf, size_t cap, const struct fdt_params *p) WUR;

#endif
