/*
 * The REST dialect's request framing and vm.create mapping. The first input
 * byte picks how the rest is split into reads (as a client's writes would
 * arrive); every complete request's body also goes through the vm.create
 * parser. Invariants: the limits hold, an error is a 4xx that sticks, and
 * the fds attached to a request are closed whatever happens.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/api/internal.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant: %s\n", #c); __builtin_trap(); } } while (0)

static int requests;

static void on_request(void *arg, struct http_request *req)
{
	struct vm_config_owned conf;
	char err[256];

	(void)arg;
	requests++;
	CHECK(req->url_len <= HTTP_MAX_URL && strlen(req->url) == req->url_len);
	CHECK(req->body_len <= HTTP_MAX_BODY);
	CHECK(!req->body || strlen(req->body) <= req->body_len);
	if (req->body && api_ch_config_parse(req->body, req->body_len, &conf, err, sizeof(err)) == 0) {
		CHECK(conf.cfg.kernel && conf.cfg.boot_cpus >= 1 && conf.cfg.boot_cpus <= conf.cfg.max_cpus);
		CHECK(conf.cfg.nfs <= VM_MAX_FS && (!conf.cfg.nfs || conf.cfg.memory_shared));
		for (unsigned i = 0; i < conf.cfg.nfs; i++)
			CHECK(conf.cfg.fs[i].tag[0] && conf.cfg.fs[i].socket[0] &&
			      conf.cfg.fs[i].num_queues >= 1 && conf.cfg.fs[i].queue_size <= 1024);
		vm_config_owned_free(&conf);
	}
}

static void on_continue(void *arg)
{
	(void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_framer f;
	size_t step, off = 1;
	int rc = 0, fd;

	if (size < 1)
		return 0;
	step = 1 + data[0] % 64;
	requests = 0;
	http_framer_init(&f, on_request, on_continue, NULL);
	/* An fd arrives with the first read: it must not leak. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		http_framer_add_fds(&f, &fd, 1);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		int r = http_framer_feed(&f, (const char *)data + off, n);

		CHECK(r == 0 || (r >= 400 && r < 500));
		CHECK(!rc || r == rc);	/* once refused, always refused */
		if (r)
			CHECK(f.error != NULL);
		rc = r;
		off += n;
	}
	http_framer_fini(&f);
	if (fd >= 0)
		CHECK(fcntl(fd, F_GETFD) == -1);	/* closed by the framer */
	return 0;
}
