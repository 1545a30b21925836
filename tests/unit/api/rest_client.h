/*
 * A fake VMM behind struct vmm_ops (vm.create/boot/resize on a fake VM)
 * and a raw HTTP client for the REST dialect tests.
 */
#ifndef TESTS_REST_CLIENT_H
#define TESTS_REST_CLIENT_H

#include <stddef.h>
#include "harness.h"
#include "vmm/cpu_target.h"
#include "vmm/vmm_api.h"

struct fake_vmm {
	struct fake_vm *vm;
	struct event_base *base;
	struct cpu_target *target;
	struct vm_config_owned conf;
	bool created, booted, shut_down;
	int remove_ms;		/* the target's wait for an eject (0: default) */
	int ack_ms;		/* ... and for the guest to take an event (0: default) */
	int creates, boots;
};

extern const struct vmm_ops fake_vmm_ops;

/* Installs a fake VMM (no VM created yet) on the harness's server. */
void fake_vmm_attach(struct harness *h, struct fake_vmm *f);
void fake_vmm_detach(struct harness *h, struct fake_vmm *f);
/* cmocka teardown of a harness with f attached. */
int fake_vmm_teardown(void **state, struct fake_vmm *f);

struct http_reply {
	int status;
	char head[2048];
	char body[8192];
	size_t body_len;
};

#define HTTP_SEND_MAX_FDS 16	/* more than the server keeps (HTTP_MAX_FDS) */

/* Send raw bytes (optionally with fds as SCM_RIGHTS in the same message). */
int http_send(int fd, const char *data, size_t len, const int *fds, unsigned nfds);
/* Read one reply (Content-Length framed); 0, or -1 on timeout/EOF/garbage. */
int http_recv(int fd, struct http_reply *r, int timeout_ms);
/* One request on fd; body may be NULL. Returns the status or -1. */
int http_call(int fd, const char *method, const char *path, const char *body,
	      struct http_reply *r);

#endif
