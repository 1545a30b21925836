/*
 * ACPI tables for the arm64 machine, written into a caller's buffer that the
 * caller places at a known guest physical address. Knows nothing of KVM.
 */
#ifndef ACPI_ACPI_H
#define ACPI_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

#define ACPI_MAX_GICR 4

struct acpi_cpu {
	uint32_t uid;		/* ACPI processor UID = vCPU id = _UID of Cnnn */
	uint64_t mpidr;		/* affinity fields only */
	bool enabled;		/* MADT GICC Enabled, else Online-Capable */
};

/* A virtio-mmio transport (LNRO0005 in the DSDT). */
struct acpi_virtio {
	uint64_t base, size;
	uint32_t gsi;			/* GIC INTID */
	bool edge;			/* edge-triggered, else level */
};

#define ACPI_MAX_VIRTIO 32

struct acpi_platform {
	unsigned nr_cpus;		/* possible vCPUs */
	const struct acpi_cpu *cpus;	/* nr_cpus entries */

	uint64_t gicd_base;
	/* Redistributor ranges, one MADT GICR each; together every possible vCPU's. */
	unsigned nr_gicr;
	struct {
		uint64_t base, length;
	} gicr[ACPI_MAX_GICR];

	uint64_t uart_base, uart_size;	/* PL011 */
	uint32_t uart_gsi;		/* GIC INTID */
	uint64_t ged_base, ged_size;	/* ACPI0013 event register */
	uint32_t ged_gsi;
	uint64_t cpuhp_base, cpuhp_size;	/* CPU hotplug register block */

	uint32_t ppi_virt_timer, ppi_ns_phys_timer, ppi_sec_phys_timer, ppi_hyp_timer;
	uint32_t ppi_pmu;		/* PMU overflow interrupt; 0: the vCPUs have no PMU */

	unsigned nr_virtio;
	struct acpi_virtio virtio[ACPI_MAX_VIRTIO];
};

#define ACPI_MAX_TABLES 8

struct acpi_table_ref {
	char signature[5];	/* "DSDT", "APIC", ... ; "RSDP" for the RSDP */
	uint64_t gpa;
	size_t offset;		/* into the caller's buffer */
	uint32_t length;
};

struct acpi_tables {
	uint64_t rsdp_gpa;
	size_t used;		/* bytes of the buffer used */
	unsigned count;
	struct acpi_table_ref tables[ACPI_MAX_TABLES];	/* RSDP first */
};

/*
 * Build RSDP, XSDT, FADT, MADT, GTDT, SPCR and DSDT into buf (cap bytes),
 * which the guest will see at buf_gpa. Returns 0, -ENOSPC, -EINVAL.
 */
int acpi_build(const struct acpi_platform *p, uint8_t *buf, size_t cap, uint64_t buf_gpa,
	       struct acpi_tables *out) WUR;

#endif
