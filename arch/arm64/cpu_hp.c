#include "arch/arm64/cpu_hp.h"

#include <errno.h>
#include <stddef.h>

#include "arch/arm64/psci.h"

const char *cpu_hp_state_name(enum cpu_hp_state s)
{
	switch (s) {
	case CPU_HP_DISABLED: return "disabled";
	case CPU_HP_INSERT_PENDING: return "insert-pending";
	case CPU_HP_ENABLED: return "enabled";
	case CPU_HP_REMOVE_REQUESTED: return "remove-requested";
	case CPU_HP_REMOVE_ACKED: return "remove-acknowledged";
	case CPU_HP_EJECTED: return "ejected";
	}
	return "invalid";
}

bool cpu_hp_is_enabled(enum cpu_hp_state s)
{
	return s == CPU_HP_INSERT_PENDING || s == CPU_HP_ENABLED ||
	       s == CPU_HP_REMOVE_REQUESTED || s == CPU_HP_REMOVE_ACKED;
}

bool cpu_hp_has_event(enum cpu_hp_state s)
{
	return s == CPU_HP_INSERT_PENDING || s == CPU_HP_REMOVE_REQUESTED;
}

static struct psci_cpu *cpu_of(struct psci_cpus *cpus, unsigned id)
{
	return cpus && id < cpus->count ? &cpus->cpu[id] : NULL;
}

int cpu_hp_add(struct psci_cpus *cpus, unsigned id)
{
	struct psci_cpu *c = cpu_of(cpus, id);

	if (!c)
		return -ENOENT;
	switch (c->hp) {
	case CPU_HP_DISABLED:
		c->hp = CPU_HP_INSERT_PENDING;
		return 0;
	case CPU_HP_REMOVE_REQUESTED:
	case CPU_HP_REMOVE_ACKED:
	case CPU_HP_EJECTED:
		return -EBUSY;
	default:
		return -EALREADY;
	}
}

int cpu_hp_request_remove(struct psci_cpus *cpus, unsigned id)
{
	struct psci_cpu *c = cpu_of(cpus, id);

	if (!c)
		return -ENOENT;
	if (id == 0)
		return -EPERM;
	switch (c->hp) {
	case CPU_HP_ENABLED:
		c->hp = CPU_HP_REMOVE_REQUESTED;
		return 0;
	case CPU_HP_DISABLED:
	case CPU_HP_EJECTED:
		return -ENODEV;
	default:
		return -EBUSY;
	}
}

static int step(struct psci_cpus *cpus, unsigned id, enum cpu_hp_state from, enum cpu_hp_state to)
{
	struct psci_cpu *c = cpu_of(cpus, id);

	if (!c)
		return -ENOENT;
	if (c->hp != from)
		return -EINVAL;
	c->hp = to;
	return 0;
}

int cpu_hp_ack_insert(struct psci_cpus *cpus, unsigned id)
{
	return step(cpus, id, CPU_HP_INSERT_PENDING, CPU_HP_ENABLED);
}

int cpu_hp_ack_remove(struct psci_cpus *cpus, unsigned id)
{
	return step(cpus, id, CPU_HP_REMOVE_REQUESTED, CPU_HP_REMOVE_ACKED);
}

int cpu_hp_eject(struct psci_cpus *cpus, unsigned id)
{
	struct psci_cpu *c = cpu_of(cpus, id);

	if (!c)
		return -ENOENT;
	if (id == 0)
		return -EPERM;
	if (c->hp != CPU_HP_REMOVE_REQUESTED && c->hp != CPU_HP_REMOVE_ACKED)
		return -EINVAL;
	if (c->power != PSCI_POWER_OFF)
		return -EBUSY;
	c->hp = CPU_HP_EJECTED;
	c->started = false;	/* the next enable starts afresh */
	return 0;
}

int cpu_hp_eject_done(struct psci_cpus *cpus, unsigned id)
{
	return step(cpus, id, CPU_HP_EJECTED, CPU_HP_DISABLED);
}

int cpu_hp_cancel_remove(struct psci_cpus *cpus, unsigned id, bool *notify)
{
	struct psci_cpu *c = cpu_of(cpus, id);

	*notify = false;
	if (!c)
		return -ENOENT;
	switch (c->hp) {
	case CPU_HP_REMOVE_REQUESTED:
		c->hp = CPU_HP_ENABLED;
		return 0;
	case CPU_HP_REMOVE_ACKED:
		/* The guest may be ejecting it: tell it the CPU is back. */
		c->hp = CPU_HP_INSERT_PENDING;
		*notify = true;
		return 0;
	case CPU_HP_DISABLED:
	case CPU_HP_EJECTED:
		return -EALREADY;
	default:
		return -EINVAL;
	}
}

int cpu_hp_next_event(const struct psci_cpus *cpus)
{
	for (unsigned i = 0; cpus && i < cpus->count; i++) {
		if (cpu_hp_has_event(cpus->cpu[i].hp))
			return (int)i;
	}
	return -ENOENT;
}
