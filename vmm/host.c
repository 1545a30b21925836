/*
 * The VM's life cycle as the API sees it: before vm.create there is no VM,
 * vm.create keeps a checked configuration, vm.boot creates and starts the
 * VM on the running loop. The JSON-RPC methods are forwarded to the VM once
 * it exists and answer "invalid state" before.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "arch/arm64/layout.h"
#include "vmm/boot.h"
#include "vmm/host.h"
#include "vmm/log.h"
#include "vmm/virtio.h"
#include "vmm/vm.h"

#define RC(opaque) ((struct run_ctx *)(opaque))

static int f_info(void *o, struct vm_info *out)
{
	return RC(o)->vm ? vm_api_ops.info(RC(o)->vm, out) : -VM_ERR_INVALID_STATE;
}

static int f_cpu_list(void *o, struct cpu_info *out, unsigned cap)
{
	return RC(o)->vm ? vm_api_ops.cpu_list(RC(o)->vm, out, cap) : -VM_ERR_INVALID_STATE;
}

static int f_cpu_add(void *o, int id)
{
	return RC(o)->vm ? vm_api_ops.cpu_add(RC(o)->vm, id) : -VM_ERR_INVALID_STATE;
}

static int f_cpu_remove(void *o, unsigned id)
{
	return RC(o)->vm ? vm_api_ops.cpu_remove(RC(o)->vm, id) : -VM_ERR_INVALID_STATE;
}

static int f_cpu_get(void *o, unsigned id, struct cpu_info *out)
{
	return RC(o)->vm ? vm_api_ops.cpu_get(RC(o)->vm, id, out) : -VM_ERR_INVALID_STATE;
}

static int f_cpu_remove_cancel(void *o, unsigned id, struct cpu_info *out)
{
	return RC(o)->vm ? vm_api_ops.cpu_remove_cancel(RC(o)->vm, id, out) : -VM_ERR_INVALID_STATE;
}

static int f_pause(void *o)
{
	return RC(o)->vm ? vm_api_ops.pause(RC(o)->vm) : -VM_ERR_INVALID_STATE;
}

static int f_resume(void *o)
{
	return RC(o)->vm ? vm_api_ops.resume(RC(o)->vm) : -VM_ERR_INVALID_STATE;
}

static int f_shutdown(void *o)
{
	host_request_exit(RC(o), "shutdown requested over the API");
	return 0;
}

/* No VM yet (or no more): the main thread writes to stderr itself. */
static void f_log(void *o, const char *line)
{
	vm_log(RC(o)->vm, "%s", line);
}

const struct vm_api_ops host_vm_api_ops = {
	.info = f_info,
	.cpu_list = f_cpu_list,
	.cpu_add = f_cpu_add,
	.cpu_remove = f_cpu_remove,
	.cpu_get = f_cpu_get,
	.cpu_remove_cancel = f_cpu_remove_cancel,
	.pause = f_pause,
	.resume = f_resume,
	.shutdown = f_shutdown,
	.log = f_log,
};

void host_request_exit(struct run_ctx *rc, const char *why)
{
	if (rc->vm) {
		vm_request_stop(rc->vm, VM_EXIT_POWEROFF, "%s", why);
	} else {
		rc->shutting_down = true;
		vm_log(NULL, "%s", why);
		event_base_loopbreak(rc->base);
	}
}

static enum vmm_vm_state h_state(void *o)
{
	struct run_ctx *rc = o;
	struct vm_info info;

	if (rc->shutting_down)
		return VMM_VM_SHUTDOWN;
	if (!rc->vm)
		return rc->have_config ? VMM_VM_CREATED : VMM_VM_NONE;
	if (vm_api_ops.info(rc->vm, &info) < 0)
		return VMM_VM_SHUTDOWN;
	return info.state == VM_STATE_RUNNING ? VMM_VM_RUNNING :
	       info.state == VM_STATE_PAUSED ? VMM_VM_PAUSED : VMM_VM_SHUTDOWN;
}

static const struct vm_config *h_config(void *o)
{
	struct run_ctx *rc = o;

	if (rc->vm)
		return &rc->vm->cfg;
	return rc->have_config ? &rc->created.cfg : NULL;
}

static int h_create(void *o, struct vm_config_owned *c, char *err, size_t errlen)
{
	struct run_ctx *rc = o;
	int r;

	if (rc->have_config || rc->vm) {
		vm_config_owned_free(c);
		snprintf(err, errlen, "a VM exists already");
		return -EEXIST;
	}
	r = boot_check_files(&c->cfg, err, errlen);
	if (!r)
		r = vm_virtio_check(&c->cfg, err, errlen);
	if (r) {
		vm_config_owned_free(c);
		return r;
	}
	rc->created = *c;
	rc->have_config = true;
	vm_log(NULL, "vm.create: %u of %u vCPUs, %llu MiB, kernel %s", c->cfg.boot_cpus,
	       c->cfg.max_cpus, (unsigned long long)(c->cfg.memory_bytes >> 20), c->cfg.kernel);
	return 0;
}

/*
 * The tap fds vm.add-net stored belong to the created configuration until
 * vm.boot hands them to vm_create, which owns them from then on, also when
 * it fails. A vm.boot that fails gives them up either way (the devices go
 * with them: vm.add-net again before another vm.boot), and a VM shut down
 * before vm.boot closes them.
 */
static void forget_net_fds(struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_net; i++) {
		for (unsigned j = 0; j < cfg->net[i].nfds; j++)
			cfg->net[i].fds[j] = -1;
	}
}

static void close_net(struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_net; i++) {
		for (unsigned j = 0; j < cfg->net[i].nfds; j++) {
			if (cfg->net[i].fds[j] >= 0)
				close(cfg->net[i].fds[j]);
		}
	}
	memset(cfg->net, 0, sizeof(cfg->net));
	cfg->nr_net = 0;
}

static int boot_failed(struct run_ctx *rc, int r)
{
	if (rc->created.cfg.nr_net)
		vm_log(NULL, "vm.boot failed: the tap fds of %u network device(s) are closed",
		       rc->created.cfg.nr_net);
	close_net(&rc->created.cfg);
	return r;
}

static int h_boot(void *o, char *err, size_t errlen)
{
	struct run_ctx *rc = o;
	struct hv_caps caps;
	struct vm *vm;
	int r;

	if (!rc->have_config || rc->vm) {
		snprintf(err, errlen, "nothing to boot");
		return -EINVAL;
	}
	if (!rc->hv) {
		struct hv_vm_params vp = { .ipa_bits = layout_ipa_bits(rc->created.cfg.memory_bytes) };

		r = rc->hv_open(&rc->hv, &vp, err, (unsigned)errlen);
		if (r == -ERANGE)
			snprintf(err, errlen, "memory.size: %llu MiB does not fit this host's guest "
				 "physical address space (room for %llu MiB)",
				 (unsigned long long)(rc->created.cfg.memory_bytes >> 20),
				 (unsigned long long)(layout_max_ram(vp.ipa_limit) >> 20));
		if (r)
			return boot_failed(rc, r);
	}
	if (rc->hv->ops->get_caps(rc->hv, &caps) == 0 && rc->created.cfg.max_cpus > caps.max_vcpus) {
		snprintf(err, errlen, "max_vcpus (%u) is beyond KVM's limit of %u vCPUs",
			 rc->created.cfg.max_cpus, caps.max_vcpus);
		return boot_failed(rc, -EINVAL);
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		snprintf(err, errlen, "out of memory");
		return boot_failed(rc, -ENOMEM);
	}
	r = vm_create(vm, &rc->created.cfg, rc->hv, err, errlen);
	forget_net_fds(&rc->created.cfg);	/* the VM's: its devices or vm_destroy close them */
	if (r) {
		vm_destroy(vm);
		free(vm);
		return boot_failed(rc, r);
	}
	rc->own_vm = true;
	r = run_attach_vm(rc, vm, err, errlen);
	if (r)
		return r;	/* the VM is stopping: the loop ends and host_fini frees it */
	return 0;
}

static int h_resize(void *o, unsigned vcpus, char *err, size_t errlen)
{
	struct run_ctx *rc = o;
	int r;

	if (!rc->target) {
		snprintf(err, errlen, "the VM is not running");
		return -EINVAL;
	}
	r = cpu_target_set(rc->target, vcpus);
	if (r == -EINVAL)
		snprintf(err, errlen, "desired_vcpus must be between 1 and max_vcpus (%u)",
			 rc->vm->cfg.max_cpus);
	else if (r == -ENOTSUP)
		snprintf(err, errlen, "vCPU hot-plug needs ACPI boot");
	else if (r)
		snprintf(err, errlen, "%s", strerror(r < 0 ? -r : r));
	return r;
}

static bool h_resize_status(void *o, struct cpu_target_status *out)
{
	struct run_ctx *rc = o;

	if (!rc->target)
		return false;
	cpu_target_status(rc->target, out);
	return true;
}

static void h_shutdown(void *o)
{
	host_request_exit(o, "vmm.shutdown requested over the API");
}

static int h_add_net(void *o, const struct vm_net_config *n, char *err, size_t errlen)
{
	struct run_ctx *rc = o;
	struct vm_config *cfg = &rc->created.cfg;
	int r = -EINVAL;

	if (!rc->have_config || rc->vm)
		snprintf(err, errlen, "the VM is not created, or booted already");
	else if (cfg->nr_net >= VM_MAX_NET)
		snprintf(err, errlen, "at most %u network devices", VM_MAX_NET), r = -ENOSPC;
	else if (!(r = vm_net_check(n, err, errlen))) {
		cfg->net[cfg->nr_net++] = *n;
		vm_log(NULL, "vm.add-net: %u tap queue pair(s)", n->nfds);
		return 0;
	}
	for (unsigned i = 0; i < n->nfds; i++)
		close(n->fds[i]);
	return r;
}

const struct vmm_ops host_vmm_ops = {
	.state = h_state,
	.config = h_config,
	.create = h_create,
	.boot = h_boot,
	.add_net = h_add_net,
	.resize = h_resize,
	.resize_status = h_resize_status,
	.shutdown = h_shutdown,
};

void host_fini(struct run_ctx *rc)
{
	cpu_target_free(rc->target);
	rc->target = NULL;
	if (rc->own_vm && rc->vm) {
		vm_destroy(rc->vm);
		free(rc->vm);
		rc->vm = NULL;
	}
	if (rc->hv)
		rc->hv->ops->destroy(rc->hv);
	rc->hv = NULL;
	if (rc->have_config) {
		close_net(&rc->created.cfg);	/* never booted: still ours */
		vm_config_owned_free(&rc->created);
	}
	rc->have_config = false;
}
