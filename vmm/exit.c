#include "vmm/exit.h"

#include <stdio.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/vm.h"

static enum vcpu_next handle_mmio(struct vm *vm, struct vcpu_exit *exit)
{
	unsigned len = exit->mmio.len;
	uint64_t value = 0;

	if (len == 0 || len > 8)
		return VCPU_NEXT_RUN;
	if (exit->mmio.is_write) {
		memcpy(&value, exit->mmio.data, len);
		(void)mmio_bus_write(&vm->bus, exit->mmio.addr, len, value);
	} else {
		(void)mmio_bus_read(&vm->bus, exit->mmio.addr, len, &value);
		memset(exit->mmio.data, 0, sizeof(exit->mmio.data));
		memcpy(exit->mmio.data, &value, len);
	}
	return VCPU_NEXT_RUN;
}

static enum vcpu_next handle_psci(struct vm *vm, unsigned id, struct vcpu_exit *exit)
{
	struct psci_result res;
	uint32_t func = exit->hypercall.func;

	pthread_mutex_lock(&vm->lock);
	psci_handle(&vm->psci, id, func, exit->hypercall.args, &res);
	if (res.action == PSCI_ACTION_START_TARGET) {
		vm_name_vcpu_locked(vm, res.target);	/* the guest uses it from now on */
		vm_wake_vcpu(vm, res.target);	/* only the target's thread wakes */
	}
	pthread_mutex_unlock(&vm->lock);

	exit->hypercall.ret[0] = (uint64_t)res.x0;
	exit->hypercall.nret = 1;
	/* DENIED is every boot's probe of the vCPUs that are not enabled: not news. */
	if ((func == PSCI_FN_CPU_ON || func == PSCI_FN64_CPU_ON) && res.x0 != PSCI_RET_DENIED)
		vm_log(vm, "vcpu%u: PSCI CPU_ON(mpidr 0x%llx) -> %lld", id,
		       (unsigned long long)exit->hypercall.args[0], (long long)res.x0);

	switch (res.action) {
	case PSCI_ACTION_PARK_CALLER:
		vm_log(vm, "vcpu%u: PSCI CPU_OFF", id);
		vm_emit(vm, &(struct vm_event){ .kind = VM_EVENT_CPU_OFFLINE, .cpu = id });
		exit->hypercall.nret = 0;	/* CPU_OFF does not return */
		return VCPU_NEXT_PARK;
	case PSCI_ACTION_SYSTEM_OFF:
		vm_request_stop(vm, VM_EXIT_POWEROFF, "guest powered off (PSCI SYSTEM_OFF on vcpu%u)", id);
		return VCPU_NEXT_STOP;
	case PSCI_ACTION_SYSTEM_RESET:
		vm_request_stop(vm, VM_EXIT_RESET,
				"guest requested a reset (PSCI SYSTEM_RESET on vcpu%u); reboot is not supported",
				id);
		return VCPU_NEXT_STOP;
	default:
		return VCPU_NEXT_RUN;
	}
}

static const char *exit_kind_name(enum vcpu_exit_kind k)
{
	switch (k) {
	case VCPU_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
	case VCPU_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
	default: return "unknown exit";
	}
}

enum vcpu_next vcpu_handle_exit(struct vm *vm, unsigned id, struct vcpu_exit *exit)
{
	switch (exit->kind) {
	case VCPU_EXIT_MMIO:
		return handle_mmio(vm, exit);
	case VCPU_EXIT_HYPERCALL:
		if (psci_is_psci_call(exit->hypercall.func))
			return handle_psci(vm, id, exit);
		exit->hypercall.ret[0] = (uint64_t)(int64_t)PSCI_RET_NOT_SUPPORTED;
		exit->hypercall.nret = 1;
		return VCPU_NEXT_RUN;
	case VCPU_EXIT_SYSTEM_EVENT:
		switch (exit->system_event.type) {
		case VCPU_SYSTEM_SHUTDOWN:
			vm_request_stop(vm, VM_EXIT_POWEROFF, "guest powered off (vcpu%u)", id);
			break;
		case VCPU_SYSTEM_RESET:
			vm_request_stop(vm, VM_EXIT_RESET, "guest requested a reset (vcpu%u); reboot is not supported", id);
			break;
		case VCPU_SYSTEM_CRASH:
			vm_request_stop(vm, VM_EXIT_ERROR, "guest crashed (vcpu%u: system event crash)", id);
			break;
		default:
			vm_request_stop(vm, VM_EXIT_ERROR, "vcpu%u: unexpected system event", id);
			break;
		}
		return VCPU_NEXT_STOP;
	case VCPU_EXIT_INTERRUPTED:
	case VCPU_EXIT_NONE: {
		pthread_mutex_lock(&vm->lock);
		bool leave = vm->paused || vm->stopping;
		pthread_mutex_unlock(&vm->lock);
		return leave ? VCPU_NEXT_PARK : VCPU_NEXT_RUN;
	}
	default:
		vm_request_stop(vm, VM_EXIT_ERROR, "vcpu%u: %s (reason %u, detail 0x%llx)", id,
				exit_kind_name(exit->kind), exit->other.reason,
				(unsigned long long)exit->other.detail);
		return VCPU_NEXT_STOP;
	}
}
