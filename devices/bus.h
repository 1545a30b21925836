/* An MMIO bus: devices register a window and see offsets into it. */
#ifndef DEVICES_BUS_H
#define DEVICES_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"

struct mmio_ops {
	/* size is 1, 2, 4 or 8; offset is relative to the device's base. */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
	void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
};

struct mmio_region {
	uint64_t base;
	uint64_t size;
	const struct mmio_ops *ops;
	void *opaque;
	const char *name;
};

#define MMIO_BUS_MAX_REGIONS 48	/* the fixed devices and 32 virtio-mmio slots */

struct mmio_bus {
	struct mmio_region regions[MMIO_BUS_MAX_REGIONS];
	unsigned count;
};

void mmio_bus_init(struct mmio_bus *bus);
/* -EINVAL for an empty or wrapping window, -EEXIST on overlap, -ENOSPC when full. */
int mmio_bus_register(struct mmio_bus *bus, uint64_t base, uint64_t size,
		      const struct mmio_ops *ops, void *opaque, const char *name) WUR;
const struct mmio_region *mmio_bus_find(const struct mmio_bus *bus, uint64_t addr);
/* Returns false for an unmapped address: reads then yield all ones, writes are dropped. */
bool mmio_bus_read(const struct mmio_bus *bus, uint64_t addr, unsigned size, uint64_t *value);
bool mmio_bus_write(const struct mmio_bus *bus, uint64_t addr, unsigned size, uint64_t value);

#endif
