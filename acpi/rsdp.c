/* Root System Description Pointer, revision 2 (ACPI 6.5 section 5.2.5.3). */
#include "acpi/table.h"

#include <errno.h>

#define RSDP_LEN	36
#define RSDP_V1_LEN	20	/* the part the first checksum covers */

int rsdp_build(uint8_t *t, size_t cap, uint64_t xsdt_gpa, uint32_t *len)
{
	if (cap < RSDP_LEN)
		return -ENOSPC;
	acpi_put_str(t, 0, "RSD PTR ", 8);	/* Signature */
	acpi_put8(t, 8, 0);			/* Checksum (first 20 bytes) */
	acpi_put_str(t, 9, ACPI_OEM_ID, 6);	/* OEMID */
	acpi_put8(t, 15, 2);			/* Revision: 2 = ACPI 2.0+ with XSDT */
	acpi_put32(t, 16, 0);			/* RsdtAddress: no RSDT, XSDT only */
	acpi_put32(t, 20, RSDP_LEN);		/* Length */
	acpi_put64(t, 24, xsdt_gpa);		/* XsdtAddress */
	acpi_put8(t, 32, 0);			/* Extended Checksum */
	acpi_put8(t, 33, 0);			/* Reserved */
	acpi_put8(t, 34, 0);
	acpi_put8(t, 35, 0);
	t[8] = -acpi_sum(t, RSDP_V1_LEN);
	t[32] = -acpi_sum(t, RSDP_LEN);
	*len = RSDP_LEN;
	return 0;
}
