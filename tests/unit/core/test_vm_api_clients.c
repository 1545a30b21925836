/*
 * The JSON-RPC server on a real VM (fake backend, real vCPU threads) with a
 * guest thread that handles every hotplug event: several clients at once
 * send cpu.add, cpu.remove and cpu.resize. Every reply must be a result or
 * an expected error, and afterwards the API, the register block and the
 * state machine must agree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "arch/arm64/layout.h"
#include "arch/arm64/psci.h"
#include "harness.h"
#include "hp_guest.h"
#include "testvm.h"

#define MAXC 8
#define CLIENTS 4
#define CALLS 25

struct bench {
	struct testvm t;
	struct hp_guest g;
	struct event_base *base;
	struct api_server *srv;
	pthread_t loop;
	char dir[64], path[128];
	vm_event_fn old_fn;
	void *old_opaque;
	pthread_mutex_t lock;
	unsigned seed, ok, refused, bad;
	char bad_reply[512];
};

/* The VM's events go to the API (as vmm/run.c wires them) and to testvm's record. */
static void forward(void *opaque, const struct vm_event *ev)
{
	struct bench *b = opaque;

	api_server_notify(b->srv, ev);
	b->old_fn(b->old_opaque, ev);
}

static void *loop_main(void *arg)
{
	struct bench *b = arg;

	event_base_loop(b->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static bool expected_error(int code)
{
	/* already enabled, not enabled, busy, no free CPU */
	return code == -32003 || code == -32004 || code == -32005 || code == -32006;
}

static void *client(void *arg)
{
	struct bench *b = arg;
	char req[256];
	unsigned seed;
	int fd = client_connect(b->path);

	pthread_mutex_lock(&b->lock);
	seed = b->seed++;
	pthread_mutex_unlock(&b->lock);
	for (int i = 0; fd >= 0 && i < CALLS && !hp_guest_stopped(&b->g); i++) {
		unsigned id = 1 + (unsigned)rand_r(&seed) % (MAXC - 1);
		int op = rand_r(&seed) % 3;

		if (op == 0)
			snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"cpu.add\","
				 "\"params\":{\"id\":%u,\"timeout_ms\":20000}}", i, id);
		else if (op == 1)
			snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"cpu.remove\","
				 "\"params\":{\"id\":%u,\"timeout_ms\":20000}}", i, id);
		else
			snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"cpu.resize\","
				 "\"params\":{\"count\":%u,\"timeout_ms\":20000}}", i, 1 + id % MAXC);
		json_object *r = client_send(fd, req) < 0 ? NULL : client_recv(fd, 60000);
		int code = r ? resp_error(r) : 1;
		pthread_mutex_lock(&b->lock);
		if (r && code == 0)
			b->ok++;
		else if (r && expected_error(code))
			b->refused++;
		else if (!b->bad++)
			snprintf(b->bad_reply, sizeof(b->bad_reply), "%s -> %s", req,
				 r ? json_object_to_json_string(r) : "(no reply)");
		pthread_mutex_unlock(&b->lock);
		json_object_put(r);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void test_clients_add_remove_resize(void **state)
{
	struct bench *b = calloc(1, sizeof(*b));
	const struct testvm_opts o = { .boot = 1, .max = MAXC, .mode = BOOT_MODE_ACPI };
	pthread_t cl[CLIENTS];
	char err[256];

	(void)state;
	assert_non_null(b);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(evthread_use_pthreads(), 0);
	pthread_mutex_init(&b->lock, NULL);
	b->seed = 777;
	create_ok(&b->t, &o);
	strcpy(b->dir, "/tmp/vmm-api-vm-XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	snprintf(b->path, sizeof(b->path), "%s/api.sock", b->dir);
	b->base = event_base_new();
	assert_non_null(b->base);
	if (api_server_start(&b->srv, b->base, b->path, &vm_api_ops, b->t.vm, err, sizeof(err)))
		fail_msg("api_server_start: %s", err);
	b->old_fn = b->t.vm->event_fn;
	b->old_opaque = b->t.vm->event_opaque;
	b->t.vm->event_fn = forward;
	b->t.vm->event_opaque = b;
	assert_int_equal(pthread_create(&b->loop, NULL, loop_main, b), 0);
	start_ok(&b->t);
	hp_guest_start(&b->g, &b->t);

	for (int i = 0; i < CLIENTS; i++)
		pthread_create(&cl[i], NULL, client, b);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(cl[i], NULL);
	bool settled = hp_guest_settle(&b->g, TMO);
	bool guest_ok = hp_guest_stop(&b->g);
	print_message("replies: %u results, %u refusals (busy, already, not enabled)\n",
		      b->ok, b->refused);
	if (!guest_ok)
		fail_msg("guest: %s", b->g.error);
	if (b->bad)
		fail_msg("%u unexpected replies, first: %s", b->bad, b->bad_reply);
	assert_true(settled);
	assert_int_equal(b->ok + b->refused, CLIENTS * CALLS);
	assert_true(b->ok > CLIENTS);

	/* The API's view, the register block's and the state machine's agree. */
	int fd = client_connect(b->path);
	json_object *r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cpu.list\"}");
	json_object *list = resp_result(r);
	assert_int_equal(json_object_array_length(list), MAXC);
	unsigned enabled = 0;
	for (unsigned id = 0; id < MAXC; id++) {
		json_object *c = json_object_array_get_idx(list, id);
		struct cpu_info ci;

		assert_int_equal(vm_api_ops.cpu_get(b->t.vm, id, &ci), 0);
		assert_int_equal(json_object_get_boolean(jget(c, "enabled")), ci.enabled);
		assert_string_equal(json_object_get_string(jget(c, "state")), ci.enabled ? "enabled" : "disabled");
		assert_string_equal(json_object_get_string(jget(c, "pending")), "none");
		/* Everything the guest was given, it runs; nothing it lost is running. */
		assert_int_equal(json_object_get_boolean(jget(c, "online")), ci.enabled);
		assert_int_equal(json_object_get_boolean(jget(c, "online")), ci.online);
		mmio_write(&b->t, 0, CPUHP_BASE + CPUHP_REG_SELECT, 4, id);
		assert_int_equal(mmio_read(&b->t, 0, CPUHP_BASE + CPUHP_REG_STATUS, 4),
				 ci.enabled ? CPUHP_STATUS_ENABLED : 0);
		enabled += ci.enabled;
	}
	json_object_put(r);
	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"vm.info\"}");
	assert_int_equal(json_object_get_int(jget(r, "result.enabled_cpus")), (int)enabled);
	json_object_put(r);
	close(fd);

	b->t.vm->event_fn = b->old_fn;
	b->t.vm->event_opaque = b->old_opaque;
	event_base_loopbreak(b->base);
	pthread_join(b->loop, NULL);
	api_server_stop(b->srv);
	event_base_free(b->base);
	testvm_finish(&b->t);
	rmdir(b->dir);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clients_add_remove_resize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
