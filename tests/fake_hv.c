/* The fake hypervisor's test-facing side: scripting, waiting, records (see fake_hv.h). */
#include "fake_hv_internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static struct hv_vcpu *vcpu_of(struct fake_hv *fh, unsigned id)
{
	if (id >= fh->max_vcpus)
		die("vCPU id out of range");
	return &fh->vcpus[id];
}

struct fake_hv *fake_hv_new(unsigned max_vcpus)
{
	struct fake_hv *fh = calloc(1, sizeof(*fh));
	pthread_condattr_t ca;

	if (!fh)
		return NULL;
	fh->vcpus = calloc(max_vcpus ? max_vcpus : 1, sizeof(*fh->vcpus));
	if (!fh->vcpus) {
		free(fh);
		return NULL;
	}
	fh->max_vcpus = max_vcpus;
	fh->pmu = true;
	for (unsigned i = 0; i < max_vcpus; i++) {
		fh->vcpus[i].fh = fh;
		fh->vcpus[i].id = i;
	}
	pthread_mutex_init(&fh->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fh->cond, &ca);
	pthread_condattr_destroy(&ca);
	fh->hv.ops = &fake_hv_backend_ops;
	fh->hv.priv = fh;
	return fh;
}

struct hv *fake_hv_hv(struct fake_hv *fh)
{
	return &fh->hv;
}

void fake_hv_free(struct fake_hv *fh)
{
	if (!fh)
		return;
	pthread_cond_destroy(&fh->cond);
	pthread_mutex_destroy(&fh->lock);
	free(fh->vcpus);
	free(fh);
}

void fake_hv_set_pmu(struct fake_hv *fh, bool pmu)
{
	pthread_mutex_lock(&fh->lock);
	fh->pmu = pmu;
	pthread_mutex_unlock(&fh->lock);
}

unsigned fake_hv_pmu_ppi(struct fake_hv *fh, unsigned vcpu)
{
	pthread_mutex_lock(&fh->lock);
	unsigned ppi = vcpu_of(fh, vcpu)->pmu_ppi;
	pthread_mutex_unlock(&fh->lock);
	return ppi;
}

void fake_hv_fail(struct fake_hv *fh, enum fake_op op, int err)
{
	pthread_mutex_lock(&fh->lock);
	fh->fail[op] = err;
	pthread_mutex_unlock(&fh->lock);
}

static void push_script(struct fake_hv *fh, unsigned vcpu, const struct script *s)
{
	pthread_mutex_lock(&fh->lock);
	struct hv_vcpu *v = vcpu_of(fh, vcpu);
	if (v->q_count == QCAP)
		die("script queue full");
	v->queue[(v->q_head + v->q_count) % QCAP] = *s;
	v->q_count++;
	pthread_cond_broadcast(&fh->cond);
	pthread_mutex_unlock(&fh->lock);
}

void fake_hv_push(struct fake_hv *fh, unsigned vcpu, const struct vcpu_exit *exit)
{
	struct script s = { .exit = *exit };
	push_script(fh, vcpu, &s);
}

void fake_hv_push_mmio_write(struct fake_hv *fh, unsigned vcpu, uint64_t addr, unsigned len, uint64_t value)
{
	struct vcpu_exit e = { .kind = VCPU_EXIT_MMIO };

	e.mmio.addr = addr;
	e.mmio.len = len;
	e.mmio.is_write = true;
	for (unsigned i = 0; i < len && i < 8; i++)
		e.mmio.data[i] = (uint8_t)(value >> (8 * i));
	fake_hv_push(fh, vcpu, &e);
}

void fake_hv_push_mmio_read(struct fake_hv *fh, unsigned vcpu, uint64_t addr, unsigned len)
{
	struct vcpu_exit e = { .kind = VCPU_EXIT_MMIO };

	e.mmio.addr = addr;
	e.mmio.len = len;
	/* Garbage the VMM must overwrite. */
	memset(e.mmio.data, 0xa5, sizeof(e.mmio.data));
	fake_hv_push(fh, vcpu, &e);
}

void fake_hv_push_hypercall(struct fake_hv *fh, unsigned vcpu, uint32_t func,
			    uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct vcpu_exit e = { .kind = VCPU_EXIT_HYPERCALL };

	e.hypercall.func = func;
	e.hypercall.args[0] = a1;
	e.hypercall.args[1] = a2;
	e.hypercall.args[2] = a3;
	e.hypercall.ret[0] = 0x5a5a5a5a5a5a5a5aULL;	/* must be overwritten */
	fake_hv_push(fh, vcpu, &e);
}

void fake_hv_push_system_event(struct fake_hv *fh, unsigned vcpu, enum vcpu_system_event type)
{
	struct vcpu_exit e = { .kind = VCPU_EXIT_SYSTEM_EVENT };

	e.system_event.type = type;
	fake_hv_push(fh, vcpu, &e);
}

void fake_hv_push_run_error(struct fake_hv *fh, unsigned vcpu, int err)
{
	struct script s = { .run_error = err ? err : -EIO };
	push_script(fh, vcpu, &s);
}

static struct timespec deadline(unsigned timeout_ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += timeout_ms / 1000;
	t.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

enum cond_kind { C_IDLE, C_ANSWERS, C_RESETS, C_CONSUMED };

static bool holds(struct hv_vcpu *v, enum cond_kind k, unsigned n)
{
	switch (k) {
	case C_IDLE: return v->q_count == 0 && v->waiting && !v->awaiting_answer;
	case C_ANSWERS: return v->nanswers >= n;
	case C_RESETS: return v->nresets >= n;
	default: return v->consumed >= n;
	}
}

static bool wait_for(struct fake_hv *fh, unsigned vcpu, enum cond_kind k, unsigned n, unsigned timeout_ms)
{
	struct timespec until = deadline(timeout_ms);
	bool ok;

	pthread_mutex_lock(&fh->lock);
	struct hv_vcpu *v = vcpu_of(fh, vcpu);
	while (!(ok = holds(v, k, n))) {
		if (pthread_cond_timedwait(&fh->cond, &fh->lock, &until) == ETIMEDOUT) {
			ok = holds(v, k, n);
			break;
		}
	}
	pthread_mutex_unlock(&fh->lock);
	return ok;
}

bool fake_hv_wait_idle(struct fake_hv *fh, unsigned vcpu, unsigned timeout_ms)
{
	return wait_for(fh, vcpu, C_IDLE, 0, timeout_ms);
}

bool fake_hv_wait_answers(struct fake_hv *fh, unsigned vcpu, unsigned n, unsigned timeout_ms)
{
	return wait_for(fh, vcpu, C_ANSWERS, n, timeout_ms);
}

bool fake_hv_wait_resets(struct fake_hv *fh, unsigned vcpu, unsigned n, unsigned timeout_ms)
{
	return wait_for(fh, vcpu, C_RESETS, n, timeout_ms);
}

bool fake_hv_wait_consumed(struct fake_hv *fh, unsigned vcpu, unsigned n, unsigned timeout_ms)
{
	return wait_for(fh, vcpu, C_CONSUMED, n, timeout_ms);
}

unsigned fake_hv_answer_count(struct fake_hv *fh, unsigned vcpu)
{
	pthread_mutex_lock(&fh->lock);
	unsigned n = vcpu_of(fh, vcpu)->nanswers;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

bool fake_hv_answer(struct fake_hv *fh, unsigned vcpu, unsigned idx, struct vcpu_exit *out)
{
	bool ok;

	pthread_mutex_lock(&fh->lock);
	struct hv_vcpu *v = vcpu_of(fh, vcpu);
	ok = idx < v->nanswers && v->nanswers - idx <= ACAP;
	if (ok)
		*out = v->answers[idx % ACAP];
	pthread_mutex_unlock(&fh->lock);
	return ok;
}

int64_t fake_hv_call(struct fake_hv *fh, unsigned vcpu, uint32_t func,
		     uint64_t a1, uint64_t a2, uint64_t a3, unsigned timeout_ms)
{
	struct vcpu_exit e;
	unsigned n = fake_hv_answer_count(fh, vcpu);

	fake_hv_push_hypercall(fh, vcpu, func, a1, a2, a3);
	if (!fake_hv_wait_answers(fh, vcpu, n + 1, timeout_ms) || !fake_hv_answer(fh, vcpu, n, &e))
		return INT64_MIN;
	if (e.kind != VCPU_EXIT_HYPERCALL || e.hypercall.func != func || e.hypercall.nret < 1)
		return INT64_MIN + 1;	/* not answered as a hypercall */
	return (int64_t)e.hypercall.ret[0];
}

uint64_t fake_hv_mmio_read(struct fake_hv *fh, unsigned vcpu, uint64_t addr, unsigned len,
			   unsigned timeout_ms, bool *ok)
{
	struct vcpu_exit e;
	unsigned n = fake_hv_answer_count(fh, vcpu);
	uint64_t v = 0;

	*ok = false;
	fake_hv_push_mmio_read(fh, vcpu, addr, len);
	if (!fake_hv_wait_answers(fh, vcpu, n + 1, timeout_ms) || !fake_hv_answer(fh, vcpu, n, &e) ||
	    e.kind != VCPU_EXIT_MMIO || e.mmio.addr != addr || e.mmio.is_write)
		return UINT64_MAX;
	/* Bytes beyond len must be zero: the guest register gets exactly len bytes. */
	for (unsigned i = len; i < 8; i++) {
		if (e.mmio.data[i])
			return UINT64_MAX;
	}
	for (unsigned i = 0; i < len && i < 8; i++)
		v |= (uint64_t)e.mmio.data[i] << (8 * i);
	*ok = true;
	return v;
}

unsigned fake_hv_created_vcpus(struct fake_hv *fh)
{
	pthread_mutex_lock(&fh->lock);
	unsigned n = fh->created;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

unsigned fake_hv_destroyed_vcpus(struct fake_hv *fh)
{
	pthread_mutex_lock(&fh->lock);
	unsigned n = fh->destroyed;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

unsigned fake_hv_resets(struct fake_hv *fh, unsigned vcpu, struct fake_reset *last)
{
	pthread_mutex_lock(&fh->lock);
	struct hv_vcpu *v = vcpu_of(fh, vcpu);
	unsigned n = v->nresets;
	if (last)
		*last = v->last_reset;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

unsigned fake_hv_runs(struct fake_hv *fh, unsigned vcpu)
{
	pthread_mutex_lock(&fh->lock);
	unsigned n = vcpu_of(fh, vcpu)->runs;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

#define COPY_OUT(arr, count, out, cap) do {				\
	pthread_mutex_lock(&fh->lock);					\
	unsigned _n = (count);						\
	for (unsigned _i = 0; out && _i < _n && _i < (cap); _i++)	\
		(out)[_i] = (arr)[_i];					\
	pthread_mutex_unlock(&fh->lock);				\
	return _n;							\
} while (0)

unsigned fake_hv_ops(struct fake_hv *fh, struct fake_op_rec *out, unsigned cap)
{
	COPY_OUT(fh->ops, fh->nops, out, cap);
}

unsigned fake_hv_maps(struct fake_hv *fh, struct fake_map *out, unsigned cap)
{
	COPY_OUT(fh->maps, fh->nmaps, out, cap);
}

unsigned fake_hv_forwards(struct fake_hv *fh, struct fake_range *out, unsigned cap)
{
	COPY_OUT(fh->fwd, fh->nfwd, out, cap);
}

unsigned fake_hv_irqs(struct fake_hv *fh, struct fake_irq *out, unsigned cap)
{
	COPY_OUT(fh->irqs, fh->nirqs, out, cap);
}

unsigned fake_hv_irq_calls(struct fake_hv *fh, unsigned spi, bool level)
{
	unsigned n = 0;

	pthread_mutex_lock(&fh->lock);
	for (unsigned i = 0; i < fh->nirqs; i++)
		n += fh->irqs[i].spi == spi && fh->irqs[i].level == level;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

unsigned fake_hv_ioeventfds(struct fake_hv *fh, struct fake_ioeventfd *out, unsigned cap)
{
	COPY_OUT(fh->ioeventfds, fh->nioeventfds, out, cap);
}

unsigned fake_hv_irqfds(struct fake_hv *fh, struct fake_irqfd *out, unsigned cap)
{
	COPY_OUT(fh->irqfds, fh->nirqfds, out, cap);
}

unsigned fake_hv_ioeventfd_hits(struct fake_hv *fh)
{
	pthread_mutex_lock(&fh->lock);
	unsigned n = fh->ioeventfd_hits;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

bool fake_hv_gic(struct fake_hv *fh, struct hv_gic_config *cfg, unsigned *vcpus)
{
	pthread_mutex_lock(&fh->lock);
	bool ok = fh->gic_created;
	if (ok && cfg)
		*cfg = fh->gic;
	if (ok && vcpus)
		*vcpus = fh->vcpus_at_gic;
	pthread_mutex_unlock(&fh->lock);
	return ok;
}
