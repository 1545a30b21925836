/*
 * The vCPU hotplug controller: the state machine behind cpu.add/cpu.remove.
 *   disabled --add--> enabled + insert event --guest CPU_ON--> online
 *   online --remove--> remove event --guest CPU_OFF, _EJ0--> disabled
 * "enabled" is mirrored in the PSCI table (CPU_ON of a disabled vCPU is
 * DENIED) and in the hotplug register block the AML reads. Lock order:
 * vm->lock, then the register block's own lock.
 */
#include <errno.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/vm.h"

static void raise_hotplug_event(struct vm *vm)
{
	int r = ged_raise(&vm->ged, GED_EVENT_CPU_HOTPLUG);
	if (r)
		vm_log(vm, "cannot raise the GED interrupt: %s", strerror(-r));
}

static int hp_cpu_add(void *opaque, int id)
{
	struct vm *vm = opaque;

	if (vm->cfg.boot_mode != BOOT_MODE_ACPI)
		return -VM_ERR_NOT_SUPPORTED;
	pthread_mutex_lock(&vm->lock);
	if (id < 0) {
		for (unsigned i = 0; i < vm->psci.count && id < 0; i++) {
			if (!vm->psci.cpu[i].enabled)
				id = (int)i;
		}
		if (id < 0) {
			pthread_mutex_unlock(&vm->lock);
			return -VM_ERR_NO_FREE_CPU;
		}
	} else if ((unsigned)id >= vm->psci.count) {
		pthread_mutex_unlock(&vm->lock);
		return -VM_ERR_NO_SUCH_CPU;
	}
	if (vm->psci.cpu[id].enabled) {
		pthread_mutex_unlock(&vm->lock);
		return -VM_ERR_ALREADY_ENABLED;
	}
	int r = cpuhp_insert(&vm->cpuhp, (unsigned)id);
	if (r == 0)
		vm->psci.cpu[id].enabled = true;
	pthread_mutex_unlock(&vm->lock);
	if (r)
		return r == -EALREADY ? -VM_ERR_ALREADY_ENABLED : -VM_ERR_NO_SUCH_CPU;

	vm_log(vm, "hotplug: vcpu%d enabled, insert event raised", id);
	vm_emit(vm, &(struct vm_event){ .kind = VM_EVENT_CPU_ENABLED, .cpu = (unsigned)id });
	raise_hotplug_event(vm);
	return id;
}

static int hp_cpu_remove(void *opaque, unsigned id)
{
	struct vm *vm = opaque;

	if (vm->cfg.boot_mode != BOOT_MODE_ACPI)
		return -VM_ERR_NOT_SUPPORTED;
	if (id >= vm->cfg.max_cpus)
		return -VM_ERR_NO_SUCH_CPU;
	if (id == 0)
		return -VM_ERR_BOOT_CPU;
	pthread_mutex_lock(&vm->lock);
	int r = -VM_ERR_NOT_ENABLED;
	if (vm->psci.cpu[id].enabled) {
		if (cpuhp_status(&vm->cpuhp, id) & CPUHP_STATUS_REMOVE)
			r = -VM_ERR_BUSY;
		else
			r = cpuhp_request_remove(&vm->cpuhp, id) ? -VM_ERR_NOT_ENABLED : 0;
	}
	pthread_mutex_unlock(&vm->lock);
	if (r)
		return r;
	vm_log(vm, "hotplug: vcpu%u remove event raised", id);
	raise_hotplug_event(vm);
	return 0;
}

static void hp_cpu_remove_cancel(void *opaque, unsigned id)
{
	struct vm *vm = opaque;

	if (id >= vm->cfg.max_cpus)
		return;
	pthread_mutex_lock(&vm->lock);
	cpuhp_cancel_remove(&vm->cpuhp, id);
	pthread_mutex_unlock(&vm->lock);
	vm_log(vm, "hotplug: removal of vcpu%u cancelled (the guest did not eject it); it stays enabled", id);
}

/* The guest's _EJ0: called on the vCPU thread running the AML. */
static void hp_ejected(void *opaque, unsigned cpu)
{
	struct vm *vm = opaque;
	bool running;

	pthread_mutex_lock(&vm->lock);
	vm->psci.cpu[cpu].enabled = false;
	running = vm->psci.cpu[cpu].power != PSCI_POWER_OFF;
	pthread_mutex_unlock(&vm->lock);
	if (running)
		vm_log(vm, "hotplug: warning: the guest ejected vcpu%u while it was still on", cpu);
	vm_log(vm, "hotplug: vcpu%u ejected by the guest, now disabled", cpu);
	vm_emit(vm, &(struct vm_event){ .kind = VM_EVENT_CPU_DISABLED, .cpu = cpu });
}

static void hp_ost(void *opaque, unsigned cpu, uint32_t event, uint32_t status)
{
	struct vm *vm = opaque;

	vm_log(vm, "hotplug: vcpu%u _OST event 0x%x status 0x%x", cpu, event, status);
	vm_emit(vm, &(struct vm_event){ .kind = VM_EVENT_CPU_OST, .cpu = cpu,
					.ost_event = event, .ost_status = status });
}

const struct cpuhp_ops vm_cpuhp_ops = {
	.ejected = hp_ejected,
	.ost = hp_ost,
};

static int hp_info(void *opaque, struct vm_info *out)
{
	struct vm *vm = opaque;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&vm->lock);
	out->state = vm->stopping ? VM_STATE_SHUTTING_DOWN : vm->paused ? VM_STATE_PAUSED : VM_STATE_RUNNING;
	for (unsigned i = 0; i < vm->psci.count; i++) {
		out->enabled_cpus += vm->psci.cpu[i].enabled;
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
	for (unsigned i = 0; i < vm->psci.count && i < cap; i++) {
		uint32_t st = cpuhp_status(&vm->cpuhp, i);
		out[i] = (struct cpu_info){
			.id = i,
			.mpidr = vm->psci.cpu[i].mpidr,
			.enabled = vm->psci.cpu[i].enabled,
			.online = vm->psci.cpu[i].power != PSCI_POWER_OFF,
			.pending = (st & CPUHP_STATUS_REMOVE) ? CPU_PENDING_REMOVE :
				   (st & CPUHP_STATUS_INSERT) ? CPU_PENDING_INSERT : CPU_PENDING_NONE,
		};
	}
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

const struct vm_api_ops vm_api_ops = {
	.info = hp_info,
	.cpu_list = hp_cpu_list,
	.cpu_add = hp_cpu_add,
	.cpu_remove = hp_cpu_remove,
	.cpu_remove_cancel = hp_cpu_remove_cancel,
	.pause = hp_pause,
	.resume = hp_resume,
	.shutdown = hp_shutdown,
};
