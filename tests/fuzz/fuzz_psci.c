/*
 * libFuzzer target: the PSCI state machine and the per-vCPU hotplug state
 * machine together, as a hostile guest (any PSCI call, any arguments, from
 * any vCPU) and the VMM (add, remove, the scan's acknowledgements, ejects,
 * cancels) drive them in any order. After every step:
 *   - a CPU_ON succeeds only for a vCPU that was enabled;
 *   - vCPU 0 never leaves the enabled state;
 *   - every vCPU is in a legal hotplug and power state, and a disabled
 *     vCPU is powered off;
 *   - NEXT_EVENT names the lowest vCPU with an event.
 * Input: byte 0 picks the vCPU count (1..32), byte 1 the boot vCPUs, then
 * one step per 3 bytes (op, a, b), plus 16 bytes (function id, x1) for a raw
 * PSCI call. op bit 7: a hotplug step, else a PSCI call from vCPU a.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/cpu_hp.h"
#include "arch/arm64/psci.h"

#define MAX_CPUS 32

static void invariant(bool ok, const char *what, unsigned id)
{
	if (ok)
		return;
	fprintf(stderr, "invariant violated: %s (vCPU %u)\n", what, id);
	abort();
}

static uint64_t take64(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (int i = 0; i < 8 && *p < end; i++)
		v |= (uint64_t)*(*p)++ << (8 * i);
	return v;
}

static const uint32_t funcs[] = {
	PSCI_FN_CPU_ON, PSCI_FN64_CPU_ON, PSCI_FN_CPU_OFF, PSCI_FN_AFFINITY_INFO,
	PSCI_FN64_AFFINITY_INFO, PSCI_FN_VERSION, PSCI_FN_FEATURES, PSCI_FN_MIGRATE_INFO_TYPE,
	PSCI_FN_SYSTEM_OFF, PSCI_FN_SYSTEM_RESET, PSCI_FN_CPU_SUSPEND,
};

static void check_all(const struct psci_cpus *cpus)
{
	int first = -1;

	invariant(cpus->cpu[0].hp == CPU_HP_ENABLED, "vCPU 0 left the enabled state", 0);
	for (unsigned i = 0; i < cpus->count; i++) {
		const struct psci_cpu *c = &cpus->cpu[i];

		invariant((unsigned)c->hp < CPU_HP_NR_STATES, "illegal hotplug state", i);
		invariant(c->power == PSCI_POWER_OFF || c->power == PSCI_POWER_ON_PENDING ||
			  c->power == PSCI_POWER_ON, "illegal power state", i);
		bool off_for_guest = c->hp == CPU_HP_DISABLED || c->hp == CPU_HP_EJECTED;
		invariant(!off_for_guest || c->power == PSCI_POWER_OFF, "a disabled vCPU is powered", i);
		/* Thread names ("vcpuN") follow this: an ejected CPU is not in use. */
		invariant(!off_for_guest || !c->started, "a disabled vCPU counts as started", i);
		invariant(cpu_hp_is_enabled(c->hp) != off_for_guest, "enabled and disabled at once", i);
		invariant(c->power == PSCI_POWER_OFF || c->started, "a powered vCPU was never started", i);
		invariant(c->mpidr == arm64_mpidr_of_vcpu(i), "MPIDR changed", i);
		if (first < 0 && cpu_hp_has_event(c->hp))
			first = (int)i;
	}
	int next = cpu_hp_next_event(cpus);
	invariant(next == (first < 0 ? -ENOENT : first), "NEXT_EVENT is not the lowest event",
		  first < 0 ? 0 : (unsigned)first);
}

static void psci_step(struct psci_cpus *cpus, uint8_t op, uint8_t a, uint8_t b,
		      const uint8_t **p, const uint8_t *end)
{
	struct psci_result res;
	uint64_t args[3] = { 0, 0, 0 };
	unsigned caller = a % cpus->count;
	uint32_t func = funcs[b % (sizeof(funcs) / sizeof(funcs[0]))];
	unsigned target = (b >> 4) % cpus->count;
	enum cpu_hp_state before[MAX_CPUS];

	if (op & 0x10) {	/* raw call: any function id and arguments */
		func = (uint32_t)take64(p, end);
		args[0] = take64(p, end);
	} else {
		args[0] = arm64_mpidr_of_vcpu(target) | (op & 0x20 ? 1ull << 32 : 0);
	}
	args[1] = 0x40080000 + a;
	args[2] = b;
	for (unsigned i = 0; i < cpus->count; i++)
		before[i] = cpus->cpu[i].hp;
	psci_handle(cpus, caller, func, args, &res);

	bool is_on = (func & ~SMCCC_64BIT) == PSCI_FN_CPU_ON;
	if (is_on && res.x0 == PSCI_RET_SUCCESS) {
		invariant(res.action == PSCI_ACTION_START_TARGET && res.target < cpus->count,
			  "CPU_ON succeeded without a target", caller);
		invariant(cpu_hp_is_enabled(before[res.target]),
			  "CPU_ON succeeded for a vCPU that is not enabled", res.target);
		invariant(cpus->cpu[res.target].power == PSCI_POWER_ON_PENDING,
			  "CPU_ON succeeded but the target is not starting", res.target);
	}
	if (res.action == PSCI_ACTION_START_TARGET)
		invariant(is_on && res.x0 == PSCI_RET_SUCCESS, "a start without a CPU_ON", res.target);
	for (unsigned i = 0; i < cpus->count; i++)
		invariant(cpus->cpu[i].hp == before[i], "PSCI changed a hotplug state", i);
}

static void hotplug_step(struct psci_cpus *cpus, uint8_t op, uint8_t a)
{
	unsigned id = a % (cpus->count + 1);	/* count itself: out of range */
	bool notify = false;
	int rc;

	switch (op % 9) {
	case 0: rc = cpu_hp_add(cpus, id); break;
	case 1: rc = cpu_hp_request_remove(cpus, id); break;
	case 2: rc = cpu_hp_ack_insert(cpus, id); break;
	case 3: rc = cpu_hp_ack_remove(cpus, id); break;
	case 4: rc = cpu_hp_eject(cpus, id); break;
	case 5: rc = cpu_hp_cancel_remove(cpus, id, &notify); break;
	case 6: psci_cpu_started(cpus, id); rc = 0; break;
	case 7: rc = cpu_hp_eject_done(cpus, id); break;
	default: rc = cpu_hp_next_event(cpus) >= 0 ? 0 : -1; break;
	}
	invariant(rc <= 0, "a transition returned a positive value", id);
	invariant(!notify || (rc == 0 && cpus->cpu[id].hp == CPU_HP_INSERT_PENDING),
		  "a cancel asked to notify the guest without an insert event", id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct psci_cpu cpu[MAX_CPUS];
	struct psci_cpus cpus = { .count = 1 + (size ? data[0] % MAX_CPUS : 0), .cpu = cpu };
	const uint8_t *p = data + (size ? 1 : 0), *end = data + size;
	unsigned boot;

	memset(cpu, 0, sizeof(cpu));
	boot = 1 + (size > 1 ? data[1] % cpus.count : 0);
	for (unsigned i = 0; i < cpus.count; i++)
		cpu[i] = (struct psci_cpu){ .mpidr = arm64_mpidr_of_vcpu(i),
					    .hp = i < boot ? CPU_HP_ENABLED : CPU_HP_DISABLED,
					    .power = i == 0 ? PSCI_POWER_ON : PSCI_POWER_OFF,
					    .started = i == 0 };	/* as vm_start */
	check_all(&cpus);
	while (end - p >= 3) {
		uint8_t op = *p++, a = *p++, b = *p++;

		if (op & 0x80)
			hotplug_step(&cpus, op, a);
		else
			psci_step(&cpus, op, a, b, &p, end);
		check_all(&cpus);
	}
	return 0;
}
