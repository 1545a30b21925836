#include "devices/bus.h"

#include <errno.h>
#include <string.h>

void mmio_bus_init(struct mmio_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int mmio_bus_register(struct mmio_bus *bus, uint64_t base, uint64_t size,
		      const struct mmio_ops *ops, void *opaque, const char *name)
{
	if (size == 0 || base + size < base || !ops)
		return -EINVAL;
	for (unsigned i = 0; i < bus->count; i++) {
		const struct mmio_region *r = &bus->regions[i];
		if (base < r->base + r->size && r->base < base + size)
			return -EEXIST;
	}
	if (bus->count == MMIO_BUS_MAX_REGIONS)
		return -ENOSPC;
	bus->regions[bus->count++] = (struct mmio_region){
		.base = base, .size = size, .ops = ops, .opaque = opaque, .name = name,
	};
	return 0;
}

const struct mmio_region *mmio_bus_find(const struct mmio_bus *bus, uint64_t addr)
{
	for (unsigned i = 0; i < bus->count; i++) {
		const struct mmio_region *r = &bus->regions[i];
		if (addr >= r->base && addr - r->base < r->size)
			return r;
	}
	return NULL;
}

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

bool mmio_bus_read(const struct mmio_bus *bus, uint64_t addr, unsigned size, uint64_t *value)
{
	const struct mmio_region *r = mmio_bus_find(bus, addr);
	if (!r || !r->ops->read) {
		*value = all_ones(size);
		return r != NULL;
	}
	*value = r->ops->read(r->opaque, addr - r->base, size) & all_ones(size);
	return true;
}

bool mmio_bus_write(const struct mmio_bus *bus, uint64_t addr, unsigned size, uint64_t value)
{
	const struct mmio_region *r = mmio_bus_find(bus, addr);
	if (!r)
		return false;
	if (r->ops->write)
		r->ops->write(r->opaque, addr - r->base, value & all_ones(size), size);
	return true;
}
