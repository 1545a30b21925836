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
/*
 * Serve the API with no VM until vm.create and vm.boot arrive (hv_open
 * opens the hypervisor then); returns like vm_run, 0 after vmm.shutdown
 * or a signal before any VM. verbosity: the -v count.
 */
struct hv;
struct hv_vm_params;
int vmm_serve(const char *api_socket, unsigned verbosity,
	      int (*hv_open)(struct hv **, struct hv_vm_params *, char *, unsigned), char *err, size_t errlen) WUR;

#endif
