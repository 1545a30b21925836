/*
 * Fds a REST client passes as SCM_RIGHTS are closed by the server unless
 * vm.add-net hands them on: with a request to any other endpoint (whose
 * reply is the same as without fds), with more fds than a device takes or
 * the server keeps, with a request that is malformed or never completes,
 * and when the client goes away mid-request. Each fd is the write end of a
 * pipe whose other copies the test closed: its read end sees EOF once the
 * server has closed its copy, and no EOF while the server holds it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include "rest_client.h"
#include "vmm/api/internal.h"

#define H(state) ((struct harness *)*(state))
#define REQUEST_TIMEOUT_MS 1000

static const char create_body[] = "{\"payload\":{\"kernel\":\"/k/Image\"}}";
static const char net_body[] = "{\"id\":\"net0\",\"mac\":\"02:00:ca:fe:00:01\"}";

static struct fake_vmm vmm;

static void before_loop(struct harness *h)
{
	fake_vmm_attach(h, &vmm);
	h->srv->http_timeout_ms = REQUEST_TIMEOUT_MS;
}

static int setup(void **state)
{
	harness_before_loop = before_loop;
	return harness_setup(state);
}

static int teardown(void **state)
{
	return fake_vmm_teardown(state, &vmm);
}

/* n pipes: wr[] to send, rd[] to watch. */
static void pipes(int *rd, int *wr, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int p[2];

		assert_int_equal(pipe(p), 0);
		rd[i] = p[0];
		wr[i] = p[1];
	}
}

static void close_all(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

/* The server closed its copy of every write end (and the test its own). */
static void all_eof(int *rd, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct pollfd pf = { rd[i], POLLIN, 0 };
		char c;

		assert_int_equal(poll(&pf, 1, 2000), 1);
		assert_int_equal(read(rd[i], &c, 1), 0);
		close(rd[i]);
	}
}

/* Someone (the VMM) still holds the write end. */
static bool held(int rd)
{
	struct pollfd pf = { rd, POLLIN, 0 };

	return poll(&pf, 1, 100) == 0;
}

static int request(char *buf, size_t len, const char *method, const char *path, const char *body)
{
	int n = snprintf(buf, len, "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n%s\r\n%s",
			 method, path, body ? strlen(body) : 0,
			 body ? "Content-Type: application/json\r\n" : "", body ? body : "");

	assert_true(n > 0 && (size_t)n < len);
	return n;
}

/* One request with nfds pipe ends: the reply, and every fd closed by the server. */
static int call_with_fds(int fd, const char *method, const char *path, const char *body,
			 unsigned nfds, struct http_reply *r)
{
	int rd[HTTP_SEND_MAX_FDS], wr[HTTP_SEND_MAX_FDS];
	char req[4096];
	int n = request(req, sizeof(req), method, path, body);

	pipes(rd, wr, nfds);
	assert_int_equal(http_send(fd, req, (size_t)n, wr, nfds), 0);
	close_all(wr, nfds);
	assert_int_equal(http_recv(fd, r, 2000), 0);
	all_eof(rd, nfds);
	return r->status;
}

/* The same reply with fds as without, and the fds closed: before and after vm.create. */
static void test_endpoints_that_take_no_fds(void **state)
{
	static const struct { const char *method, *path, *body; int status[2]; } reqs[] = {
		{ "GET", "/api/v1/vmm.ping", NULL, { 200, 200 } },
		{ "GET", "/api/v1/vm.info", NULL, { 409, 200 } },
		{ "PUT", "/api/v1/vm.boot", NULL, { 409, 0 } },
		{ "PUT", "/api/v1/vm.resize", "{\"desired_vcpus\":2}", { 409, 409 } },
		{ "PUT", "/api/v1/vm.add-disk", "{\"path\":\"/x\"}", { 400, 400 } },
		{ "PUT", "/api/v1/vm.remove-device", "{\"id\":\"net0\"}", { 404, 404 } },
		{ "GET", "/api/v1/vm.add-net", NULL, { 405, 405 } },
		{ "PUT", "/api/v1/vm.nothing", "{}", { 404, 404 } },
		{ "GET", "/elsewhere", NULL, { 404, 404 } },
		{ "PUT", "/api/v1/vm.create", "{\"cpus\":{}}", { 400, 409 } },
	};
	struct http_reply plain, with;
	int fd = client_connect(H(state)->path);

	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
			int want = reqs[i].status[round];

			if (!want)
				continue;
			assert_int_equal(http_call(fd, reqs[i].method, reqs[i].path, reqs[i].body, &plain), want);
			assert_int_equal(call_with_fds(fd, reqs[i].method, reqs[i].path, reqs[i].body,
						       1 + i % 3, &with), want);
			assert_string_equal(with.body, plain.body);
		}
		if (!round) {
			/* vm.create itself takes none either. */
			assert_int_equal(call_with_fds(fd, "PUT", "/api/v1/vm.create", create_body, 2,
						       &with), 204);
			assert_int_equal(vmm.creates, 1);
		}
	}
	assert_int_equal(vmm.conf.cfg.nr_net, 0);
	assert_int_equal(call_with_fds(fd, "PUT", "/api/v1/vm.boot", NULL, 3, &with), 204);
	assert_int_equal(vmm.boots, 1);
	/* vmm.shutdown answers, then the fds go with the request. */
	assert_int_equal(call_with_fds(fd, "PUT", "/api/v1/vmm.shutdown", NULL, 1, &with), 204);
	close(fd);
}

/* vm.add-net with 8 fds (a device has at most 7 queue pairs), or more than the server keeps. */
static void test_too_many_fds(void **state)
{
	struct http_reply r;
	int fd = client_connect(H(state)->path), rd[HTTP_SEND_MAX_FDS], wr[HTTP_SEND_MAX_FDS];
	char req[1024];
	int n, half;

	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.create", create_body, &r), 204);
	assert_int_equal(call_with_fds(fd, "PUT", "/api/v1/vm.add-net", net_body, VM_NET_MAX_PAIRS + 1,
				       &r), 400);
	assert_non_null(strstr(r.body, "pass 1 to 7 tap fds"));
	/* The kernel passes as many as the server has room for (8) and drops the rest. */
	assert_int_equal(call_with_fds(fd, "PUT", "/api/v1/vm.add-net", net_body, HTTP_SEND_MAX_FDS,
				       &r), 400);
	assert_non_null(strstr(r.body, "pass 1 to 7 tap fds"));

	/* One request in two messages of 6 fds each: the server keeps 8, closes 4 at once. */
	n = request(req, sizeof(req), "PUT", "/api/v1/vm.add-net", net_body);
	half = n / 2;
	pipes(rd, wr, 12);
	assert_int_equal(http_send(fd, req, (size_t)half, wr, 6), 0);
	assert_int_equal(http_send(fd, req + half, (size_t)(n - half), wr + 6, 6), 0);
	close_all(wr, 12);
	assert_int_equal(http_recv(fd, &r, 2000), 0);
	assert_int_equal(r.status, 400);
	all_eof(rd, 12);

	/* The connection goes on: one fd is a device, and the fd stays with it. */
	n = request(req, sizeof(req), "PUT", "/api/v1/vm.add-net", net_body);
	pipes(rd, wr, 1);
	assert_int_equal(http_send(fd, req, (size_t)n, wr, 1), 0);
	close(wr[0]);
	assert_int_equal(http_recv(fd, &r, 2000), 0);
	assert_int_equal(r.status, 204);
	assert_int_equal(vmm.conf.cfg.nr_net, 1);
	assert_true(held(rd[0]));
	close(vmm.conf.cfg.net[0].fds[0]);
	all_eof(rd, 1);
	close(fd);
}

/* The same id twice: two devices, each holding its own fd. */
static void test_add_net_same_id_twice(void **state)
{
	struct http_reply r;
	int fd = client_connect(H(state)->path), rd[2], wr[2];
	char req[1024];
	int n = request(req, sizeof(req), "PUT", "/api/v1/vm.add-net", net_body);

	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.create", create_body, &r), 204);
	pipes(rd, wr, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(http_send(fd, req, (size_t)n, &wr[i], 1), 0);
		close(wr[i]);
		assert_int_equal(http_recv(fd, &r, 2000), 0);
		assert_int_equal(r.status, 204);
	}
	assert_int_equal(vmm.conf.cfg.nr_net, 2);
	assert_int_not_equal(vmm.conf.cfg.net[0].fds[0], vmm.conf.cfg.net[1].fds[0]);
	assert_true(held(rd[0]));
	assert_true(held(rd[1]));
	close(vmm.conf.cfg.net[0].fds[0]);
	close(vmm.conf.cfg.net[1].fds[0]);
	all_eof(rd, 2);
	close(fd);
}

/* A request that never completes: the client leaves, half-closes, or times out. */
static void test_request_never_completes(void **state)
{
	const char *path = H(state)->path;
	struct http_reply r;
	char req[1024];
	int n = request(req, sizeof(req), "PUT", "/api/v1/vm.add-net", net_body), rd[3], wr[3];
	int a = client_connect(path), b = client_connect(path), c = client_connect(path);

	assert_int_equal(http_call(a, "PUT", "/api/v1/vm.create", create_body, &r), 204);
	pipes(rd, wr, 3);
	/* The head and part of the body, with the fd. */
	assert_int_equal(http_send(a, req, (size_t)n - 5, &wr[0], 1), 0);
	assert_int_equal(http_send(b, req, 20, &wr[1], 1), 0);
	assert_int_equal(http_send(c, req, (size_t)n - 1, &wr[2], 1), 0);
	close_all(wr, 3);
	assert_true(held(rd[0]) && held(rd[1]) && held(rd[2]));

	close(a);				/* gone */
	all_eof(rd, 1);
	assert_int_equal(shutdown(b, SHUT_WR), 0);	/* done sending */
	assert_true(client_eof(b, 2000));
	all_eof(rd + 1, 1);
	assert_int_equal(http_recv(c, &r, 4 * REQUEST_TIMEOUT_MS), 0);	/* too slow */
	assert_int_equal(r.status, 408);
	assert_true(client_eof(c, 2000));
	all_eof(rd + 2, 1);
	assert_int_equal(vmm.conf.cfg.nr_net, 0);
	close(b);
	close(c);
}

/* Malformed and oversized requests end the connection and close their fds. */
static void test_refused_requests(void **state)
{
	static const char bad_line[] = "PUT /api/v1/vm.add-net HTTP/1.1 trailing\r\n\r\n";
	static const char huge[] = "PUT /api/v1/vm.add-net HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n{";
	const char *const reqs[] = { bad_line, huge };
	const int status[] = { 400, 413 };

	for (int i = 0; i < 2; i++) {
		struct http_reply r;
		int fd = client_connect(H(state)->path), rd[2], wr[2];

		pipes(rd, wr, 2);
		assert_int_equal(http_send(fd, reqs[i], strlen(reqs[i]), wr, 2), 0);
		close_all(wr, 2);
		assert_int_equal(http_recv(fd, &r, 2000), 0);
		assert_int_equal(r.status, status[i]);
		assert_true(client_eof(fd, 2000));
		all_eof(rd, 2);
		close(fd);
	}
}

/* The JSON-RPC dialect takes no fds: the kernel drops them with the bytes they came with. */
static void test_json_rpc_takes_no_fds(void **state)
{
	static const char line[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.info\"}\n";
	int fd = client_connect(H(state)->path), rd[2], wr[2];
	json_object *o;

	pipes(rd, wr, 2);
	assert_int_equal(http_send(fd, line, sizeof(line) - 1, wr, 2), 0);
	close_all(wr, 2);
	o = client_recv(fd, 2000);
	assert_non_null(o);
	assert_non_null(resp_result(o));
	json_object_put(o);
	all_eof(rd, 2);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_endpoints_that_take_no_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_net_same_id_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_never_completes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_rpc_takes_no_fds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
