/* Helpers shared by the fixed-table builders (ACPI 6.5 section 5.2). */
#include "acpi/table.h"

#include <string.h>

void acpi_put_str(uint8_t *t, size_t off, const char *s, size_t field_len)
{
	size_t n = strnlen(s, field_len);

	memcpy(t + off, s, n);
	memset(t + off + n, 0, field_len - n);
}

uint8_t acpi_sum(const uint8_t *t, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += t[i];
	return sum;
}

void acpi_header_write(uint8_t *t, const char *signature, uint32_t len, uint8_t revision)
{
	acpi_put_str(t, 0, signature, 4);			/* Signature */
	acpi_put32(t, 4, len);					/* Length */
	acpi_put8(t, 8, revision);				/* Revision */
	acpi_put8(t, 9, 0);					/* Checksum */
	acpi_put_str(t, 10, ACPI_OEM_ID, 6);			/* OEMID */
	acpi_put_str(t, 16, ACPI_OEM_TABLE_ID, 8);		/* OEM Table ID */
	acpi_put32(t, 24, ACPI_OEM_REVISION);			/* OEM Revision */
	acpi_put_str(t, 28, ACPI_CREATOR_ID, 4);		/* Creator ID */
	acpi_put32(t, 32, ACPI_CREATOR_REVISION);		/* Creator Revision */
}

void acpi_table_finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = -acpi_sum(t, len);
}

void acpi_gas_write(uint8_t *t, size_t off, uint8_t space, uint8_t bit_width,
		    uint8_t bit_offset, uint8_t access_size, uint64_t address)
{
	acpi_put8(t, off + 0, space);		/* Address Space ID */
	acpi_put8(t, off + 1, bit_width);	/* Register Bit Width */
	acpi_put8(t, off + 2, bit_offset);	/* Register Bit Offset */
	acpi_put8(t, off + 3, access_size);	/* Access Size */
	acpi_put64(t, off + 4, address);	/* Address */
}
