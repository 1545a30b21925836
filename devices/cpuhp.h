/*
 * CPU hotplug register block, read and written only by the DSDT's AML.
 * Register map: docs/hotplug.md. The block holds only its own registers
 * (the selector, the latched _OST event, an access counter): the state of
 * each CPU belongs to the VMM, which the block asks through its ops.
 * Thread-safe.
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

/*
 * Called without the device lock held, on the vCPU thread running the AML;
 * cpu is always < nr_cpus. A missing op reads as 0 / no event / ignored.
 */
struct cpuhp_ops {
	/* CPUHP_STATUS_* bits of cpu. */
	uint32_t (*status)(void *opaque, unsigned cpu);
	/* A COMMAND write; the VMM decides whether the CPU's state allows it. */
	void (*command)(void *opaque, unsigned cpu, uint32_t cmd);
	/* The lowest CPU with a pending insert or remove event, or < 0. */
	int (*next_event)(void *opaque);
	void (*ost)(void *opaque, unsigned cpu, uint32_t event, uint32_t status);
};

struct cpuhp {
	pthread_mutex_t lock;
	unsigned nr_cpus;
	uint32_t selected;
	uint32_t ost_event;
	uint64_t accesses;	/* register reads and writes: each is a guest exit */
	const struct cpuhp_ops *ops;
	void *opaque;
};

extern const struct mmio_ops cpuhp_mmio_ops;

int cpuhp_init(struct cpuhp *hp, unsigned nr_cpus, const struct cpuhp_ops *ops, void *opaque) WUR;
void cpuhp_destroy(struct cpuhp *hp);
/* Register accesses so far (the guest exits the block cost). */
uint64_t cpuhp_accesses(struct cpuhp *hp);

#endif
