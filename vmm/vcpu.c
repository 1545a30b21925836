/*
 * The vCPU thread. Every possible vCPU has one from start-up; a vCPU that is
 * powered off (PSCI) or paused waits on its own condition variable and uses no
 * CPU time: it wakes only when its own state changes (CPU_ON of this vCPU,
 * resume, stop), never because another vCPU parked or started.
 */
#include <string.h>

#include "vmm/exit.h"
#include "vmm/log.h"
#include "vmm/vm.h"

/* Run the guest until the vCPU must leave it. */
static enum vcpu_next run_guest(struct vcpu *v, struct vcpu_exit *exit)
{
	struct vm *vm = v->vm;

	for (;;) {
		int r = vm->hv->ops->vcpu_run(v->hv, exit);
		if (r < 0) {
			vm_request_stop(vm, VM_EXIT_ERROR, "vcpu%u: running the guest failed: %s",
					v->id, strerror(-r));
			return VCPU_NEXT_STOP;
		}
		enum vcpu_next next = vcpu_handle_exit(vm, v->id, exit);
		if (next != VCPU_NEXT_RUN)
			return next;
	}
}

void *vcpu_thread_main(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	struct vcpu_exit exit;

	memset(&exit, 0, sizeof(exit));
	pthread_mutex_lock(&vm->lock);
	for (;;) {
		struct psci_cpu *pc = &vm->psci.cpu[v->id];

		while (!vm->stopping && (vm->paused || pc->power == PSCI_POWER_OFF)) {
			if (!v->parked) {
				v->parked = true;
				pthread_cond_broadcast(&vm->parked_cond);	/* vm_pause waits for this */
			}
			pthread_cond_wait(&v->wake, &vm->lock);
			v->wakeups++;
		}
		v->parked = false;
		if (vm->stopping)
			break;

		bool fresh = pc->power == PSCI_POWER_ON_PENDING;
		uint64_t entry = pc->entry, context = pc->context;
		if (fresh)
			psci_cpu_started(&vm->psci, v->id);
		pthread_mutex_unlock(&vm->lock);

		if (fresh) {
			/* Every CPU_ON starts from a clean architectural reset. */
			int r = vm->hv->ops->vcpu_reset(v->hv, entry, context);
			if (r < 0) {
				vm_request_stop(vm, VM_EXIT_ERROR, "vcpu%u: reset for CPU_ON failed: %s",
						v->id, strerror(-r));
				pthread_mutex_lock(&vm->lock);
				break;
			}
			memset(&exit, 0, sizeof(exit));
			vm_emit(vm, &(struct vm_event){ .kind = VM_EVENT_CPU_ONLINE, .cpu = v->id });
		}
		enum vcpu_next next = run_guest(v, &exit);
		pthread_mutex_lock(&vm->lock);
		if (next == VCPU_NEXT_STOP)
			break;
	}
	v->parked = true;
	pthread_cond_broadcast(&vm->parked_cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}
