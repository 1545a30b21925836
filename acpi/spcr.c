/*
 * Serial Port Console Redirection table, revision 2 (Microsoft SPCR spec).
 * Linux makes the PL011 its console from this (earlycon and the preferred
 * console); the UART device itself must also be in the DSDT.
 */
#include "acpi/table.h"

#include <errno.h>

#define SPCR_LEN		80
#define SPCR_REVISION		2
#define SPCR_IF_ARM_PL011	3
#define SPCR_IRQ_ARM_GIC	(1u << 3)	/* Interrupt Type: ARMH GIC interrupt */
#define SPCR_BAUD_115200	7
#define SPCR_TERMINAL_VT100	0

int spcr_build(const struct acpi_platform *p, uint8_t *t, size_t cap, uint32_t *len)
{
	if (cap < SPCR_LEN)
		return -ENOSPC;
	acpi_header_write(t, "SPCR", SPCR_LEN, SPCR_REVISION);
	acpi_put8(t, 36, SPCR_IF_ARM_PL011);	/* Interface Type */
	acpi_put8(t, 37, 0);			/* Reserved */
	acpi_put16(t, 38, 0);
	/* Base Address: 32-bit accesses, which Linux maps to iotype mmio32. */
	acpi_gas_write(t, 40, ACPI_GAS_SYSTEM_MEMORY, 32, 0, ACPI_GAS_ACCESS_DWORD, p->uart_base);
	acpi_put8(t, 52, SPCR_IRQ_ARM_GIC);	/* Interrupt Type */
	acpi_put8(t, 53, 0);			/* IRQ: PC-AT only */
	acpi_put32(t, 54, p->uart_gsi);		/* Global System Interrupt */
	acpi_put8(t, 58, SPCR_BAUD_115200);	/* Configured Baud Rate */
	acpi_put8(t, 59, 0);			/* Parity: none */
	acpi_put8(t, 60, 1);			/* Stop Bits: 1 */
	acpi_put8(t, 61, 0);			/* Flow Control: none */
	acpi_put8(t, 62, SPCR_TERMINAL_VT100);	/* Terminal Type */
	acpi_put8(t, 63, 0);			/* Language: reserved */
	acpi_put16(t, 64, 0xFFFF);		/* PCI Device ID: not a PCI device */
	acpi_put16(t, 66, 0xFFFF);		/* PCI Vendor ID: not a PCI device */
	acpi_put8(t, 68, 0);			/* PCI Bus Number */
	acpi_put8(t, 69, 0);			/* PCI Device Number */
	acpi_put8(t, 70, 0);			/* PCI Function Number */
	acpi_put32(t, 71, 0);			/* PCI Flags */
	acpi_put8(t, 75, 0);			/* PCI Segment */
	acpi_put32(t, 76, 0);			/* Reserved (UART Clock Frequency in rev 3) */
	acpi_table_finish(t, SPCR_LEN);
	*len = SPCR_LEN;
	return 0;
}
