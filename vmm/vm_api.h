/*
 * What the JSON-RPC API server needs from a running VM. The VM implements
 * these operations; none of them blocks on the guest: operations that the
 * guest must complete (add, remove) start the change and the VM reports
 * progress through api_server_notify() (see vmm/api/api.h).
 */
#ifndef VMM_VM_API_H
#define VMM_VM_API_H

#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"

enum vm_run_state { VM_STATE_RUNNING, VM_STATE_PAUSED, VM_STATE_SHUTTING_DOWN };

enum cpu_pending { CPU_PENDING_NONE, CPU_PENDING_INSERT, CPU_PENDING_REMOVE };

/* A device of vm.info (the virtio-mmio transports). */
struct vm_device_info {
	const char *type;		/* "virtio-rng", "virtio-blk" */
	uint64_t base;			/* MMIO window */
	unsigned irq;			/* GIC INTID */
	uint32_t status;		/* virtio device status */
	bool ioeventfd;			/* notifications never reach a vCPU thread */
	uint64_t notifies;		/* queue notifications served on the device's I/O thread */
	uint64_t vcpu_notifies;		/* QueueNotify writes handled on vCPU threads */
	uint64_t interrupts;
};

#define VM_INFO_MAX_DEVICES 32

struct vm_info {
	enum vm_run_state state;
	unsigned boot_cpus, max_cpus, enabled_cpus, online_cpus;
	uint64_t memory_bytes;
	uint64_t uptime_ms;
	const char *boot_mode;		/* "acpi" or "fdt" */
	bool hotplug_supported;		/* false in fdt mode */
	unsigned ndevices;
	struct vm_device_info devices[VM_INFO_MAX_DEVICES];
};

struct cpu_info {
	unsigned id;
	uint64_t mpidr;
	bool enabled;			/* firmware view (_STA Enabled) */
	bool online;			/* guest's PSCI view: running */
	enum cpu_pending pending;	/* remove: requested or acknowledged by the guest */
	const char *state;		/* the hotplug state: "disabled", "insert-pending",
					 * "enabled", "remove-requested", "remove-acknowledged" */
};

/*
 * Application error codes, returned negated by the operations below. They
 * start above every errno value, so a plain -errno is never mistaken for one.
 */
#define VM_ERR_BASE 1000
#define VM_ERR_INDEX(e) ((e) - VM_ERR_BASE)	/* 1 for VM_ERR_NO_SUCH_CPU, ... */

enum vm_api_error {
	VM_ERR_NO_SUCH_CPU = VM_ERR_BASE + 1,	/* id outside 0..max-1 */
	VM_ERR_BOOT_CPU,		/* vCPU 0 cannot be removed */
	VM_ERR_ALREADY_ENABLED,
	VM_ERR_NOT_ENABLED,
	VM_ERR_BUSY,			/* an add/remove of that CPU is in progress */
	VM_ERR_NO_FREE_CPU,		/* add without id and every CPU enabled */
	VM_ERR_NOT_SUPPORTED,		/* hotplug in device-tree boot mode */
	VM_ERR_INVALID_STATE,		/* e.g. resume while running */
	VM_ERR_TIMEOUT,			/* the guest did not complete in time */
};

struct vm_api_ops {
	int (*info)(void *vm, struct vm_info *out);
	/* Fills up to cap entries; returns the number of possible vCPUs or -errno. */
	int (*cpu_list)(void *vm, struct cpu_info *out, unsigned cap);
	/* id < 0: lowest disabled. Returns the chosen id, or -VM_ERR_*. */
	int (*cpu_add)(void *vm, int id);
	/* Returns 0 or -VM_ERR_*. */
	int (*cpu_remove)(void *vm, unsigned id);
	/* One vCPU's state: 0 or -VM_ERR_NO_SUCH_CPU. */
	int (*cpu_get)(void *vm, unsigned id, struct cpu_info *out);
	/*
	 * A remove the guest did not complete: cancel it (if the guest had
	 * acknowledged it, it is told the CPU stays: notified again).
	 * Returns 0, or -VM_ERR_NOT_ENABLED if the guest ejected the CPU
	 * already, -VM_ERR_INVALID_STATE if no remove was in progress.
	 * out (may be NULL) receives the CPU's state afterwards.
	 */
	int (*cpu_remove_cancel)(void *vm, unsigned id, struct cpu_info *out);
	int (*pause)(void *vm);
	int (*resume)(void *vm);
	int (*shutdown)(void *vm);
	/* A line for the VM's log; any thread, never blocks. NULL: stderr. */
	void (*log)(void *vm, const char *line);
};

/* A line for the VM's log through ops->log, which never waits for stderr. */
void vm_api_log(const struct vm_api_ops *ops, void *vm, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Progress reports from the VM; also the notifications of events.subscribe. */
enum vm_event_kind {
	VM_EVENT_CPU_ENABLED,		/* firmware Enabled set, insert event raised */
	VM_EVENT_CPU_ONLINE,		/* PSCI CPU_ON accepted, vCPU running */
	VM_EVENT_CPU_OFFLINE,		/* PSCI CPU_OFF */
	VM_EVENT_CPU_DISABLED,		/* the guest ejected it (_EJ0) and reported so (_OST) */
	VM_EVENT_CPU_OST,		/* the guest's _OST: event, status */
	VM_EVENT_VM_SHUTDOWN,
};

/* ACPI _OST source events of an eject, and its "in progress" status (ACPI 6.5 table 6.162). */
#define OST_EVENT_EJECT_REQUEST	0x03
#define OST_EVENT_OSPM_EJECT	0x103
#define OST_STATUS_EJECT_IN_PROGRESS 0x84

static inline bool ost_is_eject(uint32_t ost_event)
{
	return ost_event == OST_EVENT_EJECT_REQUEST || ost_event == OST_EVENT_OSPM_EJECT;
}

struct vm_event {
	enum vm_event_kind kind;
	unsigned cpu;
	uint32_t ost_event, ost_status;
};

#endif
