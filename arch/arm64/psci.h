/*
 * PSCI 1.1 as the guest uses it, as a pure state machine over a table of
 * vCPUs. The caller serialises calls (one lock) and carries out the returned
 * action (wake a vCPU thread, park the caller, stop the VM).
 */
#ifndef ARCH_ARM64_PSCI_H
#define ARCH_ARM64_PSCI_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/arm64/cpu_hp.h"

#define PSCI_0_2_FN_BASE	0x84000000u
#define PSCI_0_2_FN64_BASE	0xC4000000u
#define PSCI_FN_COUNT		0x20u

#define PSCI_FN_VERSION			0x84000000u
#define PSCI_FN_CPU_SUSPEND		0x84000001u
#define PSCI_FN_CPU_OFF			0x84000002u
#define PSCI_FN_CPU_ON			0x84000003u
#define PSCI_FN_AFFINITY_INFO		0x84000004u
#define PSCI_FN_MIGRATE_INFO_TYPE	0x84000006u
#define PSCI_FN_SYSTEM_OFF		0x84000008u
#define PSCI_FN_SYSTEM_RESET		0x84000009u
#define PSCI_FN_FEATURES		0x8400000Au
#define PSCI_FN64_CPU_ON		0xC4000003u
#define PSCI_FN64_AFFINITY_INFO		0xC4000004u
#define SMCCC_VERSION_FN		0x80000000u
#define SMCCC_64BIT			0x40000000u

#define PSCI_VERSION_1_1	0x00010001u

#define PSCI_RET_SUCCESS		0
#define PSCI_RET_NOT_SUPPORTED		(-1)
#define PSCI_RET_INVALID_PARAMETERS	(-2)
#define PSCI_RET_DENIED			(-3)
#define PSCI_RET_ALREADY_ON		(-4)
#define PSCI_RET_ON_PENDING		(-5)

#define PSCI_AFFINITY_ON	0
#define PSCI_AFFINITY_OFF	1
#define PSCI_AFFINITY_ON_PENDING 2

/* MIGRATE_INFO_TYPE: no Trusted OS that needs migration. */
#define PSCI_TOS_NOT_PRESENT	2

#define MPIDR_AFF_MASK 0xff00ffffffULL

enum psci_power {
	PSCI_POWER_OFF,
	PSCI_POWER_ON_PENDING,	/* CPU_ON accepted, thread not yet running */
	PSCI_POWER_ON,
};

struct psci_cpu {
	uint64_t mpidr;
	enum cpu_hp_state hp;	/* firmware policy: CPU_ON only if cpu_hp_is_enabled() */
	enum psci_power power;
	/*
	 * The guest has started it (CPU_ON succeeded, or vCPU 0 at boot) since
	 * it was last enabled; the eject that disables it clears this. Whether
	 * the guest uses the CPU, for thread names: psci_cpu_in_use().
	 */
	bool started;
	uint64_t ejected_ms;	/* VM uptime at the guest's _EJ0 (while ejected) */
	uint64_t entry;		/* CPU_ON entry point and context id */
	uint64_t context;
};

struct psci_cpus {
	unsigned count;
	struct psci_cpu *cpu;
};

enum psci_action {
	PSCI_ACTION_NONE,
	PSCI_ACTION_START_TARGET,	/* result.target is now ON_PENDING */
	PSCI_ACTION_PARK_CALLER,	/* caller is now OFF; no return value */
	PSCI_ACTION_SYSTEM_OFF,
	PSCI_ACTION_SYSTEM_RESET,
};

struct psci_result {
	int64_t x0;
	enum psci_action action;
	unsigned target;
};

/* KVM's vCPU id to MPIDR affinity mapping (Aff0 holds 16 CPUs). */
uint64_t arm64_mpidr_of_vcpu(unsigned id);

bool psci_is_psci_call(uint32_t func);
void psci_handle(struct psci_cpus *cpus, unsigned caller, uint32_t func,
		 const uint64_t args[3], struct psci_result *res);
/*
 * Enabled, and started by the guest since: the CPU is the guest's, even
 * while the guest has it offline (CPU_OFF) without ejecting it.
 */
bool psci_cpu_in_use(const struct psci_cpu *c);
/* The target's thread took the ON_PENDING state into account. */
void psci_cpu_started(struct psci_cpus *cpus, unsigned id);
const char *psci_func_name(uint32_t func);

#endif
