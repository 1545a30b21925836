/*
 * ACPI Generic Event Device (ACPI0013): one event-selector register whose
 * bits say which events are pending; reading it returns and clears them.
 * Its SPI is level-triggered and asserted while any event is pending.
 */
#ifndef DEVICES_GED_H
#define DEVICES_GED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"
#include "devices/bus.h"
#include "hotplug_regs.h"


/* Drives the interrupt line; level true = asserted. */
typedef int (*ged_set_irq_fn)(void *opaque, bool level);

struct ged {
	pthread_mutex_t lock;
	uint32_t pending;
	bool level;
	ged_set_irq_fn set_irq;
	void *irq_opaque;
};

extern const struct mmio_ops ged_mmio_ops;

int ged_init(struct ged *ged, ged_set_irq_fn set_irq, void *irq_opaque) WUR;
void ged_destroy(struct ged *ged);
/* Latch event bits and assert the line. */
int ged_raise(struct ged *ged, uint32_t events) WUR;

#endif
