/*
 * The vCPU count target: a resize that returns at once and converges in the
 * background (the REST dialect's vm.resize). A timer on the event loop walks
 * the hotplug controller one CPU at a time towards the latest target: add the
 * lowest disabled CPU, remove the highest enabled one. A new target replaces
 * an unfinished one. A CPU the guest does not eject in time is cancelled
 * (it stays enabled and the VM consistent) and the reason is kept for vm.info
 * until the next target. Loop thread only.
 */
#ifndef VMM_CPU_TARGET_H
#define VMM_CPU_TARGET_H

#include <stddef.h>
#include "compiler.h"
#include "vmm/vm_api.h"

struct event_base;
struct cpu_target;

enum cpu_target_state {
	CPU_TARGET_IDLE,	/* no target, or reached */
	CPU_TARGET_CONVERGING,
	CPU_TARGET_STALLED,	/* the guest refused or the VM failed: see reason */
};

struct cpu_target_status {
	enum cpu_target_state state;
	int target;		/* -1: never set */
	int step_cpu;		/* the CPU being added or removed, -1: none */
	char reason[160];	/* why it stalled, or what it waits for */
};

#define CPU_TARGET_TICK_MS		10
#define CPU_TARGET_ADD_ACK_MS		5000	/* a hotplug event not taken yet: say so */
#define CPU_TARGET_REMOVE_MS		30000	/* offline and eject by the guest */

int cpu_target_new(struct cpu_target **out, struct event_base *base, const struct vm_api_ops *ops,
		   void *vm) WUR;
void cpu_target_free(struct cpu_target *t);
/* Test hook: shorter waits for the guest. */
void cpu_target_set_timeouts(struct cpu_target *t, int add_ack_ms, int remove_ms);
/* 0, or -EINVAL (n outside 1..possible vCPUs), or the VM's -errno. */
int cpu_target_set(struct cpu_target *t, unsigned n) WUR;
void cpu_target_status(const struct cpu_target *t, struct cpu_target_status *out);
const char *cpu_target_state_name(enum cpu_target_state s);

#endif
