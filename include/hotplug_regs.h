/*
 * The register maps of the CPU hotplug block and the GED: the contract
 * between the device models (devices/) and the AML that drives them
 * (acpi/). Described in docs/hotplug.md.
 */
#ifndef VMM_HOTPLUG_REGS_H
#define VMM_HOTPLUG_REGS_H

/* CPU hotplug block: 32-bit registers. */
#define CPUHP_REG_SELECT	0x00	/* RW: CPU the other registers refer to */
#define CPUHP_REG_STATUS	0x04	/* RO: CPUHP_STATUS_* of the selected CPU */
#define CPUHP_REG_COMMAND	0x08	/* WO: CPUHP_CMD_* on the selected CPU */
#define CPUHP_REG_OST_EVENT	0x0c	/* WO: _OST source event, latched */
#define CPUHP_REG_OST_STATUS	0x10	/* WO: _OST status; reports (cpu, event, status) */
#define CPUHP_REG_COUNT		0x14	/* RO: number of possible CPUs */
#define CPUHP_REG_NEXT_EVENT	0x18	/* RO: lowest CPU with an event, selected; or NO_EVENT */
#define CPUHP_MMIO_SIZE		0x1000

#define CPUHP_NO_EVENT		0xFFFFFFFFu	/* NEXT_EVENT: nothing pending */

#define CPUHP_STATUS_ENABLED	(1u << 0)
#define CPUHP_STATUS_INSERT	(1u << 1)
#define CPUHP_STATUS_REMOVE	(1u << 2)

#define CPUHP_CMD_CLEAR_INSERT	1
#define CPUHP_CMD_CLEAR_REMOVE	2
#define CPUHP_CMD_EJECT		3	/* guest's _EJ0: the VMM disables the CPU if allowed */

/* Generic Event Device (ACPI0013). */
#define GED_REG_EVENT		0x00	/* RO, read-to-clear */
#define GED_MMIO_SIZE		0x1000
#define GED_EVENT_CPU_HOTPLUG	(1u << 0)

#endif
