/*
 * A virtual machine as a value: its memory, devices, vCPUs and the state the
 * vCPU threads, the API and the main loop share (under vm->lock).
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "compiler.h"
#include "hv.h"
#include "arch/arm64/psci.h"
#include "devices/bus.h"
#include "devices/cpuhp.h"
#include "devices/ged.h"
#include "devices/pl011.h"
#include "vmm/config.h"
#include "vmm/console.h"
#include "vmm/virtio.h"
#include "vmm/vm_api.h"

/* How a run ended; main() turns it into the exit status. */
enum vm_exit_reason {
	VM_EXIT_NONE,
	VM_EXIT_POWEROFF,	/* guest SYSTEM_OFF, vm.shutdown, SIGTERM: status 0 */
	VM_EXIT_RESET,		/* guest SYSTEM_RESET: status 3 (reboot unsupported) */
	VM_EXIT_ERROR,		/* hypervisor error, guest crash: status 1 */
};

#define VM_STATUS_RESET 3

struct vcpu {
	struct vm *vm;
	unsigned id;
	uint64_t mpidr;
	struct hv_vcpu *hv;
	pthread_t thread;
	bool thread_started;
	bool parked;		/* waiting in the thread loop, not in the guest */
	pthread_cond_t wake;	/* signalled only when this vCPU's own state changes */
	bool wake_ready;
	unsigned long wakeups;	/* times the parked thread woke up (tests, diagnostics) */
};

struct boot_info {
	uint64_t entry;		/* kernel entry (vCPU 0 pc) */
	uint64_t dtb_gpa;	/* vCPU 0 x0 */
	uint64_t kernel_gpa, kernel_end;
	uint64_t initrd_gpa, initrd_end;
	uint64_t acpi_gpa;	/* 0 in device-tree mode */
	uint64_t acpi_size;
};

typedef void (*vm_event_fn)(void *opaque, const struct vm_event *ev);

struct vm {
	struct vm_config cfg;
	struct hv *hv;
	struct timespec started;

	uint8_t *ram;
	uint64_t ram_base, ram_size;
	int ram_fd;			/* --memory shared=on: the memfd behind ram; else -1 */

	struct mmio_bus bus;
	struct pl011 uart;
	struct ged ged;
	struct cpuhp cpuhp;
	struct vm_virtio_dev virtio[VM_MAX_VIRTIO];	/* attached virtio-mmio devices */
	unsigned nvirtio;
	struct console console;
	bool console_ready;
	/* vmm's own log lines: a ring in front of stderr, so that no thread
	 * waits for whoever reads stderr (NULL: lines go straight out). */
	struct console *log;

	bool devices_ready;
	bool pmu;			/* vCPUs have a PMUv3 (the host's KVM offers one) */
	struct boot_info boot;

	struct vcpu *vcpus;		/* cfg.max_cpus entries */

	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t parked_cond;	/* a vCPU thread parked or exited (vm_pause waits) */
	struct psci_cpus psci;
	bool paused;
	bool stopping;
	enum vm_exit_reason exit_reason;
	char exit_message[256];
	int stop_pipe[2];		/* written once when the VM stops */

	vm_event_fn event_fn;		/* progress reports, e.g. to the API */
	void *event_opaque;
};

/*
 * Create the VM: memory, every possible vCPU, the vGIC, devices, boot payload.
 * The tap fds of cfg->net are the VM's from the call on, also on failure: a
 * virtio-net device closes them, or vm_destroy if none took them.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg, struct hv *hv,
	      char *err, size_t errlen) WUR;
void vm_destroy(struct vm *vm);
/* Start the vCPU threads; vCPU 0 enters the kernel. */
int vm_start(struct vm *vm, char *err, size_t errlen) WUR;
/* Ask every vCPU to stop and record why (the first reason wins). */
void vm_request_stop(struct vm *vm, enum vm_exit_reason why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Join the vCPU threads after a stop. */
void vm_join(struct vm *vm);
int vm_pause(struct vm *vm) WUR;
int vm_resume(struct vm *vm) WUR;
uint64_t vm_uptime_ms(const struct vm *vm);
void vm_emit(struct vm *vm, const struct vm_event *ev);
/* Name vCPU id's thread from its state ("vcpuN" or "vcpuN-off"); vm->lock held. */
void vm_name_vcpu_locked(struct vm *vm, unsigned id);
/* Wake one parked vCPU thread after its state changed; vm->lock held. */
void vm_wake_vcpu(struct vm *vm, unsigned id);

/* The vm_api_ops the API server calls, and the hotplug block's callbacks (vmm/hotplug.c). */
extern const struct vm_api_ops vm_api_ops;
extern const struct cpuhp_ops vm_cpuhp_ops;

/* vCPU thread body (vmm/vcpu.c). */
void *vcpu_thread_main(void *arg);

#endif
