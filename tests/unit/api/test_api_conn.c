/* Connections: subscriptions, many clients, vanishing and slow clients. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

#define H(state) ((struct harness *)*(state))
#define NCLIENTS 8

static void subscribe(int fd)
{
	json_object *r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"events.subscribe\"}");

	assert_true(json_object_get_boolean(jget(r, "result.subscribed")));
	json_object_put(r);
}

static void test_subscription_sees_add_in_order(void **state)
{
	struct harness *h = H(state);
	int sub = client_connect(h->path), fd = client_connect(h->path);
	static const char *const want[] = { "cpu.enabled", "cpu.ost", "cpu.online" };
	json_object *r;
	size_t i;

	subscribe(sub);
	pthread_mutex_lock(&h->vm.lock);
	h->vm.guest = FAKE_GUEST_AUTO;
	h->vm.delay_ms = 10;
	pthread_mutex_unlock(&h->vm.lock);
	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cpu.add\"}");
	assert_int_equal(json_object_get_int(jget(r, "result.id")), 1);
	json_object_put(r);
	for (i = 0; i < 3; i++) {
		r = client_recv(sub, 5000);
		assert_non_null(r);
		assert_string_equal(json_object_get_string(jget(r, "jsonrpc")), "2.0");
		assert_false(json_object_object_get_ex(r, "id", NULL));
		assert_string_equal(json_object_get_string(jget(r, "method")), want[i]);
		assert_int_equal(json_object_get_int(jget(r, "params.id")), 1);
		if (i == 1) {
			assert_int_equal(json_object_get_int(jget(r, "params.event")), 1);
			assert_int_equal(json_object_get_int(jget(r, "params.status")), 0);
		}
		json_object_put(r);
	}
	/* The unsubscribed client got only its reply. */
	assert_null(client_recv(fd, 100));
	close(sub);
	close(fd);
}

struct burst {
	struct harness *h;
	int n;
};

static void *notify_burst(void *arg)
{
	struct burst *b = arg;
	int i;

	for (i = 0; i < b->n; i++) {
		struct vm_event ev = { VM_EVENT_CPU_OST, (unsigned)(i % 4), 0x100, (uint32_t)i };

		api_server_notify(b->h->srv, &ev);
	}
	return NULL;
}

static void test_notifications_in_order_from_thread(void **state)
{
	struct harness *h = H(state);
	int sub = client_connect(h->path);
	struct burst b = { h, 2000 };
	struct vm_event shut = { .kind = VM_EVENT_VM_SHUTDOWN };
	pthread_t t;
	json_object *r;
	int i;

	subscribe(sub);
	pthread_create(&t, NULL, notify_burst, &b);
	for (i = 0; i < b.n; i++) {
		r = client_recv(sub, 5000);
		assert_non_null(r);
		assert_int_equal(json_object_get_int(jget(r, "params.status")), i);
		json_object_put(r);
	}
	pthread_join(t, NULL);
	api_server_notify(h->srv, &shut);
	r = client_recv(sub, 5000);
	assert_string_equal(json_object_get_string(jget(r, "method")), "vm.shutdown");
	assert_int_equal(json_object_object_length(jget(r, "params")), 0);
	json_object_put(r);
	close(sub);
}

struct client_job {
	struct harness *h;
	int ok;
};

static void *client_thread(void *arg)
{
	struct client_job *job = arg;
	int fd = client_connect(job->h->path), i;
	char req[128];

	for (i = 0; fd >= 0 && i < 50; i++) {
		json_object *r;

		snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"}", i,
			 i % 2 ? "cpu.list" : "vm.info");
		r = client_call(fd, req);
		job->ok += r && json_object_get_int(jget(r, "id")) == i && resp_result(r);
		json_object_put(r);
	}
	close(fd);
	return NULL;
}

static void test_eight_clients(void **state)
{
	struct client_job jobs[NCLIENTS];
	pthread_t t[NCLIENTS];
	int i;

	for (i = 0; i < NCLIENTS; i++) {
		jobs[i] = (struct client_job){ H(state), 0 };
		pthread_create(&t[i], NULL, client_thread, &jobs[i]);
	}
	for (i = 0; i < NCLIENTS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(jobs[i].ok, 50);
	}
}

static void test_pending_waits_on_many_clients(void **state)
{
	struct harness *h = H(state);
	int fd[3], i;
	char req[128];

	for (i = 0; i < 3; i++) {
		fd[i] = client_connect(h->path);
		snprintf(req, sizeof(req),
			 "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"cpu.add\",\"params\":{\"id\":%d}}",
			 10 + i, i + 1);
		assert_int_equal(client_send(fd[i], req), 0);
	}
	for (i = 0; i < 3; i++)
		assert_null(client_recv(fd[i], 100));
	for (i = 2; i >= 0; i--) {		/* the guest finishes in reverse */
		json_object *r;

		fake_guest_online(&h->vm, i + 1);
		r = client_recv(fd[i], 5000);
		assert_int_equal(json_object_get_int(jget(r, "id")), 10 + i);
		assert_int_equal(json_object_get_int(jget(r, "result.id")), i + 1);
		json_object_put(r);
		close(fd[i]);
	}
}

static void test_client_vanishes_with_pending_wait(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	pthread_mutex_lock(&h->vm.lock);
	h->vm.enabled[2] = h->vm.online[2] = true;
	pthread_mutex_unlock(&h->vm.lock);
	assert_int_equal(client_send(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cpu.add\",\"params\":{\"id\":1}}"), 0);
	assert_int_equal(client_send(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"cpu.remove\",\"params\":{\"id\":2,\"timeout_ms\":150}}"), 0);
	await_count(&h->vm, &h->vm.removes, 1);
	close(fd);
	fake_guest_online(&h->vm, 1);		/* its reply has nowhere to go */
	await_count(&h->vm, &h->vm.cancels, 1);
	/* The remove still timed out and was cancelled: the VM is consistent. */
	assert_int_equal(fake_get(&h->vm, &h->vm.cancels), 1);
	fd = client_connect(h->path);
	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"cpu.list\"}");
	assert_string_equal(json_object_get_string(
		jget(json_object_array_get_idx(resp_result(r), 2), "pending")), "none");
	json_object_put(r);
	close(fd);
}

static void test_half_closed_client_gets_reply(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	assert_int_equal(client_send(fd, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"cpu.add\",\"params\":{\"id\":1}}"), 0);
	shutdown(fd, SHUT_WR);
	await_count(&h->vm, &h->vm.adds, 1);
	fake_guest_online(&h->vm, 1);
	r = client_recv(fd, 5000);
	assert_int_equal(json_object_get_int(jget(r, "result.id")), 1);
	json_object_put(r);
	assert_true(client_eof(fd, 5000));
	close(fd);
}

static void test_slow_subscriber_is_dropped(void **state)
{
	struct harness *h = H(state);
	int slow = client_connect(h->path), fd;
	int small = 4096;
	struct burst b = { h, 40000 };	/* ~3 MiB of notifications */
	json_object *r;

	setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	subscribe(slow);
	notify_burst(&b);		/* never read by slow */
	fd = client_connect(h->path);
	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.info\"}");
	assert_non_null(resp_result(r));
	json_object_put(r);
	/* Dropped: after what was buffered, the stream ends. */
	{
		char buf[65536];
		ssize_t n;

		while ((n = read(slow, buf, sizeof(buf))) > 0)
			;
		assert_int_equal(n, 0);
	}
	close(slow);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_subscription_sees_add_in_order, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_notifications_in_order_from_thread, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_eight_clients, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_pending_waits_on_many_clients, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_client_vanishes_with_pending_wait, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_half_closed_client_gets_reply, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_slow_subscriber_is_dropped, harness_setup, harness_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
