/*
 * JSON-RPC through the real server and dispatcher with a fake VM: the input
 * is what one client writes on its connection (newline-terminated). Every
 * line that comes back must be a JSON-RPC 2.0 object; the server is torn
 * down after each input, so leaks of calls, waits or connections show up.
 * For inputs of odd length the fake guest completes every add and remove
 * from its own threads, so waits and resize steps finish too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <json-c/json.h>

#include "fake_vm.h"
#include "vmm/api_internal.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant: %s\n", #c); __builtin_trap(); } } while (0)

static const char *socket_path(void)
{
	static char path[128];

	if (!path[0]) {
		char dir[] = "/tmp/vmm-fuzz-rpc-XXXXXX";
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/api.sock", dir);
	}
	return path;
}

static void check_reply(const char *line, size_t len)
{
	json_object *obj = json_tokener_parse(line), *v;

	CHECK(len > 0 && obj && json_object_is_type(obj, json_type_object));
	CHECK(json_object_object_get_ex(obj, "jsonrpc", &v) && !strcmp(json_object_get_string(v), "2.0"));
	json_object_put(obj);
}

static void check_output(int fd)
{
	static char buf[API_MAX_OUTPUT_BYTES + 1];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = 0;
		check_reply(line, (size_t)(nl - line));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool threads_ready;
	struct api_server *srv;
	struct fake_vm vm;
	char err[256];
	int sv[2];

	if (!threads_ready && evthread_use_pthreads() < 0)
		abort();
	threads_ready = true;
	struct event_base *base = event_base_new();
	bool auto_guest = size & 1;

	if (size > API_MAX_REQUEST_BYTES)
		size = API_MAX_REQUEST_BYTES;
	if (!base || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	fake_vm_init(&vm, 4, 1);
	vm.guest = auto_guest ? FAKE_GUEST_AUTO : FAKE_GUEST_MANUAL;
	if (api_server_start(&srv, base, socket_path(), &fake_vm_ops, &vm, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	vm.srv = srv;
	if (api_conn_accept(srv, sv[0]))
		abort();
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if ((size && write(sv[1], data, size) != (ssize_t)size) || write(sv[1], "\n", 1) != 1)
		abort();
	shutdown(sv[1], SHUT_WR);	/* the client is done: the server answers, then closes */
	for (int i = 0; i < 8; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	/* No more guest threads; the ones that ran have reported: deliver that. */
	pthread_mutex_lock(&vm.lock);
	vm.guest = FAKE_GUEST_MANUAL;
	pthread_mutex_unlock(&vm.lock);
	fake_vm_fini(&vm);
	for (int i = 0; auto_guest && i < 8; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	check_output(sv[1]);

	api_server_stop(srv);
	event_base_free(base);
	close(sv[1]);
	return 0;
}
