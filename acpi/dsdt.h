/*
 * Private to acpi/: the parts of the DSDT, and the hardware register maps
 * its AML drives. The maps mirror devices/cpuhp.h and devices/ged.h (acpi/
 * may not include device headers); tests/unit/acpi checks they agree.
 */
#ifndef ACPI_DSDT_H
#define ACPI_DSDT_H

#include "acpi/acpi.h"
#include "acpi/aml.h"

#define DSDT_CPUHP_REG_SELECT		0x00
#define DSDT_CPUHP_REG_STATUS		0x04
#define DSDT_CPUHP_REG_COMMAND		0x08
#define DSDT_CPUHP_REG_OST_EVENT	0x0c
#define DSDT_CPUHP_REG_OST_STATUS	0x10
#define DSDT_CPUHP_REG_COUNT		0x14
#define DSDT_CPUHP_REGION_LEN		0x18	/* what the Field covers */

#define DSDT_CPUHP_STATUS_ENABLED	(1u << 0)
#define DSDT_CPUHP_STATUS_INSERT	(1u << 1)
#define DSDT_CPUHP_STATUS_REMOVE	(1u << 2)

#define DSDT_CPUHP_CMD_CLEAR_INSERT	1
#define DSDT_CPUHP_CMD_CLEAR_REMOVE	2
#define DSDT_CPUHP_CMD_EJECT		3

#define DSDT_GED_REG_EVENT		0x00
#define DSDT_GED_REGION_LEN		4
#define DSDT_GED_EVENT_CPU_HOTPLUG	(1u << 0)

/* _STA values: Present | Shown in UI | Functioning, plus Enabled. */
#define DSDT_STA_PRESENT_DISABLED	0x0D
#define DSDT_STA_PRESENT_ENABLED	0x0F

/* Notify values (ACPI 6.5 table 5.166). */
#define DSDT_NOTIFY_DEVICE_CHECK	1
#define DSDT_NOTIFY_EJECT_REQUEST	3

/* Path of the scan method the GED's _EVT calls. */
#define DSDT_CPU_SCAN_PATH		"\\_SB.CPUS.CSCN"

/* Device CPUS: the processor container with every possible vCPU. */
struct aml *dsdt_cpus(struct aml_ctx *ctx, const struct acpi_platform *p);

#endif
