/*
 * Private to vmm/api/: the server, its connections, the calls they owe
 * replies for, and the guest waits. Everything here runs on the loop thread
 * except api_server_notify(), which only touches the event queue.
 */
#ifndef VMM_API_INTERNAL_H
#define VMM_API_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <json-c/json.h>
#include "compiler.h"
#include "vmm/api/api.h"
#include "vmm/api/http.h"
#include "vmm/vmm_api.h"

#define API_MAX_OUTPUT_BYTES	(1024 * 1024)	/* a client further behind is dropped */
#define API_MAX_CLIENTS		64
#define API_DRAIN_TIMEOUT_S	5		/* a closing client must read its last reply */
#define API_DEFAULT_TIMEOUT_MS	10000
#define API_MAX_TIMEOUT_MS	(10 * 60 * 1000)

/* JSON-RPC 2.0 codes, then ours: -32000 - VM_ERR_* (see enum vm_api_error). */
#define RPC_PARSE_ERROR		(-32700)
#define RPC_INVALID_REQUEST	(-32600)
#define RPC_METHOD_NOT_FOUND	(-32601)
#define RPC_INVALID_PARAMS	(-32602)
#define RPC_INTERNAL_ERROR	(-32603)
#define API_ERR_BASE		(-32000)
#define API_ERR_GUEST_FAILED	(-32010)	/* the guest's _OST reported a failure */
#define API_ERR_TOO_MANY_CLIENTS (-32011)	/* sent to a client refused at accept */

struct api_conn;
struct api_call;
struct api_wait;
struct api_resize;
struct api_sniff;
struct http_conn;

struct api_event_item {
	STAILQ_ENTRY(api_event_item) link;
	struct vm_event ev;
};

struct api_server {
	struct event_base *base;
	const struct vm_api_ops *ops;
	void *vm;
	char *path;
	struct evconnlistener *listener;
	struct event *accept_retry;		/* re-arms the listener after EMFILE */
	TAILQ_HEAD(, api_conn) conns;
	TAILQ_HEAD(, http_conn) http_conns;	/* the REST dialect's clients */
	TAILQ_HEAD(, api_sniff) sniffs;		/* dialect not known yet */
	unsigned nconns;			/* of all three kinds */
	const struct vmm_ops *vmm_ops;		/* NULL: no REST life-cycle calls */
	void *vmm;
	unsigned verbosity;			/* >= 1: log each REST request */
	int http_timeout_ms;			/* first to last byte of a request */
	TAILQ_HEAD(, api_wait) waits;
	struct api_resize *resize;		/* the one cpu.resize in progress */
	bool stopping;

	/* Filled by api_server_notify() from any thread, drained on the loop. */
	pthread_mutex_t queue_lock;
	STAILQ_HEAD(, api_event_item) queue;
	struct event *wake;
};

struct api_conn {
	TAILQ_ENTRY(api_conn) link;
	struct api_server *srv;
	struct bufferevent *bev;
	TAILQ_HEAD(, api_call) calls;		/* requests still owed a reply */
	bool subscribed;
	bool draining;		/* reads stopped: close once owed replies are written */
	bool in_read;		/* the read callback holds pointers into bev: defer free */
	bool dead;
};

/* One request being answered; outlives its connection (conn becomes NULL). */
struct api_call {
	TAILQ_ENTRY(api_call) link;
	struct api_server *srv;
	struct api_conn *conn;
	json_object *id;	/* the request's id (NULL for JSON null) */
	bool want_reply;	/* false for a JSON-RPC notification */
};

/* conn.c; accept owns fd (closed on failure). */
int api_conn_accept(struct api_server *srv, int fd) WUR;
/* Queues one line; returns -ECONNRESET if that dropped (and maybe freed) conn. */
int api_conn_send(struct api_conn *conn, json_object *msg) WUR;
void api_conn_drop(struct api_conn *conn);
/* Best effort, never blocks: write what the socket takes right now. */
void api_conn_flush(struct api_conn *conn);
/* Closes a draining connection once nothing more is owed to it. */
void api_conn_check_drained(struct api_conn *conn);

/* sniff.c: tell the dialects apart by the first byte; owns fd. */
int api_sniff_accept(struct api_server *srv, int fd) WUR;
void api_sniff_drop_all(struct api_server *srv);

/* http_conn.c: a REST connection; owns fd. */
int api_http_accept(struct api_server *srv, int fd) WUR;
/* body may be NULL; close_after ends the connection once the reply is out. */
void api_http_reply(struct http_conn *c, int status, const char *ctype, const char *body,
		    size_t len, bool close_after);
/* A text/plain error reply; the connection stays open. */
void api_http_reply_error(struct http_conn *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Best effort, never blocks. */
void api_http_flush(struct http_conn *c);
void api_http_drop_all(struct api_server *srv);

/* rest.c: answer one request on c (exactly one reply, at once). */
void api_rest_handle(struct api_server *srv, struct http_conn *c, struct http_request *req);

/* ch_config.c: cloud-hypervisor's vm.create body into a VM configuration. */
int api_ch_config_parse(const char *json, size_t len, struct vm_config_owned *out,
			char *err, size_t errlen) WUR;

/* rpc.c */
void api_rpc_handle_line(struct api_conn *conn, const char *line, size_t len);
/* These complete and free the call; result/error are consumed. */
void api_call_reply(struct api_call *call, json_object *result);
void api_call_fail(struct api_call *call, json_object *error);
void api_call_fail_code(struct api_call *call, int code, const char *msg);
void api_call_fail_vm(struct api_call *call, int rc, json_object *data);
void api_calls_detach(struct api_conn *conn);

/* error.c: a JSON-RPC error object; data may be NULL (consumed). */
json_object *api_error_new(int code, const char *msg, json_object *data);
/* rc is -VM_ERR_* or another -errno (internal error). */
json_object *api_error_from_vm(int rc, json_object *data);

/* params.c */
enum api_param_type {
	API_PARAM_UINT,		/* integer 0..INT_MAX into int */
	API_PARAM_BOOL,		/* true/false into bool */
	API_PARAM_TIMEOUT_MS,	/* integer 1..API_MAX_TIMEOUT_MS into int */
};
struct api_param {
	const char *name;
	enum api_param_type type;
	bool required;
	void *out;		/* left untouched when the key is absent */
};
/* params may be NULL (absent), JSON null or an object; unknown keys are refused. */
int api_params_parse(json_object *params, const struct api_param *spec, size_t n,
		     char *err, size_t errlen) WUR;

/* wait.c: wait for the guest to finish adding or removing a CPU. */
enum api_wait_kind { API_WAIT_ADD, API_WAIT_REMOVE };
/* rc is 0 on success, else -errno and error is a JSON-RPC error object
 * (consumed by done; NULL if even that could not be allocated). */
typedef void (*api_wait_done_fn)(void *arg, unsigned cpu, int rc, json_object *error);
int api_wait_start(struct api_server *srv, enum api_wait_kind kind, unsigned cpu,
		   int timeout_ms, api_wait_done_fn done, void *arg) WUR;
void api_wait_on_event(struct api_server *srv, const struct vm_event *ev);
/* Completes every wait with an error, without calling the VM. */
void api_wait_abort_all(struct api_server *srv);

/* notify.c */
int api_notify_init(struct api_server *srv) WUR;
/* Sends every queued event now (the wakeup does this on the loop). */
void api_notify_drain(struct api_server *srv);
void api_notify_fini(struct api_server *srv);

/* vm.c: the possible vCPUs, malloc'd; returns the count or -errno. */
int api_cpu_list_get(struct api_server *srv, struct cpu_info **out) WUR;

/* Method handlers: each completes call (now or later). */
void api_method_vm_info(struct api_call *call, json_object *params);
void api_method_vm_pause(struct api_call *call, json_object *params);
void api_method_vm_resume(struct api_call *call, json_object *params);
void api_method_vm_shutdown(struct api_call *call, json_object *params);
void api_method_events_subscribe(struct api_call *call, json_object *params);
void api_method_cpu_list(struct api_call *call, json_object *params);
void api_method_cpu_add(struct api_call *call, json_object *params);
void api_method_cpu_remove(struct api_call *call, json_object *params);
void api_method_cpu_resize(struct api_call *call, json_object *params);
void api_resize_abort(struct api_server *srv);

#endif
