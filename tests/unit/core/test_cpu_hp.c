/*
 * The per-vCPU hotplug state machine (arch/arm64/cpu_hp.c): every
 * transition from every state, accepted or refused, and what PSCI and the
 * scan derive from the state.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "arch/arm64/cpu_hp.h"
#include "arch/arm64/psci.h"

#define NCPUS 4

struct table {
	struct psci_cpu cpu[NCPUS];
	struct psci_cpus cpus;
};

static void table_init(struct table *t)
{
	memset(t, 0, sizeof(*t));
	t->cpus = (struct psci_cpus){ .count = NCPUS, .cpu = t->cpu };
	for (unsigned i = 0; i < NCPUS; i++)
		t->cpu[i] = (struct psci_cpu){ .mpidr = arm64_mpidr_of_vcpu(i),
					       .hp = i == 0 ? CPU_HP_ENABLED : CPU_HP_DISABLED,
					       .power = PSCI_POWER_OFF };
}

enum op { OP_ADD, OP_REMOVE, OP_ACK_INSERT, OP_ACK_REMOVE, OP_EJECT, OP_EJECT_DONE, OP_CANCEL, NR_OPS };

static int apply(struct table *t, enum op op, unsigned id, bool *notify)
{
	*notify = false;
	switch (op) {
	case OP_ADD: return cpu_hp_add(&t->cpus, id);
	case OP_REMOVE: return cpu_hp_request_remove(&t->cpus, id);
	case OP_ACK_INSERT: return cpu_hp_ack_insert(&t->cpus, id);
	case OP_ACK_REMOVE: return cpu_hp_ack_remove(&t->cpus, id);
	case OP_EJECT: return cpu_hp_eject(&t->cpus, id);
	case OP_EJECT_DONE: return cpu_hp_eject_done(&t->cpus, id);
	default: return cpu_hp_cancel_remove(&t->cpus, id, notify);
	}
}

struct expect {
	int rc;
	enum cpu_hp_state to;	/* == from when refused */
	bool notify;
};

#define D CPU_HP_DISABLED
#define IP CPU_HP_INSERT_PENDING
#define E CPU_HP_ENABLED
#define RR CPU_HP_REMOVE_REQUESTED
#define RA CPU_HP_REMOVE_ACKED
#define EJ CPU_HP_EJECTED

/* [from][op] for vCPU 1 powered off: { rc, state after, notify }. */
#define TO(s) { 0, s, false }
#define NO(rc, s) { rc, s, false }
static const struct expect table_off[CPU_HP_NR_STATES][NR_OPS] = {
	/*        add               remove            ack insert        ack remove        eject             eject done        cancel */
	[D]  = { TO(IP),           NO(-ENODEV, D),   NO(-EINVAL, D),   NO(-EINVAL, D),   NO(-EINVAL, D),   NO(-EINVAL, D),   NO(-EALREADY, D) },
	[IP] = { NO(-EALREADY, IP), NO(-EBUSY, IP),  TO(E),            NO(-EINVAL, IP),  NO(-EINVAL, IP),  NO(-EINVAL, IP),  NO(-EINVAL, IP) },
	[E]  = { NO(-EALREADY, E), TO(RR),           NO(-EINVAL, E),   NO(-EINVAL, E),   NO(-EINVAL, E),   NO(-EINVAL, E),   NO(-EINVAL, E) },
	[RR] = { NO(-EBUSY, RR),   NO(-EBUSY, RR),   NO(-EINVAL, RR),  TO(RA),           TO(EJ),           NO(-EINVAL, RR),  TO(E) },
	[RA] = { NO(-EBUSY, RA),   NO(-EBUSY, RA),   NO(-EINVAL, RA),  NO(-EINVAL, RA),  TO(EJ),           NO(-EINVAL, RA),  { 0, IP, true } },
	/* Ejected: disabled for the guest, but no insert until it reported the eject. */
	[EJ] = { NO(-EBUSY, EJ),   NO(-ENODEV, EJ),  NO(-EINVAL, EJ),  NO(-EINVAL, EJ),  NO(-EINVAL, EJ),  TO(D),            NO(-EALREADY, EJ) },
};

static void test_every_transition_from_every_state(void **state)
{
	(void)state;
	for (int power = PSCI_POWER_OFF; power <= PSCI_POWER_ON; power++) {
		for (int from = 0; from < CPU_HP_NR_STATES; from++) {
			for (int op = 0; op < NR_OPS; op++) {
				struct table t;
				struct expect want = table_off[from][op];
				bool notify;

				table_init(&t);
				t.cpu[1].hp = from;
				t.cpu[1].power = power;
				/* Eject of a vCPU that is on or starting: refused, nothing changes. */
				if (op == OP_EJECT && want.rc == 0 && power != PSCI_POWER_OFF)
					want = (struct expect){ -EBUSY, from, false };
				int rc = apply(&t, op, 1, &notify);
				if (rc != want.rc || t.cpu[1].hp != want.to || notify != want.notify)
					fail_msg("%s --op %d (power %d)--> rc %d state %s notify %d; want rc %d state %s notify %d",
						 cpu_hp_state_name(from), op, power, rc,
						 cpu_hp_state_name(t.cpu[1].hp), notify, want.rc,
						 cpu_hp_state_name(want.to), want.notify);
				/* Nothing else ever changes: other vCPUs, power. */
				assert_int_equal(t.cpu[1].power, power);
				assert_int_equal(t.cpu[0].hp, CPU_HP_ENABLED);
				assert_int_equal(t.cpu[2].hp, CPU_HP_DISABLED);
			}
		}
	}
}

/* vCPU 0 never leaves enabled, whatever is asked. */
static void test_boot_cpu_stays_enabled(void **state)
{
	struct table t;
	bool notify;

	(void)state;
	table_init(&t);
	for (int op = 0; op < NR_OPS; op++) {
		int rc = apply(&t, op, 0, &notify);
		assert_true(rc < 0);
		assert_int_equal(t.cpu[0].hp, CPU_HP_ENABLED);
	}
	assert_int_equal(cpu_hp_request_remove(&t.cpus, 0), -EPERM);
	assert_int_equal(cpu_hp_eject(&t.cpus, 0), -EPERM);
	/* Even if the table were forced into a remove state, eject refuses vCPU 0. */
	t.cpu[0].hp = CPU_HP_REMOVE_ACKED;
	assert_int_equal(cpu_hp_eject(&t.cpus, 0), -EPERM);
}

static void test_bad_ids(void **state)
{
	struct table t;
	bool notify;

	(void)state;
	table_init(&t);
	for (int op = 0; op < NR_OPS; op++) {
		assert_int_equal(apply(&t, op, NCPUS, &notify), -ENOENT);
		assert_int_equal(apply(&t, op, ~0u, &notify), -ENOENT);
	}
	assert_int_equal(cpu_hp_add(NULL, 0), -ENOENT);
	assert_int_equal(cpu_hp_next_event(NULL), -ENOENT);
}

static void test_derived_views(void **state)
{
	(void)state;
	assert_false(cpu_hp_is_enabled(D));
	assert_true(cpu_hp_is_enabled(IP));
	assert_true(cpu_hp_is_enabled(E));
	assert_true(cpu_hp_is_enabled(RR));
	assert_true(cpu_hp_is_enabled(RA));
	assert_false(cpu_hp_is_enabled(EJ));
	assert_false(cpu_hp_is_enabled(CPU_HP_NR_STATES));
	assert_false(cpu_hp_has_event(D));
	assert_true(cpu_hp_has_event(IP));
	assert_false(cpu_hp_has_event(E));
	assert_true(cpu_hp_has_event(RR));
	assert_false(cpu_hp_has_event(RA));
	assert_false(cpu_hp_has_event(EJ));
	assert_string_equal(cpu_hp_state_name(EJ), "ejected");
	assert_string_equal(cpu_hp_state_name(RA), "remove-acknowledged");
	assert_string_equal(cpu_hp_state_name(CPU_HP_NR_STATES), "invalid");
}

/* PSCI CPU_ON is allowed exactly in the enabled states. */
static void test_psci_follows_the_state(void **state)
{
	(void)state;
	for (int s = 0; s < CPU_HP_NR_STATES; s++) {
		struct table t;
		struct psci_result r;
		uint64_t args[3] = { arm64_mpidr_of_vcpu(2), 0x1000, 0 };

		table_init(&t);
		t.cpu[2].hp = s;
		psci_handle(&t.cpus, 0, PSCI_FN64_CPU_ON, args, &r);
		assert_int_equal(r.x0, cpu_hp_is_enabled(s) ? PSCI_RET_SUCCESS : PSCI_RET_DENIED);
		assert_int_equal(t.cpu[2].power, cpu_hp_is_enabled(s) ? PSCI_POWER_ON_PENDING
								       : PSCI_POWER_OFF);
	}
}

/*
 * In use by the guest (thread name "vcpuN"): from a successful CPU_ON of an
 * enabled CPU until the eject; CPU_OFF alone keeps it, a cancelled removal
 * too, a refused CPU_ON never sets it.
 */
static void test_in_use_from_cpu_on_to_eject(void **state)
{
	struct table t;
	struct psci_result r;
	uint64_t on[3] = { arm64_mpidr_of_vcpu(2), 0x1000, 0 }, none[3] = { 0 };
	bool notify;

	(void)state;
	table_init(&t);
	psci_handle(&t.cpus, 0, PSCI_FN64_CPU_ON, on, &r);
	assert_int_equal(r.x0, PSCI_RET_DENIED);
	assert_false(psci_cpu_in_use(&t.cpu[2]));
	assert_int_equal(cpu_hp_add(&t.cpus, 2), 0);
	assert_false(psci_cpu_in_use(&t.cpu[2]));
	psci_handle(&t.cpus, 0, PSCI_FN64_CPU_ON, on, &r);
	assert_int_equal(r.x0, PSCI_RET_SUCCESS);
	assert_true(psci_cpu_in_use(&t.cpu[2]));
	psci_cpu_started(&t.cpus, 2);
	psci_handle(&t.cpus, 2, PSCI_FN_CPU_OFF, none, &r);
	assert_int_equal(t.cpu[2].power, PSCI_POWER_OFF);
	assert_true(psci_cpu_in_use(&t.cpu[2]));
	assert_int_equal(cpu_hp_ack_insert(&t.cpus, 2), 0);
	assert_int_equal(cpu_hp_request_remove(&t.cpus, 2), 0);
	assert_int_equal(cpu_hp_ack_remove(&t.cpus, 2), 0);
	assert_int_equal(cpu_hp_cancel_remove(&t.cpus, 2, &notify), 0);
	assert_true(psci_cpu_in_use(&t.cpu[2]));
	assert_int_equal(cpu_hp_ack_insert(&t.cpus, 2), 0);
	assert_int_equal(cpu_hp_request_remove(&t.cpus, 2), 0);
	assert_int_equal(cpu_hp_eject(&t.cpus, 2), 0);
	assert_false(psci_cpu_in_use(&t.cpu[2]));
	assert_false(t.cpu[2].started);
	/* Enabled again once the guest reported the eject: not in use until it starts it again. */
	assert_int_equal(cpu_hp_add(&t.cpus, 2), -EBUSY);
	assert_int_equal(cpu_hp_eject_done(&t.cpus, 2), 0);
	assert_int_equal(cpu_hp_add(&t.cpus, 2), 0);
	assert_false(psci_cpu_in_use(&t.cpu[2]));
}

static void test_next_event(void **state)
{
	struct table t;

	(void)state;
	table_init(&t);
	assert_int_equal(cpu_hp_next_event(&t.cpus), -ENOENT);
	t.cpu[3].hp = RR;
	assert_int_equal(cpu_hp_next_event(&t.cpus), 3);
	t.cpu[2].hp = IP;
	assert_int_equal(cpu_hp_next_event(&t.cpus), 2);
	assert_int_equal(cpu_hp_ack_insert(&t.cpus, 2), 0);
	assert_int_equal(cpu_hp_next_event(&t.cpus), 3);
	assert_int_equal(cpu_hp_ack_remove(&t.cpus, 3), 0);
	assert_int_equal(cpu_hp_next_event(&t.cpus), -ENOENT);
	/* A cancel after the acknowledgement is an event again: the guest is told. */
	bool notify;
	assert_int_equal(cpu_hp_cancel_remove(&t.cpus, 3, &notify), 0);
	assert_true(notify);
	assert_int_equal(cpu_hp_next_event(&t.cpus), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_transition_from_every_state),
		cmocka_unit_test(test_boot_cpu_stays_enabled),
		cmocka_unit_test(test_bad_ids),
		cmocka_unit_test(test_derived_views),
		cmocka_unit_test(test_psci_follows_the_state),
		cmocka_unit_test(test_next_event),
		cmocka_unit_test(test_in_use_from_cpu_on_to_eject),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
