/* The guest physical address map of the arm64 machine. */
#ifndef ARCH_ARM64_LAYOUT_H
#define ARCH_ARM64_LAYOUT_H

#define GIC_DIST_BASE		0x08000000ULL
#define GIC_DIST_SIZE		0x00010000ULL
/*
 * Redistributors, 128 KiB (RD + SGI frames) per possible vCPU, fill two
 * windows in vCPU order: the first holds vCPUs 0..122, the second the rest.
 * The windows are not contiguous, so each region's last redistributor has
 * GICR_TYPER.Last set and the guest's scan of a region stops there.
 */
#define GIC_REDIST_BASE		0x080A0000ULL
#define GIC_REDIST_STRIDE	0x00020000ULL	/* RD + SGI frames per vCPU */
#define GIC_REDIST_LIMIT	0x09000000ULL
#define GIC_REDIST2_BASE	0x10000000ULL
#define GIC_REDIST2_LIMIT	0x14000000ULL
#define GIC_REDIST_MAX_REGIONS	2

#define UART_BASE		0x09000000ULL
#define UART_SIZE		0x00001000ULL
#define GED_BASE		0x09010000ULL
#define GED_SIZE		0x00001000ULL
#define CPUHP_BASE		0x09020000ULL
#define CPUHP_SIZE		0x00001000ULL

/*
 * virtio-mmio transports: slot n at VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_STRIDE
 * (0x200 bytes of registers and config space each), interrupt SPI
 * VIRTIO_SPI_BASE + n. The region holds VIRTIO_MMIO_SLOTS devices.
 */
#define VIRTIO_MMIO_BASE	0x0A000000ULL
#define VIRTIO_MMIO_STRIDE	0x00000200ULL
#define VIRTIO_MMIO_SLOTS	32
#define VIRTIO_MMIO_REGION_SIZE	(VIRTIO_MMIO_STRIDE * VIRTIO_MMIO_SLOTS)
#define VIRTIO_SPI_BASE		16

#define RAM_BASE		0x40000000ULL

/* Shared peripheral interrupts, numbered from 0 (GIC INTID = 32 + SPI). */
#define UART_SPI		1
#define GED_SPI			2
#define GIC_SPI_BASE		32
#define GIC_NR_IRQS		128

/* Private peripheral interrupts (GIC INTIDs). */
#define PPI_VIRT_TIMER		27
#define PPI_HYP_TIMER		26
#define PPI_SEC_PHYS_TIMER	29
#define PPI_NS_PHYS_TIMER	30
#define PPI_VGIC_MAINT		25
#define PPI_PMU			23

/* vCPUs the first redistributor window holds (123). */
#define GIC_REDIST1_VCPUS	((unsigned)((GIC_REDIST_LIMIT - GIC_REDIST_BASE) / GIC_REDIST_STRIDE))
/* Our hard limit, KVM's GICv3 limit too; the second window has room for more. */
#define LAYOUT_MAX_VCPUS	512u

/* The smallest guest physical address space (KVM's minimum is 32 bits). */
#define LAYOUT_MIN_IPA_BITS	32u

#ifndef __ASSEMBLER__
#include <stdint.h>

struct gic_redist_region {
	uint64_t base;
	unsigned count;		/* redistributors (vCPUs), GIC_REDIST_STRIDE each */
};

/*
 * Place nr_vcpus redistributors, vCPU 0 first, in at most
 * GIC_REDIST_MAX_REGIONS regions. Returns how many regions are used, 0 when
 * nr_vcpus is 0 or above LAYOUT_MAX_VCPUS.
 */
unsigned layout_redist_regions(unsigned nr_vcpus, struct gic_redist_region *out);

/* Guest physical address bits the machine needs with ram_size bytes of RAM. */
unsigned layout_ipa_bits(uint64_t ram_size);
/* The most RAM an ipa_bits-wide guest physical address space holds. */
uint64_t layout_max_ram(unsigned ipa_bits);
#endif

#endif
