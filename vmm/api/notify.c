/*
 * VM events: queued from any thread by api_server_notify(), handed to the
 * loop thread with event_active() (thread-safe once evthread_use_pthreads()
 * ran before the event_base was created), then sent to subscribers and
 * matched against the pending guest waits, in the order they were reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <event2/event.h>
#include "vmm/api/internal.h"

static const char *event_method(enum vm_event_kind kind)
{
	switch (kind) {
	case VM_EVENT_CPU_ENABLED: return "cpu.enabled";
	case VM_EVENT_CPU_ONLINE: return "cpu.online";
	case VM_EVENT_CPU_OFFLINE: return "cpu.offline";
	case VM_EVENT_CPU_DISABLED: return "cpu.disabled";
	case VM_EVENT_CPU_OST: return "cpu.ost";
	case VM_EVENT_VM_SHUTDOWN: return "vm.shutdown";
	}
	return NULL;
}

static json_object *event_notification(const struct vm_event *ev)
{
	const char *method = event_method(ev->kind);
	json_object *msg, *params;

	if (!method)
		return NULL;
	msg = json_object_new_object();
	params = json_object_new_object();
	if (!msg || !params) {
		json_object_put(msg);
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(msg, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(msg, "method", json_object_new_string(method));
	if (ev->kind != VM_EVENT_VM_SHUTDOWN)
		json_object_object_add(params, "id", json_object_new_int64(ev->cpu));
	if (ev->kind == VM_EVENT_CPU_OST) {
		json_object_object_add(params, "event", json_object_new_int64(ev->ost_event));
		json_object_object_add(params, "status", json_object_new_int64(ev->ost_status));
	}
	json_object_object_add(msg, "params", params);
	return msg;
}

static void broadcast(struct api_server *srv, const struct vm_event *ev)
{
	struct api_conn *conn, *next;
	json_object *msg = NULL;

	for (conn = TAILQ_FIRST(&srv->conns); conn; conn = next) {
		next = TAILQ_NEXT(conn, link);	/* a send may drop conn */
		if (!conn->subscribed)
			continue;
		if (!msg)
			msg = event_notification(ev);
		if (!msg)
			return;
		if (api_conn_send(conn, msg) < 0)
			continue;	/* dropped: its backlog was too big */
	}
	json_object_put(msg);
}

static void dispatch(struct api_server *srv, const struct vm_event *ev)
{
	/* Subscribers see cpu.online before the cpu.add reply it completes. */
	broadcast(srv, ev);
	api_wait_on_event(srv, ev);
}

void api_notify_drain(struct api_server *srv)
{
	STAILQ_HEAD(, api_event_item) batch = STAILQ_HEAD_INITIALIZER(batch);
	struct api_event_item *item;

	pthread_mutex_lock(&srv->queue_lock);
	STAILQ_CONCAT(&batch, &srv->queue);
	pthread_mutex_unlock(&srv->queue_lock);
	while ((item = STAILQ_FIRST(&batch))) {
		STAILQ_REMOVE_HEAD(&batch, link);
		dispatch(srv, &item->ev);
		free(item);
	}
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	api_notify_drain(arg);
}

void api_server_notify(struct api_server *srv, const struct vm_event *ev)
{
	struct api_event_item *item;

	if (!srv || !ev)
		return;
	item = malloc(sizeof(*item));
	if (!item) {
		/* A lost event only makes a waiting request time out. */
		vm_api_log(srv->ops, srv->vm, "api: out of memory, event %d of cpu %u dropped",
			   ev->kind, ev->cpu);
		return;
	}
	item->ev = *ev;
	pthread_mutex_lock(&srv->queue_lock);
	STAILQ_INSERT_TAIL(&srv->queue, item, link);
	pthread_mutex_unlock(&srv->queue_lock);
	event_active(srv->wake, EV_READ, 0);
}

int api_notify_init(struct api_server *srv)
{
	int rc;

	STAILQ_INIT(&srv->queue);
	rc = pthread_mutex_init(&srv->queue_lock, NULL);
	if (rc)
		return -rc;
	srv->wake = event_new(srv->base, -1, 0, wake_cb, srv);
	if (!srv->wake) {
		pthread_mutex_destroy(&srv->queue_lock);
		return -ENOMEM;
	}
	return 0;
}

void api_notify_fini(struct api_server *srv)
{
	struct api_event_item *item;

	if (!srv->wake)
		return;
	event_free(srv->wake);
	srv->wake = NULL;
	while ((item = STAILQ_FIRST(&srv->queue))) {
		STAILQ_REMOVE_HEAD(&srv->queue, link);
		free(item);
	}
	pthread_mutex_destroy(&srv->queue_lock);
}
