/* The PSCI state machine: what the guest's HVC calls return and what happens. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "arch/arm64/psci.h"

#define NCPU 20		/* crosses an Aff0 group (16) */

struct machine {
	struct psci_cpu cpu[NCPU];
	struct psci_cpus cpus;
};

/* MPIDRs as KVM assigns them, written out independently of the code under test. */
static uint64_t mpidr(unsigned id)
{
	return id < 16 ? id : (1u << 8) | (id - 16);
}

static int setup(void **state)
{
	struct machine *m = calloc(1, sizeof(*m));

	if (!m)
		return -1;
	m->cpus.count = NCPU;
	m->cpus.cpu = m->cpu;
	for (unsigned i = 0; i < NCPU; i++)
		m->cpu[i] = (struct psci_cpu){ .mpidr = mpidr(i), .hp = i < 4 ? CPU_HP_ENABLED : CPU_HP_DISABLED, .power = PSCI_POWER_OFF };
	m->cpu[0].power = PSCI_POWER_ON;
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static struct psci_result call(struct machine *m, unsigned caller, uint32_t func,
			       uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct psci_result res;
	const uint64_t args[3] = { a1, a2, a3 };

	memset(&res, 0x5a, sizeof(res));
	psci_handle(&m->cpus, caller, func, args, &res);
	return res;
}

static void test_version(void **state)
{
	struct psci_result r = call(*state, 0, PSCI_FN_VERSION, 0, 0, 0);
	assert_int_equal(r.x0, 0x10001);	/* major 1, minor 1 */
	assert_int_equal(r.action, PSCI_ACTION_NONE);
}

static void test_features(void **state)
{
	struct machine *m = *state;
	const uint32_t supported[] = {
		PSCI_FN_VERSION, PSCI_FN_CPU_OFF, PSCI_FN_CPU_ON, PSCI_FN64_CPU_ON,
		PSCI_FN_AFFINITY_INFO, PSCI_FN64_AFFINITY_INFO, PSCI_FN_MIGRATE_INFO_TYPE,
		PSCI_FN_SYSTEM_OFF, PSCI_FN_SYSTEM_RESET, PSCI_FN_FEATURES, SMCCC_VERSION_FN,
	};
	/* CPU_SUSPEND is not implemented, so it must not be advertised. */
	const uint32_t unsupported[] = {
		PSCI_FN_CPU_SUSPEND, 0xC4000001u, 0x84000005u, 0x84000007u, 0x8400000Cu,
		0x84000012u, 0x12345678u, 0xC4000008u,
	};
	for (unsigned i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
		struct psci_result r = call(m, 0, PSCI_FN_FEATURES, supported[i], 0, 0);
		if (r.x0 != PSCI_RET_SUCCESS)
			fail_msg("PSCI_FEATURES(0x%x) = %lld, expected supported", supported[i], (long long)r.x0);
		assert_int_equal(r.action, PSCI_ACTION_NONE);
	}
	for (unsigned i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		struct psci_result r = call(m, 0, PSCI_FN_FEATURES, unsupported[i], 0, 0);
		if (r.x0 != PSCI_RET_NOT_SUPPORTED)
			fail_msg("PSCI_FEATURES(0x%x) = %lld, expected NOT_SUPPORTED", unsupported[i], (long long)r.x0);
	}
}

static void test_cpu_on_success(void **state)
{
	struct machine *m = *state;
	struct psci_result r = call(m, 0, PSCI_FN64_CPU_ON, 2, 0x40080000ULL, 0xdeadbeefcafeULL);

	assert_int_equal(r.x0, PSCI_RET_SUCCESS);
	assert_int_equal(r.action, PSCI_ACTION_START_TARGET);
	assert_int_equal(r.target, 2);
	assert_int_equal(m->cpu[2].power, PSCI_POWER_ON_PENDING);
	assert_true(m->cpu[2].entry == 0x40080000ULL);
	assert_true(m->cpu[2].context == 0xdeadbeefcafeULL);
	/* Nobody else changed. */
	assert_int_equal(m->cpu[1].power, PSCI_POWER_OFF);
	assert_int_equal(m->cpu[3].power, PSCI_POWER_OFF);

	/* While the target has not started: ON_PENDING. */
	r = call(m, 0, PSCI_FN64_CPU_ON, 2, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_ON_PENDING);
	assert_int_equal(r.action, PSCI_ACTION_NONE);
	assert_true(m->cpu[2].entry == 0x40080000ULL);	/* not overwritten */

	psci_cpu_started(&m->cpus, 2);
	assert_int_equal(m->cpu[2].power, PSCI_POWER_ON);
	r = call(m, 0, PSCI_FN64_CPU_ON, 2, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_ALREADY_ON);
	assert_int_equal(r.action, PSCI_ACTION_NONE);

	/* The caller itself is on. */
	r = call(m, 0, PSCI_FN64_CPU_ON, 0, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_ALREADY_ON);
}

static void test_cpu_on_second_cluster(void **state)
{
	struct machine *m = *state;

	m->cpu[17].hp = CPU_HP_ENABLED;
	struct psci_result r = call(m, 0, PSCI_FN64_CPU_ON, 0x101, 0x2000, 7);
	assert_int_equal(r.x0, PSCI_RET_SUCCESS);
	assert_int_equal(r.target, 17);
	assert_int_equal(m->cpu[17].power, PSCI_POWER_ON_PENDING);
	assert_int_equal(m->cpu[1].power, PSCI_POWER_OFF);	/* Aff0 1 of cluster 0 */
}

static void test_cpu_on_invalid(void **state)
{
	struct machine *m = *state;

	/* No CPU with that affinity (20 CPUs: cluster 1 holds 0x100..0x103). */
	struct psci_result r = call(m, 0, PSCI_FN64_CPU_ON, 0x104, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_INVALID_PARAMETERS);
	assert_int_equal(r.action, PSCI_ACTION_NONE);
	r = call(m, 0, PSCI_FN64_CPU_ON, 0x10000, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_INVALID_PARAMETERS);

	/* Bits outside Aff3..Aff0 (e.g. MT bit 24, bit 31) are not a valid target. */
	r = call(m, 0, PSCI_FN64_CPU_ON, (1ULL << 24) | 1, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_INVALID_PARAMETERS);
	r = call(m, 0, PSCI_FN64_CPU_ON, (1ULL << 31) | 1, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_INVALID_PARAMETERS);
	r = call(m, 0, PSCI_FN64_CPU_ON, (1ULL << 40) | 1, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_INVALID_PARAMETERS);
	assert_int_equal(m->cpu[1].power, PSCI_POWER_OFF);
}

static void test_cpu_on_denied(void **state)
{
	struct machine *m = *state;

	/* vCPU 5 exists but its firmware Enabled bit is clear. */
	struct psci_result r = call(m, 0, PSCI_FN64_CPU_ON, 5, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_DENIED);
	assert_int_equal(r.action, PSCI_ACTION_NONE);
	assert_int_equal(m->cpu[5].power, PSCI_POWER_OFF);

	m->cpu[5].hp = CPU_HP_ENABLED;
	r = call(m, 0, PSCI_FN64_CPU_ON, 5, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_SUCCESS);
}

static void test_cpu_on_smc32_truncates(void **state)
{
	struct machine *m = *state;

	/* SMC32: only w1..w3 count; the garbage upper halves must be dropped. */
	struct psci_result r = call(m, 0, PSCI_FN_CPU_ON, 0xffffffff00000003ULL,
				    0x1234567840001000ULL, 0xaaaaaaaa00000042ULL);
	assert_int_equal(r.x0, PSCI_RET_SUCCESS);
	assert_int_equal(r.target, 3);
	assert_true(m->cpu[3].entry == 0x40001000ULL);
	assert_true(m->cpu[3].context == 0x42ULL);

	/* The same MPIDR through SMC64 is invalid: the upper bits count there. */
	r = call(m, 0, PSCI_FN64_CPU_ON, 0xffffffff00000001ULL, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_INVALID_PARAMETERS);
}

static void test_cpu_off(void **state)
{
	struct machine *m = *state;

	m->cpu[1].power = PSCI_POWER_ON;
	struct psci_result r = call(m, 1, PSCI_FN_CPU_OFF, 0, 0, 0);
	assert_int_equal(r.action, PSCI_ACTION_PARK_CALLER);
	assert_int_equal(m->cpu[1].power, PSCI_POWER_OFF);
	assert_int_equal(m->cpu[0].power, PSCI_POWER_ON);

	/* ...and it can be brought back. */
	r = call(m, 0, PSCI_FN64_CPU_ON, 1, 0x3000, 9);
	assert_int_equal(r.x0, PSCI_RET_SUCCESS);
	assert_true(m->cpu[1].entry == 0x3000);
}

static void test_affinity_info(void **state)
{
	struct machine *m = *state;

	struct psci_result r = call(m, 1, PSCI_FN64_AFFINITY_INFO, 0, 0, 0);
	assert_int_equal(r.x0, PSCI_AFFINITY_ON);
	r = call(m, 0, PSCI_FN_AFFINITY_INFO, 1, 0, 0);
	assert_int_equal(r.x0, PSCI_AFFINITY_OFF);
	/* Disabled CPUs are simply off. */
	r = call(m, 0, PSCI_FN_AFFINITY_INFO, 7, 0, 0);
	assert_int_equal(r.x0, PSCI_AFFINITY_OFF);

	r = call(m, 0, PSCI_FN64_CPU_ON, 1, 0x1000, 0);
	assert_int_equal(r.x0, PSCI_RET_SUCCESS);
	r = call(m, 0, PSCI_FN64_AFFINITY_INFO, 1, 0, 0);
	assert_int_equal(r.x0, PSCI_AFFINITY_ON_PENDING);
	psci_cpu_started(&m->cpus, 1);
	r = call(m, 0, PSCI_FN64_AFFINITY_INFO, 1, 0, 0);
	assert_int_equal(r.x0, PSCI_AFFINITY_ON);

	/* Level 1 and up, and unknown MPIDRs, are invalid. */
	r = call(m, 0, PSCI_FN64_AFFINITY_INFO, 0, 1, 0);
	assert_int_equal(r.x0, PSCI_RET_INVALID_PARAMETERS);
	r = call(m, 0, PSCI_FN64_AFFINITY_INFO, 0x200, 0, 0);
	assert_int_equal(r.x0, PSCI_RET_INVALID_PARAMETERS);
	assert_int_equal(r.action, PSCI_ACTION_NONE);

	/* SMC32: garbage in the upper halves is ignored; SMC64 sees it. */
	r = call(m, 0, PSCI_FN_AFFINITY_INFO, 0xdead000000000001ULL, 0xbeef00000000ULL, 0);
	assert_int_equal(r.x0, PSCI_AFFINITY_ON);
	r = call(m, 0, PSCI_FN64_AFFINITY_INFO, 0xdead000000000001ULL, 0, 0);
	assert_int_equal(r.x0, PSCI_RET_INVALID_PARAMETERS);
}

static void test_migrate_info_type(void **state)
{
	struct psci_result r = call(*state, 0, PSCI_FN_MIGRATE_INFO_TYPE, 0, 0, 0);
	assert_int_equal(r.x0, 2);	/* Trusted OS not present */
	assert_int_equal(r.action, PSCI_ACTION_NONE);
}

static void test_system_off_reset(void **state)
{
	struct machine *m = *state;

	struct psci_result r = call(m, 0, PSCI_FN_SYSTEM_OFF, 0, 0, 0);
	assert_int_equal(r.action, PSCI_ACTION_SYSTEM_OFF);
	r = call(m, 0, PSCI_FN_SYSTEM_RESET, 0, 0, 0);
	assert_int_equal(r.action, PSCI_ACTION_SYSTEM_RESET);
	/* Neither changes any vCPU's power state by itself. */
	assert_int_equal(m->cpu[0].power, PSCI_POWER_ON);
}

static void test_unknown_function(void **state)
{
	struct machine *m = *state;
	const uint32_t funcs[] = { PSCI_FN_CPU_SUSPEND, 0xC4000001u, 0x8400001Fu, 0xC400001Fu, 0x84000010u };

	for (unsigned i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		struct psci_result r = call(m, 0, funcs[i], 1, 2, 3);
		assert_int_equal(r.x0, PSCI_RET_NOT_SUPPORTED);
		assert_int_equal(r.action, PSCI_ACTION_NONE);
	}
	for (unsigned i = 0; i < NCPU; i++)
		assert_int_equal(m->cpu[i].power, i == 0 ? PSCI_POWER_ON : PSCI_POWER_OFF);
}

static void test_is_psci_call(void **state)
{
	(void)state;
	assert_true(psci_is_psci_call(0x84000000u));
	assert_true(psci_is_psci_call(0x8400001Fu));
	assert_true(psci_is_psci_call(0xC4000003u));
	assert_false(psci_is_psci_call(0x84000020u));
	assert_false(psci_is_psci_call(0xC4000020u));
	assert_false(psci_is_psci_call(0x83ffffffu));
	assert_false(psci_is_psci_call(SMCCC_VERSION_FN));
	assert_false(psci_is_psci_call(0x86000000u));
}

static void test_cpu_started_only_from_pending(void **state)
{
	struct machine *m = *state;

	psci_cpu_started(&m->cpus, 3);	/* off: stays off */
	assert_int_equal(m->cpu[3].power, PSCI_POWER_OFF);
	psci_cpu_started(&m->cpus, NCPU + 5);	/* out of range: ignored */
}

static void test_mpidr_of_vcpu(void **state)
{
	(void)state;
	assert_true(arm64_mpidr_of_vcpu(0) == 0x0);
	assert_true(arm64_mpidr_of_vcpu(15) == 0xf);
	assert_true(arm64_mpidr_of_vcpu(16) == 0x100);
	assert_true(arm64_mpidr_of_vcpu(17) == 0x101);
	assert_true(arm64_mpidr_of_vcpu(255) == 0xf0f);
	assert_true(arm64_mpidr_of_vcpu(4096) == 0x10000);
	/* Distinct for every possible vCPU and always inside the affinity mask. */
	for (unsigned i = 0; i < 512; i++) {
		assert_true((arm64_mpidr_of_vcpu(i) & ~MPIDR_AFF_MASK) == 0);
		for (unsigned j = 0; j < i; j++)
			assert_true(arm64_mpidr_of_vcpu(i) != arm64_mpidr_of_vcpu(j));
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_version),
		T(test_features),
		T(test_cpu_on_success),
		T(test_cpu_on_second_cluster),
		T(test_cpu_on_invalid),
		T(test_cpu_on_denied),
		T(test_cpu_on_smc32_truncates),
		T(test_cpu_off),
		T(test_affinity_info),
		T(test_migrate_info_type),
		T(test_system_off_reset),
		T(test_unknown_function),
		T(test_is_psci_call),
		T(test_cpu_started_only_from_pending),
		T(test_mpidr_of_vcpu),
	};
	return cmocka_run_group_tests_name("core_psci", tests, NULL, NULL);
}
