/*
 * CPU hotplug register block, read and written only by the DSDT's AML.
 * Register map: docs/hotplug.md. Holds, per possible CPU, the firmware view:
 * Enabled and the pending insert/remove events. Thread-safe.
 */
#ifndef DEVICES_CPUHP_H
#define DEVICES_CPUHP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"
#include "devices/bus.h"
#include "hotplug_regs.h"

#define CPUHP_MAX_CPUS		512

struct cpuhp_ops {
	/* Called without the device lock held, from the vCPU thread running the AML. */
	void (*ejected)(void *opaque, unsigned cpu);
	void (*ost)(void *opaque, unsigned cpu, uint32_t event, uint32_t status);
};

struct cpuhp {
	pthread_mutex_t lock;
	unsigned nr_cpus;
	uint32_t selected;
	uint32_t ost_event;
	uint8_t state[CPUHP_MAX_CPUS];	/* CPUHP_STATUS_* bits */
	const struct cpuhp_ops *ops;
	void *opaque;
};

extern const struct mmio_ops cpuhp_mmio_ops;

int cpuhp_init(struct cpuhp *hp, unsigned nr_cpus, const struct cpuhp_ops *ops, void *opaque) WUR;
void cpuhp_destroy(struct cpuhp *hp);
/* The current CPUHP_STATUS_* bits of a CPU (0 for an id out of range). */
uint32_t cpuhp_status(struct cpuhp *hp, unsigned cpu);
/* Boot-time state: Enabled without an event. */
int cpuhp_set_boot_enabled(struct cpuhp *hp, unsigned cpu) WUR;
/* Set Enabled and queue an insert event. -EINVAL bad id, -EALREADY enabled. */
int cpuhp_insert(struct cpuhp *hp, unsigned cpu) WUR;
/* Queue a remove event. -EINVAL bad id, -ENODEV not enabled. */
int cpuhp_request_remove(struct cpuhp *hp, unsigned cpu) WUR;
/* Drop a pending remove that timed out, keeping Enabled. */
void cpuhp_cancel_remove(struct cpuhp *hp, unsigned cpu);

#endif
