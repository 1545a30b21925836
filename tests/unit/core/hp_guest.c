#include "hp_guest.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arch/arm64/layout.h"
#include "arch/arm64/psci.h"

#define HP(reg) (CPUHP_BASE + CPUHP_REG_##reg)

static void nap_us(long us)
{
	nanosleep(&(struct timespec){ 0, us * 1000 }, NULL);
}

void hp_guest_fail(struct hp_guest *g, const char *what, unsigned cpu, long v)
{
	pthread_mutex_lock(&g->lock);
	if (!g->error[0])
		snprintf(g->error, sizeof(g->error), "%s (cpu %u, %ld)", what, cpu, v);
	g->stop = true;
	pthread_mutex_unlock(&g->lock);
}

bool hp_guest_stopped(struct hp_guest *g)
{
	pthread_mutex_lock(&g->lock);
	bool s = g->stop;
	pthread_mutex_unlock(&g->lock);
	return s;
}

static bool rd(struct hp_guest *g, uint64_t addr, uint32_t *v)
{
	bool ok;

	*v = (uint32_t)fake_hv_mmio_read(g->t->fh, 0, addr, 4, TMO, &ok);
	if (!ok)
		hp_guest_fail(g, "guest MMIO read not answered", 0, (long)addr);
	return ok;
}

static void wr(struct hp_guest *g, uint64_t addr, uint32_t v)
{
	unsigned n = fake_hv_answer_count(g->t->fh, 0);

	fake_hv_push_mmio_write(g->t->fh, 0, addr, 4, v);
	if (!fake_hv_wait_answers(g->t->fh, 0, n + 1, TMO))
		hp_guest_fail(g, "guest MMIO write not answered", 0, (long)addr);
}

static void insert(struct hp_guest *g, uint32_t id)
{
	int64_t r;

	wr(g, HP(COMMAND), CPUHP_CMD_CLEAR_INSERT);
	/* The kernel registers the CPU and says so with _OST(1, 0). */
	wr(g, HP(OST_EVENT), 1);
	wr(g, HP(OST_STATUS), 0);
	r = fake_hv_call(g->t->fh, 0, PSCI_FN64_CPU_ON, arm64_mpidr_of_vcpu(id), ENTRY, 0, TMO);
	/* DENIED: removed and ejected meanwhile; ALREADY_ON: a cancelled removal. */
	if (r != PSCI_RET_SUCCESS && r != PSCI_RET_ALREADY_ON && r != PSCI_RET_ON_PENDING &&
	    r != PSCI_RET_DENIED)
		hp_guest_fail(g, "CPU_ON", id, (long)r);
}

static void eject(struct hp_guest *g, uint32_t id)
{
	struct cpu_info ci;

	wr(g, HP(COMMAND), CPUHP_CMD_CLEAR_REMOVE);
	if (vm_api_ops.cpu_get(g->t->vm, id, &ci) == 0 && ci.online) {
		fake_hv_push_hypercall(g->t->fh, id, PSCI_FN_CPU_OFF, 0, 0, 0);
		for (int w = 0; w < TMO && ci.online; w++) {
			nap_us(1000);
			(void)vm_api_ops.cpu_get(g->t->vm, id, &ci);
		}
	}
	wr(g, HP(SELECT), id);
	wr(g, HP(COMMAND), CPUHP_CMD_EJECT);
	/* Linux re-reads _STA, then reports the eject: that ends the removal. */
	uint32_t st;
	if (rd(g, HP(STATUS), &st)) {
		wr(g, HP(OST_EVENT), OST_EVENT_EJECT_REQUEST);
		wr(g, HP(OST_STATUS), 0);
	}
}

static void *guest_main(void *arg)
{
	struct hp_guest *g = arg;
	unsigned max = g->t->cfg.max_cpus;

	while (!hp_guest_stopped(g)) {
		uint32_t id, st, ev;

		if (!rd(g, GED_BASE, &ev))
			break;
		for (unsigned n = 0; n < max && !hp_guest_stopped(g); n++) {
			if (!rd(g, HP(NEXT_EVENT), &id) || id == CPUHP_NO_EVENT)
				break;
			if (id >= max || id == 0) {
				hp_guest_fail(g, "NEXT_EVENT named a bad CPU", id, id);
				break;
			}
			if (!rd(g, HP(STATUS), &st))
				break;
			if (!(st & (CPUHP_STATUS_INSERT | CPUHP_STATUS_REMOVE)))
				continue;	/* changed under us (a cancel): next */
			if (st & CPUHP_STATUS_INSERT)
				insert(g, id);
			else
				eject(g, id);
		}
		nap_us(200);
	}
	return NULL;
}

void hp_guest_start(struct hp_guest *g, struct testvm *t)
{
	memset(g, 0, sizeof(*g));
	g->t = t;
	pthread_mutex_init(&g->lock, NULL);
	pthread_create(&g->thread, NULL, guest_main, g);
}

bool hp_guest_settle(struct hp_guest *g, unsigned timeout_ms)
{
	for (unsigned w = 0; w < timeout_ms && !hp_guest_stopped(g); w++) {
		bool busy = false;

		pthread_mutex_lock(&g->t->vm->lock);
		for (unsigned id = 0; id < g->t->cfg.max_cpus; id++)
			busy |= cpu_hp_has_event(g->t->vm->psci.cpu[id].hp);
		pthread_mutex_unlock(&g->t->vm->lock);
		if (!busy)
			return true;
		nap_us(1000);
	}
	return false;
}

bool hp_guest_stop(struct hp_guest *g)
{
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	pthread_mutex_destroy(&g->lock);
	return !g->error[0];
}
