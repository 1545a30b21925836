/*
 * Private to acpi/: the parts of the DSDT. The register maps its AML drives
 * are in include/hotplug_regs.h, shared with the device models.
 */
#ifndef ACPI_DSDT_H
#define ACPI_DSDT_H

#include "acpi/acpi.h"
#include "acpi/aml.h"
#include "hotplug_regs.h"

/* What the AML's Fields cover of the two register blocks. */
#define DSDT_CPUHP_REGION_LEN		(CPUHP_REG_NEXT_EVENT + 4)
#define DSDT_GED_REGION_LEN		4

/* _STA values: Present | Shown in UI | Functioning, plus Enabled. */
#define DSDT_STA_PRESENT_DISABLED	0x0D
#define DSDT_STA_PRESENT_ENABLED	0x0F

/* Notify values (ACPI 6.5 table 5.166). */
#define DSDT_NOTIFY_BUS_CHECK		0
#define DSDT_NOTIFY_DEVICE_CHECK	1
#define DSDT_NOTIFY_EJECT_REQUEST	3

/* Path of the scan method the GED's _EVT calls. */
#define DSDT_CPU_SCAN_PATH		"\\_SB.CPUS.CSCN"

/* Device CPUS: the processor container with every possible vCPU. */
struct aml *dsdt_cpus(struct aml_ctx *ctx, const struct acpi_platform *p);

#endif
