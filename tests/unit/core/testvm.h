/* A VM on the fake backend, with a tiny arm64 Image in a temporary directory. */
#ifndef TESTS_UNIT_CORE_TESTVM_H
#define TESTS_UNIT_CORE_TESTVM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arm64/layout.h"
#include "fake_hv.h"
#include "vmm/vm.h"

#define TMO 5000	/* ms: generous, only reached when something is broken */

#define TEST_TEXT_OFFSET 0x80000ULL
#define TEST_IMAGE_SIZE  0x200000ULL

struct testvm_opts {
	unsigned boot, max;
	enum boot_mode mode;
	bool console_file;		/* CONSOLE_FILE in the temp dir, else CONSOLE_NONE */
	const char *console_path;	/* CONSOLE_FILE at this path instead (e.g. a pipe) */
	const char *cmdline;
	uint64_t memory;		/* 0: 64 MiB */
	uint64_t image_size;		/* 0: TEST_IMAGE_SIZE */
	bool bad_magic;
	bool no_pmu;			/* the host's KVM offers no PMU */
	int fail_err;			/* != 0: fail_op fails with it from the start */
	enum fake_op fail_op;
	const char *rng;		/* virtio-rng source; NULL: no virtio-rng */
	bool memory_shared;		/* --memory shared=on */
	const char *fs_socket;		/* one --fs tag=share with this backend socket */
	const struct disk_config *disks;	/* --disk entries (ndisks) */
	unsigned ndisks;
};

struct testvm {
	struct fake_hv *fh;
	struct vm *vm;
	struct vm_config cfg;
	char dir[64], kernel[128], console[128];
	char err[512];
	pthread_mutex_t ev_lock;
	struct vm_event events[256];
	unsigned nevents;
};

/* Sets up files, the fake and the VM; returns vm_create's result (err in t->err). */
int testvm_create(struct testvm *t, const struct testvm_opts *o);
/* vm_start; fails the test on error. */
void testvm_start(struct testvm *t);
/* Stop (if still running), join, destroy, clean up the files. */
void testvm_finish(struct testvm *t);
/* The VM stopped by itself (its stop pipe became readable) within timeout_ms. */
bool testvm_wait_stopped(struct testvm *t, unsigned timeout_ms);
/* What the API reports for a vCPU. */
struct cpu_info testvm_cpu(struct testvm *t, unsigned id);
/* Poll the API view until vCPU id is (not) online. */
bool testvm_wait_online(struct testvm *t, unsigned id, bool online, unsigned timeout_ms);
/* How often vCPU id's parked thread was woken. */
unsigned long testvm_wakeups(struct testvm *t, unsigned id);
/* Poll until vCPU id's thread has parked (it starts asynchronously). */
bool testvm_wait_parked(struct testvm *t, unsigned id);
/* How many events of that kind for that cpu were reported. */
unsigned testvm_events(struct testvm *t, enum vm_event_kind kind, unsigned cpu);
/* Poll until at least n such events were reported. */
bool testvm_wait_events(struct testvm *t, enum vm_event_kind kind, unsigned cpu, unsigned n,
			unsigned timeout_ms);
/* The console file's contents (console_file only). */
size_t testvm_console(struct testvm *t, char *buf, size_t cap);

/*
 * Checked shorthands for the VM tests (test_vm_*.c): each fails the test
 * instead of returning an error.
 */
#define ENTRY		(RAM_BASE + TEST_TEXT_OFFSET)	/* where vCPU 0 starts the kernel */

/* 2 of 4 vCPUs enabled, ACPI boot. */
extern const struct testvm_opts acpi_2_4;

/* testvm_create, or fail with its error. */
void create_ok(struct testvm *t, const struct testvm_opts *o);
/* Start and wait until vCPU 0 runs the guest (blocks for its first exit). */
void start_ok(struct testvm *t);
/* A hypercall on vcpu: its x0, as a signed PSCI value. */
int64_t psci(struct testvm *t, unsigned vcpu, uint32_t func, uint64_t a1, uint64_t a2, uint64_t a3);
/* An MMIO read on vcpu: the data the VMM returned (nothing above len). */
uint64_t mmio_read(struct testvm *t, unsigned vcpu, uint64_t addr, unsigned len);
/* An MMIO write on vcpu, then wait until the vCPU asks for more (it was handled). */
void mmio_write(struct testvm *t, unsigned vcpu, uint64_t addr, unsigned len, uint64_t v);
/* Guest-side CPU_ON of vCPU id (SMC64) from caller, as Linux issues it. */
int64_t cpu_on(struct testvm *t, unsigned caller, unsigned id, uint64_t entry, uint64_t ctx);
/* The guest's _EJ0 of vCPU id, run on vcpu: returns what _STA reads right after (STATUS). */
uint32_t guest_eject(struct testvm *t, unsigned vcpu, unsigned id);
/* The guest's _OST for vCPU id: (event, status), e.g. (OST_EVENT_EJECT_REQUEST, 0). */
void guest_ost(struct testvm *t, unsigned vcpu, unsigned id, uint32_t event, uint32_t status);

#endif
