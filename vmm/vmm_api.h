/*
 * What the API needs from the VMM process beyond a running VM: the VM's
 * life cycle as cloud-hypervisor's REST dialect sees it (create, boot,
 * shutdown of the whole process) and the vCPU count target. Implemented by
 * vmm/host.c; loop thread only; none of them waits for the guest.
 */
#ifndef VMM_VMM_API_H
#define VMM_VMM_API_H

#include <stddef.h>
#include "compiler.h"
#include "vmm/config.h"
#include "vmm/cpu_target.h"

enum vmm_vm_state {
	VMM_VM_NONE,		/* waiting for vm.create */
	VMM_VM_CREATED,		/* configured, not booted */
	VMM_VM_RUNNING,
	VMM_VM_PAUSED,
	VMM_VM_SHUTDOWN,
};

/* A configuration that owns its strings (vm.create's body is freed). */
struct vm_config_owned {
	struct vm_config cfg;
	char *kernel, *initrd, *cmdline, *console_path, *rng_source, *vsock_socket;
};

void vm_config_owned_free(struct vm_config_owned *c);

struct vmm_ops {
	enum vmm_vm_state (*state)(void *vmm);
	/* The configuration of the created or running VM; NULL before vm.create. */
	const struct vm_config *(*config)(void *vmm);
	/* Takes c (also on failure). 0, or -errno with a reason in err. */
	int (*create)(void *vmm, struct vm_config_owned *c, char *err, size_t errlen);
	int (*boot)(void *vmm, char *err, size_t errlen);
	/*
	 * A virtio-net device for the created VM, before vm.boot. Takes the
	 * tap fds in n (closed on failure). 0, or -errno with a reason in err.
	 */
	int (*add_net)(void *vmm, const struct vm_net_config *n, char *err, size_t errlen);
	/* Set the vCPU count target (returns at once; see vmm/cpu_target.h). */
	int (*resize)(void *vmm, unsigned vcpus, char *err, size_t errlen);
	/* false: no target machinery (no VM yet). */
	bool (*resize_status)(void *vmm, struct cpu_target_status *out);
	/* Stop the VM (if any) and end the process with status 0. */
	void (*shutdown)(void *vmm);
};

#endif
