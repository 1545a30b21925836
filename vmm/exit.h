/* Handling of one decoded vCPU exit. */
#ifndef VMM_EXIT_H
#define VMM_EXIT_H

#include "hv.h"

struct vm;

enum vcpu_next {
	VCPU_NEXT_RUN,		/* re-enter the guest */
	VCPU_NEXT_PARK,		/* leave the guest: CPU_OFF, pause or stop */
	VCPU_NEXT_STOP,		/* the VM is stopping */
};

/*
 * Answer the exit in place (MMIO read data, PSCI return value) and say what
 * the vCPU does next. PSCI state changes happen under vm->lock.
 */
enum vcpu_next vcpu_handle_exit(struct vm *vm, unsigned id, struct vcpu_exit *exit);

#endif
