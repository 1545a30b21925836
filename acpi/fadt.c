/*
 * Fixed ACPI Description Table, revision 6.5 (ACPI 6.5 section 5.2.9).
 * arm64 is hardware-reduced: no PM blocks, no SCI, no FACS; the boot
 * architecture flags tell the OS to bring CPUs up with PSCI over HVC.
 */
#include "acpi/table.h"

#include <errno.h>

#define FADT_LEN		276
#define FADT_REVISION		6
#define FADT_MINOR_VERSION	5

#define FADT_HW_REDUCED_ACPI	(1u << 20)	/* Fixed Feature Flags */
#define FADT_PSCI_COMPLIANT	(1u << 0)	/* ARM_BOOT_ARCH */
#define FADT_PSCI_USE_HVC	(1u << 1)

static void gas_none(uint8_t *t, size_t off)
{
	acpi_gas_write(t, off, 0, 0, 0, 0, 0);
}

int fadt_build(uint8_t *t, size_t cap, uint64_t dsdt_gpa, uint32_t *len)
{
	if (cap < FADT_LEN)
		return -ENOSPC;
	acpi_header_write(t, "FACP", FADT_LEN, FADT_REVISION);
	acpi_put32(t, 36, 0);		/* FIRMWARE_CTRL: no FACS (HW-reduced) */
	acpi_put32(t, 40, 0);		/* DSDT: must be 0 when X_DSDT is used */
	acpi_put8(t, 44, 0);		/* Reserved */
	acpi_put8(t, 45, 0);		/* Preferred_PM_Profile: Unspecified */
	acpi_put16(t, 46, 0);		/* SCI_INT: none on HW-reduced */
	acpi_put32(t, 48, 0);		/* SMI_CMD */
	acpi_put8(t, 52, 0);		/* ACPI_ENABLE */
	acpi_put8(t, 53, 0);		/* ACPI_DISABLE */
	acpi_put8(t, 54, 0);		/* S4BIOS_REQ */
	acpi_put8(t, 55, 0);		/* PSTATE_CNT */
	acpi_put32(t, 56, 0);		/* PM1a_EVT_BLK */
	acpi_put32(t, 60, 0);		/* PM1b_EVT_BLK */
	acpi_put32(t, 64, 0);		/* PM1a_CNT_BLK */
	acpi_put32(t, 68, 0);		/* PM1b_CNT_BLK */
	acpi_put32(t, 72, 0);		/* PM2_CNT_BLK */
	acpi_put32(t, 76, 0);		/* PM_TMR_BLK */
	acpi_put32(t, 80, 0);		/* GPE0_BLK */
	acpi_put32(t, 84, 0);		/* GPE1_BLK */
	acpi_put8(t, 88, 0);		/* PM1_EVT_LEN */
	acpi_put8(t, 89, 0);		/* PM1_CNT_LEN */
	acpi_put8(t, 90, 0);		/* PM2_CNT_LEN */
	acpi_put8(t, 91, 0);		/* PM_TMR_LEN */
	acpi_put8(t, 92, 0);		/* GPE0_BLK_LEN */
	acpi_put8(t, 93, 0);		/* GPE1_BLK_LEN */
	acpi_put8(t, 94, 0);		/* GPE1_BASE */
	acpi_put8(t, 95, 0);		/* CST_CNT */
	acpi_put16(t, 96, 0);		/* P_LVL2_LAT */
	acpi_put16(t, 98, 0);		/* P_LVL3_LAT */
	acpi_put16(t, 100, 0);		/* FLUSH_SIZE */
	acpi_put16(t, 102, 0);		/* FLUSH_STRIDE */
	acpi_put8(t, 104, 0);		/* DUTY_OFFSET */
	acpi_put8(t, 105, 0);		/* DUTY_WIDTH */
	acpi_put8(t, 106, 0);		/* DAY_ALRM */
	acpi_put8(t, 107, 0);		/* MON_ALRM */
	acpi_put8(t, 108, 0);		/* CENTURY */
	acpi_put16(t, 109, 0);		/* IAPC_BOOT_ARCH: x86 only */
	acpi_put8(t, 111, 0);		/* Reserved */
	acpi_put32(t, 112, FADT_HW_REDUCED_ACPI);	/* Flags */
	gas_none(t, 116);		/* RESET_REG: reset is PSCI SYSTEM_RESET */
	acpi_put8(t, 128, 0);		/* RESET_VALUE */
	acpi_put16(t, 129, FADT_PSCI_COMPLIANT | FADT_PSCI_USE_HVC);	/* ARM_BOOT_ARCH */
	acpi_put8(t, 131, FADT_MINOR_VERSION);	/* FADT Minor Version */
	acpi_put64(t, 132, 0);		/* X_FIRMWARE_CTRL */
	acpi_put64(t, 140, dsdt_gpa);	/* X_DSDT */
	gas_none(t, 148);		/* X_PM1a_EVT_BLK */
	gas_none(t, 160);		/* X_PM1b_EVT_BLK */
	gas_none(t, 172);		/* X_PM1a_CNT_BLK */
	gas_none(t, 184);		/* X_PM1b_CNT_BLK */
	gas_none(t, 196);		/* X_PM2_CNT_BLK */
	gas_none(t, 208);		/* X_PM_TMR_BLK */
	gas_none(t, 220);		/* X_GPE0_BLK */
	gas_none(t, 232);		/* X_GPE1_BLK */
	gas_none(t, 244);		/* SLEEP_CONTROL_REG */
	gas_none(t, 256);		/* SLEEP_STATUS_REG */
	acpi_put_str(t, 268, "VMMVMM", 8);	/* Hypervisor Vendor Identity */
	acpi_table_finish(t, FADT_LEN);
	*len = FADT_LEN;
	return 0;
}
