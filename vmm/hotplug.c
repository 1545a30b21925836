/*
 * The vCPU hotplug controller: cpu.add/cpu.remove from the API and the
 * guest's side through the hotplug register block, both driving the one
 * per-vCPU state machine (arch/arm64/cpu_hp.h) kept in the vCPU table under
 * vm->lock. PSCI reads the same state (CPU_ON of a disabled vCPU is DENIED),
 * the block's STATUS bits and the API's view are derived from it: nothing
 * else stores whether a vCPU is enabled.
 *
 * A removal ends when the guest reports its eject with _OST, not at _EJ0:
 * Linux re-reads _STA between the two, and a re-insert in that window would
 * make the eject look incomplete. A guest that never reports gets
 * EJECT_REPORT_MS; after that the CPU counts as disabled (for cpu.list and
 * a new add), and the transition is made by the next add or cancel.
 */
#include <errno.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/vm.h"

#define EJECT_REPORT_MS 2000

static void raise_hotplug_event(struct vm *vm)
{
	int r = ged_raise(&vm->ged, GED_EVENT_CPU_HOTPLUG);
	if (r)
		vm_log(vm, "cannot raise the GED interrupt: %s", strerror(-r));
}

/* vm->lock held. An eject the guest has not reported for EJECT_REPORT_MS. */
static bool eject_unreported(struct vm *vm, const struct psci_cpu *c)
{
	return c->hp == CPU_HP_EJECTED && vm_uptime_ms(vm) - c->ejected_ms >= EJECT_REPORT_MS;
}

/* vm->lock held. */
static void fill_info(struct vm *vm, unsigned id, struct cpu_info *out)
{
	const struct psci_cpu *c = &vm->psci.cpu[id];
	bool removing = c->hp == CPU_HP_REMOVE_REQUESTED || c->hp == CPU_HP_REMOVE_ACKED ||
			(c->hp == CPU_HP_EJECTED && !eject_unreported(vm, c));

	*out = (struct cpu_info){
		.id = id,
		.mpidr = c->mpidr,
		.enabled = cpu_hp_is_enabled(c->hp),
		.online = c->power != PSCI_POWER_OFF,
		.pending = c->hp == CPU_HP_INSERT_PENDING ? CPU_PENDING_INSERT :
			   removing ? CPU_PENDING_REMOVE : CPU_PENDING_NONE,
		.state = cpu_hp_state_name(c->hp),
	};
}

/* The removal of an ejected vCPU is over: say so (after vm->lock). */
static void report_removed(struct vm *vm, unsigned id, const char *how)
{
	vm_log(vm, "hotplug: vcpu%u removed%s (block accesses %llu)", id, how,
	       (unsigned long long)cpuhp_accesses(&vm->cpuhp));
	vm_emit(vm, &(struct vm_event){ .kind = VM_EVENT_CPU_DISABLED, .cpu = id });
}

static int hp_cpu_add(void *opaque, int id)
{
	struct vm *vm = opaque;
	bool settled = false;
	int r;

	if (vm->cfg.boot_mode != BOOT_MODE_ACPI)
		return -VM_ERR_NOT_SUPPORTED;
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; id < 0 && i < vm->psci.count; i++) {
		if (vm->psci.cpu[i].hp == CPU_HP_DISABLED || eject_unreported(vm, &vm->psci.cpu[i]))
			id = (int)i;
	}
	if (id < 0) {
		r = -VM_ERR_NO_FREE_CPU;
	} else if ((unsigned)id >= vm->psci.count) {
		r = -VM_ERR_NO_SUCH_CPU;
	} else {
		if (eject_unreported(vm, &vm->psci.cpu[id]))
			settled = cpu_hp_eject_done(&vm->psci, (unsigned)id) == 0;
		r = cpu_hp_add(&vm->psci, (unsigned)id);
	}
	pthread_mutex_unlock(&vm->lock);
	if (settled)
		report_removed(vm, (unsigned)id, ": the guest never reported the eject (_OST)");
	if (r == -EALREADY)
		return -VM_ERR_ALREADY_ENABLED;
	if (r == -EBUSY)
		return -VM_ERR_BUSY;
	if (r == -ENOENT)
		return -VM_ERR_NO_SUCH_CPU;
	if (r)
		return r;	/* -VM_ERR_NO_FREE_CPU, -VM_ERR_NO_SUCH_CPU */

	vm_log(vm, "hotplug: vcpu%d enabled, insert event raised (block accesses %llu)", id,
	       (unsigned long long)cpuhp_accesses(&vm->cpuhp));
	vm_emit(vm, &(struct vm_event){ .kind = VM_EVENT_CPU_ENABLED, .cpu = (unsigned)id });
	raise_hotplug_event(vm);
	return id;
}

static int hp_cpu_remove(void *opaque, unsigned id)
{
	struct vm *vm = opaque;
	int r;

	if (vm->cfg.boot_mode != BOOT_MODE_ACPI)
		return -VM_ERR_NOT_SUPPORTED;
	if (id >= vm->cfg.max_cpus)
		return -VM_ERR_NO_SUCH_CPU;
	if (id == 0)
		return -VM_ERR_BOOT_CPU;
	pthread_mutex_lock(&vm->lock);
	r = cpu_hp_request_remove(&vm->psci, id);
	pthread_mutex_unlock(&vm->lock);
	switch (r) {
	case 0:
		break;
	case -EBUSY:
		return -VM_ERR_BUSY;
	case -EPERM:
		return -VM_ERR_BOOT_CPU;
	case -ENOENT:
		return -VM_ERR_NO_SUCH_CPU;
	default:
		return -VM_ERR_NOT_ENABLED;
	}
	vm_log(vm, "hotplug: vcpu%u remove event raised (block accesses %llu)", id,
	       (unsigned long long)cpuhp_accesses(&vm->cpuhp));
	raise_hotplug_event(vm);
	return 0;
}

static int hp_cpu_remove_cancel(void *opaque, unsigned id, struct cpu_info *out)
{
	struct vm *vm = opaque;
	bool notify = false;
	int r;

	if (id >= vm->cfg.max_cpus)
		return -VM_ERR_NO_SUCH_CPU;
	bool settled = false;

	pthread_mutex_lock(&vm->lock);
	r = cpu_hp_cancel_remove(&vm->psci, id, &notify);
	/* Ejected, but the guest did not report it in time: the removal is over. */
	if (r == -EALREADY)
		settled = cpu_hp_eject_done(&vm->psci, id) == 0;
	if (out)
		fill_info(vm, id, out);
	pthread_mutex_unlock(&vm->lock);
	if (r == -EALREADY) {
		vm_log(vm, "hotplug: removal of vcpu%u not cancelled: the guest ejected it already", id);
		if (settled)
			report_removed(vm, id, ", though the guest has not reported the eject (_OST)");
		return -VM_ERR_NOT_ENABLED;
	}
	if (r) {
		vm_log(vm, "hotplug: removal of vcpu%u not cancelled: none in progress", id);
		return -VM_ERR_INVALID_STATE;
	}
	if (!notify) {
		vm_log(vm, "hotplug: removal of vcpu%u cancelled before the guest took it; it stays enabled", id);
		return 0;
	}
	vm_log(vm, "hotplug: removal of vcpu%u cancelled after the guest acknowledged it; "
	       "it stays enabled, the guest is notified again", id);
	raise_hotplug_event(vm);
	return 0;
}

static int hp_cpu_get(void *opaque, unsigned id, struct cpu_info *out)
{
	struct vm *vm = opaque;

	if (id >= vm->cfg.max_cpus)
		return -VM_ERR_NO_SUCH_CPU;
	pthread_mutex_lock(&vm->lock);
	fill_info(vm, id, out);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/* ---- The register block's view, on the vCPU thread running the AML. */

static uint32_t hp_status(void *opaque, unsigned cpu)
{
	struct vm *vm = opaque;
	enum cpu_hp_state s;

	pthread_mutex_lock(&vm->lock);
	s = vm->psci.cpu[cpu].hp;
	pthread_mutex_unlock(&vm->lock);
	return (cpu_hp_is_enabled(s) ? CPUHP_STATUS_ENABLED : 0) |
	       (s == CPU_HP_INSERT_PENDING ? CPUHP_STATUS_INSERT : 0) |
	       (s == CPU_HP_REMOVE_REQUESTED ? CPUHP_STATUS_REMOVE : 0);
}

static int hp_next_event(void *opaque)
{
	struct vm *vm = opaque;
	int r;

	pthread_mutex_lock(&vm->lock);
	r = cpu_hp_next_event(&vm->psci);
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static void hp_command(void *opaque, unsigned cpu, uint32_t cmd)
{
	struct vm *vm = opaque;
	enum cpu_hp_state was;
	enum psci_power power;
	int r;

	pthread_mutex_lock(&vm->lock);
	was = vm->psci.cpu[cpu].hp;
	power = vm->psci.cpu[cpu].power;
	if (cmd == CPUHP_CMD_CLEAR_INSERT)
		r = cpu_hp_ack_insert(&vm->psci, cpu);
	else if (cmd == CPUHP_CMD_CLEAR_REMOVE)
		r = cpu_hp_ack_remove(&vm->psci, cpu);
	else if ((r = cpu_hp_eject(&vm->psci, cpu)) == 0) {
		vm->psci.cpu[cpu].ejected_ms = vm_uptime_ms(vm);
		vm_name_vcpu_locked(vm, cpu);	/* no longer the guest's: "vcpuN-off" */
	}
	pthread_mutex_unlock(&vm->lock);

	if (cmd != CPUHP_CMD_EJECT)
		return;		/* a stale acknowledgement is harmless: nothing changed */
	if (r) {
		vm_log(vm, "hotplug: ignored the guest's eject of vcpu%u (%s, %s): %s", cpu,
		       cpu_hp_state_name(was), power == PSCI_POWER_OFF ? "off" : "on",
		       r == -EPERM ? "the boot CPU cannot be removed" :
		       r == -EBUSY ? "it is still on" : "its removal was not requested");
		return;
	}
	/* cpu.disabled waits for the guest's _OST: see the top of this file. */
	vm_log(vm, "hotplug: vcpu%u ejected by the guest, now disabled (block accesses %llu)", cpu,
	       (unsigned long long)cpuhp_accesses(&vm->cpuhp));
}

static void hp_ost(void *opaque, unsigned cpu, uint32_t event, uint32_t status)
{
	struct vm *vm = opaque;
	bool removed = false;

	/* Any outcome but "in progress" ends an eject the guest has made. */
	if (ost_is_eject(event) &&
	    status != OST_STATUS_EJECT_IN_PROGRESS) {
		pthread_mutex_lock(&vm->lock);
		removed = cpu_hp_eject_done(&vm->psci, cpu) == 0;
		pthread_mutex_unlock(&vm->lock);
	}
	vm_log(vm, "hotplug: vcpu%u _OST event 0x%x status 0x%x (block accesses %llu)", cpu, event,
	       status, (unsigned long long)cpuhp_accesses(&vm->cpuhp));
	vm_emit(vm, &(struct vm_event){ .kind = VM_EVENT_CPU_OST, .cpu = cpu,
					.ost_event = event, .ost_status = status });
	if (removed)
		report_removed(vm, cpu, "");
}

const struct cpuhp_ops vm_cpuhp_ops = {
	.status = hp_status,
	.command = hp_command,
	.next_event = hp_next_event,
	.ost = hp_ost,
};

/* ---- The rest of the API's view. */

static int hp_info(void *opaque, struct vm_info *out)
{
	struct vm *vm = opaque;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&vm->lock);
	out->state = vm->stopping ? VM_STATE_SHUTTING_DOWN : vm->paused ? VM_STATE_PAUSED : VM_STATE_RUNNING;
	for (unsigned i = 0; i < vm->psci.count; i++) {
		out->enabled_cpus += cpu_hp_is_enabled(vm->psci.cpu[i].hp);
		out->online_cpus += vm->psci.cpu[i].power != PSCI_POWER_OFF;
	}
	pthread_mutex_unlock(&vm->lock);
	out->boot_cpus = vm->cfg.boot_cpus;
	out->max_cpus = vm->cfg.max_cpus;
	out->memory_bytes = vm->cfg.memory_bytes;
	out->uptime_ms = vm_uptime_ms(vm);
	out->boot_mode = boot_mode_name(vm->cfg.boot_mode);
	out->hotplug_supported = vm->cfg.boot_mode == BOOT_MODE_ACPI;
	for (unsigned i = 0; i < vm->nvirtio && i < VM_INFO_MAX_DEVICES; i++) {
		const struct vm_virtio_dev *d = &vm->virtio[i];
		struct virtio_mmio_stats st;
		virtio_mmio_get_stats(d->vdev, &st);
		out->devices[out->ndevices++] = (struct vm_device_info){
			.type = d->name,
			.base = d->slot.base,
			.irq = GIC_SPI_BASE + d->slot.spi,
			.status = st.status,
			.ioeventfd = st.ioeventfd,
			.notifies = st.notifies,
			.vcpu_notifies = st.vcpu_notifies,
			.interrupts = st.interrupts,
		};
	}
	return 0;
}

static int hp_cpu_list(void *opaque, struct cpu_info *out, unsigned cap)
{
	struct vm *vm = opaque;

	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < vm->psci.count && i < cap; i++)
		fill_info(vm, i, &out[i]);
	pthread_mutex_unlock(&vm->lock);
	return (int)vm->psci.count;
}

static int hp_pause(void *opaque)
{
	return vm_pause(opaque);
}

static int hp_resume(void *opaque)
{
	return vm_resume(opaque);
}

static int hp_shutdown(void *opaque)
{
	vm_request_stop(opaque, VM_EXIT_POWEROFF, "shutdown requested over the API");
	return 0;
}

static void hp_log(void *opaque, const char *line)
{
	vm_log(opaque, "%s", line);
}

const struct vm_api_ops vm_api_ops = {
	.info = hp_info,
	.cpu_list = hp_cpu_list,
	.cpu_get = hp_cpu_get,
	.cpu_add = hp_cpu_add,
	.cpu_remove = hp_cpu_remove,
	.cpu_remove_cancel = hp_cpu_remove_cancel,
	.pause = hp_pause,
	.resume = hp_resume,
	.shutdown = hp_shutdown,
	.log = hp_log,
};
