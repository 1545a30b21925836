/*
 * Multiple APIC Description Table (ACPI 6.5 section 5.2.12): one GICC per
 * possible vCPU, the GIC distributor and one GICR per redistributor range.
 *
 * Every possible vCPU gets a GICC at boot because arm64 Linux sizes its CPU
 * masks from the MADT and never re-reads it: a CPU that may be hot-added
 * later is marked Online Capable instead of Enabled. A GICC with neither
 * flag is ignored by the kernel.
 */
#include "acpi/table.h"

#include <errno.h>

#define MADT_REVISION		6	/* ACPI 6.5 */
#define MADT_GICC_TYPE		0x0B
#define MADT_GICC_LEN		82	/* ACPI 6.5: up to TRBE Interrupt */
#define MADT_GICD_TYPE		0x0C
#define MADT_GICD_LEN		24
#define MADT_GICR_TYPE		0x0E
#define MADT_GICR_LEN		16

#define GICC_ENABLED		(1u << 0)
#define GICC_ONLINE_CAPABLE	(1u << 3)
#define GICD_VERSION_GICV3	3

static void gicc_write(uint8_t *t, const struct acpi_platform *p, const struct acpi_cpu *c)
{
	uint32_t flags = c->enabled ? GICC_ENABLED : GICC_ONLINE_CAPABLE;

	acpi_put8(t, 0, MADT_GICC_TYPE);	/* Type */
	acpi_put8(t, 1, MADT_GICC_LEN);		/* Length */
	acpi_put16(t, 2, 0);			/* Reserved */
	acpi_put32(t, 4, c->uid);		/* CPU Interface Number */
	acpi_put32(t, 8, c->uid);		/* ACPI Processor UID: the Cnnn _UID */
	/* Flags: Performance/VGIC interrupt mode bits 0 = level-triggered. */
	acpi_put32(t, 12, flags);		/* Flags */
	acpi_put32(t, 16, 0);			/* Parking Protocol Version: PSCI instead */
	acpi_put32(t, 20, p->ppi_pmu);		/* Performance Interrupt GSIV, 0: no PMU */
	acpi_put64(t, 24, 0);			/* Parked Address */
	acpi_put64(t, 32, 0);			/* Physical Base Address: GICv3 uses sysregs */
	acpi_put64(t, 40, 0);			/* GICV */
	acpi_put64(t, 48, 0);			/* GICH */
	acpi_put32(t, 56, 0);			/* VGIC Maintenance interrupt: no EL2 */
	acpi_put64(t, 60, 0);			/* GICR Base Address: use the GICR entry */
	acpi_put64(t, 68, c->mpidr);		/* MPIDR */
	acpi_put8(t, 76, 0);			/* Processor Power Efficiency Class */
	acpi_put8(t, 77, 0);			/* Reserved */
	acpi_put16(t, 78, 0);			/* SPE overflow Interrupt: none */
	acpi_put16(t, 80, 0);			/* TRBE Interrupt: none */
}

int madt_build(const struct acpi_platform *p, uint8_t *t, size_t cap, uint32_t *len)
{
	size_t l = 44 + (size_t)p->nr_cpus * MADT_GICC_LEN + MADT_GICD_LEN +
		   (size_t)p->nr_gicr * MADT_GICR_LEN;
	size_t off = 44;

	if (cap < l)
		return -ENOSPC;
	acpi_header_write(t, "APIC", l, MADT_REVISION);
	acpi_put32(t, 36, 0);			/* Local Interrupt Controller Address */
	acpi_put32(t, 40, 0);			/* Flags: no PCAT_COMPAT */

	for (unsigned i = 0; i < p->nr_cpus; i++, off += MADT_GICC_LEN)
		gicc_write(t + off, p, &p->cpus[i]);

	acpi_put8(t, off + 0, MADT_GICD_TYPE);		/* Type */
	acpi_put8(t, off + 1, MADT_GICD_LEN);		/* Length */
	acpi_put16(t, off + 2, 0);			/* Reserved */
	acpi_put32(t, off + 4, 0);			/* GIC ID */
	acpi_put64(t, off + 8, p->gicd_base);		/* Physical Base Address */
	acpi_put32(t, off + 16, 0);			/* System Vector Base: must be 0 */
	acpi_put8(t, off + 20, GICD_VERSION_GICV3);	/* GIC version */
	acpi_put8(t, off + 21, 0);			/* Reserved */
	acpi_put16(t, off + 22, 0);
	off += MADT_GICD_LEN;

	/*
	 * The ranges cover every possible vCPU's redistributor, hot-added ones
	 * too: with GICR entries Linux finds a CPU's redistributor by scanning
	 * them, so an Online Capable CPU's is reachable before it is enabled.
	 */
	for (unsigned i = 0; i < p->nr_gicr; i++, off += MADT_GICR_LEN) {
		acpi_put8(t, off + 0, MADT_GICR_TYPE);		/* Type */
		acpi_put8(t, off + 1, MADT_GICR_LEN);		/* Length */
		acpi_put16(t, off + 2, 0);			/* Reserved */
		acpi_put64(t, off + 4, p->gicr[i].base);	/* Discovery Range Base Address */
		acpi_put32(t, off + 12, (uint32_t)p->gicr[i].length);	/* Discovery Range Length */
	}

	acpi_table_finish(t, l);
	*len = l;
	return 0;
}
