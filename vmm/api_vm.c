/*
 * Methods that answer at once: vm.info, cpu.list, vm.pause/resume/shutdown
 * and events.subscribe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/api_internal.h"

#define CPU_LIST_FIRST_GUESS 64

/* Refuses any parameter: these methods take none. */
static bool no_params(struct api_call *call, json_object *params)
{
	char err[128];

	if (api_params_parse(params, NULL, 0, err, sizeof(err)) == 0)
		return true;
	api_call_fail_code(call, RPC_INVALID_PARAMS, err);
	return false;
}

static const char *state_name(enum vm_run_state s)
{
	switch (s) {
	case VM_STATE_RUNNING: return "running";
	case VM_STATE_PAUSED: return "paused";
	case VM_STATE_SHUTTING_DOWN: return "shutting-down";
	}
	return "unknown";
}

static const char *pending_name(enum cpu_pending p)
{
	switch (p) {
	case CPU_PENDING_NONE: return "none";
	case CPU_PENDING_INSERT: return "insert";
	case CPU_PENDING_REMOVE: return "remove";
	}
	return "unknown";
}

static json_object *device_json(const struct vm_device_info *d)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "type", json_object_new_string(d->type ? d->type : "?"));
	json_object_object_add(o, "base", json_object_new_uint64(d->base));
	json_object_object_add(o, "irq", json_object_new_int64(d->irq));
	json_object_object_add(o, "status", json_object_new_int64(d->status));
	json_object_object_add(o, "ioeventfd", json_object_new_boolean(d->ioeventfd));
	json_object_object_add(o, "notifies", json_object_new_uint64(d->notifies));
	json_object_object_add(o, "vcpu_notifies", json_object_new_uint64(d->vcpu_notifies));
	json_object_object_add(o, "interrupts", json_object_new_uint64(d->interrupts));
	return o;
}

static json_object *devices_json(const struct vm_info *info)
{
	json_object *arr = json_object_new_array();

	for (unsigned i = 0; arr && i < info->ndevices && i < VM_INFO_MAX_DEVICES; i++) {
		json_object *o = device_json(&info->devices[i]);
		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

void api_method_vm_info(struct api_call *call, json_object *params)
{
	struct vm_info info;
	json_object *r;
	int rc;

	if (!no_params(call, params))
		return;
	memset(&info, 0, sizeof(info));
	rc = call->srv->ops->info(call->srv->vm, &info);
	if (rc < 0) {
		api_call_fail_code(call, RPC_INTERNAL_ERROR, strerror(-rc));
		return;
	}
	r = json_object_new_object();
	if (r) {
		json_object_object_add(r, "state", json_object_new_string(state_name(info.state)));
		json_object_object_add(r, "boot_cpus", json_object_new_int64(info.boot_cpus));
		json_object_object_add(r, "max_cpus", json_object_new_int64(info.max_cpus));
		json_object_object_add(r, "enabled_cpus", json_object_new_int64(info.enabled_cpus));
		json_object_object_add(r, "online_cpus", json_object_new_int64(info.online_cpus));
		json_object_object_add(r, "memory_bytes", json_object_new_uint64(info.memory_bytes));
		json_object_object_add(r, "uptime_ms", json_object_new_uint64(info.uptime_ms));
		json_object_object_add(r, "boot_mode",
				       info.boot_mode ? json_object_new_string(info.boot_mode) : NULL);
		json_object_object_add(r, "hotplug", json_object_new_boolean(info.hotplug_supported));
		json_object *devs = devices_json(&info);
		if (devs)
			json_object_object_add(r, "devices", devs);
		else {
			json_object_put(r);
			r = NULL;
		}
	}
	if (r)
		api_call_reply(call, r);
	else
		api_call_fail(call, NULL);
}

int api_cpu_list_get(struct api_server *srv, struct cpu_info **out)
{
	unsigned cap = CPU_LIST_FIRST_GUESS;
	struct cpu_info *cpus = NULL, *bigger;
	int n;

	for (;;) {
		bigger = realloc(cpus, cap * sizeof(*cpus));
		if (!bigger) {
			free(cpus);
			return -ENOMEM;
		}
		cpus = bigger;
		n = srv->ops->cpu_list(srv->vm, cpus, cap);
		if (n < 0 || (unsigned)n <= cap)
			break;
		cap = n;	/* more CPUs than guessed: ask again with room for all */
	}
	if (n < 0) {
		free(cpus);
		return n;
	}
	*out = cpus;
	return n;
}

static json_object *cpu_json(const struct cpu_info *c)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "id", json_object_new_int64(c->id));
	json_object_object_add(o, "mpidr", json_object_new_uint64(c->mpidr));
	json_object_object_add(o, "enabled", json_object_new_boolean(c->enabled));
	json_object_object_add(o, "online", json_object_new_boolean(c->online));
	json_object_object_add(o, "pending", json_object_new_string(pending_name(c->pending)));
	json_object_object_add(o, "state", c->state ? json_object_new_string(c->state) : NULL);
	return o;
}

void api_method_cpu_list(struct api_call *call, json_object *params)
{
	struct cpu_info *cpus;
	json_object *arr, *o;
	int i, n;

	if (!no_params(call, params))
		return;
	n = api_cpu_list_get(call->srv, &cpus);
	if (n < 0) {
		api_call_fail_code(call, RPC_INTERNAL_ERROR, strerror(-n));
		return;
	}
	arr = json_object_new_array_ext(n);
	for (i = 0; arr && i < n; i++) {
		o = cpu_json(&cpus[i]);
		if (!o || json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			json_object_put(arr);
			arr = NULL;
		}
	}
	free(cpus);
	if (arr)
		api_call_reply(call, arr);
	else
		api_call_fail(call, NULL);
}

static void simple_op(struct api_call *call, json_object *params, int (*op)(void *vm))
{
	int rc;

	if (!no_params(call, params))
		return;
	rc = op(call->srv->vm);
	if (rc < 0)
		api_call_fail_vm(call, rc, NULL);
	else
		api_call_reply(call, json_object_new_object());
}

void api_method_vm_pause(struct api_call *call, json_object *params)
{
	simple_op(call, params, call->srv->ops->pause);
}

void api_method_vm_resume(struct api_call *call, json_object *params)
{
	simple_op(call, params, call->srv->ops->resume);
}

void api_method_vm_shutdown(struct api_call *call, json_object *params)
{
	simple_op(call, params, call->srv->ops->shutdown);
}

void api_method_events_subscribe(struct api_call *call, json_object *params)
{
	json_object *r;

	if (!no_params(call, params))
		return;
	/* A notification (no id) subscribes too; it just gets no reply. */
	call->conn->subscribed = true;
	r = json_object_new_object();
	if (r)
		json_object_object_add(r, "subscribed", json_object_new_boolean(true));
	api_call_reply(call, r);
}
