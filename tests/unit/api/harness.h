/*
 * Test harness: an API server with a fake VM on a temporary socket, its
 * event loop on a thread, and a blocking line-oriented client.
 */
#ifndef TESTS_API_HARNESS_H
#define TESTS_API_HARNESS_H

#include <pthread.h>
#include <json-c/json.h>
#include "fake_vm.h"

struct harness {
	char dir[64];
	char path[128];
	struct event_base *base;
	struct api_server *srv;
	pthread_t loop;
	struct fake_vm vm;
};

/* If set, called by harness_setup once the server exists, before its loop runs. */
extern void (*harness_before_loop)(struct harness *h);

/* cmocka setup/teardown: *state becomes a struct harness (4 CPUs, 1 enabled). */
int harness_setup(void **state);
int harness_teardown(void **state);
/* harness_teardown in two halves, for what must go between (the loop stopped, the server not yet). */
void harness_stop_loop(struct harness *h);
int harness_free(struct harness *h);

/* Until *field (a fake VM counter) reaches value: the request got to the VM. */
void await_count(struct fake_vm *vm, const int *field, int value);
int client_connect(const char *path);
int client_send(int fd, const char *line);	/* adds the newline */
/* Next line as JSON; NULL on timeout, EOF or bad JSON. */
json_object *client_recv(int fd, int timeout_ms);
/* True if the server closes fd within timeout_ms (without sending). */
int client_eof(int fd, int timeout_ms);
json_object *client_call(int fd, const char *request);
/* The "error"."code" of a response, 0 if it has none. */
int resp_error(json_object *resp);
json_object *resp_result(json_object *resp);
/* Member path lookup: get(obj, "error.data.id"); NULL if absent. */
json_object *jget(json_object *obj, const char *path);

#endif
