/*
 * The REST dialect on the API socket, as Kata's clh driver uses it: the
 * exact request sequence, keep-alive and pipelining, a tap fd passed with
 * vm.add-net, malformed and oversized requests (a 4xx, the VM untouched),
 * and vm.resize converging in the background.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include "rest_client.h"
#include "vmm/api/internal.h"

#define H(state) ((struct harness *)*(state))

/* The body Kata's driver sends (README, dry run: initrd, no fs, no debug). */
static const char kata_create[] =
	"{\"console\":{\"iommu\":false,\"mode\":\"Off\"},"
	"\"cpus\":{\"boot_vcpus\":1,\"kvm_hyperv\":false,\"max_vcpus\":4,"
	"\"topology\":{\"cores_per_die\":4,\"dies_per_package\":1,\"packages\":1,\"threads_per_core\":1}},"
	"\"iommu\":false,\"landlock_enable\":false,"
	"\"memory\":{\"hotplug_method\":\"Acpi\",\"hotplug_size\":536870912,\"hugepages\":false,"
	"\"mergeable\":false,\"prefault\":false,\"shared\":false,\"size\":536870912,\"thp\":true},"
	"\"payload\":{\"cmdline\":\"root=/dev/pmem0p1 rootflags=dax,data=ordered,errors=remount-ro ro "
	"rootfstype=ext4 panic=1 no_timer_check noreplace-smp quiet\","
	"\"initramfs\":\"/k/initrd\",\"kernel\":\"/k/Image\"},"
	"\"platform\":{\"num_pci_segments\":2,\"sev_snp\":false,\"tdx\":false},"
	"\"pvpanic\":false,\"rng\":{\"iommu\":false,\"src\":\"/dev/urandom\"},"
	"\"serial\":{\"iommu\":false,\"mode\":\"Off\"},"
	"\"vsock\":{\"cid\":3,\"iommu\":false,\"socket\":\"/w/vm/kata-compat/clh.sock\"},"
	"\"watchdog\":false}\n";

static struct fake_vmm vmm;

#define REQUEST_TIMEOUT_MS 1000
static int next_remove_ms;	/* for the next setup's target (0: default) */

/* Before the loop thread runs: no race with it. */
static void before_loop(struct harness *h)
{
	fake_vmm_attach(h, &vmm);
	vmm.remove_ms = next_remove_ms;
	vmm.ack_ms = next_remove_ms;
	h->srv->http_timeout_ms = REQUEST_TIMEOUT_MS;
}

static int setup(void **state)
{
	harness_before_loop = before_loop;
	next_remove_ms = 0;
	return harness_setup(state);
}

/* The target gives up on an eject, and reports an event not taken, after 200 ms. */
static int setup_short_remove(void **state)
{
	harness_before_loop = before_loop;
	next_remove_ms = 200;
	return harness_setup(state);
}

static int teardown(void **state)
{
	return fake_vmm_teardown(state, &vmm);
}

static json_object *body_json(const struct http_reply *r)
{
	json_object *o = json_tokener_parse(r->body);

	assert_non_null(o);
	return o;
}

static int64_t info_int(int fd, const char *path)
{
	struct http_reply r;
	json_object *o;
	int64_t v;

	assert_int_equal(http_call(fd, "GET", "/api/v1/vm.info", NULL, &r), 200);
	o = body_json(&r);
	assert_non_null(jget(o, path));
	v = json_object_get_int64(jget(o, path));
	json_object_put(o);
	return v;
}

static const char *info_str(int fd, const char *path, char *buf, size_t len)
{
	struct http_reply r;
	json_object *o;

	assert_int_equal(http_call(fd, "GET", "/api/v1/vm.info", NULL, &r), 200);
	o = body_json(&r);
	snprintf(buf, len, "%s", jget(o, path) ? json_object_get_string(jget(o, path)) : "(none)");
	json_object_put(o);
	return buf;
}

/* Poll vm.info until config.cpus.boot_vcpus == n (what Kata reads as "current"). */
static void await_vcpus(int fd, int n)
{
	for (int i = 0; i < 500; i++) {
		if (info_int(fd, "config.cpus.boot_vcpus") == n)
			return;
		usleep(10000);
	}
	fail_msg("boot_vcpus never reached %d", n);
}

static void guest_auto(struct harness *h, int delay_ms)
{
	pthread_mutex_lock(&h->vm.lock);
	h->vm.guest = FAKE_GUEST_AUTO;
	h->vm.delay_ms = delay_ms;
	pthread_mutex_unlock(&h->vm.lock);
}

static void create_and_boot(int fd)
{
	struct http_reply r;

	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.create", kata_create, &r), 204);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.boot", NULL, &r), 204);
}

static void test_ping_is_json(void **state)
{
	struct http_reply r;
	int fd = client_connect(H(state)->path);
	json_object *o;

	assert_int_equal(http_call(fd, "GET", "/api/v1/vmm.ping", NULL, &r), 200);
	assert_non_null(strstr(r.head, "Content-Type: application/json\r\n"));
	o = body_json(&r);
	assert_int_equal(json_object_get_int(jget(o, "pid")), getpid());
	assert_non_null(jget(o, "version"));
	assert_non_null(jget(o, "build_version"));
	json_object_put(o);
	close(fd);
}

/* Kata's StartVM, ResizeVCPUs(3, 1, 4) and StopVM, on one kept-alive connection. */
static void test_kata_sequence(void **state)
{
	struct harness *h = H(state);
	struct http_reply r;
	char s[64];
	int fd = client_connect(h->path);

	guest_auto(h, 5);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.create", kata_create, &r), 204);
	assert_string_equal(info_str(fd, "state", s, sizeof(s)), "Created");
	assert_int_equal(info_int(fd, "config.cpus.boot_vcpus"), 1);
	assert_int_equal(info_int(fd, "config.cpus.max_vcpus"), 4);
	assert_int_equal(info_int(fd, "config.memory.size"), 536870912);
	assert_int_equal(info_int(fd, "memory_actual_size"), 536870912);
	/* No hotplug_size: Kata's ResizeMemory is then a no-op, not a failure. */
	assert_string_equal(info_str(fd, "config.memory.hotplug_size", s, sizeof(s)), "(none)");
	assert_string_equal(info_str(fd, "config.payload.kernel", s, sizeof(s)), "/k/Image");
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.boot", NULL, &r), 204);
	assert_string_equal(info_str(fd, "state", s, sizeof(s)), "Running");

	static const int counts[] = { 3, 1, 4 };
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		char body[64];
		struct timespec t0, t1;

		snprintf(body, sizeof(body), "{\"desired_vcpus\":%d}\n", counts[i]);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.resize", body, &r), 204);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* The reply does not wait for the guest. */
		assert_true(t1.tv_sec - t0.tv_sec < 1);
		await_vcpus(fd, counts[i]);
	}
	/* The last CPU's insert is acknowledged by the guest soon after. */
	for (int i = 0; i < 300 && strcmp(info_str(fd, "vcpus_resize.state", s, sizeof(s)), "idle"); i++)
		usleep(10000);
	assert_string_equal(s, "idle");
	assert_int_equal(fake_get(&h->vm, &h->vm.adds), 2 + 3);
	assert_int_equal(fake_get(&h->vm, &h->vm.removes), 2);

	assert_int_equal(http_call(fd, "GET", "/api/v1/vmm.ping", NULL, &r), 200);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vmm.shutdown", NULL, &r), 204);
	assert_non_null(strstr(r.head, "Connection: close"));
	assert_true(client_eof(fd, 2000));
	assert_true(__atomic_load_n(&vmm.shut_down, __ATOMIC_SEQ_CST));
	close(fd);
}

/* A new target replaces an unfinished one; no 429. */
static void test_resize_retarget_midway(void **state)
{
	struct harness *h = H(state);
	struct http_reply r;
	int fd = client_connect(h->path);

	guest_auto(h, 100);
	create_and_boot(fd);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.resize", "{\"desired_vcpus\":4}", &r), 204);
	await_count(&h->vm, &h->vm.adds, 1);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.resize", "{\"desired_vcpus\":2}", &r), 204);
	assert_int_equal(info_int(fd, "vcpus_resize.desired_vcpus"), 2);
	await_vcpus(fd, 2);
	usleep(300 * 1000);
	assert_int_equal(info_int(fd, "config.cpus.boot_vcpus"), 2);
	assert_true(fake_get(&h->vm, &h->vm.adds) <= 2);
	close(fd);
}

/* The guest never ejects: the remove is cancelled, the CPU stays, the reason shows. */
static void test_resize_guest_refuses(void **state)
{
	struct harness *h = H(state);
	struct http_reply r;
	char s[256];
	int fd = client_connect(h->path);

	guest_auto(h, 5);
	create_and_boot(fd);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.resize", "{\"desired_vcpus\":2}", &r), 204);
	await_vcpus(fd, 2);
	pthread_mutex_lock(&h->vm.lock);
	h->vm.guest = FAKE_GUEST_MANUAL;
	pthread_mutex_unlock(&h->vm.lock);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.resize", "{\"desired_vcpus\":1}", &r), 204);
	for (int i = 0; i < 300 && strcmp(info_str(fd, "vcpus_resize.state", s, sizeof(s)), "stalled"); i++)
		usleep(10000);
	assert_string_equal(s, "stalled");
	assert_non_null(strstr(info_str(fd, "vcpus_resize.reason", s, sizeof(s)), "vcpu1"));
	assert_int_equal(fake_get(&h->vm, &h->vm.cancels), 1);
	/* JSON-RPC clients see it too. */
	int rpc = client_connect(h->path);
	json_object *o = client_call(rpc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.info\"}");
	assert_string_equal(json_object_get_string(jget(o, "result.resize_target.state")), "stalled");
	assert_int_equal(json_object_get_int(jget(o, "result.resize_target.target")), 1);
	json_object_put(o);
	close(rpc);
	assert_int_equal(info_int(fd, "config.cpus.boot_vcpus"), 2);
	pthread_mutex_lock(&h->vm.lock);
	assert_int_equal(h->vm.pending[1], CPU_PENDING_NONE);
	pthread_mutex_unlock(&h->vm.lock);
	/* The next target starts afresh. */
	guest_auto(h, 5);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.resize", "{\"desired_vcpus\":1}", &r), 204);
	await_vcpus(fd, 1);
	close(fd);
}

/* A guest that never takes the insert event: the target waits, and says why. */
static void test_resize_guest_never_scans(void **state)
{
	struct harness *h = H(state);
	struct http_reply r;
	char s[256];
	int fd = client_connect(h->path);

	create_and_boot(fd);	/* the fake guest is manual: it does nothing */
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.resize", "{\"desired_vcpus\":3}", &r), 204);
	for (int i = 0; i < 300 && !strstr(info_str(fd, "vcpus_resize.reason", s, sizeof(s)), "vcpu1"); i++)
		usleep(10000);
	assert_non_null(strstr(s, "waiting for the guest to take the hotplug event of vcpu1"));
	assert_string_equal(info_str(fd, "vcpus_resize.state", s, sizeof(s)), "converging");
	/* One CPU at a time: the second is not added behind the guest's back. */
	assert_int_equal(info_int(fd, "config.cpus.boot_vcpus"), 2);
	assert_int_equal(fake_get(&h->vm, &h->vm.adds), 1);
	/* The guest catches up: the walk goes on. */
	fake_guest_online(&h->vm, 1);
	await_vcpus(fd, 3);
	close(fd);
}

static void test_resize_refusals(void **state)
{
	struct http_reply r;
	int fd = client_connect(H(state)->path);

	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.create", kata_create, &r), 204);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.resize", "{\"desired_vcpus\":2}", &r), 409);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.boot", NULL, &r), 204);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.resize", "{\"desired_ram\":1073741824}", &r), 400);
	assert_non_null(strstr(r.body, "memory hot-plug"));
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.resize", "{\"desired_vcpus\":5}", &r), 400);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.resize", "{\"desired_vcpus\":0}", &r), 400);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.create", kata_create, &r), 409);
	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.remove-device", "{\"id\":\"_dev7\"}", &r), 404);
	assert_int_equal(http_call(fd, "GET", "/api/v1/vm.resize", NULL, &r), 405);
	assert_int_equal(http_call(fd, "GET", "/api/v1/nope", NULL, &r), 404);
	assert_int_equal(fake_get(&H(state)->vm, &H(state)->vm.adds), 0);
	close(fd);
}

static void test_pipelined_in_one_write(void **state)
{
	static const char two[] =
		"GET /api/v1/vmm.ping HTTP/1.1\r\nHost: localhost\r\n\r\n"
		"PUT /api/v1/vm.create HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}";
	struct http_reply r;
	int fd = client_connect(H(state)->path);

	assert_int_equal(http_send(fd, two, sizeof(two) - 1, NULL, 0), 0);
	assert_int_equal(http_recv(fd, &r, 2000), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(http_recv(fd, &r, 2000), 0);
	assert_int_equal(r.status, 400);	/* {} has no payload.kernel */
	assert_non_null(strstr(r.body, "payload.kernel"));
	/* Still open. */
	assert_int_equal(http_call(fd, "GET", "/api/v1/vmm.ping", NULL, &r), 200);
	close(fd);
}

static int add_net(int fd, const char *body, int *fds, unsigned nfds, struct http_reply *r)
{
	char req[512];
	int n = snprintf(req, sizeof(req), "PUT /api/v1/vm.add-net HTTP/1.1\r\nHost: localhost\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(body), body);

	assert_int_equal(http_send(fd, req, (size_t)n, fds, nfds), 0);
	assert_int_equal(http_recv(fd, r, 2000), 0);
	return r->status;
}

/* A closed write end of p: the server no longer holds a copy. */
static bool pipe_reads_eof(int rd)
{
	struct pollfd pf = { rd, POLLIN, 0 };
	char c;

	return poll(&pf, 1, 2000) == 1 && read(rd, &c, 1) == 0;
}

/*
 * Kata's AddNet between vm.create and vm.boot: the tap fd arrives as
 * SCM_RIGHTS and becomes a net[] entry with the MAC; refused (and the fd
 * closed) before vm.create, without an fd, with a bad MAC, and after boot.
 */
static void test_add_net_fd_in_ancillary_data(void **state)
{
	static const char body[] = "{\"mac\":\"02:00:ca:fe:00:01\",\"num_queues\":2,\"queue_size\":256}";
	struct fake_vmm *f = &vmm;
	struct http_reply r;
	int p[2], fd = client_connect(H(state)->path);

	assert_int_equal(pipe(p), 0);
	assert_int_equal(add_net(fd, body, &p[1], 1, &r), 409);
	close(p[1]);
	assert_true(pipe_reads_eof(p[0]));
	close(p[0]);

	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.create", kata_create, &r), 204);
	assert_int_equal(add_net(fd, body, NULL, 0, &r), 400);
	assert_non_null(strstr(r.body, "SCM_RIGHTS"));
	assert_int_equal(pipe(p), 0);
	assert_int_equal(add_net(fd, "{\"mac\":\"02:00:ca:fe:00\"}", &p[1], 1, &r), 400);
	assert_non_null(strstr(r.body, "mac"));
	close(p[1]);
	assert_true(pipe_reads_eof(p[0]));
	close(p[0]);

	assert_int_equal(pipe(p), 0);
	assert_int_equal(add_net(fd, body, &p[1], 1, &r), 204);
	assert_int_equal(f->conf.cfg.nr_net, 1);
	assert_int_equal(f->conf.cfg.net[0].nfds, 1);
	assert_true(f->conf.cfg.net[0].have_mac);
	assert_memory_equal(f->conf.cfg.net[0].mac, "\x02\x00\xca\xfe\x00\x01", 6);
	/* The VM owns the fd now: it is still open (a write reaches the pipe). */
	assert_int_equal(write(f->conf.cfg.net[0].fds[0], "x", 1), 1);
	close(f->conf.cfg.net[0].fds[0]);
	close(p[1]);
	close(p[0]);

	assert_int_equal(http_call(fd, "PUT", "/api/v1/vm.boot", NULL, &r), 204);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(add_net(fd, body, &p[1], 1, &r), 409);
	assert_non_null(strstr(r.body, "hot-plug"));
	close(p[1]);
	assert_true(pipe_reads_eof(p[0]));
	close(p[0]);
	close(fd);
}

static void expect_refused(const char *path, const char *data, size_t len, int status)
{
	struct http_reply r;
	int fd = client_connect(path);

	assert_int_equal(http_send(fd, data, len, NULL, 0), 0);
	assert_int_equal(http_recv(fd, &r, 2000), 0);
	assert_int_equal(r.status, status);
	assert_true(r.body_len > 0);
	assert_non_null(strstr(r.head, "Connection: close"));
	assert_true(client_eof(fd, 2000));
	close(fd);
}

static void test_malformed_and_oversized(void **state)
{
	struct harness *h = H(state);
	static char big[HTTP_MAX_HEADER_BYTES + 512];
	static char url[HTTP_MAX_URL + 64];
	static const char bad_line[] = "GET /api/v1/vmm.ping HTTP/1.1 trailing\r\n\r\n";
	static const char bad_len[] = "PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: x\r\n\r\n";
	static const char huge[] = "PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n{";
	struct http_reply r;
	int n, fd;

	expect_refused(h->path, bad_line, sizeof(bad_line) - 1, 400);
	expect_refused(h->path, bad_len, sizeof(bad_len) - 1, 400);
	expect_refused(h->path, huge, sizeof(huge) - 1, 413);
	n = snprintf(big, sizeof(big), "GET /api/v1/vmm.ping HTTP/1.1\r\nX-Pad: ");
	memset(big + n, 'a', sizeof(big) - n - 5);
	memcpy(big + sizeof(big) - 5, "\r\n\r\n", 4);
	expect_refused(h->path, big, sizeof(big) - 1, 431);
	n = snprintf(url, sizeof(url), "GET /");
	memset(url + n, 'a', sizeof(url) - n - 1);
	expect_refused(h->path, url, sizeof(url) - 1, 414);

	/* The VM saw none of it, and the server still answers. */
	assert_int_equal(vmm.creates, 0);
	assert_int_equal(fake_get(&h->vm, &h->vm.adds) + fake_get(&h->vm, &h->vm.pauses) +
			 fake_get(&h->vm, &h->vm.shutdowns), 0);
	fd = client_connect(h->path);
	assert_int_equal(http_call(fd, "GET", "/api/v1/vmm.ping", NULL, &r), 200);
	close(fd);
}

/* A request that never completes gets 408; an idle kept-alive connection stays. */
static void test_slow_client(void **state)
{
	struct harness *h = H(state);
	static const char part[] = "GET /api/v1/vmm.ping HTTP/1.1\r\nHo";
	struct http_reply r;
	int slow = client_connect(h->path), idle = client_connect(h->path);

	assert_int_equal(http_call(idle, "GET", "/api/v1/vmm.ping", NULL, &r), 200);
	assert_int_equal(http_send(slow, part, sizeof(part) - 1, NULL, 0), 0);
	assert_int_equal(http_recv(slow, &r, 3 * REQUEST_TIMEOUT_MS), 0);
	assert_int_equal(r.status, 408);
	assert_true(client_eof(slow, 2000));
	usleep(2 * REQUEST_TIMEOUT_MS * 1000);
	assert_int_equal(http_call(idle, "GET", "/api/v1/vmm.ping", NULL, &r), 200);
	close(slow);
	close(idle);
}

/* JSON-RPC and REST clients side by side on the same socket. */
static void test_both_dialects(void **state)
{
	struct harness *h = H(state);
	struct http_reply r;
	int rest = client_connect(h->path), rpc = client_connect(h->path);
	json_object *o;

	assert_int_equal(http_call(rest, "GET", "/api/v1/vmm.ping", NULL, &r), 200);
	o = client_call(rpc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cpu.list\"}");
	assert_non_null(o);
	assert_int_equal(json_object_array_length(resp_result(o)), 4);
	json_object_put(o);
	assert_int_equal(http_call(rest, "GET", "/api/v1/vmm.ping", NULL, &r), 200);
	close(rest);
	close(rpc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ping_is_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kata_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize_retarget_midway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize_guest_refuses, setup_short_remove, teardown),
		cmocka_unit_test_setup_teardown(test_resize_guest_never_scans, setup_short_remove, teardown),
		cmocka_unit_test_setup_teardown(test_resize_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_in_one_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_net_fd_in_ancillary_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_and_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_dialects, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
