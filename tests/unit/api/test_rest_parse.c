/*
 * The REST dialect's parsers without a socket: HTTP framing (however the
 * bytes are split) and cloud-hypervisor's vm.create body into a VM config.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include "vmm/api/internal.h"

#define MAXREQ 8

struct seen {
	int n, continues;
	enum http_method method[MAXREQ];
	char url[MAXREQ][HTTP_MAX_URL + 1];
	char body[MAXREQ][256];
	bool keep_alive[MAXREQ];
	unsigned nfds[MAXREQ];
};

static void on_req(void *arg, struct http_request *req)
{
	struct seen *s = arg;

	if (s->n >= MAXREQ)
		return;
	s->method[s->n] = req->method;
	snprintf(s->url[s->n], sizeof(s->url[0]), "%s", req->url);
	snprintf(s->body[s->n], sizeof(s->body[0]), "%.200s", req->body ? req->body : "");
	s->keep_alive[s->n] = req->keep_alive;
	s->nfds[s->n] = req->nfds;
	s->n++;
}

static void on_cont(void *arg)
{
	((struct seen *)arg)->continues++;
}

static const char stream[] =
	"GET /api/v1/vmm.ping HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n"
	"PUT /api/v1/vm.resize HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
	"Content-Length: 20\r\n\r\n{\"desired_vcpus\":3}\n"
	"PUT /api/v1/vm.boot HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"
	"PUT /api/v1/vm.create HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
	"3\r\n{\"a\r\n3\r\n\":1\r\n1\r\n}\r\n0\r\n\r\n"
	"PUT /api/v1/vmm.shutdown HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

static void check_stream(const struct seen *s)
{
	assert_int_equal(s->n, 5);
	assert_int_equal(s->method[0], HTTP_GET);
	assert_string_equal(s->url[0], "/api/v1/vmm.ping");
	assert_string_equal(s->body[1], "{\"desired_vcpus\":3}\n");
	assert_string_equal(s->url[2], "/api/v1/vm.boot");
	assert_string_equal(s->body[2], "");
	assert_string_equal(s->body[3], "{\"a\":1}");
	assert_int_equal(s->continues, 1);
	assert_true(s->keep_alive[3]);
	assert_false(s->keep_alive[4]);
}

static void test_framing_any_split(void **state)
{
	(void)state;
	for (size_t chunk = 1; chunk <= sizeof(stream); chunk *= 3) {
		struct http_framer f;
		struct seen s = { 0 };

		http_framer_init(&f, on_req, on_cont, &s);
		for (size_t off = 0; off < sizeof(stream) - 1; off += chunk) {
			size_t n = sizeof(stream) - 1 - off < chunk ? sizeof(stream) - 1 - off : chunk;
			assert_int_equal(http_framer_feed(&f, stream + off, n), 0);
		}
		check_stream(&s);
		http_framer_fini(&f);
	}
}

static void test_framing_fds_follow_request(void **state)
{
	struct http_framer f;
	struct seen s = { 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	http_framer_init(&f, on_req, on_cont, &s);
	static const char a[] = "PUT /api/v1/vm.add-net HTTP/1.1\r\n", b[] = "Content-Length: 2\r\n\r\n{}";
	assert_int_equal(http_framer_feed(&f, a, strlen(a)), 0);
	http_framer_add_fds(&f, p, 2);
	assert_int_equal(http_framer_feed(&f, b, strlen(b)), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.nfds[0], 2);
	/* Not taken by the handler: closed after it ran. */
	assert_int_equal(fcntl(p[0], F_GETFD), -1);
	assert_int_equal(fcntl(p[1], F_GETFD), -1);
	http_framer_fini(&f);
}

#define EXPECT_ERROR(lit, status) expect_error(lit, sizeof(lit) - 1, status)

static void expect_error(const char *data, size_t len, int status)
{
	struct http_framer f;
	struct seen s = { 0 };

	http_framer_init(&f, on_req, on_cont, &s);
	assert_int_equal(http_framer_feed(&f, data, len), status);
	assert_non_null(f.error);
	assert_int_equal(s.n, 0);
	/* The stream stays refused. */
	assert_int_equal(http_framer_feed(&f, "GET / HTTP/1.1\r\n\r\n", 18), status);
	http_framer_fini(&f);
}

static void test_framing_errors(void **state)
{
	static char body[HTTP_MAX_BODY + 200];
	int n;

	(void)state;
	EXPECT_ERROR("\x01GET / HTTP/1.1\r\n\r\n", 400);
	EXPECT_ERROR("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400);
	EXPECT_ERROR("PUT / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413);
	n = snprintf(body, sizeof(body), "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n",
		     HTTP_MAX_BODY + 1);
	memset(body + n, 'x', sizeof(body) - n);
	expect_error(body, sizeof(body), 413);
}

/* The vm.create body Kata's driver sends (README), with a few extras. */
static const char kata_create[] =
	"{\"console\":{\"iommu\":false,\"mode\":\"Off\"},"
	"\"cpus\":{\"boot_vcpus\":1,\"kvm_hyperv\":false,\"max_vcpus\":4,"
	"\"topology\":{\"cores_per_die\":4,\"dies_per_package\":1,\"packages\":1,\"threads_per_core\":1}},"
	"\"iommu\":false,\"landlock_enable\":false,"
	"\"memory\":{\"hotplug_method\":\"Acpi\",\"hotplug_size\":536870912,\"hugepages\":false,"
	"\"mergeable\":false,\"prefault\":false,\"shared\":false,\"size\":536870912,\"thp\":true},"
	"\"payload\":{\"cmdline\":\"root=/dev/pmem0p1 panic=1 quiet\","
	"\"initramfs\":\"/k/initrd\",\"kernel\":\"/k/Image\"},"
	"\"platform\":{\"num_pci_segments\":2,\"sev_snp\":false,\"tdx\":false},"
	"\"pvpanic\":false,\"rng\":{\"iommu\":false,\"src\":\"/dev/urandom\"},"
	"\"serial\":{\"iommu\":false,\"mode\":\"Off\"},"
	"\"vsock\":{\"cid\":3,\"iommu\":false,\"socket\":\"/w/clh.sock\"},"
	"\"watchdog\":false}\n";

static int parse(const char *json, struct vm_config_owned *c, char *err, size_t errlen)
{
	return api_ch_config_parse(json, strlen(json), c, err, errlen);
}

static void test_create_kata_body(void **state)
{
	struct vm_config_owned c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(kata_create, &c, err, sizeof(err)), 0);
	assert_int_equal(c.cfg.boot_cpus, 1);
	assert_int_equal(c.cfg.max_cpus, 4);
	assert_true(c.cfg.memory_bytes == 512ULL << 20);
	assert_string_equal(c.cfg.kernel, "/k/Image");
	assert_string_equal(c.cfg.initrd, "/k/initrd");
	assert_string_equal(c.cfg.cmdline, "root=/dev/pmem0p1 panic=1 quiet");
	assert_int_equal(c.cfg.console, CONSOLE_NONE);
	assert_int_equal(c.cfg.boot_mode, BOOT_MODE_ACPI);
	assert_string_equal(c.cfg.rng_source, "/dev/urandom");
	assert_int_equal(c.cfg.ndisks, 0);
	assert_int_equal(c.cfg.vsock.cid, 3);
	assert_string_equal(c.cfg.vsock.socket, "/w/clh.sock");
	vm_config_owned_free(&c);
}

/* s/from/to/ once in the Kata body. */
static int parse_variant(const char *from, const char *to, struct vm_config_owned *c,
			 char *err, size_t errlen)
{
	char buf[4096];
	const char *at = strstr(kata_create, from);

	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - kata_create), kata_create, to,
		 at + strlen(from));
	return parse(buf, c, err, errlen);
}

static void expect_refused(const char *from, const char *to, const char *needle)
{
	struct vm_config_owned c;
	char err[256] = "";

	if (parse_variant(from, to, &c, err, sizeof(err)) == 0) {
		vm_config_owned_free(&c);
		fail_msg("'%s' -> '%s' accepted", from, to);
	}
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_create_variations(void **state)
{
	struct vm_config_owned c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_variant("\"mode\":\"Off\"},\"vsock\"", "\"mode\":\"Tty\"},\"vsock\"",
				       &c, err, sizeof(err)), 0);
	assert_int_equal(c.cfg.console, CONSOLE_STDIO);
	vm_config_owned_free(&c);
	assert_int_equal(parse_variant("\"mode\":\"Off\"},\"vsock\"",
				       "\"mode\":\"File\",\"file\":\"/tmp/s.log\"},\"vsock\"",
				       &c, err, sizeof(err)), 0);
	assert_int_equal(c.cfg.console, CONSOLE_FILE);
	assert_string_equal(c.cfg.console_path, "/tmp/s.log");
	vm_config_owned_free(&c);
	/* Unknown members are ignored, as cloud-hypervisor adds fields over time. */
	assert_int_equal(parse_variant("\"watchdog\":false", "\"watchdog\":false,\"future\":{\"x\":1}",
				       &c, err, sizeof(err)), 0);
	vm_config_owned_free(&c);
	/* max_vcpus defaults to boot_vcpus. */
	assert_int_equal(parse_variant("\"max_vcpus\":4,", "", &c, err, sizeof(err)), 0);
	assert_int_equal(c.cfg.max_cpus, 1);
	vm_config_owned_free(&c);

	expect_refused("\"boot_vcpus\":1", "\"boot_vcpus\":5", "boot (5) is larger than max (4)");
	expect_refused("\"boot_vcpus\":1", "\"boot_vcpus\":0", "at least 1");
	expect_refused("\"boot_vcpus\":1", "\"boot_vcpus\":\"1\"", "cpus.boot_vcpus");
	expect_refused("\"size\":536870912", "\"size\":1000", "memory");
	expect_refused("\"kernel\":\"/k/Image\"", "\"kernelx\":\"/k/Image\"", "kernel is required");
	expect_refused("\"watchdog\":false", "\"watchdog\":false,\"disks\":[{\"readonly\":true}]", "disks[].path");
	expect_refused("\"watchdog\":false", "\"watchdog\":false,\"disks\":[{\"path\":\"/d\",\"queue_size\":100}]", "power of two");
	expect_refused("\"watchdog\":false", "\"watchdog\":false,\"disks\":[{\"path\":\"/d\",\"num_queues\":17}]", "num_queues");
	expect_refused("\"watchdog\":false", "\"watchdog\":false,\"disks\":[{\"path\":\"/d\",\"serial\":\"123456789012345678901\"}]", "serial");
	expect_refused("\"watchdog\":false", "\"watchdog\":false,\"disks\":[{\"path\":\"/d\",\"vhost_user\":true}]", "vhost-user");
	expect_refused("\"watchdog\":false", "\"watchdog\":false,\"disks\":{\"path\":\"/d\"}", "array");
	expect_refused("\"src\":\"/dev/urandom\"", "\"src\":7", "rng.src");
	expect_refused("\"cid\":3", "\"cid\":2", "vsock.cid");
	expect_refused("\"socket\":\"/w/clh.sock\"", "\"socket\":\"\"", "vsock.socket");
	expect_refused("\"watchdog\":false", "\"watchdog\":false,\"net\":[{\"tap\":\"t\"}]", "net");
	expect_refused("\"watchdog\":false", "\"watchdog\":false,\"fs\":[{\"tag\":\"t\"}]", "fs[].socket");
	expect_refused("\"hugepages\":false", "\"hugepages\":true", "hugepages");
	expect_refused("\"kvm_hyperv\":false", "\"kvm_hyperv\":true", "kvm_hyperv");
	expect_refused("\"tdx\":false", "\"tdx\":true", "confidential");
	expect_refused("\"console\":{\"iommu\":false,\"mode\":\"Off\"}",
		       "\"console\":{\"mode\":\"Tty\"}", "virtio-console");
	expect_refused("\"mode\":\"Off\"},\"vsock\"", "\"mode\":\"Pty\"},\"vsock\"", "serial.mode");
	expect_refused("\"watchdog\":false}", "\"watchdog\":false}x", "trailing");
	expect_refused("{\"console\"", "[{\"console\"", "JSON object");
}

/* rng.src and disks[] become the virtio-rng and virtio-blk configuration. */
static void test_create_devices(void **state)
{
	struct vm_config_owned c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_variant("\"src\":\"/dev/urandom\"", "\"src\":\"/dev/hwrng\"",
				       &c, err, sizeof(err)), 0);
	assert_string_equal(c.cfg.rng_source, "/dev/hwrng");
	vm_config_owned_free(&c);
	/* No rng member: cloud-hypervisor still gives the guest /dev/urandom. */
	assert_int_equal(parse_variant("\"rng\":{\"iommu\":false,\"src\":\"/dev/urandom\"},", "",
				       &c, err, sizeof(err)), 0);
	assert_string_equal(c.cfg.rng_source, "/dev/urandom");
	vm_config_owned_free(&c);
	assert_int_equal(parse_variant("\"watchdog\":false",
		"\"watchdog\":false,\"disks\":[{\"path\":\"/img/root.img\",\"readonly\":true,"
		"\"direct\":true,\"num_queues\":2,\"queue_size\":128,\"id\":\"_disk0\"},"
		"{\"path\":\"/img/b\",\"id\":\"x\",\"serial\":\"SER1\"}]",
		&c, err, sizeof(err)), 0);
	assert_int_equal(c.cfg.ndisks, 2);
	assert_string_equal(c.cfg.disks[0].path, "/img/root.img");
	assert_true(c.cfg.disks[0].read_only);
	assert_true(c.cfg.disks[0].direct);
	assert_int_equal(c.cfg.disks[0].num_queues, 2);
	assert_int_equal(c.cfg.disks[0].queue_size, 128);
	assert_string_equal(c.cfg.disks[0].serial, "_disk0");
	assert_string_equal(c.cfg.disks[1].path, "/img/b");
	assert_false(c.cfg.disks[1].read_only);
	assert_int_equal(c.cfg.disks[1].num_queues, 0);
	assert_int_equal(c.cfg.disks[1].queue_size, DISK_DEFAULT_QUEUE_SIZE);
	assert_string_equal(c.cfg.disks[1].serial, "SER1");
	vm_config_owned_free(&c);
}

/* The Kata body with memory.shared as given and "fs":FS appended (NULL: none). */
static int parse_fs(bool shared, const char *fs, struct vm_config_owned *c, char *err,
		    size_t errlen)
{
	char buf[4096], *at;

	snprintf(buf, sizeof(buf), "%s", kata_create);
	at = strstr(buf, "\"shared\":false");
	assert_non_null(at);
	if (shared)
		memcpy(at, "\"shared\":true ", 14);	/* the same length: a space */
	at = strstr(buf, "\"watchdog\":false}");
	assert_non_null(at);
	snprintf(at, sizeof(buf) - (size_t)(at - buf), "\"watchdog\":false%s%s}\n",
		 fs ? ",\"fs\":" : "", fs ? fs : "");
	return parse(buf, c, err, errlen);
}

static void expect_fs_refused(const char *fs, const char *needle)
{
	struct vm_config_owned c;
	char err[256] = "";

	if (parse_fs(true, fs, &c, err, sizeof(err)) == 0) {
		vm_config_owned_free(&c);
		fail_msg("fs %s accepted", fs);
	}
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

/*
 * fs[] (Kata's shared directory through virtiofsd) becomes --fs, and
 * memory.shared --memory shared=on; one without the other is what the
 * command line refuses too.
 */
static void test_create_fs(void **state)
{
	static const char kata_fs[] = "[{\"tag\":\"kataShared\",\"socket\":\"/w/virtiofsd.sock\","
				      "\"num_queues\":1,\"queue_size\":1024,\"pci_segment\":1}]";
	struct vm_config_owned c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_fs(true, kata_fs, &c, err, sizeof(err)), 0);
	assert_true(c.cfg.memory_shared);
	assert_int_equal(c.cfg.nfs, 1);
	assert_string_equal(c.cfg.fs[0].tag, "kataShared");
	assert_string_equal(c.cfg.fs[0].socket, "/w/virtiofsd.sock");
	assert_int_equal(c.cfg.fs[0].num_queues, 1);
	assert_int_equal(c.cfg.fs[0].queue_size, 1024);
	vm_config_owned_free(&c);
	/* Defaults as --fs: one request queue of 1024. Shared memory alone is fine. */
	assert_int_equal(parse_fs(true, "[{\"tag\":\"a\",\"socket\":\"/s\"},{\"tag\":\"b\","
				  "\"socket\":\"/t\",\"num_queues\":2,\"queue_size\":64}]",
				  &c, err, sizeof(err)), 0);
	assert_int_equal(c.cfg.nfs, 2);
	assert_int_equal(c.cfg.fs[0].num_queues, 1);
	assert_int_equal(c.cfg.fs[0].queue_size, 1024);
	assert_int_equal(c.cfg.fs[1].num_queues, 2);
	assert_int_equal(c.cfg.fs[1].queue_size, 64);
	vm_config_owned_free(&c);
	assert_int_equal(parse_fs(true, NULL, &c, err, sizeof(err)), 0);
	assert_true(c.cfg.memory_shared);
	assert_int_equal(c.cfg.nfs, 0);
	vm_config_owned_free(&c);
	assert_int_equal(parse_fs(false, "[]", &c, err, sizeof(err)), 0);
	assert_false(c.cfg.memory_shared);
	vm_config_owned_free(&c);

	if (parse_fs(false, kata_fs, &c, err, sizeof(err)) == 0) {
		vm_config_owned_free(&c);
		fail_msg("fs without memory.shared accepted");
	}
	assert_non_null(strstr(err, "memory.shared"));
	expect_fs_refused("[{\"tag\":\"t\"}]", "fs[].socket");
	expect_fs_refused("[{\"socket\":\"/s\"}]", "fs[].tag");
	expect_fs_refused("[{\"tag\":\"0123456789012345678901234567890123456\",\"socket\":\"/s\"}]",
			  "fs[].tag");
	expect_fs_refused("[{\"tag\":\"t\",\"socket\":\"/s\",\"num_queues\":0}]", "num_queues");
	expect_fs_refused("[{\"tag\":\"t\",\"socket\":\"/s\",\"num_queues\":99}]", "num_queues");
	expect_fs_refused("[{\"tag\":\"t\",\"socket\":\"/s\",\"queue_size\":1000}]", "power of two");
	expect_fs_refused("[{\"tag\":\"t\",\"socket\":\"/s\"},{\"tag\":\"t\",\"socket\":\"/u\"}]",
			  "used twice");
	expect_fs_refused("{\"tag\":\"t\",\"socket\":\"/s\"}", "array");
	expect_fs_refused("[7]", "object");
	expect_fs_refused("[{\"tag\":\"a\",\"socket\":\"/s\"},{\"tag\":\"b\",\"socket\":\"/s\"},"
			  "{\"tag\":\"c\",\"socket\":\"/s\"},{\"tag\":\"d\",\"socket\":\"/s\"},"
			  "{\"tag\":\"e\",\"socket\":\"/s\"}]", "at most");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing_any_split),
		cmocka_unit_test(test_framing_fds_follow_request),
		cmocka_unit_test(test_framing_errors),
		cmocka_unit_test(test_create_kata_body),
		cmocka_unit_test(test_create_variations),
		cmocka_unit_test(test_create_devices),
		cmocka_unit_test(test_create_fs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
