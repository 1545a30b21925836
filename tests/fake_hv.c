#include "fake_hv.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QCAP	64	/* scripted exits waiting per vCPU */
#define ACAP	256	/* answers kept per vCPU */
#define LOGCAP	4096	/* op and irq records */
#define SMALLCAP 16	/* maps, forwarded ranges */

struct script {
	struct vcpu_exit exit;
	int run_error;		/* != 0: vcpu_run returns this instead */
};

struct hv_vcpu {
	struct fake_hv *fh;
	unsigned id;
	bool created, destroyed;

	struct script queue[QCAP];
	unsigned q_head, q_count, consumed;
	bool awaiting_answer;	/* a scripted exit was returned and not yet answered */
	bool kicked;
	bool waiting;		/* blocked in vcpu_run on an empty queue */
	unsigned runs;

	struct vcpu_exit answers[ACAP];
	unsigned nanswers;

	struct fake_reset last_reset;
	unsigned nresets;
};

struct fake_hv {
	struct hv hv;		/* first: hv->priv also points back here */
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* broadcast on every change */
	unsigned max_vcpus;
	struct hv_vcpu *vcpus;
	unsigned created, destroyed;
	int fail[FAKE_OP_COUNT];

	bool gic_created;
	struct hv_gic_config gic;
	unsigned vcpus_at_gic;

	struct fake_op_rec ops[LOGCAP];
	unsigned nops;
	struct fake_irq irqs[LOGCAP];
	unsigned nirqs;
	struct fake_map maps[SMALLCAP];
	unsigned nmaps;
	struct fake_range fwd[SMALLCAP];
	unsigned nfwd;
};

static void die(const char *what)
{
	fprintf(stderr, "fake_hv: %s\n", what);
	abort();
}

static struct fake_hv *of(struct hv *hv)
{
	return hv->priv;
}

/* Called with the lock held. */
static void log_op(struct fake_hv *fh, enum fake_op op, unsigned arg)
{
	if (fh->nops < LOGCAP)
		fh->ops[fh->nops++] = (struct fake_op_rec){ op, arg };
}

static struct hv_vcpu *vcpu_of(struct fake_hv *fh, unsigned id)
{
	if (id >= fh->max_vcpus)
		die("vCPU id out of range");
	return &fh->vcpus[id];
}

/* ---- the backend ---- */

static void op_destroy(struct hv *hv)
{
	fake_hv_free(of(hv));
}

static int op_get_caps(struct hv *hv, struct hv_caps *caps)
{
	caps->max_vcpus = of(hv)->max_vcpus;
	caps->ipa_bits = 40;
	return 0;
}

static int op_map_memory(struct hv *hv, uint64_t gpa, void *host, uint64_t size)
{
	struct fake_hv *fh = of(hv);
	int r;

	pthread_mutex_lock(&fh->lock);
	log_op(fh, FAKE_OP_MAP_MEMORY, 0);
	r = fh->fail[FAKE_OP_MAP_MEMORY];
	if (!r && fh->nmaps < SMALLCAP)
		fh->maps[fh->nmaps++] = (struct fake_map){ gpa, host, size };
	pthread_mutex_unlock(&fh->lock);
	return r;
}

static int op_forward_smccc(struct hv *hv, uint32_t base, uint32_t count)
{
	struct fake_hv *fh = of(hv);
	int r;

	pthread_mutex_lock(&fh->lock);
	log_op(fh, FAKE_OP_FORWARD_SMCCC, base);
	r = fh->fail[FAKE_OP_FORWARD_SMCCC];
	if (!r && fh->nfwd < SMALLCAP)
		fh->fwd[fh->nfwd++] = (struct fake_range){ base, count };
	pthread_mutex_unlock(&fh->lock);
	return r;
}

static int op_create_vcpu(struct hv *hv, unsigned id, struct hv_vcpu **out)
{
	struct fake_hv *fh = of(hv);
	int r = 0;

	pthread_mutex_lock(&fh->lock);
	log_op(fh, FAKE_OP_CREATE_VCPU, id);
	if (fh->fail[FAKE_OP_CREATE_VCPU])
		r = fh->fail[FAKE_OP_CREATE_VCPU];
	else if (id >= fh->max_vcpus)
		r = -EINVAL;
	else if (fh->gic_created)
		r = -EBUSY;	/* as KVM: no vCPU after the vGIC is initialised */
	else if (fh->vcpus[id].created)
		r = -EEXIST;
	if (r == 0) {
		fh->vcpus[id].created = true;
		fh->created++;
		*out = &fh->vcpus[id];
	}
	pthread_mutex_unlock(&fh->lock);
	return r;
}

static int op_create_gic(struct hv *hv, const struct hv_gic_config *cfg)
{
	struct fake_hv *fh = of(hv);
	int r = 0;

	pthread_mutex_lock(&fh->lock);
	log_op(fh, FAKE_OP_CREATE_GIC, 0);
	if (fh->fail[FAKE_OP_CREATE_GIC])
		r = fh->fail[FAKE_OP_CREATE_GIC];
	else if (fh->gic_created)
		r = -EEXIST;
	if (r == 0) {
		fh->gic_created = true;
		fh->gic = *cfg;
		fh->vcpus_at_gic = fh->created;
	}
	pthread_mutex_unlock(&fh->lock);
	return r;
}

static int op_irq_line(struct hv *hv, unsigned spi, bool level)
{
	struct fake_hv *fh = of(hv);
	int r = 0;

	pthread_mutex_lock(&fh->lock);
	log_op(fh, FAKE_OP_IRQ_LINE, spi);
	if (fh->fail[FAKE_OP_IRQ_LINE])
		r = fh->fail[FAKE_OP_IRQ_LINE];
	else if (!fh->gic_created)
		r = -ENXIO;
	if (r == 0 && fh->nirqs < LOGCAP)
		fh->irqs[fh->nirqs++] = (struct fake_irq){ spi, level };
	pthread_cond_broadcast(&fh->cond);
	pthread_mutex_unlock(&fh->lock);
	return r;
}

static int op_vcpu_reset(struct hv_vcpu *v, uint64_t pc, uint64_t arg)
{
	struct fake_hv *fh = v->fh;
	int r;

	pthread_mutex_lock(&fh->lock);
	log_op(fh, FAKE_OP_VCPU_RESET, v->id);
	r = fh->fail[FAKE_OP_VCPU_RESET];
	if (r == 0) {
		v->last_reset = (struct fake_reset){ pc, arg };
		v->nresets++;
		v->awaiting_answer = false;	/* a reset exit is never answered */
	}
	pthread_cond_broadcast(&fh->cond);
	pthread_mutex_unlock(&fh->lock);
	return r;
}

/* KVM's default MPIDR for a vCPU id (arch/arm64/kvm/sys_regs.c reset_mpidr). */
static int op_vcpu_get_mpidr(struct hv_vcpu *v, uint64_t *mpidr)
{
	unsigned id = v->id;

	*mpidr = (uint64_t)(id % 16) | (uint64_t)((id / 16) % 256) << 8 |
		 (uint64_t)((id / 4096) % 256) << 16;
	return 0;
}

static int op_vcpu_run(struct hv_vcpu *v, struct vcpu_exit *exit)
{
	struct fake_hv *fh = v->fh;

	pthread_mutex_lock(&fh->lock);
	v->runs++;
	if (v->awaiting_answer) {
		if (v->nanswers < ACAP)
			v->answers[v->nanswers++] = *exit;
		v->awaiting_answer = false;
		pthread_cond_broadcast(&fh->cond);
	}
	for (;;) {
		if (v->kicked) {
			v->kicked = false;
			memset(exit, 0, sizeof(*exit));
			exit->kind = VCPU_EXIT_INTERRUPTED;
			break;
		}
		if (v->q_count) {
			struct script s = v->queue[v->q_head];
			v->q_head = (v->q_head + 1) % QCAP;
			v->q_count--;
			v->consumed++;
			pthread_cond_broadcast(&fh->cond);
			if (s.run_error) {
				pthread_mutex_unlock(&fh->lock);
				return s.run_error;
			}
			*exit = s.exit;
			v->awaiting_answer = true;
			break;
		}
		v->waiting = true;
		pthread_cond_broadcast(&fh->cond);
		pthread_cond_wait(&fh->cond, &fh->lock);
		v->waiting = false;
	}
	pthread_mutex_unlock(&fh->lock);
	return 0;
}

static void op_vcpu_kick(struct hv_vcpu *v)
{
	struct fake_hv *fh = v->fh;

	pthread_mutex_lock(&fh->lock);
	v->kicked = true;
	pthread_cond_broadcast(&fh->cond);
	pthread_mutex_unlock(&fh->lock);
}

static void op_vcpu_destroy(struct hv_vcpu *v)
{
	struct fake_hv *fh = v->fh;

	pthread_mutex_lock(&fh->lock);
	if (v->destroyed)
		die("vCPU destroyed twice");
	v->destroyed = true;
	fh->destroyed++;
	pthread_mutex_unlock(&fh->lock);
}

static const struct hv_ops fake_ops = {
	.name = "fake",
	.destroy = op_destroy,
	.get_caps = op_get_caps,
	.map_memory = op_map_memory,
	.forward_smccc = op_forward_smccc,
	.create_vcpu = op_create_vcpu,
	.create_gic = op_create_gic,
	.irq_line = op_irq_line,
	.vcpu_reset = op_vcpu_reset,
	.vcpu_get_mpidr = op_vcpu_get_mpidr,
	.vcpu_run = op_vcpu_run,
	.vcpu_kick = op_vcpu_kick,
	.vcpu_destroy = op_vcpu_destroy,
};

/* ---- the test's side ---- */

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
	for (unsigned i = 0; i < max_vcpus; i++) {
		fh->vcpus[i].fh = fh;
		fh->vcpus[i].id = i;
	}
	pthread_mutex_init(&fh->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fh->cond, &ca);
	pthread_condattr_destroy(&ca);
	fh->hv.ops = &fake_ops;
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
	ok = idx < v->nanswers;
	if (ok)
		*out = v->answers[idx];
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
