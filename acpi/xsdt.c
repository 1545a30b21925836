/* Extended System Description Table (ACPI 6.5 section 5.2.8). */
#include "acpi/table.h"

#include <errno.h>

#define XSDT_REVISION 1

int xsdt_build(uint8_t *t, size_t cap, const uint64_t *entries, unsigned n, uint32_t *len)
{
	uint32_t l = ACPI_HEADER_LEN + 8 * n;

	if (cap < l)
		return -ENOSPC;
	acpi_header_write(t, "XSDT", l, XSDT_REVISION);
	for (unsigned i = 0; i < n; i++)
		acpi_put64(t, ACPI_HEADER_LEN + 8 * i, entries[i]);	/* Entry[i] */
	acpi_table_finish(t, l);
	*len = l;
	return 0;
}
