/* JSON-RPC framing and errors, the immediate methods, the socket itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include "harness.h"

#define H(state) ((struct harness *)*(state))

/* Sends request, expects an error with code and the given id (JSON text). */
static void expect_error(int fd, const char *request, int code, const char *id_json)
{
	json_object *r = client_call(fd, request);
	json_object *id = NULL;

	assert_non_null(r);
	if (resp_error(r) != code)
		fail_msg("%s -> %s (want %d)", request, json_object_to_json_string(r), code);
	assert_non_null(jget(r, "error.message"));
	assert_true(json_object_object_get_ex(r, "id", &id));
	assert_string_equal(json_object_to_json_string(id), id_json);
	json_object_put(r);
}

static void test_vm_info(void **state)
{
	int fd = client_connect(H(state)->path);
	json_object *r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.info\"}");
	json_object *res = resp_result(r);

	assert_non_null(res);
	assert_int_equal(json_object_get_int(jget(r, "id")), 1);
	assert_string_equal(json_object_get_string(jget(res, "state")), "running");
	assert_int_equal(json_object_get_int(jget(res, "max_cpus")), 4);
	assert_int_equal(json_object_get_int(jget(res, "boot_cpus")), 1);
	assert_int_equal(json_object_get_int(jget(res, "enabled_cpus")), 1);
	assert_int_equal(json_object_get_int(jget(res, "online_cpus")), 1);
	assert_int_equal(json_object_get_int64(jget(res, "memory_bytes")), 1 << 30);
	assert_int_equal(json_object_get_int64(jget(res, "uptime_ms")), 1234);
	assert_string_equal(json_object_get_string(jget(res, "boot_mode")), "acpi");
	assert_true(json_object_get_boolean(jget(res, "hotplug")));
	json_object_put(r);
	close(fd);
}

static void test_cpu_list(void **state)
{
	int fd = client_connect(H(state)->path);
	json_object *r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"cpu.list\",\"params\":{}}");
	json_object *arr = resp_result(r), *c;

	assert_non_null(arr);
	assert_int_equal(json_object_array_length(arr), 4);
	c = json_object_array_get_idx(arr, 0);
	assert_int_equal(json_object_get_int(jget(c, "id")), 0);
	assert_int_equal(json_object_get_int64(jget(c, "mpidr")), 0x80000000);
	assert_true(json_object_get_boolean(jget(c, "enabled")));
	assert_true(json_object_get_boolean(jget(c, "online")));
	assert_string_equal(json_object_get_string(jget(c, "pending")), "none");
	c = json_object_array_get_idx(arr, 3);
	assert_int_equal(json_object_get_int(jget(c, "id")), 3);
	assert_false(json_object_get_boolean(jget(c, "enabled")));
	json_object_put(r);
	close(fd);
}

static void test_pause_resume_shutdown(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.pause\"}");
	assert_non_null(resp_result(r));
	assert_int_equal(json_object_object_length(resp_result(r)), 0);
	json_object_put(r);
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"vm.pause\"}", -32008, "2");
	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"vm.resume\"}");
	assert_non_null(resp_result(r));
	json_object_put(r);
	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"vm.shutdown\"}");
	assert_non_null(resp_result(r));
	json_object_put(r);
	assert_int_equal(fake_get(&h->vm, &h->vm.pauses), 2);
	assert_int_equal(fake_get(&h->vm, &h->vm.resumes), 1);
	assert_int_equal(fake_get(&h->vm, &h->vm.shutdowns), 1);
	close(fd);
}

static void test_protocol_errors(void **state)
{
	int fd = client_connect(H(state)->path);

	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,", -32700, "null");
	expect_error(fd, "{\"jsonrpc\":\"2.0\"} trailing", -32700, "null");
	expect_error(fd, "{'single': 'quotes'}", -32700, "null");
	expect_error(fd, "42", -32600, "null");
	expect_error(fd, "\"vm.info\"", -32600, "null");
	expect_error(fd, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.info\"}]", -32600, "null");
	expect_error(fd, "{\"id\":5,\"method\":\"vm.info\"}", -32600, "5");
	expect_error(fd, "{\"jsonrpc\":\"1.0\",\"id\":6,\"method\":\"vm.info\"}", -32600, "6");
	expect_error(fd, "{\"jsonrpc\":2.0,\"id\":7,\"method\":\"vm.info\"}", -32600, "7");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":8}", -32600, "8");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":42}", -32600, "9");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"vm.info\"}", -32600, "null");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"vm.info\"}", -32600, "null");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"vm.info\"}", -32600, "null");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"vm.info\"}", -32600, "null");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"vm.nope\"}", -32601, "10");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"rpc.discover\"}", -32601, "\"s\"");
	close(fd);
}

static void test_ids_echoed(void **state)
{
	int fd = client_connect(H(state)->path);
	json_object *r;

	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"vm.info\"}");
	assert_string_equal(json_object_get_string(jget(r, "id")), "abc");
	json_object_put(r);
	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"vm.info\"}");
	assert_non_null(resp_result(r));
	json_object_put(r);
	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,\"method\":\"vm.info\"}");
	assert_int_equal(json_object_get_int64(jget(r, "id")), 9007199254740993LL);
	json_object_put(r);
	close(fd);
}

static void test_notifications_get_no_reply(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;

	/* Executed but unanswered; unknown ones are ignored. */
	assert_int_equal(client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"vm.pause\"}"), 0);
	assert_int_equal(client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"vm.nope\"}"), 0);
	assert_int_equal(client_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"cpu.add\",\"params\":{\"id\":\"x\"}}"), 0);
	assert_int_equal(client_send(fd, ""), 0);	/* blank line: ignored */
	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"vm.info\"}");
	assert_int_equal(json_object_get_int(jget(r, "id")), 77);
	assert_string_equal(json_object_get_string(jget(r, "result.state")), "paused");
	json_object_put(r);
	assert_int_equal(fake_get(&h->vm, &h->vm.adds), 0);
	close(fd);
}

static void test_invalid_params(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	static const char *const bad[] = {
		"\"cpu.add\",\"params\":{\"id\":\"1\"}",
		"\"cpu.add\",\"params\":{\"id\":-1}",
		"\"cpu.add\",\"params\":{\"id\":1.0}",
		"\"cpu.add\",\"params\":{\"id\":2147483648}",
		"\"cpu.add\",\"params\":{\"id\":99999999999999999999999}",
		"\"cpu.add\",\"params\":{\"id\":null}",
		"\"cpu.add\",\"params\":{\"wait\":1}",
		"\"cpu.add\",\"params\":{\"timeout_ms\":0}",
		"\"cpu.add\",\"params\":{\"timeout_ms\":-5}",
		"\"cpu.add\",\"params\":{\"timeout_ms\":\"10\"}",
		"\"cpu.add\",\"params\":{\"timeout\":10}",
		"\"cpu.add\",\"params\":[1]",
		"\"cpu.add\",\"params\":7",
		"\"cpu.remove\",\"params\":{}",
		"\"cpu.remove\"",
		"\"cpu.remove\",\"params\":{\"id\":-3}",
		"\"cpu.resize\",\"params\":{}",
		"\"cpu.resize\",\"params\":{\"count\":0}",
		"\"cpu.resize\",\"params\":{\"count\":5}",
		"\"cpu.resize\",\"params\":{\"count\":true}",
		"\"vm.info\",\"params\":{\"verbose\":true}",
		"\"vm.pause\",\"params\":[]",
		"\"events.subscribe\",\"params\":{\"x\":1}",
	};
	char req[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":%s}", i, bad[i]);
		char id[16];
		snprintf(id, sizeof(id), "%zu", i);
		expect_error(fd, req, -32602, id);
	}
	/* Bad input never reached the VM. */
	assert_int_equal(fake_get(&h->vm, &h->vm.adds), 0);
	assert_int_equal(fake_get(&h->vm, &h->vm.removes), 0);
	assert_int_equal(fake_get(&h->vm, &h->vm.pauses), 0);
	close(fd);
}

static void test_vm_error_mapping(void **state)
{
	struct harness *h = H(state);
	int fd = client_connect(h->path);
	json_object *r;
	char req[128];
	int e;

	for (e = VM_ERR_NO_SUCH_CPU; e <= VM_ERR_TIMEOUT; e++) {
		pthread_mutex_lock(&h->vm.lock);
		h->vm.force_err = e;
		pthread_mutex_unlock(&h->vm.lock);
		snprintf(req, sizeof(req),
			 "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"cpu.add\",\"params\":{\"wait\":false}}", e);
		r = client_call(fd, req);
		assert_int_equal(resp_error(r), -32000 - VM_ERR_INDEX(e));
		assert_true(strlen(json_object_get_string(jget(r, "error.message"))) > 5);
		json_object_put(r);
	}
	/* A plain errno from the VM is an internal error. */
	pthread_mutex_lock(&h->vm.lock);
	h->vm.force_err = 12;	/* ENOMEM */
	pthread_mutex_unlock(&h->vm.lock);
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.pause\"}", -32603, "1");
	/* The real checks of the fake, as the VM does them. */
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cpu.add\",\"params\":{\"id\":9}}", -32001, "1");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"cpu.remove\",\"params\":{\"id\":0}}", -32002, "2");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"cpu.add\",\"params\":{\"id\":0}}", -32003, "3");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"cpu.remove\",\"params\":{\"id\":2}}", -32004, "4");
	expect_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"vm.resume\"}", -32008, "5");
	close(fd);
}

static void test_oversized_request(void **state)
{
	struct harness *h = H(state);
	size_t n = API_MAX_REQUEST_BYTES + 100;
	char *big = malloc(n + 1);
	json_object *r;
	int fd;

	/* A line of exactly the limit is still parsed (and is a parse error). */
	memset(big, ' ', n);
	big[API_MAX_REQUEST_BYTES - 1] = 'x';
	big[API_MAX_REQUEST_BYTES] = 0;
	fd = client_connect(h->path);
	r = client_call(fd, big);
	assert_int_equal(resp_error(r), -32700);
	json_object_put(r);
	close(fd);

	/* Over the limit, no newline at all: refused, then closed. */
	memset(big, 'x', n);
	big[n] = 0;
	fd = client_connect(h->path);
	assert_int_equal(write(fd, big, n), (ssize_t)n);
	r = client_recv(fd, 5000);
	assert_int_equal(resp_error(r), -32600);
	assert_true(json_object_is_type(jget(r, "id"), json_type_null));
	json_object_put(r);
	assert_true(client_eof(fd, 5000));
	close(fd);

	/* Over the limit with a newline: same (one write: the server may hang
	 * up before a second one). */
	big[n - 1] = '\n';
	fd = client_connect(h->path);
	assert_int_equal(write(fd, big, n), (ssize_t)n);
	r = client_recv(fd, 5000);
	assert_int_equal(resp_error(r), -32600);
	json_object_put(r);
	assert_true(client_eof(fd, 5000));
	close(fd);
	free(big);

	/* The server still serves others. */
	fd = client_connect(h->path);
	r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.info\"}");
	assert_non_null(resp_result(r));
	json_object_put(r);
	close(fd);
}

static void test_several_requests_one_write(void **state)
{
	int fd = client_connect(H(state)->path);
	json_object *r;
	int i;

	assert_int_equal(client_send(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.info\"}\r\n"
				     "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"cpu.list\"}\n"
				     "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"vm.info\"}"), 0);
	for (i = 1; i <= 3; i++) {
		r = client_recv(fd, 5000);
		assert_int_equal(json_object_get_int(jget(r, "id")), i);
		assert_non_null(resp_result(r));
		json_object_put(r);
	}
	close(fd);
}

static void test_socket_file(void **state)
{
	struct harness *h = H(state);
	struct event_base *base = event_base_new();	/* h->base belongs to its loop thread */
	struct api_server *other;
	struct stat st;
	char err[256], path[192];
	FILE *f;

	assert_int_equal(stat(h->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A live server's socket is not taken over. */
	assert_int_equal(api_server_start(&other, base, h->path, &fake_vm_ops, &h->vm,
					  err, sizeof(err)), -EADDRINUSE);
	assert_true(strlen(err) > 0);
	/* A regular file is never replaced. */
	snprintf(path, sizeof(path), "%s/file", h->dir);
	f = fopen(path, "w");
	fclose(f);
	assert_int_equal(api_server_start(&other, base, path, &fake_vm_ops, &h->vm,
					  err, sizeof(err)), -EEXIST);
	unlink(path);
	event_base_free(base);
}

static void test_stale_socket_replaced(void **state)
{
	struct harness *h = H(state);
	struct event_base *base = event_base_new();
	struct api_server *a, *b;
	char err[256], path[192];

	snprintf(path, sizeof(path), "%s/stale.sock", h->dir);
	assert_int_equal(api_server_start(&a, base, path, &fake_vm_ops, &h->vm, err, sizeof(err)), 0);
	assert_int_equal(api_server_start(&b, base, path, &fake_vm_ops, &h->vm, err, sizeof(err)),
			 -EADDRINUSE);
	/* Simulate a crashed VMM: the socket file stays, nobody listens. */
	api_server_stop(a);
	assert_int_equal(access(path, F_OK), -1);
	{
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un addr = { .sun_family = AF_UNIX };

		memcpy(addr.sun_path, path, strlen(path) + 1);
		assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
		close(fd);
	}
	assert_int_equal(api_server_start(&b, base, path, &fake_vm_ops, &h->vm, err, sizeof(err)), 0);
	api_server_stop(b);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vm_info, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_cpu_list, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume_shutdown, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_protocol_errors, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_ids_echoed, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_notifications_get_no_reply, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_params, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_vm_error_mapping, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_oversized_request, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_several_requests_one_write, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket_replaced, harness_setup, harness_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
