/*
 * What a client is told at the limits: the client past API_MAX_CLIENTS gets
 * a JSON-RPC error before the close, and the VM's log says so; a bad socket
 * path is refused up front.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"
#include "vmm/api/internal.h"

static void test_client_past_the_limit_is_told(void **state)
{
	struct harness *h = *state;
	int fds[API_MAX_CLIENTS], extra;
	json_object *r;

	for (int i = 0; i < API_MAX_CLIENTS; i++) {
		fds[i] = client_connect(h->path);
		assert_true(fds[i] >= 0);
		/* A round trip: this client is accepted and counted. */
		r = client_call(fds[i], "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.info\"}");
		assert_non_null(r);
		json_object_put(r);
	}
	extra = client_connect(h->path);
	assert_true(extra >= 0);
	r = client_recv(extra, 5000);
	assert_non_null(r);
	assert_int_equal(resp_error(r), API_ERR_TOO_MANY_CLIENTS);
	assert_non_null(strstr(json_object_get_string(jget(r, "error.message")), "too many clients"));
	assert_true(json_object_is_type(jget(r, "id"), json_type_null));
	json_object_put(r);
	assert_true(client_eof(extra, 5000));
	close(extra);
	/* Said in the VM's log (never straight to a stderr that may be full). */
	pthread_mutex_lock(&h->vm.lock);
	assert_non_null(strstr(h->vm.last_log, "client refused"));
	pthread_mutex_unlock(&h->vm.lock);

	/* Once one leaves, a newcomer is served again. */
	close(fds[0]);
	for (int tries = 0; tries < 100; tries++) {
		extra = client_connect(h->path);
		assert_true(extra >= 0);
		r = client_call(extra, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"vm.info\"}");
		close(extra);
		if (r && resp_error(r) == 0)
			break;
		json_object_put(r);
		r = NULL;
		usleep(10 * 1000);	/* the server has not seen the close yet */
	}
	assert_non_null(r);
	assert_non_null(resp_result(r));
	json_object_put(r);
	for (int i = 1; i < API_MAX_CLIENTS; i++)
		close(fds[i]);
}

static void test_socket_path_checked(void **state)
{
	char dir[] = "/tmp/vmm-api-path-XXXXXX", path[512], err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ok.sock", dir);
	assert_int_equal(api_socket_check(path, err, sizeof(err)), 0);

	snprintf(path, sizeof(path), "%s/missing/api.sock", dir);
	assert_int_equal(api_socket_check(path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing"));

	memset(path, 'a', 200);
	path[0] = '/';
	path[200] = 0;
	assert_int_equal(api_socket_check(path, err, sizeof(err)), -ENAMETOOLONG);
	assert_non_null(strstr(err, "too long"));
	assert_non_null(strstr(err, "(200 bytes; a unix socket path holds 1 to 107)"));
	assert_int_equal(api_socket_check("", err, sizeof(err)), -ENAMETOOLONG);

	snprintf(path, sizeof(path), "%s/file", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(api_socket_check(path, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "not a socket"));
	/* A regular file as the directory. */
	snprintf(path, sizeof(path), "%s/file/api.sock", dir);
	assert_int_equal(api_socket_check(path, err, sizeof(err)), -ENOTDIR);
	snprintf(path, sizeof(path), "%s/file", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client_past_the_limit_is_told, harness_setup, harness_teardown),
		cmocka_unit_test(test_socket_path_checked),
	};
	return cmocka_run_group_tests_name("api_limits", tests, NULL, NULL);
}
