/*
 * A fake hypervisor backend (struct hv) for unit tests. Each instance holds
 * its own state, so several VMs can run in one test process.
 *
 * Per vCPU, the test pushes scripted exits; the vCPU thread's vcpu_run first
 * records the VMM's answer to the previous scripted exit (the struct as the
 * VMM left it: hypercall ret[], MMIO read data), then returns the next
 * scripted exit, or blocks until one is pushed or the vCPU is kicked (then it
 * returns VCPU_EXIT_INTERRUPTED). Everything the VMM asks of the backend is
 * recorded for the test to check. All functions are thread-safe.
 */
#ifndef TESTS_FAKE_HV_H
#define TESTS_FAKE_HV_H

#include <stdbool.h>
#include <stdint.h>
#include "hv.h"

struct fake_hv;

/* The backend operations, in the order the op log records them. */
enum fake_op {
	FAKE_OP_MAP_MEMORY,
	FAKE_OP_FORWARD_SMCCC,
	FAKE_OP_CREATE_VCPU,
	FAKE_OP_CREATE_GIC,
	FAKE_OP_IRQ_LINE,
	FAKE_OP_VCPU_RESET,
	FAKE_OP_IOEVENTFD,
	FAKE_OP_IRQFD,
	FAKE_OP_VCPU_INIT_PMU,
	FAKE_OP_COUNT,
};

struct fake_op_rec {
	enum fake_op op;
	unsigned arg;		/* vCPU id for CREATE_VCPU/VCPU_RESET/VCPU_INIT_PMU, spi for IRQ_LINE */
};

struct fake_map {
	uint64_t gpa;
	void *host;
	uint64_t size;
};

struct fake_range {
	uint32_t base, count;
};

struct fake_reset {
	uint64_t pc, arg;
};

struct fake_irq {
	unsigned spi;
	bool level;
};

/*
 * ioeventfd / irqfd registrations. Like KVM, a scripted MMIO write that
 * matches a registered ioeventfd (address, length, data) signals its eventfd
 * and never reaches the VMM as an exit. A test reads an irqfd to see an
 * interrupt and writes the resample fd to play the guest's EOI.
 */
struct fake_ioeventfd {
	uint64_t gpa;
	unsigned len;
	uint64_t datamatch;
	int fd;
};

struct fake_irqfd {
	unsigned spi;
	int fd;
	int resample_fd;
};

/* max_vcpus: what get_caps reports and how many vCPUs may be created. */
struct fake_hv *fake_hv_new(unsigned max_vcpus);
/* The struct hv to give vm_create. */
struct hv *fake_hv_hv(struct fake_hv *fh);
/* Also what hv->ops->destroy does. */
void fake_hv_free(struct fake_hv *fh);

/* Whether get_caps offers a PMU (default: yes), as a host KVM with PMUv3. */
void fake_hv_set_pmu(struct fake_hv *fh, bool pmu);
/* The PMU interrupt vCPU id was given (0: vcpu_init_pmu not called). */
unsigned fake_hv_pmu_ppi(struct fake_hv *fh, unsigned vcpu);

/* Make every later call of op return err (0 clears). */
void fake_hv_fail(struct fake_hv *fh, enum fake_op op, int err);

/* Scripted exits, consumed in order by the vCPU's next vcpu_run calls. */
void fake_hv_push(struct fake_hv *fh, unsigned vcpu, const struct vcpu_exit *exit);
void fake_hv_push_mmio_write(struct fake_hv *fh, unsigned vcpu, uint64_t addr, unsigned len, uint64_t value);
void fake_hv_push_mmio_read(struct fake_hv *fh, unsigned vcpu, uint64_t addr, unsigned len);
void fake_hv_push_hypercall(struct fake_hv *fh, unsigned vcpu, uint32_t func,
			    uint64_t a1, uint64_t a2, uint64_t a3);
void fake_hv_push_system_event(struct fake_hv *fh, unsigned vcpu, enum vcpu_system_event type);
/* vcpu_run itself fails with err (negative errno). */
void fake_hv_push_run_error(struct fake_hv *fh, unsigned vcpu, int err);

/* Waits: true once the condition holds, false after timeout_ms. */
/* The queue is empty and the vCPU blocks in vcpu_run (so every answer is recorded). */
bool fake_hv_wait_idle(struct fake_hv *fh, unsigned vcpu, unsigned timeout_ms);
bool fake_hv_wait_answers(struct fake_hv *fh, unsigned vcpu, unsigned n, unsigned timeout_ms);
bool fake_hv_wait_resets(struct fake_hv *fh, unsigned vcpu, unsigned n, unsigned timeout_ms);
/* n scripted exits have been taken from the queue. */
bool fake_hv_wait_consumed(struct fake_hv *fh, unsigned vcpu, unsigned n, unsigned timeout_ms);

/* Answers: the exits as the VMM completed them, in order. */
unsigned fake_hv_answer_count(struct fake_hv *fh, unsigned vcpu);
bool fake_hv_answer(struct fake_hv *fh, unsigned vcpu, unsigned idx, struct vcpu_exit *out);
/*
 * Push a hypercall, wait for its answer and return x0 (as a signed PSCI
 * value); INT64_MIN if it was not answered within timeout_ms.
 */
int64_t fake_hv_call(struct fake_hv *fh, unsigned vcpu, uint32_t func,
		     uint64_t a1, uint64_t a2, uint64_t a3, unsigned timeout_ms);
/* Same for an MMIO read: the data the VMM returned, or UINT64_MAX on timeout (*ok false). */
uint64_t fake_hv_mmio_read(struct fake_hv *fh, unsigned vcpu, uint64_t addr, unsigned len,
			   unsigned timeout_ms, bool *ok);

/* Records. Counts are returned; the out pointers may be NULL. */
unsigned fake_hv_created_vcpus(struct fake_hv *fh);
unsigned fake_hv_destroyed_vcpus(struct fake_hv *fh);
unsigned fake_hv_resets(struct fake_hv *fh, unsigned vcpu, struct fake_reset *last);
unsigned fake_hv_runs(struct fake_hv *fh, unsigned vcpu);
unsigned fake_hv_ops(struct fake_hv *fh, struct fake_op_rec *out, unsigned cap);
unsigned fake_hv_maps(struct fake_hv *fh, struct fake_map *out, unsigned cap);
unsigned fake_hv_forwards(struct fake_hv *fh, struct fake_range *out, unsigned cap);
unsigned fake_hv_irqs(struct fake_hv *fh, struct fake_irq *out, unsigned cap);
/* How many irq_line(spi, level) calls were made. */
unsigned fake_hv_irq_calls(struct fake_hv *fh, unsigned spi, bool level);
unsigned fake_hv_ioeventfds(struct fake_hv *fh, struct fake_ioeventfd *out, unsigned cap);
unsigned fake_hv_irqfds(struct fake_hv *fh, struct fake_irqfd *out, unsigned cap);
/* MMIO writes that an ioeventfd took instead of the VMM. */
unsigned fake_hv_ioeventfd_hits(struct fake_hv *fh);
/* The vGIC configuration; false if create_gic was not called. vcpus: how many existed then. */
bool fake_hv_gic(struct fake_hv *fh, struct hv_gic_config *cfg, unsigned *vcpus);

#endif
