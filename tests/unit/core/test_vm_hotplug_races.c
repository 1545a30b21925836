/*
 * The hotplug state machine inside a running VM (fake backend, real vCPU
 * threads): ejects the VMM must refuse, cancel after the guest acknowledged
 * a removal, CPU_ON racing an eject, and add/remove/cancel from several
 * threads against a guest that keeps scanning and ejecting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/layout.h"
#include "arch/arm64/psci.h"
#include "hp_guest.h"
#include "testvm.h"

#define HP(reg) (CPUHP_BASE + CPUHP_REG_##reg)

static enum cpu_hp_state hp_state(struct testvm *t, unsigned id)
{
	pthread_mutex_lock(&t->vm->lock);
	enum cpu_hp_state s = t->vm->psci.cpu[id].hp;
	pthread_mutex_unlock(&t->vm->lock);
	return s;
}

static enum psci_power power(struct testvm *t, unsigned id)
{
	pthread_mutex_lock(&t->vm->lock);
	enum psci_power p = t->vm->psci.cpu[id].power;
	pthread_mutex_unlock(&t->vm->lock);
	return p;
}

static uint32_t status_of(struct testvm *t, unsigned vcpu, unsigned id)
{
	mmio_write(t, vcpu, HP(SELECT), 4, id);
	return (uint32_t)mmio_read(t, vcpu, HP(STATUS), 4);
}

static void eject(struct testvm *t, unsigned vcpu, unsigned id)
{
	(void)guest_eject(t, vcpu, id);
}

/* _EJ0, then the _OST that ends the removal (as Linux does after its _STA check). */
static void eject_and_report(struct testvm *t, unsigned vcpu, unsigned id)
{
	(void)guest_eject(t, vcpu, id);
	guest_ost(t, vcpu, id, OST_EVENT_EJECT_REQUEST, 0);
}

/* The AML's scan, once: returns how many events it took. */
static unsigned scan(struct testvm *t, unsigned vcpu, uint32_t *last_status)
{
	unsigned n = 0;

	for (;;) {
		uint32_t id = (uint32_t)mmio_read(t, vcpu, HP(NEXT_EVENT), 4);
		if (id == CPUHP_NO_EVENT)
			return n;
		assert_true(id < t->cfg.max_cpus);
		uint32_t st = (uint32_t)mmio_read(t, vcpu, HP(STATUS), 4);
		if (st & CPUHP_STATUS_INSERT)
			mmio_write(t, vcpu, HP(COMMAND), 4, CPUHP_CMD_CLEAR_INSERT);
		if (st & CPUHP_STATUS_REMOVE)
			mmio_write(t, vcpu, HP(COMMAND), 4, CPUHP_CMD_CLEAR_REMOVE);
		if (last_status)
			*last_status = st;
		assert_true(++n <= t->cfg.max_cpus);
	}
}

static void online(struct testvm *t, unsigned id)
{
	assert_int_equal(cpu_on(t, 0, id, ENTRY, 0), PSCI_RET_SUCCESS);
	assert_true(testvm_wait_online(t, id, true, TMO));
	assert_true(fake_hv_wait_idle(t->fh, id, TMO));
}

static void offline(struct testvm *t, unsigned id)
{
	fake_hv_push_hypercall(t->fh, id, PSCI_FN_CPU_OFF, 0, 0, 0);
	assert_true(testvm_wait_online(t, id, false, TMO));
}

/* The guest cannot eject what was not asked for, vCPU 0, or a CPU still on. */
static void test_eject_refused(void **state)
{
	struct testvm t;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);

	/* vCPU 1: enabled and off, no removal requested. */
	eject(&t, 0, 1);
	assert_int_equal(hp_state(&t, 1), CPU_HP_ENABLED);
	assert_int_equal(status_of(&t, 0, 1), CPUHP_STATUS_ENABLED);
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_SUCCESS);

	/* vCPU 0: never. It stays enabled, and cpu.add 0 stays refused. */
	eject(&t, 0, 0);
	assert_int_equal(hp_state(&t, 0), CPU_HP_ENABLED);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 0), -VM_ERR_ALREADY_ENABLED);

	/* vCPU 1, removal requested and acknowledged, but still on: refused. */
	assert_true(testvm_wait_online(&t, 1, true, TMO));
	assert_true(fake_hv_wait_idle(t.fh, 1, TMO));
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), 0);
	assert_int_equal(scan(&t, 0, NULL), 1);
	assert_int_equal(hp_state(&t, 1), CPU_HP_REMOVE_ACKED);
	eject(&t, 0, 1);
	assert_int_equal(hp_state(&t, 1), CPU_HP_REMOVE_ACKED);
	assert_int_equal(status_of(&t, 0, 1), CPUHP_STATUS_ENABLED);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_DISABLED, 1), 0);

	/* Once it is off, the same eject goes through; the guest's _OST ends the removal. */
	offline(&t, 1);
	eject(&t, 0, 1);
	assert_int_equal(hp_state(&t, 1), CPU_HP_EJECTED);
	assert_int_equal(status_of(&t, 0, 1), 0);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_DISABLED, 1), 0);
	guest_ost(&t, 0, 1, OST_EVENT_EJECT_REQUEST, OST_STATUS_EJECT_IN_PROGRESS);
	assert_int_equal(hp_state(&t, 1), CPU_HP_EJECTED);	/* "in progress" is no outcome */
	guest_ost(&t, 0, 1, OST_EVENT_EJECT_REQUEST, 0);
	assert_int_equal(hp_state(&t, 1), CPU_HP_DISABLED);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_DISABLED, 1), 1);
	/* A repeated _EJ0 or _OST changes nothing and is not reported twice. */
	eject_and_report(&t, 0, 1);
	assert_int_equal(testvm_events(&t, VM_EVENT_CPU_DISABLED, 1), 1);
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_DENIED);
	testvm_finish(&t);
}

/* A second remove while one is in flight is busy; an eject leaves nothing pending. */
static void test_double_remove_and_no_stale_insert(void **state)
{
	struct testvm t;
	struct cpu_info c;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 3), 3);
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 3), -VM_ERR_BUSY);	/* insert in flight */
	assert_int_equal(scan(&t, 0, NULL), 1);
	online(&t, 3);

	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 3), 0);
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 3), -VM_ERR_BUSY);
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 3), -VM_ERR_BUSY);
	assert_int_equal(scan(&t, 0, NULL), 1);
	assert_int_equal(vm_api_ops.cpu_get(t.vm, 3, &c), 0);
	assert_string_equal(c.state, "remove-acknowledged");
	assert_int_equal(c.pending, CPU_PENDING_REMOVE);	/* not "none" once acknowledged */
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 3), -VM_ERR_BUSY);

	offline(&t, 3);
	eject(&t, 0, 3);
	assert_int_equal(vm_api_ops.cpu_get(t.vm, 3, &c), 0);
	assert_false(c.enabled);
	assert_int_equal(c.pending, CPU_PENDING_REMOVE);	/* until the guest reports it */
	assert_string_equal(c.state, "ejected");
	assert_int_equal(vm_api_ops.cpu_add(t.vm, 3), -VM_ERR_BUSY);
	guest_ost(&t, 0, 3, OST_EVENT_EJECT_REQUEST, 0);
	assert_int_equal(vm_api_ops.cpu_get(t.vm, 3, &c), 0);
	assert_false(c.enabled);
	assert_int_equal(c.pending, CPU_PENDING_NONE);
	assert_string_equal(c.state, "disabled");
	assert_int_equal(mmio_read(&t, 0, HP(NEXT_EVENT), 4), CPUHP_NO_EVENT);
	assert_int_equal(status_of(&t, 0, 3), 0);
	testvm_finish(&t);
}

/* A cancel after the guest acknowledged the removal really cancels, and says so. */
static void test_cancel_after_ack(void **state)
{
	struct testvm t;
	struct cpu_info c;
	uint32_t st = 0;

	(void)state;
	create_ok(&t, &acpi_2_4);
	start_ok(&t);
	online(&t, 1);
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), 0);
	unsigned raised = fake_hv_irq_calls(t.fh, GED_SPI, true);
	assert_int_equal(mmio_read(&t, 0, GED_BASE, 4), GED_EVENT_CPU_HOTPLUG);
	assert_int_equal(scan(&t, 0, &st), 1);
	assert_int_equal(st, CPUHP_STATUS_ENABLED | CPUHP_STATUS_REMOVE);

	assert_int_equal(vm_api_ops.cpu_remove_cancel(t.vm, 1, &c), 0);
	assert_true(c.enabled);
	assert_true(c.online);
	assert_int_equal(c.pending, CPU_PENDING_INSERT);
	assert_string_equal(c.state, "insert-pending");
	/* The guest is told: GED raised, the scan finds an insert event for CPU 1. */
	assert_int_equal(fake_hv_irq_calls(t.fh, GED_SPI, true), raised + 1);
	assert_int_equal(mmio_read(&t, 0, GED_BASE, 4), GED_EVENT_CPU_HOTPLUG);
	assert_int_equal(scan(&t, 0, &st), 1);
	assert_int_equal(st, CPUHP_STATUS_ENABLED | CPUHP_STATUS_INSERT);
	assert_int_equal(hp_state(&t, 1), CPU_HP_ENABLED);

	/* An eject still on its way from the guest is now refused. */
	offline(&t, 1);
	eject(&t, 0, 1);
	assert_int_equal(hp_state(&t, 1), CPU_HP_ENABLED);
	assert_int_equal(cpu_on(&t, 0, 1, ENTRY, 0), PSCI_RET_SUCCESS);

	/* Cancel with nothing in flight, and after the eject won: said plainly. */
	assert_int_equal(vm_api_ops.cpu_remove_cancel(t.vm, 1, &c), -VM_ERR_INVALID_STATE);
	assert_true(testvm_wait_online(&t, 1, true, TMO));
	assert_true(fake_hv_wait_idle(t.fh, 1, TMO));
	offline(&t, 1);
	assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), 0);
	eject(&t, 0, 1);	/* before the scan: the request is enough */
	assert_int_equal(vm_api_ops.cpu_remove_cancel(t.vm, 1, &c), -VM_ERR_NOT_ENABLED);
	assert_false(c.enabled);
	assert_string_equal(c.state, "disabled");
	testvm_finish(&t);
}

struct on_race {
	struct testvm *t;
	pthread_barrier_t *go;
	int64_t rc;
};

static void *race_cpu_on(void *arg)
{
	struct on_race *r = arg;

	pthread_barrier_wait(r->go);
	r->rc = fake_hv_call(r->t->fh, 0, PSCI_FN64_CPU_ON, arm64_mpidr_of_vcpu(1), ENTRY, 0, TMO);
	return NULL;
}

/* CPU_ON of a vCPU being ejected: exactly one of them wins, never both. */
static void test_cpu_on_races_eject(void **state)
{
	struct testvm t;
	const struct testvm_opts o = { .boot = 3, .max = 4, .mode = BOOT_MODE_ACPI };
	unsigned on_won = 0, eject_won = 0;

	(void)state;
	create_ok(&t, &o);
	start_ok(&t);
	online(&t, 2);		/* vCPU 2 runs the AML; vCPU 0 issues CPU_ON */
	for (int round = 0; round < 40; round++) {
		pthread_barrier_t go;
		pthread_t th;
		struct on_race r = { &t, &go, 0 };

		assert_int_equal(vm_api_ops.cpu_remove(t.vm, 1), 0);
		assert_int_equal(scan(&t, 2, NULL), 1);
		mmio_write(&t, 2, HP(SELECT), 4, 1);
		pthread_barrier_init(&go, NULL, 2);
		pthread_create(&th, NULL, race_cpu_on, &r);
		pthread_barrier_wait(&go);
		mmio_write(&t, 2, HP(COMMAND), 4, CPUHP_CMD_EJECT);
		pthread_join(th, NULL);
		pthread_barrier_destroy(&go);

		enum cpu_hp_state s = hp_state(&t, 1);
		if (r.rc == PSCI_RET_SUCCESS) {
			/* CPU_ON first: the eject was refused, the CPU runs and stays enabled. */
			on_won++;
			assert_int_equal(s, CPU_HP_REMOVE_ACKED);
			assert_true(testvm_wait_online(&t, 1, true, TMO));
			assert_true(fake_hv_wait_idle(t.fh, 1, TMO));
			offline(&t, 1);
			eject(&t, 2, 1);
		} else {
			/* Eject first: CPU_ON denied, the CPU never ran. */
			eject_won++;
			assert_int_equal(r.rc, PSCI_RET_DENIED);
			assert_int_equal(power(&t, 1), PSCI_POWER_OFF);
		}
		assert_int_equal(hp_state(&t, 1), CPU_HP_EJECTED);
		guest_ost(&t, 2, 1, OST_EVENT_EJECT_REQUEST, 0);
		assert_int_equal(hp_state(&t, 1), CPU_HP_DISABLED);
		assert_int_equal(power(&t, 1), PSCI_POWER_OFF);
		/* Back to enabled for the next round. */
		assert_int_equal(vm_api_ops.cpu_add(t.vm, 1), 1);
		assert_int_equal(scan(&t, 2, NULL), 1);
	}
	print_message("CPU_ON won %u rounds, eject won %u\n", on_won, eject_won);
	assert_int_equal(on_won + eject_won, 40);
	testvm_finish(&t);
}

/* ---- add/remove/cancel from several threads against a busy guest */

#define MAXC 8
#define CLIENTS 4
#define OPS_PER_CLIENT 300

struct chaos {
	struct testvm *t;
	struct hp_guest *g;
	pthread_mutex_t lock;
	unsigned seed;
	unsigned adds_ok, removes_ok, cancels_ok;
};

static void *client(void *arg)
{
	struct chaos *c = arg;
	unsigned seed;

	pthread_mutex_lock(&c->lock);
	seed = c->seed++;
	pthread_mutex_unlock(&c->lock);
	for (int i = 0; i < OPS_PER_CLIENT && !hp_guest_stopped(c->g); i++) {
		unsigned id = 1 + (unsigned)rand_r(&seed) % (MAXC - 1);
		int op = rand_r(&seed) % 3, rc;

		if (op == 0) {
			rc = vm_api_ops.cpu_add(c->t->vm, (int)id);
			if (rc != (int)id && rc != -VM_ERR_ALREADY_ENABLED && rc != -VM_ERR_BUSY)
				hp_guest_fail(c->g, "cpu_add", id, rc);
		} else if (op == 1) {
			rc = vm_api_ops.cpu_remove(c->t->vm, id);
			if (rc && rc != -VM_ERR_NOT_ENABLED && rc != -VM_ERR_BUSY)
				hp_guest_fail(c->g, "cpu_remove", id, rc);
		} else {
			rc = vm_api_ops.cpu_remove_cancel(c->t->vm, id, NULL);
			if (rc && rc != -VM_ERR_INVALID_STATE && rc != -VM_ERR_NOT_ENABLED)
				hp_guest_fail(c->g, "cpu_remove_cancel", id, rc);
		}
		/* Roughly the pace of API clients: the guest gets to run in between. */
		nanosleep(&(struct timespec){ 0, (long)(rand_r(&seed) % 400) * 1000 }, NULL);
		pthread_mutex_lock(&c->lock);
		c->adds_ok += op == 0 && rc == (int)id;
		c->removes_ok += op == 1 && rc == 0;
		c->cancels_ok += op == 2 && rc == 0;
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}

static void test_concurrent_clients_and_guest(void **state)
{
	struct testvm t;
	const struct testvm_opts o = { .boot = 1, .max = MAXC, .mode = BOOT_MODE_ACPI };
	struct hp_guest g;
	struct chaos c = { .t = &t, .g = &g, .seed = 12345 };
	pthread_t cl[CLIENTS];

	(void)state;
	create_ok(&t, &o);
	start_ok(&t);
	pthread_mutex_init(&c.lock, NULL);
	hp_guest_start(&g, &t);
	for (int i = 0; i < CLIENTS; i++)
		pthread_create(&cl[i], NULL, client, &c);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(cl[i], NULL);
	/* Let the guest finish what is pending (pending cancels become insert events). */
	bool settled = hp_guest_settle(&g, TMO);
	if (!hp_guest_stop(&g))
		fail_msg("%s", g.error);
	assert_true(settled);
	print_message("adds %u, removes %u, cancels %u\n", c.adds_ok, c.removes_ok, c.cancels_ok);
	assert_true(c.adds_ok > 0 && c.removes_ok > 0);

	/* Final-state invariants, per CPU. */
	assert_int_equal(hp_state(&t, 0), CPU_HP_ENABLED);
	for (unsigned id = 1; id < MAXC; id++) {
		enum cpu_hp_state s = hp_state(&t, id);
		struct cpu_info ci;

		assert_true(s < CPU_HP_NR_STATES);
		assert_false(cpu_hp_has_event(s));	/* the guest took every event */
		assert_true(s != CPU_HP_EJECTED);	/* and reported every eject */
		if (s == CPU_HP_DISABLED)
			assert_int_equal(power(&t, id), PSCI_POWER_OFF);
		/* Every enable is matched by one disable, except for CPUs enabled now. */
		unsigned en = testvm_events(&t, VM_EVENT_CPU_ENABLED, id);
		unsigned dis = testvm_events(&t, VM_EVENT_CPU_DISABLED, id);
		assert_int_equal(en - dis, s != CPU_HP_DISABLED);
		assert_int_equal(vm_api_ops.cpu_get(t.vm, id, &ci), 0);
		assert_int_equal(ci.enabled, s != CPU_HP_DISABLED);
		assert_int_equal(mmio_read(&t, 0, HP(NEXT_EVENT), 4), CPUHP_NO_EVENT);
		assert_int_equal(status_of(&t, 0, id) & CPUHP_STATUS_ENABLED ? 1 : 0, ci.enabled);
	}
	pthread_mutex_destroy(&c.lock);
	testvm_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eject_refused),
		cmocka_unit_test(test_double_remove_and_no_stale_insert),
		cmocka_unit_test(test_cancel_after_ack),
		cmocka_unit_test(test_cpu_on_races_eject),
		cmocka_unit_test(test_concurrent_clients_and_guest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
