/*
 * cpu.add and cpu.remove: start the change in the VM, then (with "wait",
 * the default) answer only once the guest has completed it.
 */
#include <errno.h>
#include <string.h>
#include "vmm/api_internal.h"

struct cpu_args {
	int id;			/* -1: absent */
	bool wait;
	int timeout_ms;
};

static bool parse_cpu_args(struct api_call *call, json_object *params, bool id_required,
			   struct cpu_args *a)
{
	const struct api_param spec[] = {
		{ "id", API_PARAM_UINT, id_required, &a->id },
		{ "wait", API_PARAM_BOOL, false, &a->wait },
		{ "timeout_ms", API_PARAM_TIMEOUT_MS, false, &a->timeout_ms },
	};
	char err[128];

	a->id = -1;
	a->wait = true;
	a->timeout_ms = API_DEFAULT_TIMEOUT_MS;
	if (api_params_parse(params, spec, ARRAY_SIZE(spec), err, sizeof(err)) == 0)
		return true;
	api_call_fail_code(call, RPC_INVALID_PARAMS, err);
	return false;
}

static json_object *id_result(unsigned cpu)
{
	json_object *r = json_object_new_object();

	if (r)
		json_object_object_add(r, "id", json_object_new_int64(cpu));
	return r;
}

static void wait_done(void *arg, unsigned cpu, int rc, json_object *error)
{
	struct api_call *call = arg;

	if (rc < 0)
		api_call_fail(call, error);
	else
		api_call_reply(call, id_result(cpu));
}

void api_method_cpu_add(struct api_call *call, json_object *params)
{
	struct api_server *srv = call->srv;
	struct cpu_args a;
	int cpu, rc;

	if (!parse_cpu_args(call, params, false, &a))
		return;
	cpu = srv->ops->cpu_add(srv->vm, a.id);
	if (cpu < 0) {
		api_call_fail_vm(call, cpu, NULL);
		return;
	}
	if (!a.wait) {
		api_call_reply(call, id_result(cpu));
		return;
	}
	/* The loop thread queues the guest's events, so none can be missed here. */
	rc = api_wait_start(srv, API_WAIT_ADD, cpu, a.timeout_ms, wait_done, call);
	if (rc < 0)
		api_call_fail_code(call, RPC_INTERNAL_ERROR,
				   "out of memory; the CPU was enabled without waiting");
}

void api_method_cpu_remove(struct api_call *call, json_object *params)
{
	struct api_server *srv = call->srv;
	struct cpu_args a;
	int rc;

	if (!parse_cpu_args(call, params, true, &a))
		return;
	rc = srv->ops->cpu_remove(srv->vm, a.id);
	if (rc < 0) {
		api_call_fail_vm(call, rc, NULL);
		return;
	}
	if (!a.wait) {
		api_call_reply(call, id_result(a.id));
		return;
	}
	rc = api_wait_start(srv, API_WAIT_REMOVE, a.id, a.timeout_ms, wait_done, call);
	if (rc < 0) {
		(void)srv->ops->cpu_remove_cancel(srv->vm, a.id, NULL);
		api_call_fail_code(call, RPC_INTERNAL_ERROR, "out of memory; remove cancelled");
	}
}
