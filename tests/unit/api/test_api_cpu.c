/* cpu.add / cpu.remove / cpu.resize: deferred replies, timeouts, guest failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

#define H(state) ((struct harness *)*(state))
#define NO_REPLY_MS 200

static json_object *request(int fd, const char *method, const char *params)
{
	char req[512];

	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
		 method, params);
	assert_int_equal(client_send(fd, req), 0);
	return client_recv(fd, 5000);
}

static void send_only(int fd, int id, const char *method, const char *params)
{
	char req[512];

	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":%s}",
		 id, method, params);
	assert_int_equal(client_send(fd, req), 0);
}

static void set_guest(struct harness *h, enum fake_guest_mode mode, int delay_ms)
{
	pthread_mutex_lock(&h->vm.lock);
	h->vm.guest = mode;
	h->vm.delay_ms = delay_ms;
	pthread_mutex_unlock(&h->vm.lock);
}

static void test_add_no_wait(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r = request(fd, "cpu.add", "{\"wait\":false}");

	assert_int_equal(json_object_get_int(jget(r, "result.id")), 1);
	json_object_put(r);
	r = request(fd, "cpu.add", "{\"id\":3,\"wait\":false}");
	assert_int_equal(json_object_get_int(jget(r, "result.id")), 3);
	json_object_put(r);
	assert_int_equal(fake_get(&h->vm, &h->vm.adds), 2);
	close(fd);
}

static void test_add_waits_for_online(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	send_only(fd, 7, "cpu.add", "{\"id\":2}");
	assert_null(client_recv(fd, NO_REPLY_MS));	/* deferred */
	assert_int_equal(fake_get(&h->vm, &h->vm.adds), 1);
	fake_guest_online(&h->vm, 1);			/* another CPU: still waiting */
	assert_null(client_recv(fd, NO_REPLY_MS));
	fake_guest_online(&h->vm, 2);
	r = client_recv(fd, 5000);
	assert_int_equal(json_object_get_int(jget(r, "id")), 7);
	assert_int_equal(json_object_get_int(jget(r, "result.id")), 2);
	json_object_put(r);
	close(fd);
}

static void test_add_ost_success_and_failure(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	send_only(fd, 1, "cpu.add", "{}");
	assert_null(client_recv(fd, NO_REPLY_MS));
	fake_guest_ost(&h->vm, 1, 0x03, 0x80);		/* an eject event: not ours */
	assert_null(client_recv(fd, NO_REPLY_MS));
	fake_guest_ost(&h->vm, 1, 0x01, 0);
	r = client_recv(fd, 5000);
	assert_int_equal(json_object_get_int(jget(r, "result.id")), 1);
	json_object_put(r);

	send_only(fd, 2, "cpu.add", "{}");
	await_count(&h->vm, &h->vm.adds, 2);
	fake_guest_ost(&h->vm, 2, 0x01, 0x01);
	r = client_recv(fd, 5000);
	assert_int_equal(resp_error(r), -32010);
	assert_int_equal(json_object_get_int(jget(r, "error.data.status")), 1);
	assert_int_equal(json_object_get_int(jget(r, "error.data.id")), 2);
	json_object_put(r);
	close(fd);
}

static void test_add_timeout(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r = request(fd, "cpu.add", "{\"id\":1,\"timeout_ms\":100}");

	assert_int_equal(resp_error(r), -32009);
	assert_true(json_object_get_boolean(jget(r, "error.data.enabled")));
	assert_false(json_object_get_boolean(jget(r, "error.data.online")));
	assert_string_equal(json_object_get_string(jget(r, "error.data.state")), "insert-pending");
	assert_false(json_object_get_boolean(jget(r, "error.data.cancelled")));
	json_object_put(r);
	assert_int_equal(fake_get(&h->vm, &h->vm.cancels), 0);
	close(fd);
}

static void enable_cpus(struct harness *h, int n)
{
	int i;

	pthread_mutex_lock(&h->vm.lock);
	for (i = 0; i < n; i++)
		h->vm.enabled[i] = h->vm.online[i] = true;
	pthread_mutex_unlock(&h->vm.lock);
}

static void test_remove_waits_for_eject(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	enable_cpus(h, 3);
	send_only(fd, 4, "cpu.remove", "{\"id\":2}");
	assert_null(client_recv(fd, NO_REPLY_MS));
	assert_int_equal(fake_get(&h->vm, &h->vm.removes), 1);
	fake_guest_eject(&h->vm, 2);
	r = client_recv(fd, 5000);
	assert_int_equal(json_object_get_int(jget(r, "id")), 4);
	assert_int_equal(json_object_get_int(jget(r, "result.id")), 2);
	json_object_put(r);
	r = request(fd, "cpu.remove", "{\"id\":1,\"wait\":false}");
	assert_int_equal(json_object_get_int(jget(r, "result.id")), 1);
	json_object_put(r);
	close(fd);
}

static void test_remove_timeout_cancels(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	enable_cpus(h, 3);
	r = request(fd, "cpu.remove", "{\"id\":2,\"timeout_ms\":100}");
	assert_int_equal(resp_error(r), -32009);
	assert_true(json_object_get_boolean(jget(r, "error.data.cancelled")));
	assert_true(json_object_get_boolean(jget(r, "error.data.enabled")));
	assert_true(json_object_get_boolean(jget(r, "error.data.online")));
	assert_string_equal(json_object_get_string(jget(r, "error.data.state")), "enabled");
	json_object_put(r);
	assert_int_equal(fake_get(&h->vm, &h->vm.cancels), 1);
	assert_int_equal(fake_get(&h->vm, &h->vm.last_cancel), 2);
	/* Consistent again: a new remove is accepted. */
	r = request(fd, "cpu.remove", "{\"id\":2,\"wait\":false}");
	assert_int_equal(json_object_get_int(jget(r, "result.id")), 2);
	json_object_put(r);
	close(fd);
}

/* The guest ejected the CPU, but its event had not reached the wait yet: success. */
static void test_remove_eject_races_timeout(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	enable_cpus(h, 3);
	send_only(fd, 9, "cpu.remove", "{\"id\":2,\"timeout_ms\":200}");
	await_count(&h->vm, &h->vm.removes, 1);
	pthread_mutex_lock(&h->vm.lock);	/* ejected, cpu.disabled not (yet) reported */
	h->vm.enabled[2] = h->vm.online[2] = false;
	h->vm.pending[2] = CPU_PENDING_NONE;
	pthread_mutex_unlock(&h->vm.lock);
	r = client_recv(fd, 5000);
	assert_int_equal(resp_error(r), 0);
	assert_int_equal(json_object_get_int(jget(r, "result.id")), 2);
	json_object_put(r);
	assert_int_equal(fake_get(&h->vm, &h->vm.cancels), 1);
	close(fd);
}

static void test_remove_refused_by_guest(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	enable_cpus(h, 2);
	send_only(fd, 1, "cpu.remove", "{\"id\":1}");
	await_count(&h->vm, &h->vm.removes, 1);
	fake_guest_ost(&h->vm, 1, 0x03, 0x84);		/* "in progress": keep waiting */
	assert_null(client_recv(fd, NO_REPLY_MS));
	fake_guest_ost(&h->vm, 1, 0x03, 0x81);		/* device in use */
	r = client_recv(fd, 5000);
	assert_int_equal(resp_error(r), -32010);
	assert_int_equal(json_object_get_int(jget(r, "error.data.status")), 0x81);
	assert_true(json_object_get_boolean(jget(r, "error.data.enabled")));	/* as the VM says */
	assert_string_equal(json_object_get_string(jget(r, "error.data.state")), "enabled");
	json_object_put(r);
	assert_int_equal(fake_get(&h->vm, &h->vm.cancels), 1);
	close(fd);
}

static void test_resize_up_and_down(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	set_guest(h, FAKE_GUEST_AUTO, 10);
	r = request(fd, "cpu.resize", "{\"count\":3}");
	assert_int_equal(json_object_get_int(jget(r, "result.old")), 1);
	assert_int_equal(json_object_get_int(jget(r, "result.new")), 3);
	json_object_put(r);
	r = request(fd, "cpu.resize", "{\"count\":3}");
	assert_int_equal(json_object_get_int(jget(r, "result.old")), 3);
	assert_int_equal(json_object_get_int(jget(r, "result.new")), 3);
	json_object_put(r);
	r = request(fd, "cpu.resize", "{\"count\":1,\"timeout_ms\":2000}");
	assert_int_equal(json_object_get_int(jget(r, "result.old")), 3);
	assert_int_equal(json_object_get_int(jget(r, "result.new")), 1);
	json_object_put(r);
	/* Lowest disabled first up, highest enabled first down. */
	pthread_mutex_lock(&h->vm.lock);
	assert_int_equal(h->vm.op_count, 4);
	assert_int_equal(h->vm.op_log[0], 1);
	assert_int_equal(h->vm.op_log[1], 2);
	assert_int_equal(h->vm.op_log[2], -102);
	assert_int_equal(h->vm.op_log[3], -101);
	pthread_mutex_unlock(&h->vm.lock);
	close(fd);
}

static void test_resize_failure_reports_progress(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	set_guest(h, FAKE_GUEST_AUTO, 10);
	pthread_mutex_lock(&h->vm.lock);
	h->vm.fail_add_cpu = 2;
	pthread_mutex_unlock(&h->vm.lock);
	r = request(fd, "cpu.resize", "{\"count\":4}");
	assert_int_equal(resp_error(r), -32005);
	assert_int_equal(json_object_get_int(jget(r, "error.data.old")), 1);
	assert_int_equal(json_object_get_int(jget(r, "error.data.reached")), 2);
	assert_int_equal(json_object_get_int(jget(r, "error.data.target")), 4);
	assert_int_equal(json_object_get_int(jget(r, "error.data.id")), 2);
	assert_int_equal(json_object_get_int(jget(r, "error.data.cause.code")), -32005);
	json_object_put(r);
	close(fd);
}

static void test_resize_step_timeout(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r = request(fd, "cpu.resize", "{\"count\":2,\"timeout_ms\":100}");

	/* Manual guest never answers: the add step times out. */
	assert_int_equal(resp_error(r), -32009);
	assert_int_equal(json_object_get_int(jget(r, "error.data.reached")), 2);
	assert_true(json_object_get_boolean(jget(r, "error.data.cause.data.enabled")));
	json_object_put(r);
	close(fd);
}

static void test_resize_refused_while_busy(void **state)
{
	struct harness *h = H(state);
	int a = client_connect(h->path), b = client_connect(h->path);
	json_object *r;

	send_only(a, 1, "cpu.resize", "{\"count\":2}");
	assert_null(client_recv(a, NO_REPLY_MS));
	r = request(b, "cpu.resize", "{\"count\":3}");
	assert_int_equal(resp_error(r), -32005);
	json_object_put(r);
	fake_guest_online(&h->vm, 1);
	r = client_recv(a, 5000);
	assert_int_equal(json_object_get_int(jget(r, "result.new")), 2);
	json_object_put(r);
	close(a);
	close(b);
}

static void test_shutdown_ends_waits(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	struct vm_event ev = { .kind = VM_EVENT_VM_SHUTDOWN };
	json_object *r;

	send_only(fd, 1, "cpu.add", "{}");
	assert_null(client_recv(fd, NO_REPLY_MS));
	api_server_notify(h->srv, &ev);
	r = client_recv(fd, 5000);
	assert_int_equal(resp_error(r), -32008);
	json_object_put(r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_no_wait, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_add_waits_for_online, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_add_ost_success_and_failure, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_add_timeout, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_remove_waits_for_eject, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_remove_timeout_cancels, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_remove_eject_races_timeout, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_remove_refused_by_guest, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_resize_up_and_down, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_resize_failure_reports_progress, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_resize_step_timeout, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_resize_refused_while_busy, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_ends_waits, harness_setup, harness_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
