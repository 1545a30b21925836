/*
 * Private to vmm/run.c and vmm/host.c: the process around the VM. One event
 * loop serves signals, console input and the API; the VM exists from the
 * start (vmm --kernel) or from the API's vm.create + vm.boot (vmm
 * --api-socket alone).
 */
#ifndef VMM_HOST_H
#define VMM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "hv.h"
#include "vmm/cpu_target.h"
#include "vmm/vmm_api.h"

struct vm;

struct run_ctx {
	struct vm *vm;			/* NULL until booted over the API */
	struct event_base *base;
	struct api_server *api;
	struct event *ev_stop, *ev_term, *ev_int, *ev_stdin, *ev_retry, *ev_flush;
	struct event *ev_out_kick, *ev_out_ready;	/* console output waits / can go on */
	struct event *ev_log_kick, *ev_log_ready;	/* the same for vmm's log on stderr */
	bool log_shares_console;	/* stderr and the console are one file: no splicing */
	uint64_t drop_logged_ms;
	uint8_t pending[64];	/* console input the UART could not take yet */
	size_t npending;

	/* The API-created VM. */
	struct vm_config_owned created;
	bool have_config;
	bool own_vm;			/* created here: destroyed at exit */
	struct hv *hv;
	struct cpu_target *target;
	bool shutting_down;		/* vmm.shutdown, or a signal before any VM */
	int (*hv_open)(struct hv **out, struct hv_vm_params *vp, char *err, unsigned errlen);
};

/* run.c: watch the VM's stop pipe and console, start its vCPUs. */
int run_attach_vm(struct run_ctx *rc, struct vm *vm, char *err, size_t errlen) WUR;

/* host.c: what the API server calls (forwarded to rc->vm once it exists). */
extern const struct vm_api_ops host_vm_api_ops;
extern const struct vmm_ops host_vmm_ops;
/* End the loop: stop the VM if there is one, else break out. */
void host_request_exit(struct run_ctx *rc, const char *why);
void host_fini(struct run_ctx *rc);

#endif
