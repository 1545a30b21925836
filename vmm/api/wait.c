/*
 * Waiting for the guest: an add completes on the CPU's cpu.online or on a
 * successful _OST for it, a remove on its cpu.disabled (the guest ran _EJ0).
 * A wait is independent of any connection, so a remove whose client went
 * away still ends in a consistent VM state (cancelled on timeout).
 */
#include <errno.h>
#include <stdlib.h>
#include <event2/event.h>
#include "vmm/api/internal.h"

struct api_wait {
	TAILQ_ENTRY(api_wait) link;
	struct api_server *srv;
	enum api_wait_kind kind;
	unsigned cpu;
	struct event *timer;
	api_wait_done_fn done;
	void *arg;
	int rc;			/* outcome while collected in api_wait_on_event() */
	json_object *error;
};

TAILQ_HEAD(api_wait_list, api_wait);

static json_object *cpu_data(unsigned cpu)
{
	json_object *data = json_object_new_object();

	if (data)
		json_object_object_add(data, "id", json_object_new_int64(cpu));
	return data;
}

/* The CPU's true state, as the VM reports it, added to an error's data. */
static void add_state(json_object *data, const struct cpu_info *c)
{
	if (!data || !c->state)
		return;
	json_object_object_add(data, "enabled", json_object_new_boolean(c->enabled));
	json_object_object_add(data, "online", json_object_new_boolean(c->online));
	json_object_object_add(data, "state", json_object_new_string(c->state));
}

static void add_current_state(struct api_server *srv, json_object *data, unsigned cpu)
{
	struct cpu_info c = { 0 };

	if (srv->ops->cpu_get(srv->vm, cpu, &c) == 0)
		add_state(data, &c);
}

static void wait_free(struct api_wait *w)
{
	event_free(w->timer);
	free(w);
}

/* Unlinked already; the callback may start new waits. */
static void wait_complete(struct api_wait *w, int rc, json_object *error)
{
	api_wait_done_fn done = w->done;
	void *arg = w->arg;
	unsigned cpu = w->cpu;

	wait_free(w);
	done(arg, cpu, rc, error);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_wait *w = arg;
	struct api_server *srv = w->srv;
	struct cpu_info c = { 0 };
	json_object *data;
	const char *detail = "the CPU stays enabled; the guest may still bring it online";
	int rc = 0;

	(void)fd;
	(void)what;
	TAILQ_REMOVE(&srv->waits, w, link);
	if (w->kind == API_WAIT_REMOVE) {
		/* Leave the VM consistent: the CPU stays enabled, or was ejected after all. */
		rc = srv->ops->cpu_remove_cancel(srv->vm, w->cpu, &c);
		if (rc == -VM_ERR_NOT_ENABLED) {
			/* The eject raced the timer: the remove completed. */
			wait_complete(w, 0, NULL);
			return;
		}
		detail = rc == 0 && c.pending == CPU_PENDING_INSERT ?
			 "the guest had started the removal; it was cancelled, the CPU stays "
			 "enabled and the guest was told so" :
			 rc == 0 ? "the remove request was cancelled; the CPU stays enabled" :
			 "no remove was in progress any more";
	} else if (srv->ops->cpu_get(srv->vm, w->cpu, &c) < 0) {
		c.state = NULL;
	}
	data = cpu_data(w->cpu);
	add_state(data, &c);
	if (data) {
		json_object_object_add(data, "cancelled",
				       json_object_new_boolean(w->kind == API_WAIT_REMOVE && rc == 0));
		json_object_object_add(data, "detail", json_object_new_string(detail));
	}
	wait_complete(w, -ETIMEDOUT, api_error_from_vm(-VM_ERR_TIMEOUT, data));
}

int api_wait_start(struct api_server *srv, enum api_wait_kind kind, unsigned cpu,
		   int timeout_ms, api_wait_done_fn done, void *arg)
{
	struct api_wait *w = calloc(1, sizeof(*w));
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if (!w)
		return -ENOMEM;
	w->timer = evtimer_new(srv->base, timeout_cb, w);
	if (!w->timer || evtimer_add(w->timer, &tv) < 0) {
		if (w->timer)
			event_free(w->timer);
		free(w);
		return -ENOMEM;
	}
	w->srv = srv;
	w->kind = kind;
	w->cpu = cpu;
	w->done = done;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&srv->waits, w, link);
	return 0;
}

static json_object *ost_failure(struct api_server *srv, const struct vm_event *ev)
{
	json_object *data = cpu_data(ev->cpu);

	if (data) {
		json_object_object_add(data, "event", json_object_new_int64(ev->ost_event));
		json_object_object_add(data, "status", json_object_new_int64(ev->ost_status));
	}
	add_current_state(srv, data, ev->cpu);
	return api_error_new(API_ERR_GUEST_FAILED, "the guest reported a failure (_OST)", data);
}

/*
 * What ev means for w: 0 not related, 1 success, -1 failure (*error set).
 * A refused eject (_OST status other than success or "in progress") ends a
 * remove at once rather than at its timeout.
 */
static int match(struct api_wait *w, const struct vm_event *ev, json_object **error)
{
	if (ev->kind == VM_EVENT_VM_SHUTDOWN) {
		*error = api_error_new(API_ERR_BASE - VM_ERR_INDEX(VM_ERR_INVALID_STATE),
				       "the VM is shutting down", cpu_data(w->cpu));
		return -1;
	}
	if (ev->cpu != w->cpu)
		return 0;
	if (w->kind == API_WAIT_ADD) {
		if (ev->kind == VM_EVENT_CPU_ONLINE)
			return 1;
		if (ev->kind != VM_EVENT_CPU_OST || ost_is_eject(ev->ost_event))
			return 0;
		if (ev->ost_status == 0)
			return 1;
	} else {
		if (ev->kind == VM_EVENT_CPU_DISABLED)
			return 1;
		if (ev->kind != VM_EVENT_CPU_OST || !ost_is_eject(ev->ost_event) ||
		    ev->ost_status == 0 || ev->ost_status == OST_STATUS_EJECT_IN_PROGRESS)
			return 0;
		/* The guest gave the eject up: so do we (it keeps the CPU). */
		(void)w->srv->ops->cpu_remove_cancel(w->srv->vm, w->cpu, NULL);
	}
	*error = ost_failure(w->srv, ev);
	return -1;
}

void api_wait_on_event(struct api_server *srv, const struct vm_event *ev)
{
	struct api_wait_list hits = TAILQ_HEAD_INITIALIZER(hits);
	struct api_wait *w, *next;

	/* Collect first: completions may start waits, which must not see ev. */
	for (w = TAILQ_FIRST(&srv->waits); w; w = next) {
		next = TAILQ_NEXT(w, link);
		w->error = NULL;
		w->rc = match(w, ev, &w->error);
		if (!w->rc)
			continue;
		TAILQ_REMOVE(&srv->waits, w, link);
		TAILQ_INSERT_TAIL(&hits, w, link);
	}
	while ((w = TAILQ_FIRST(&hits))) {
		TAILQ_REMOVE(&hits, w, link);
		wait_complete(w, w->rc > 0 ? 0 : -ECANCELED, w->error);
	}
}

void api_wait_abort_all(struct api_server *srv)
{
	struct api_wait *w;

	while ((w = TAILQ_FIRST(&srv->waits))) {
		TAILQ_REMOVE(&srv->waits, w, link);
		wait_complete(w, -ESHUTDOWN,
			      api_error_new(RPC_INTERNAL_ERROR, "the API server is stopping", NULL));
	}
}
