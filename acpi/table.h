/*
 * Private to acpi/: helpers shared by the fixed-table builders, and the
 * builders themselves. Every builder writes one table at t (cap bytes) and
 * returns its length through *len; -ENOSPC if it does not fit.
 */
#ifndef ACPI_TABLE_H
#define ACPI_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "acpi/acpi.h"

#define ACPI_OEM_ID		"VMMVMM"
#define ACPI_OEM_TABLE_ID	"VMMTABLE"
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"VMM "
#define ACPI_CREATOR_REVISION	1

#define ACPI_HEADER_LEN		36	/* System Description Table Header */

/* Generic Address Structure Address Space ID and Access Size. */
#define ACPI_GAS_SYSTEM_MEMORY	0
#define ACPI_GAS_ACCESS_DWORD	3

/* Upper bound on possible vCPUs: Cnnn names hold a 3-hex-digit UID. */
#define ACPI_MAX_CPUS		4096

static inline void acpi_put8(uint8_t *t, size_t off, uint8_t v)
{
	t[off] = v;
}

static inline void acpi_put16(uint8_t *t, size_t off, uint16_t v)
{
	t[off] = v;
	t[off + 1] = v >> 8;
}

static inline void acpi_put32(uint8_t *t, size_t off, uint32_t v)
{
	acpi_put16(t, off, v);
	acpi_put16(t, off + 2, v >> 16);
}

static inline void acpi_put64(uint8_t *t, size_t off, uint64_t v)
{
	acpi_put32(t, off, v);
	acpi_put32(t, off + 4, v >> 32);
}

/* Copy s into a fixed-size field, padding with NULs. */
void acpi_put_str(uint8_t *t, size_t off, const char *s, size_t field_len);
/* Byte sum of len bytes (a table is valid when this is 0). */
uint8_t acpi_sum(const uint8_t *t, size_t len);
/* The common header with our OEM/creator ids; checksum 0 until acpi_table_finish. */
void acpi_header_write(uint8_t *t, const char *signature, uint32_t len, uint8_t revision);
/* Set the header checksum so the table sums to zero. */
void acpi_table_finish(uint8_t *t, uint32_t len);
/* Generic Address Structure at t + off. */
void acpi_gas_write(uint8_t *t, size_t off, uint8_t space, uint8_t bit_width,
		    uint8_t bit_offset, uint8_t access_size, uint64_t address);

int rsdp_build(uint8_t *t, size_t cap, uint64_t xsdt_gpa, uint32_t *len) WUR;
int xsdt_build(uint8_t *t, size_t cap, const uint64_t *entries, unsigned n, uint32_t *len) WUR;
int fadt_build(uint8_t *t, size_t cap, uint64_t dsdt_gpa, uint32_t *len) WUR;
int madt_build(const struct acpi_platform *p, uint8_t *t, size_t cap, uint32_t *len) WUR;
int gtdt_build(const struct acpi_platform *p, uint8_t *t, size_t cap, uint32_t *len) WUR;
int spcr_build(const struct acpi_platform *p, uint8_t *t, size_t cap, uint32_t *len) WUR;
int dsdt_build(const struct acpi_platform *p, uint8_t *t, size_t cap, uint32_t *len) WUR;

#endif
