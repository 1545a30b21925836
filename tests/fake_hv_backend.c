/* The fake hypervisor's backend: the struct hv_ops the VMM calls (see fake_hv.h). */
#include "fake_hv_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

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

/* ---- VM-level operations ---- */

static void op_destroy(struct hv *hv)
{
	fake_hv_free(of(hv));
}

static int op_get_caps(struct hv *hv, struct hv_caps *caps)
{
	struct fake_hv *fh = of(hv);

	pthread_mutex_lock(&fh->lock);
	caps->max_vcpus = fh->max_vcpus;
	caps->ipa_bits = 40;
	caps->pmu = fh->pmu;
	pthread_mutex_unlock(&fh->lock);
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

/* As KVM checks them: regions 64 KiB aligned, not overlapping, enough for every vCPU. */
static bool redist_ok(const struct hv_gic_config *cfg, unsigned vcpus)
{
	const uint64_t stride = 0x20000;
	unsigned total = 0;

	if (cfg->nr_redist == 0 || cfg->nr_redist > HV_GIC_MAX_REDIST_REGIONS)
		return false;
	for (unsigned i = 0; i < cfg->nr_redist; i++) {
		uint64_t b = cfg->redist[i].base, e = b + cfg->redist[i].count * stride;
		if (cfg->redist[i].count == 0 || b & 0xffff)
			return false;
		if (cfg->dist_base < e && b < cfg->dist_base + 0x10000)
			return false;
		for (unsigned j = 0; j < i; j++) {
			uint64_t b2 = cfg->redist[j].base, e2 = b2 + cfg->redist[j].count * stride;
			if (b < e2 && b2 < e)
				return false;
		}
		total += cfg->redist[i].count;
	}
	return total >= vcpus;
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
	else if (!redist_ok(cfg, fh->created))
		r = -EINVAL;
	if (r == 0) {
		fh->gic_created = true;
		fh->gic = *cfg;
		fh->vcpus_at_gic = fh->created;
	}
	pthread_mutex_unlock(&fh->lock);
	return r;
}

static int op_vcpu_init_pmu(struct hv_vcpu *v, unsigned ppi)
{
	struct fake_hv *fh = v->fh;
	int r = 0;

	pthread_mutex_lock(&fh->lock);
	log_op(fh, FAKE_OP_VCPU_INIT_PMU, v->id);
	if (fh->fail[FAKE_OP_VCPU_INIT_PMU])
		r = fh->fail[FAKE_OP_VCPU_INIT_PMU];
	else if (!fh->pmu)
		r = -ENODEV;	/* KVM: feature missing from the vCPU */
	else if (!fh->gic_created)
		r = -ENODEV;	/* KVM: GIC not initialised */
	else if (v->pmu_ppi)
		r = -EBUSY;
	else if (ppi < 16 || ppi >= 32)
		r = -EINVAL;
	if (r == 0)
		v->pmu_ppi = ppi;
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

static int op_ioeventfd(struct hv *hv, uint64_t gpa, unsigned len, uint64_t datamatch, int fd)
{
	struct fake_hv *fh = of(hv);
	int r;

	pthread_mutex_lock(&fh->lock);
	log_op(fh, FAKE_OP_IOEVENTFD, (unsigned)datamatch);
	r = fh->fail[FAKE_OP_IOEVENTFD];
	if (!r && fh->nioeventfds == ARRAY_SIZE(fh->ioeventfds))
		r = -ENOSPC;
	if (!r)
		fh->ioeventfds[fh->nioeventfds++] = (struct fake_ioeventfd){ gpa, len, datamatch, fd };
	pthread_mutex_unlock(&fh->lock);
	return r;
}

static int op_irqfd(struct hv *hv, unsigned spi, int fd, int resample_fd)
{
	struct fake_hv *fh = of(hv);
	int r;

	pthread_mutex_lock(&fh->lock);
	log_op(fh, FAKE_OP_IRQFD, spi);
	r = fh->fail[FAKE_OP_IRQFD];
	if (!r && !fh->gic_created)
		r = -ENXIO;
	if (!r && fh->nirqfds == ARRAY_SIZE(fh->irqfds))
		r = -ENOSPC;
	if (!r)
		fh->irqfds[fh->nirqfds++] = (struct fake_irqfd){ spi, fd, resample_fd };
	pthread_mutex_unlock(&fh->lock);
	return r;
}

/* Lock held. As KVM: a write matching an ioeventfd signals it and does not exit. */
static bool take_ioeventfd(struct fake_hv *fh, const struct vcpu_exit *e)
{
	uint64_t data = 0, one = 1;

	if (e->kind != VCPU_EXIT_MMIO || !e->mmio.is_write || e->mmio.len > 8)
		return false;
	memcpy(&data, e->mmio.data, e->mmio.len);
	for (unsigned i = 0; i < fh->nioeventfds; i++) {
		const struct fake_ioeventfd *io = &fh->ioeventfds[i];
		if (io->gpa == e->mmio.addr && io->len == e->mmio.len && io->datamatch == data) {
			(void)!write(io->fd, &one, sizeof(one));
			fh->ioeventfd_hits++;
			return true;
		}
	}
	return false;
}

/* ---- vCPU operations ---- */

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
		v->answers[v->nanswers++ % ACAP] = *exit;	/* the last ACAP are kept */
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
			if (take_ioeventfd(fh, &s.exit))
				continue;
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

const struct hv_ops fake_hv_backend_ops = {
	.name = "fake",
	.destroy = op_destroy,
	.get_caps = op_get_caps,
	.map_memory = op_map_memory,
	.forward_smccc = op_forward_smccc,
	.create_vcpu = op_create_vcpu,
	.create_gic = op_create_gic,
	.vcpu_init_pmu = op_vcpu_init_pmu,
	.irq_line = op_irq_line,
	.ioeventfd = op_ioeventfd,
	.irqfd = op_irqfd,
	.vcpu_reset = op_vcpu_reset,
	.vcpu_get_mpidr = op_vcpu_get_mpidr,
	.vcpu_run = op_vcpu_run,
	.vcpu_kick = op_vcpu_kick,
	.vcpu_destroy = op_vcpu_destroy,
};
