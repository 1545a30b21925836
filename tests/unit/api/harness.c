#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/thread.h>
#include "harness.h"

void (*harness_before_loop)(struct harness *h);

static void *loop_main(void *arg)
{
	struct harness *h = arg;

	event_base_loop(h->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int harness_setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	json_object *r;
	char err[256];
	int fd;

	if (!h)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() < 0)
		return -1;
	strcpy(h->dir, "/tmp/vmm-api-test-XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	snprintf(h->path, sizeof(h->path), "%s/api.sock", h->dir);
	fake_vm_init(&h->vm, 4, 1);
	h->base = event_base_new();
	if (!h->base)
		return -1;
	if (api_server_start(&h->srv, h->base, h->path, &fake_vm_ops, &h->vm, err, sizeof(err))) {
		fprintf(stderr, "api_server_start: %s\n", err);
		return -1;
	}
	h->vm.srv = h->srv;
	if (harness_before_loop)
		harness_before_loop(h);
	if (pthread_create(&h->loop, NULL, loop_main, h))
		return -1;
	/* event_base_loop() clears a loopbreak that comes before it runs:
	 * one round trip proves the loop is up. */
	fd = client_connect(h->path);
	r = fd >= 0 ? client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"cpu.list\"}") : NULL;
	if (fd >= 0)
		close(fd);
	if (!r)
		return -1;
	json_object_put(r);
	h->vm.lists = 0;
	*state = h;
	return 0;
}

void harness_stop_loop(struct harness *h)
{
	fake_vm_fini(&h->vm);
	event_base_loopbreak(h->base);
	pthread_join(h->loop, NULL);
}

int harness_free(struct harness *h)
{
	api_server_stop(h->srv);
	event_base_free(h->base);
	rmdir(h->dir);
	free(h);
	return 0;
}

int harness_teardown(void **state)
{
	struct harness *h = *state;

	harness_stop_loop(h);
	return harness_free(h);
}

void await_count(struct fake_vm *vm, const int *field, int value)
{
	int i;

	for (i = 0; i < 500 && fake_get(vm, field) < value; i++)
		usleep(10 * 1000);
}

int client_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

int client_send(int fd, const char *line)
{
	size_t len = strlen(line), off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, line + off, len - off);
		if (n < 0)
			return -errno;
		off += n;
	}
	return write(fd, "\n", 1) == 1 ? 0 : -errno;
}

static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

json_object *client_recv(int fd, int timeout_ms)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	json_object *obj = NULL;
	char c;

	for (;;) {
		if (!wait_readable(fd, timeout_ms) || read(fd, &c, 1) != 1)
			break;
		if (c == '\n' && len == 0)
			continue;
		if (c == '\n') {
			buf[len] = 0;
			obj = json_tokener_parse(buf);
			break;
		}
		if (len + 2 > cap) {
			cap = cap ? 2 * cap : 256;
			buf = realloc(buf, cap);
		}
		buf[len++] = c;
	}
	free(buf);
	return obj;
}

int client_eof(int fd, int timeout_ms)
{
	char c;

	/* Linux reports ECONNRESET when the server closed with our data unread. */
	return wait_readable(fd, timeout_ms) && (read(fd, &c, 1) == 0 || errno == ECONNRESET);
}

json_object *client_call(int fd, const char *request)
{
	if (client_send(fd, request) < 0)
		return NULL;
	return client_recv(fd, 5000);
}

json_object *jget(json_object *obj, const char *path)
{
	char key[64];
	size_t n;

	while (obj && *path) {
		n = strcspn(path, ".");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = 0;
		if (!json_object_object_get_ex(obj, key, &obj))
			return NULL;
		path += n + (path[n] == '.');
	}
	return obj;
}

int resp_error(json_object *resp)
{
	json_object *code = jget(resp, "error.code");

	return code ? json_object_get_int(code) : 0;
}

json_object *resp_result(json_object *resp)
{
	return jget(resp, "result");
}
