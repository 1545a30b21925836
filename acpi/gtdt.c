/*
 * Generic Timer Description Table, revision 2 (ACPI 6.5 section 5.2.25;
 * revision 3 only adds the virtual EL2 timer, which the guest cannot use).
 */
#include "acpi/table.h"

#include <errno.h>

#define GTDT_LEN		96
#define GTDT_REVISION		2

/* Timer flags: bit 0 mode (0 = level), bit 1 polarity (0 = active high). */
#define GTDT_TIMER_LEVEL_HIGH	0
#define GTDT_ALWAYS_ON		(1u << 2)	/* Common Flags: always-on capability */

int gtdt_build(const struct acpi_platform *p, uint8_t *t, size_t cap, uint32_t *len)
{
	if (cap < GTDT_LEN)
		return -ENOSPC;
	acpi_header_write(t, "GTDT", GTDT_LEN, GTDT_REVISION);
	acpi_put64(t, 36, UINT64_MAX);		/* CntControlBase Physical Address: none */
	acpi_put32(t, 44, 0);			/* Reserved */
	acpi_put32(t, 48, p->ppi_sec_phys_timer);	/* Secure EL1 Timer GSIV */
	acpi_put32(t, 52, GTDT_TIMER_LEVEL_HIGH | GTDT_ALWAYS_ON);	/* Secure EL1 Timer Flags */
	acpi_put32(t, 56, p->ppi_ns_phys_timer);	/* Non-Secure EL1 Timer GSIV */
	acpi_put32(t, 60, GTDT_TIMER_LEVEL_HIGH | GTDT_ALWAYS_ON);	/* Non-Secure EL1 Timer Flags */
	acpi_put32(t, 64, p->ppi_virt_timer);	/* Virtual EL1 Timer GSIV */
	acpi_put32(t, 68, GTDT_TIMER_LEVEL_HIGH | GTDT_ALWAYS_ON);	/* Virtual EL1 Timer Flags */
	acpi_put32(t, 72, p->ppi_hyp_timer);	/* EL2 Timer GSIV */
	acpi_put32(t, 76, GTDT_TIMER_LEVEL_HIGH | GTDT_ALWAYS_ON);	/* EL2 Timer Flags */
	acpi_put64(t, 80, UINT64_MAX);		/* CntReadBase Physical Address: none */
	acpi_put32(t, 88, 0);			/* Platform Timer Count */
	acpi_put32(t, 92, 0);			/* Platform Timer Offset: no entries */
	acpi_table_finish(t, GTDT_LEN);
	*len = GTDT_LEN;
	return 0;
}
