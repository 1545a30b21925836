#include "arch/arm64/psci.h"

#include <stddef.h>

uint64_t arm64_mpidr_of_vcpu(unsigned id)
{
	return (uint64_t)(id & 0xf) | ((uint64_t)((id >> 4) & 0xff) << 8) |
	       ((uint64_t)((id >> 12) & 0xff) << 16);
}

bool psci_is_psci_call(uint32_t func)
{
	return (func >= PSCI_0_2_FN_BASE && func < PSCI_0_2_FN_BASE + PSCI_FN_COUNT) ||
	       (func >= PSCI_0_2_FN64_BASE && func < PSCI_0_2_FN64_BASE + PSCI_FN_COUNT);
}

static struct psci_cpu *find_by_mpidr(struct psci_cpus *cpus, uint64_t mpidr, unsigned *id)
{
	for (unsigned i = 0; i < cpus->count; i++) {
		if ((cpus->cpu[i].mpidr & MPIDR_AFF_MASK) == (mpidr & MPIDR_AFF_MASK)) {
			*id = i;
			return &cpus->cpu[i];
		}
	}
	return NULL;
}

static void cpu_on(struct psci_cpus *cpus, const uint64_t args[3], struct psci_result *res)
{
	unsigned id;
	struct psci_cpu *t = find_by_mpidr(cpus, args[0], &id);

	if (!t || (args[0] & ~MPIDR_AFF_MASK)) {
		res->x0 = PSCI_RET_INVALID_PARAMETERS;
		return;
	}
	if (!cpu_hp_is_enabled(t->hp)) {
		res->x0 = PSCI_RET_DENIED;
		return;
	}
	if (t->power == PSCI_POWER_ON) {
		res->x0 = PSCI_RET_ALREADY_ON;
		return;
	}
	if (t->power == PSCI_POWER_ON_PENDING) {
		res->x0 = PSCI_RET_ON_PENDING;
		return;
	}
	t->power = PSCI_POWER_ON_PENDING;
	t->started = true;
	t->entry = args[1];
	t->context = args[2];
	res->x0 = PSCI_RET_SUCCESS;
	res->action = PSCI_ACTION_START_TARGET;
	res->target = id;
}

static void affinity_info(struct psci_cpus *cpus, const uint64_t args[3], struct psci_result *res)
{
	unsigned id;
	struct psci_cpu *t = find_by_mpidr(cpus, args[0], &id);

	/* Only level 0 (a single CPU) is meaningful on this machine. */
	if (!t || (args[0] & ~MPIDR_AFF_MASK) || args[1] != 0) {
		res->x0 = PSCI_RET_INVALID_PARAMETERS;
		return;
	}
	switch (t->power) {
	case PSCI_POWER_ON:
		res->x0 = PSCI_AFFINITY_ON;
		break;
	case PSCI_POWER_ON_PENDING:
		res->x0 = PSCI_AFFINITY_ON_PENDING;
		break;
	default:
		res->x0 = PSCI_AFFINITY_OFF;
		break;
	}
}

static bool is_supported(uint32_t func)
{
	switch (func) {
	case PSCI_FN_VERSION:
	case PSCI_FN_CPU_OFF:
	case PSCI_FN_CPU_ON:
	case PSCI_FN64_CPU_ON:
	case PSCI_FN_AFFINITY_INFO:
	case PSCI_FN64_AFFINITY_INFO:
	case PSCI_FN_MIGRATE_INFO_TYPE:
	case PSCI_FN_SYSTEM_OFF:
	case PSCI_FN_SYSTEM_RESET:
	case PSCI_FN_FEATURES:
	case SMCCC_VERSION_FN:	/* answered by the hypervisor itself */
		return true;
	default:
		return false;
	}
}

void psci_handle(struct psci_cpus *cpus, unsigned caller, uint32_t func,
		 const uint64_t in[3], struct psci_result *res)
{
	uint64_t args[3] = { in[0], in[1], in[2] };

	/* SMC32 calls: the upper halves of the argument registers are ignored. */
	if (!(func & SMCCC_64BIT)) {
		for (unsigned i = 0; i < 3; i++)
			args[i] &= 0xffffffffu;
	}
	res->x0 = PSCI_RET_NOT_SUPPORTED;
	res->action = PSCI_ACTION_NONE;
	res->target = caller;

	switch (func) {
	case PSCI_FN_VERSION:
		res->x0 = PSCI_VERSION_1_1;
		break;
	case PSCI_FN_FEATURES:
		res->x0 = is_supported((uint32_t)args[0]) ? PSCI_RET_SUCCESS : PSCI_RET_NOT_SUPPORTED;
		break;
	case PSCI_FN_CPU_ON:
	case PSCI_FN64_CPU_ON:
		cpu_on(cpus, args, res);
		break;
	case PSCI_FN_CPU_OFF:
		if (caller < cpus->count) {
			cpus->cpu[caller].power = PSCI_POWER_OFF;
			res->action = PSCI_ACTION_PARK_CALLER;
			res->x0 = PSCI_RET_SUCCESS;
		}
		break;
	case PSCI_FN_AFFINITY_INFO:
	case PSCI_FN64_AFFINITY_INFO:
		affinity_info(cpus, args, res);
		break;
	case PSCI_FN_MIGRATE_INFO_TYPE:
		res->x0 = PSCI_TOS_NOT_PRESENT;
		break;
	case PSCI_FN_SYSTEM_OFF:
		res->action = PSCI_ACTION_SYSTEM_OFF;
		res->x0 = PSCI_RET_SUCCESS;
		break;
	case PSCI_FN_SYSTEM_RESET:
		res->action = PSCI_ACTION_SYSTEM_RESET;
		res->x0 = PSCI_RET_SUCCESS;
		break;
	default:
		break;
	}
}

bool psci_cpu_in_use(const struct psci_cpu *c)
{
	return cpu_hp_is_enabled(c->hp) && c->started;
}

void psci_cpu_started(struct psci_cpus *cpus, unsigned id)
{
	if (id < cpus->count && cpus->cpu[id].power == PSCI_POWER_ON_PENDING)
		cpus->cpu[id].power = PSCI_POWER_ON;
}

const char *psci_func_name(uint32_t func)
{
	switch (func) {
	case PSCI_FN_VERSION: return "PSCI_VERSION";
	case PSCI_FN_CPU_SUSPEND: return "CPU_SUSPEND";
	case PSCI_FN_CPU_OFF: return "CPU_OFF";
	case PSCI_FN_CPU_ON: case PSCI_FN64_CPU_ON: return "CPU_ON";
	case PSCI_FN_AFFINITY_INFO: case PSCI_FN64_AFFINITY_INFO: return "AFFINITY_INFO";
	case PSCI_FN_MIGRATE_INFO_TYPE: return "MIGRATE_INFO_TYPE";
	case PSCI_FN_SYSTEM_OFF: return "SYSTEM_OFF";
	case PSCI_FN_SYSTEM_RESET: return "SYSTEM_RESET";
	case PSCI_FN_FEATURES: return "PSCI_FEATURES";
	default: return "PSCI_UNKNOWN";
	}
}
