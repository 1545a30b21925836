/* The main loop: signals, console input, the API socket, until the VM stops. */
#ifndef VMM_RUN_H
#define VMM_RUN_H

#include <stddef.h>
#include "compiler.h"

struct vm;

/*
 * Start the VM, serve until it stops, join its threads. Returns the process
 * exit status (0 powered off, 1 error, VM_STATUS_RESET) or -errno if the
 * loop could not be set up (err says why).
 */
int vm_run(struct vm *vm, char *err, size_t errlen) WUR;

#endif
