/*
 * Internals of the fake hypervisor, shared by its two halves:
 * fake_hv_backend.c, the struct hv_ops the VMM calls, and fake_hv.c, the
 * test-facing API of fake_hv.h (scripting exits, waiting, records).
 * Tests include fake_hv.h only.
 */
#ifndef TESTS_FAKE_HV_INTERNAL_H
#define TESTS_FAKE_HV_INTERNAL_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "fake_hv.h"

#define QCAP	64	/* scripted exits waiting per vCPU */
#define ACAP	256	/* answers kept per vCPU: the latest ones */
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
	unsigned pmu_ppi;	/* 0: no PMU initialised */
};

struct fake_hv {
	struct hv hv;		/* first: hv->priv also points back here */
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* broadcast on every change */
	unsigned max_vcpus;
	bool pmu;
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
	struct fake_ioeventfd ioeventfds[LOGCAP / 16];
	unsigned nioeventfds, ioeventfd_hits;
	struct fake_irqfd irqfds[LOGCAP / 16];
	unsigned nirqfds;
};

/* The backend (fake_hv_backend.c) that fake_hv_new installs. */
extern const struct hv_ops fake_hv_backend_ops;

static inline void die(const char *what)
{
	fprintf(stderr, "fake_hv: %s\n", what);
	abort();
}

#endif
