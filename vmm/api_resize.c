/*
 * cpu.resize: reach a number of enabled CPUs one add or remove at a time,
 * each waited for like cpu.add/cpu.remove. One resize at a time per server;
 * each step re-reads the CPU list, so concurrent single-CPU changes by
 * other clients are taken into account rather than fought.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "vmm/api_internal.h"

struct api_resize {
	struct api_server *srv;
	struct api_call *call;
	int target, old, max_steps, steps;
	int timeout_ms;
};

struct cpu_census {
	int enabled, lowest_disabled, highest_removable;
	bool pending;
};

static int census(struct api_server *srv, struct cpu_census *c)
{
	struct cpu_info *cpus;
	int i, n = api_cpu_list_get(srv, &cpus);

	if (n < 0)
		return n;
	*c = (struct cpu_census){ 0, -1, -1, false };
	for (i = 0; i < n; i++) {
		if (cpus[i].pending != CPU_PENDING_NONE)
			c->pending = true;
		if (!cpus[i].enabled && c->lowest_disabled < 0)
			c->lowest_disabled = cpus[i].id;
		if (cpus[i].enabled && cpus[i].id != 0)
			c->highest_removable = cpus[i].id;
	}
	for (i = 0; i < n; i++)
		c->enabled += cpus[i].enabled;
	free(cpus);
	return n;
}

static void job_free(struct api_resize *job)
{
	if (job->srv->resize == job)
		job->srv->resize = NULL;
	free(job);
}

static void finish_ok(struct api_resize *job, int now)
{
	json_object *r = json_object_new_object();

	if (r) {
		json_object_object_add(r, "old", json_object_new_int(job->old));
		json_object_object_add(r, "new", json_object_new_int(now));
	}
	api_call_reply(job->call, r);
	job_free(job);
}

/* Wraps the failing step's error: same code, data says how far we got. */
static void finish_error(struct api_resize *job, int cpu, json_object *cause)
{
	struct cpu_census c = { -1, -1, -1, false };
	json_object *data = json_object_new_object(), *msg = NULL;
	char text[256];

	if (cause)
		json_object_object_get_ex(cause, "message", &msg);
	snprintf(text, sizeof(text), "cpu.resize stopped: %s",
		 msg ? json_object_get_string(msg) : "out of memory");
	if (!job->srv->stopping && census(job->srv, &c) < 0)
		c.enabled = -1;
	if (data) {
		json_object_object_add(data, "old", json_object_new_int(job->old));
		json_object_object_add(data, "reached", json_object_new_int(c.enabled));
		json_object_object_add(data, "target", json_object_new_int(job->target));
		json_object_object_add(data, "id", cpu >= 0 ? json_object_new_int(cpu) : NULL);
		json_object_object_add(data, "cause", json_object_get(cause));
	}
	api_call_fail(job->call, api_error_new(cause ? json_object_get_int(
			json_object_object_get(cause, "code")) : RPC_INTERNAL_ERROR, text, data));
	json_object_put(cause);
	job_free(job);
}

static void step(struct api_resize *job);

static void step_done(void *arg, unsigned cpu, int rc, json_object *error)
{
	struct api_resize *job = arg;

	if (rc < 0) {
		finish_error(job, cpu, error);
		return;
	}
	if (!job->call->conn || job->srv->stopping) {
		/* The client is gone: finish this step (done), start no more. */
		api_call_fail(job->call, NULL);
		job_free(job);
		return;
	}
	step(job);
}

static void step(struct api_resize *job)
{
	struct api_server *srv = job->srv;
	struct cpu_census c;
	enum api_wait_kind kind;
	int cpu, rc;

	rc = census(srv, &c);
	if (rc < 0) {
		finish_error(job, -1, api_error_new(RPC_INTERNAL_ERROR, "cannot list CPUs", NULL));
		return;
	}
	if (c.enabled == job->target) {
		finish_ok(job, c.enabled);
		return;
	}
	if (++job->steps > job->max_steps) {
		finish_error(job, -1, api_error_new(RPC_INTERNAL_ERROR,
				"CPU count keeps changing under the resize", NULL));
		return;
	}
	if (c.enabled < job->target) {
		kind = API_WAIT_ADD;
		cpu = c.lowest_disabled;
		rc = srv->ops->cpu_add(srv->vm, cpu);
	} else {
		kind = API_WAIT_REMOVE;
		cpu = c.highest_removable;
		rc = srv->ops->cpu_remove(srv->vm, cpu);
	}
	if (rc < 0) {
		finish_error(job, cpu, api_error_from_vm(rc, NULL));
		return;
	}
	rc = api_wait_start(srv, kind, cpu, job->timeout_ms, step_done, job);
	if (rc < 0) {
		if (kind == API_WAIT_REMOVE)
			(void)srv->ops->cpu_remove_cancel(srv->vm, cpu, NULL);
		finish_error(job, cpu, NULL);
	}
}

void api_method_cpu_resize(struct api_call *call, json_object *params)
{
	struct api_server *srv = call->srv;
	struct api_resize *job;
	struct cpu_census c;
	int count = 0, timeout_ms = API_DEFAULT_TIMEOUT_MS, n;
	const struct api_param spec[] = {
		{ "count", API_PARAM_UINT, true, &count },
		{ "timeout_ms", API_PARAM_TIMEOUT_MS, false, &timeout_ms },
	};
	char err[128];

	if (api_params_parse(params, spec, ARRAY_SIZE(spec), err, sizeof(err)) < 0) {
		api_call_fail_code(call, RPC_INVALID_PARAMS, err);
		return;
	}
	n = census(srv, &c);
	if (n < 0) {
		api_call_fail_code(call, RPC_INTERNAL_ERROR, "cannot list CPUs");
		return;
	}
	if (count < 1 || count > n) {
		snprintf(err, sizeof(err), "count must be between 1 and %d", n);
		api_call_fail_code(call, RPC_INVALID_PARAMS, err);
		return;
	}
	if (srv->resize || c.pending) {
		api_call_fail_vm(call, -VM_ERR_BUSY, NULL);
		return;
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		api_call_fail(call, NULL);
		return;
	}
	*job = (struct api_resize){ srv, call, count, c.enabled, 2 * n, 0, timeout_ms };
	srv->resize = job;
	step(job);
}

/* Only reached if a resize outlived its waits; never calls the VM. */
void api_resize_abort(struct api_server *srv)
{
	if (!srv->resize)
		return;
	api_call_fail(srv->resize->call, NULL);
	job_free(srv->resize);
}
