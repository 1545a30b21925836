/*
 * The hypervisor interface. Everything above it (vm, vcpu loop, PSCI, devices)
 * sees plain structs; only the KVM backend (vmm/hv_kvm.c) knows the KVM uapi header.
 * Unit tests plug in a fake backend.
 */
#ifndef VMM_HV_H
#define VMM_HV_H

#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"

struct hv;
struct hv_vcpu;

/* A vCPU exit, decoded from the backend's run structure in one place. */
enum vcpu_exit_kind {
	VCPU_EXIT_NONE = 0,	/* nothing to answer (first run) */
	VCPU_EXIT_MMIO,		/* guest access to an unbacked physical address */
	VCPU_EXIT_HYPERCALL,	/* SMCCC call forwarded to us (PSCI) */
	VCPU_EXIT_SYSTEM_EVENT,	/* in-kernel PSCI shutdown/reset/crash */
	VCPU_EXIT_INTERRUPTED,	/* the run was kicked (signal, pause, stop) */
	VCPU_EXIT_FAIL_ENTRY,	/* the hypervisor could not enter the guest */
	VCPU_EXIT_INTERNAL_ERROR,
	VCPU_EXIT_UNKNOWN,
};

enum vcpu_system_event {
	VCPU_SYSTEM_SHUTDOWN,
	VCPU_SYSTEM_RESET,
	VCPU_SYSTEM_CRASH,
	VCPU_SYSTEM_OTHER,
};

struct vcpu_exit {
	enum vcpu_exit_kind kind;
	union {
		struct {
			uint64_t addr;
			uint32_t len;
			bool is_write;
			uint8_t data[8];	/* write data in, read data out */
		} mmio;
		struct {
			uint32_t func;		/* SMCCC function id (w0) */
			uint64_t args[3];	/* x1..x3 */
			uint64_t ret[4];	/* x0..x3 written back on the next run */
			uint8_t nret;		/* how many of ret[] to write back */
		} hypercall;
		struct {
			enum vcpu_system_event type;
		} system_event;
		struct {
			uint32_t reason;	/* backend's raw exit code */
			uint64_t detail;
		} other;
	};
};

#define HV_GIC_MAX_REDIST_REGIONS 4

struct hv_gic_config {
	uint64_t dist_base;
	/* Redistributor regions, 128 KiB per vCPU, filled with vCPU 0.. in order. */
	unsigned nr_redist;
	struct {
		uint64_t base;
		unsigned count;	/* vCPUs */
	} redist[HV_GIC_MAX_REDIST_REGIONS];
	uint32_t nr_irqs;	/* total interrupt ids, multiple of 32 */
};

struct hv_caps {
	unsigned max_vcpus;	/* for this VM */
	unsigned ipa_bits;	/* of this VM's guest physical address space */
	bool pmu;		/* vCPUs have a PMUv3: call vcpu_init_pmu */
};

/* What the VM needs of the host, checked before it is created. */
struct hv_vm_params {
	unsigned ipa_bits;	/* in: guest physical address bits the machine needs */
	unsigned ipa_limit;	/* out: the most the host supports */
};

struct hv_ops {
	const char *name;
	void (*destroy)(struct hv *hv);
	int (*get_caps)(struct hv *hv, struct hv_caps *caps) WUR;
	int (*map_memory)(struct hv *hv, uint64_t gpa, void *host, uint64_t size) WUR;
	/* Forward SMCCC function ids [base, base + count) to user space. */
	int (*forward_smccc)(struct hv *hv, uint32_t base, uint32_t count) WUR;
	int (*create_vcpu)(struct hv *hv, unsigned id, struct hv_vcpu **out) WUR;
	/* Create and initialise the vGICv3; every vCPU must exist already. */
	int (*create_gic)(struct hv *hv, const struct hv_gic_config *cfg) WUR;
	int (*irq_line)(struct hv *hv, unsigned spi, bool level) WUR;
	/*
	 * A guest write of `datamatch` (len bytes) at gpa signals the eventfd fd
	 * instead of exiting to a vCPU thread. NULL or -ENOSYS: not supported.
	 */
	int (*ioeventfd)(struct hv *hv, uint64_t gpa, unsigned len, uint64_t datamatch, int fd) WUR;
	/*
	 * Signalling fd asserts the SPI. With resample_fd >= 0 the line is
	 * level-triggered: it stays asserted until the guest EOIs it, then it is
	 * lowered and resample_fd is signalled (so the device can raise it again).
	 * With resample_fd < 0 each signal is an edge. Several fds may signal
	 * the same SPI. NULL or -ENOSYS: not supported.
	 */
	int (*irqfd)(struct hv *hv, unsigned spi, int fd, int resample_fd) WUR;
	/* With caps.pmu, after create_gic: the PMU overflow interrupt is PPI ppi (INTID). */
	int (*vcpu_init_pmu)(struct hv_vcpu *vcpu, unsigned ppi) WUR;

	/* Architectural reset; the vCPU then starts at pc with x0 = arg. */
	int (*vcpu_reset)(struct hv_vcpu *vcpu, uint64_t pc, uint64_t arg) WUR;
	int (*vcpu_get_mpidr)(struct hv_vcpu *vcpu, uint64_t *mpidr) WUR;
	/*
	 * Answer the previous exit held in *exit (MMIO read data, hypercall
	 * return registers), run the vCPU, and decode the next exit into *exit.
	 * Must be called from the thread that owns the vCPU.
	 */
	int (*vcpu_run)(struct hv_vcpu *vcpu, struct vcpu_exit *exit) WUR;
	/* Make a running or about-to-run vcpu_run return VCPU_EXIT_INTERRUPTED. */
	void (*vcpu_kick)(struct hv_vcpu *vcpu);
	void (*vcpu_destroy)(struct hv_vcpu *vcpu);
};

struct hv {
	const struct hv_ops *ops;
	void *priv;
};

/*
 * The KVM backend: creates the VM with vp->ipa_bits of guest physical
 * address space. Returns -ENODEV where /dev/kvm or arm64 KVM is absent,
 * -ERANGE (with vp->ipa_limit set) when the host cannot map that much.
 */
int hv_kvm_open(struct hv **out, struct hv_vm_params *vp, char *err, unsigned errlen) WUR;

#endif
