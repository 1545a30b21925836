/*
 * The hotplug state of a vCPU: the one source of truth for whether the
 * firmware lets the guest use it. A pure state machine over the vCPU table
 * (struct psci_cpus); the caller serialises every call with one lock and
 * carries out the consequences (raise the GED, log, report).
 *
 *   disabled --add--> insert-pending --scan acks--> enabled
 *   enabled --remove--> remove-requested --scan acks--> remove-acknowledged
 *   remove-requested | remove-acknowledged --_EJ0 while off--> ejected
 *   ejected --the guest's _OST for the eject--> disabled
 *   remove-requested --cancel--> enabled
 *   remove-acknowledged --cancel--> insert-pending (the guest is notified again)
 *
 * Every state but disabled and ejected is "enabled" for the guest: _STA
 * reads Enabled and PSCI CPU_ON may start it. Whether it runs is the PSCI
 * power state. Ejected is disabled for the guest, but the removal is not
 * over: Linux re-reads _STA after _EJ0 and only then reports the eject with
 * _OST; an insert before that would make the CPU look not ejected.
 */
#ifndef ARCH_ARM64_CPU_HP_H
#define ARCH_ARM64_CPU_HP_H

#include <stdbool.h>
#include "compiler.h"

enum cpu_hp_state {
	CPU_HP_DISABLED,
	CPU_HP_INSERT_PENDING,		/* enabled; insert event not yet taken by the scan */
	CPU_HP_ENABLED,
	CPU_HP_REMOVE_REQUESTED,	/* remove event not yet taken by the scan */
	CPU_HP_REMOVE_ACKED,		/* the guest was asked to eject it */
	CPU_HP_EJECTED,			/* disabled by _EJ0; the guest's _OST not yet seen */
};
#define CPU_HP_NR_STATES (CPU_HP_EJECTED + 1)

struct psci_cpus;

const char *cpu_hp_state_name(enum cpu_hp_state s);
/* _STA Enabled, and PSCI CPU_ON allowed. */
bool cpu_hp_is_enabled(enum cpu_hp_state s);
/* An insert or remove event waits for the guest's scan. */
bool cpu_hp_has_event(enum cpu_hp_state s);

/*
 * Transitions: 0 or -errno, and nothing changes on error.
 * -ENOENT: no such vCPU. The others are per function.
 */
/* disabled -> insert-pending. -EALREADY enabled, -EBUSY being removed (or ejected). */
int cpu_hp_add(struct psci_cpus *cpus, unsigned id) WUR;
/* enabled -> remove-requested. -EPERM vCPU 0, -ENODEV disabled or ejected, -EBUSY add or remove in flight. */
int cpu_hp_request_remove(struct psci_cpus *cpus, unsigned id) WUR;
/* The scan took the insert event: insert-pending -> enabled. -EINVAL otherwise. */
int cpu_hp_ack_insert(struct psci_cpus *cpus, unsigned id) WUR;
/* The scan took the remove event: remove-requested -> remove-acknowledged. -EINVAL otherwise. */
int cpu_hp_ack_remove(struct psci_cpus *cpus, unsigned id) WUR;
/*
 * The guest's _EJ0: remove-requested or remove-acknowledged -> ejected, for
 * a vCPU that is powered off. -EPERM vCPU 0, -EINVAL removal not requested,
 * -EBUSY still on (or starting). Clears the vCPU's started flag.
 */
int cpu_hp_eject(struct psci_cpus *cpus, unsigned id) WUR;
/*
 * The removal is over: ejected -> disabled. On the guest's _OST for the
 * eject, or when the guest never sends one in time. -EINVAL otherwise.
 */
int cpu_hp_eject_done(struct psci_cpus *cpus, unsigned id) WUR;
/*
 * Drop a removal the guest did not complete. remove-requested -> enabled
 * (the guest never saw it); remove-acknowledged -> insert-pending and
 * *notify set: the guest must be told (insert event). -EALREADY: the
 * guest ejected it already (ejected or disabled); -EINVAL: no removal in flight.
 */
int cpu_hp_cancel_remove(struct psci_cpus *cpus, unsigned id, bool *notify) WUR;
/* The lowest vCPU with an event for the scan, or -ENOENT. */
int cpu_hp_next_event(const struct psci_cpus *cpus) WUR;

#endif
