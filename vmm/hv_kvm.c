/*
 * The KVM backend: the only file that includes <linux/kvm.h>. It decodes a
 * kvm_run exit into struct vcpu_exit and applies the answer on the next run.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "hv.h"

/* Linux 6.4 uapi, absent from older cross headers. */
#ifndef KVM_ARM_VM_SMCCC_CTRL
#define KVM_ARM_VM_SMCCC_CTRL 0
#define KVM_ARM_VM_SMCCC_FILTER 0
#define KVM_SMCCC_FILTER_FWD_TO_USER 2
struct kvm_smccc_filter {
	__u32 base;
	__u32 nr_functions;
	__u8 action;
	__u8 pad[15];
};
#endif
#ifndef KVM_SYSTEM_EVENT_SHUTDOWN
#define KVM_SYSTEM_EVENT_SHUTDOWN 1
#define KVM_SYSTEM_EVENT_RESET 2
#define KVM_SYSTEM_EVENT_CRASH 3
#endif

#define CORE_REG(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
		     KVM_REG_ARM_CORE_REG(x))
/* MPIDR_EL1: op0 3, op1 0, CRn 0, CRm 0, op2 5 */
#define REG_MPIDR_EL1 ARM64_SYS_REG(3, 0, 0, 0, 5)

#define KICK_SIGNAL SIGUSR1

struct kvm_backend {
	struct hv hv;
	int kvm_fd, vm_fd, gic_fd;
	int run_size;
	struct kvm_vcpu_init init;
	unsigned next_slot;
	unsigned ipa_bits;
	bool pmu;		/* init has KVM_ARM_VCPU_PMU_V3 */
};

struct hv_vcpu {
	struct kvm_backend *kvm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_known;
	pthread_mutex_t lock;
};

static struct kvm_backend *backend_of(struct hv *hv)
{
	return hv->priv;
}

static void kvm_destroy(struct hv *hv)
{
	struct kvm_backend *k = backend_of(hv);
	if (k->gic_fd >= 0)
		close(k->gic_fd);
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->kvm_fd >= 0)
		close(k->kvm_fd);
	free(k);
}

static int kvm_get_caps(struct hv *hv, struct hv_caps *caps)
{
	struct kvm_backend *k = backend_of(hv);
	/* Asked of the VM: its vGIC type decides (512 for GICv3). */
	int n = ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	caps->max_vcpus = n > 0 ? (unsigned)n : 4;
	caps->ipa_bits = k->ipa_bits;
	caps->pmu = k->pmu;
	return 0;
}

static int kvm_map_memory(struct hv *hv, uint64_t gpa, void *host, uint64_t size)
{
	struct kvm_backend *k = backend_of(hv);
	struct kvm_userspace_memory_region r = {
		.slot = k->next_slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	k->next_slot++;
	return 0;
}

static int kvm_forward_smccc(struct hv *hv, uint32_t base, uint32_t count)
{
	struct kvm_backend *k = backend_of(hv);
	struct kvm_smccc_filter f = {
		.base = base,
		.nr_functions = count,
		.action = KVM_SMCCC_FILTER_FWD_TO_USER,
	};
	struct kvm_device_attr attr = {
		.group = KVM_ARM_VM_SMCCC_CTRL,
		.attr = KVM_ARM_VM_SMCCC_FILTER,
		.addr = (uint64_t)(uintptr_t)&f,
	};
	return ioctl(k->vm_fd, KVM_SET_DEVICE_ATTR, &attr) < 0 ? -errno : 0;
}

static int kvm_create_vcpu(struct hv *hv, unsigned id, struct hv_vcpu **out)
{
	struct kvm_backend *k = backend_of(hv);
	struct hv_vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->kvm = k;
	v->id = id;
	pthread_mutex_init(&v->lock, NULL);
	v->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		int e = -errno;
		free(v);
		return e;
	}
	v->run = mmap(NULL, (size_t)k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		int e = -errno;
		close(v->fd);
		free(v);
		return e;
	}
	/* Initialised powered off: only our PSCI CPU_ON ever starts a vCPU. */
	struct kvm_vcpu_init init = k->init;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0) {
		int e = -errno;
		munmap(v->run, (size_t)k->run_size);
		close(v->fd);
		free(v);
		return e;
	}
	*out = v;
	return 0;
}

static int gic_attr(int fd, uint32_t group, uint64_t attr, const void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)val };
	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

static int kvm_create_gic(struct hv *hv, const struct hv_gic_config *cfg)
{
	struct kvm_backend *k = backend_of(hv);
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	int r;

	if (ioctl(k->vm_fd, KVM_CREATE_DEVICE, &cd) < 0)
		return -errno;
	k->gic_fd = (int)cd.fd;
	uint64_t dist = cfg->dist_base;
	uint32_t nr = cfg->nr_irqs;
	if ((r = gic_attr(k->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist)))
		return r;
	/* Regions in index order: count[63:52] | base[51:16] | flags[15:12] 0 | index[11:0]. */
	for (unsigned i = 0; i < cfg->nr_redist && i < HV_GIC_MAX_REDIST_REGIONS; i++) {
		uint64_t base = cfg->redist[i].base, count = cfg->redist[i].count;
		if (!count || count > 0xfff || base & 0xffff || base >> 52)
			return -EINVAL;
		uint64_t region = count << 52 | base | i;
		if ((r = gic_attr(k->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
				  KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, &region)))
			return r;
	}
	if ((r = gic_attr(k->gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr)) ||
	    (r = gic_attr(k->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL)))
		return r;
	return 0;
}

static int kvm_vcpu_init_pmu(struct hv_vcpu *v, unsigned ppi)
{
	int irq = (int)ppi;
	int r = gic_attr(v->fd, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_IRQ, &irq);
	return r ? r : gic_attr(v->fd, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT, NULL);
}

static int kvm_irq_line(struct hv *hv, unsigned spi, bool level)
{
	struct kvm_backend *k = backend_of(hv);
	struct kvm_irq_level irq = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (32 + spi),
		.level = level,
	};
	return ioctl(k->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

static int kvm_ioeventfd(struct hv *hv, uint64_t gpa, unsigned len, uint64_t datamatch, int fd)
{
	struct kvm_backend *k = backend_of(hv);
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = gpa,
		.len = len,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};
	return ioctl(k->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

/* With the default arm64 routing, GSI n is SPI n (INTID 32 + n). */
static int kvm_irqfd(struct hv *hv, unsigned spi, int fd, int resample_fd)
{
	struct kvm_backend *k = backend_of(hv);
	struct kvm_irqfd irq = {
		.fd = (uint32_t)fd,
		.gsi = spi,
	};
	if (resample_fd >= 0) {
		irq.flags = KVM_IRQFD_FLAG_RESAMPLE;
		irq.resamplefd = (uint32_t)resample_fd;
	}
	return ioctl(k->vm_fd, KVM_IRQFD, &irq) < 0 ? -errno : 0;
}

static int set_reg(struct hv_vcpu *v, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)&val };
	return ioctl(v->fd, KVM_SET_ONE_REG, &r) < 0 ? -errno : 0;
}

static int get_reg(struct hv_vcpu *v, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)val };
	return ioctl(v->fd, KVM_GET_ONE_REG, &r) < 0 ? -errno : 0;
}

static int kvm_vcpu_reset(struct hv_vcpu *v, uint64_t pc, uint64_t arg)
{
	/*
	 * The same features as the first init (KVM may refuse a change), so
	 * the vCPU comes out of reset powered off: make it runnable.
	 */
	struct kvm_vcpu_init init = v->kvm->init;
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	int r;

	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0 ||
	    ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		return -errno;
	if ((r = set_reg(v, CORE_REG(regs.regs[0]), arg)) ||
	    (r = set_reg(v, CORE_REG(regs.regs[1]), 0)) ||
	    (r = set_reg(v, CORE_REG(regs.regs[2]), 0)) ||
	    (r = set_reg(v, CORE_REG(regs.regs[3]), 0)) ||
	    (r = set_reg(v, CORE_REG(regs.pc), pc)))
		return r;
	return 0;
}

static int kvm_vcpu_get_mpidr(struct hv_vcpu *v, uint64_t *mpidr)
{
	int r = get_reg(v, REG_MPIDR_EL1, mpidr);
	if (!r)
		*mpidr &= 0xff00ffffffULL;
	return r;
}

/* Write back the answer to the exit the caller just handled. */
static int complete_exit(struct hv_vcpu *v, const struct vcpu_exit *exit)
{
	struct kvm_run *run = v->run;

	if (exit->kind == VCPU_EXIT_MMIO && !exit->mmio.is_write) {
		memcpy(run->mmio.data, exit->mmio.data, sizeof(run->mmio.data));
	} else if (exit->kind == VCPU_EXIT_HYPERCALL) {
		for (unsigned i = 0; i < exit->hypercall.nret && i < 4; i++) {
			int r = set_reg(v, CORE_REG(regs.regs[i]), exit->hypercall.ret[i]);
			if (r)
				return r;
		}
	}
	return 0;
}

static int decode_exit(struct hv_vcpu *v, struct vcpu_exit *exit)
{
	struct kvm_run *run = v->run;

	memset(exit, 0, sizeof(*exit));
	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		exit->kind = VCPU_EXIT_MMIO;
		exit->mmio.addr = run->mmio.phys_addr;
		exit->mmio.len = run->mmio.len;
		exit->mmio.is_write = run->mmio.is_write;
		memcpy(exit->mmio.data, run->mmio.data, sizeof(exit->mmio.data));
		return 0;
	case KVM_EXIT_HYPERCALL: {
		exit->kind = VCPU_EXIT_HYPERCALL;
		exit->hypercall.func = (uint32_t)run->hypercall.nr;
		for (unsigned i = 0; i < 3; i++) {
			int r = get_reg(v, CORE_REG(regs.regs[i + 1]), &exit->hypercall.args[i]);
			if (r)
				return r;
		}
		return 0;
	}
	case KVM_EXIT_SYSTEM_EVENT:
		exit->kind = VCPU_EXIT_SYSTEM_EVENT;
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN: exit->system_event.type = VCPU_SYSTEM_SHUTDOWN; break;
		case KVM_SYSTEM_EVENT_RESET: exit->system_event.type = VCPU_SYSTEM_RESET; break;
		case KVM_SYSTEM_EVENT_CRASH: exit->system_event.type = VCPU_SYSTEM_CRASH; break;
		default: exit->system_event.type = VCPU_SYSTEM_OTHER; break;
		}
		return 0;
	case KVM_EXIT_INTR:
		exit->kind = VCPU_EXIT_INTERRUPTED;
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		exit->kind = VCPU_EXIT_FAIL_ENTRY;
		exit->other.reason = run->exit_reason;
		exit->other.detail = run->fail_entry.hardware_entry_failure_reason;
		return 0;
	case KVM_EXIT_INTERNAL_ERROR:
		exit->kind = VCPU_EXIT_INTERNAL_ERROR;
		exit->other.reason = run->exit_reason;
		exit->other.detail = run->internal.suberror;
		return 0;
	default:
		exit->kind = VCPU_EXIT_UNKNOWN;
		exit->other.reason = run->exit_reason;
		return 0;
	}
}

static int kvm_vcpu_run(struct hv_vcpu *v, struct vcpu_exit *exit)
{
	int r = complete_exit(v, exit);
	if (r)
		return r;

	pthread_mutex_lock(&v->lock);
	if (!v->thread_known) {
		v->thread = pthread_self();
		v->thread_known = true;
	}
	pthread_mutex_unlock(&v->lock);

	if (ioctl(v->fd, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			/* A kick: clear the flag it set so the next run enters. */
			__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			memset(exit, 0, sizeof(*exit));
			exit->kind = VCPU_EXIT_INTERRUPTED;
			return 0;
		}
		return -errno;
	}
	return decode_exit(v, exit);
}

static void kvm_vcpu_kick(struct hv_vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&v->lock);
	if (v->thread_known)
		pthread_kill(v->thread, KICK_SIGNAL);
	pthread_mutex_unlock(&v->lock);
}

static void kvm_vcpu_destroy(struct hv_vcpu *v)
{
	munmap(v->run, (size_t)v->kvm->run_size);
	close(v->fd);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

static const struct hv_ops kvm_ops = {
	.name = "kvm",
	.destroy = kvm_destroy,
	.get_caps = kvm_get_caps,
	.map_memory = kvm_map_memory,
	.forward_smccc = kvm_forward_smccc,
	.create_vcpu = kvm_create_vcpu,
	.create_gic = kvm_create_gic,
	.irq_line = kvm_irq_line,
	.ioeventfd = kvm_ioeventfd,
	.irqfd = kvm_irqfd,
	.vcpu_init_pmu = kvm_vcpu_init_pmu,
	.vcpu_reset = kvm_vcpu_reset,
	.vcpu_get_mpidr = kvm_vcpu_get_mpidr,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_destroy = kvm_vcpu_destroy,
};

/*
 * The VM's guest physical address space: as many bits as the machine needs,
 * which the host must support. A host without KVM_CAP_ARM_VM_IPA_SIZE has a
 * fixed 40-bit space (ipa_limit then stays 0 and the VM type is 0).
 */
static int pick_ipa_size(struct kvm_backend *k, struct hv_vm_params *vp, char *err, unsigned errlen)
{
	int limit = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);
	unsigned max = limit > 0 ? (unsigned)limit : 40;

	vp->ipa_limit = limit > 0 ? (unsigned)limit : 0;
	if (vp->ipa_bits > max) {
		vp->ipa_limit = max;
		snprintf(err, errlen, "the machine needs a %u-bit guest physical address space; "
			 "KVM on this host supports %u bits", vp->ipa_bits, max);
		return -ERANGE;
	}
	k->ipa_bits = limit > 0 ? vp->ipa_bits : 40;
	return 0;
}

static void kick_handler(int sig)
{
	(void)sig;	/* only there to interrupt KVM_RUN */
}

int hv_kvm_open(struct hv **out, struct hv_vm_params *vp, char *err, unsigned errlen)
{
	struct kvm_backend *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	k->kvm_fd = k->vm_fd = k->gic_fd = -1;
	k->hv.ops = &kvm_ops;
	k->hv.priv = k;

	k->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open /dev/kvm: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(k->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		r = -ENODEV;
		snprintf(err, errlen, "unsupported KVM API version");
		goto fail;
	}
	if ((r = pick_ipa_size(k, vp, err, errlen)))
		goto fail;
	k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM,
			 vp->ipa_limit ? KVM_VM_TYPE_ARM_IPA_SIZE(k->ipa_bits) : 0UL);
	if (k->vm_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	k->run_size = ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size <= 0) {
		r = -ENODEV;
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE failed");
		goto fail;
	}
	if (ioctl(k->vm_fd, KVM_ARM_PREFERRED_TARGET, &k->init) < 0) {
		r = -errno;
		snprintf(err, errlen, "KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
		goto fail;
	}
	memset(k->init.features, 0, sizeof(k->init.features));
	/* One feature set for every init of every vCPU. */
	k->init.features[0] = 1u << KVM_ARM_VCPU_PSCI_0_2 | 1u << KVM_ARM_VCPU_POWER_OFF;

	struct sigaction sa = { .sa_handler = kick_handler };	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0) {
		r = -errno;
		snprintf(err, errlen, "sigaction: %s", strerror(errno));
		goto fail;
	}
	/* A PMU for perf in the guest, where the host's KVM has one to give. */
	if (ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_PMU_V3) > 0) {
		k->init.features[0] |= 1u << KVM_ARM_VCPU_PMU_V3;
		k->pmu = true;
	}
	*out = &k->hv;
	return 0;
fail:
	kvm_destroy(&k->hv);
	return r;
}
