/*
 * A fake VM behind struct vm_api_ops: records every call, enforces the same
 * rules as the real VM, and can play the guest from its own threads.
 */
#ifndef TESTS_FAKE_VM_H
#define TESTS_FAKE_VM_H

#include <pthread.h>
#include <stdbool.h>
#include "vmm/api/api.h"

#define FAKE_MAX_CPUS 8
#define FAKE_MAX_GUEST_THREADS 64

enum fake_guest_mode {
	FAKE_GUEST_MANUAL,	/* the test completes adds/removes itself */
	FAKE_GUEST_AUTO,	/* a guest thread completes each one after delay_ms */
};

struct fake_guest_job {
	struct fake_vm *vm;
	unsigned cpu;
};

struct fake_vm {
	pthread_mutex_t lock;
	struct api_server *srv;
	unsigned max_cpus;
	bool enabled[FAKE_MAX_CPUS], online[FAKE_MAX_CPUS];
	enum cpu_pending pending[FAKE_MAX_CPUS];
	enum vm_run_state state;
	bool fdt_mode;
	int force_err;		/* returned (negated) by the next add/remove/pause */
	int fail_add_cpu;	/* cpu_add of this id returns -VM_ERR_BUSY (-1: none) */
	unsigned ndevices;	/* what vm.info lists as devices */
	struct vm_device_info devices[2];

	/* Call records. */
	int infos, lists, adds, removes, cancels, pauses, resumes, shutdowns;
	int last_cancel;
	char last_log[256];	/* the last line given to ops->log */
	int logs;
	int op_log[64];		/* +id for adds, -id-100 for removes, in order */
	int op_count;

	enum fake_guest_mode guest;
	int delay_ms;
	pthread_t threads[FAKE_MAX_GUEST_THREADS];
	struct fake_guest_job jobs[FAKE_MAX_GUEST_THREADS];
	int nthreads;
};

extern const struct vm_api_ops fake_vm_ops;

void fake_vm_init(struct fake_vm *vm, unsigned max_cpus, unsigned boot_cpus);
/* Joins the guest threads; call before stopping the server. */
void fake_vm_fini(struct fake_vm *vm);
/* The guest, from the calling thread. */
void fake_guest_online(struct fake_vm *vm, unsigned cpu);
void fake_guest_ost(struct fake_vm *vm, unsigned cpu, unsigned event, unsigned status);
void fake_guest_eject(struct fake_vm *vm, unsigned cpu);
int fake_get(struct fake_vm *vm, const int *field);

#endif
