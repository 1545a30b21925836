#include "rest_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "vmm/api/api.h"

static enum vmm_vm_state f_state(void *o)
{
	struct fake_vmm *f = o;

	if (__atomic_load_n(&f->shut_down, __ATOMIC_SEQ_CST))
		return VMM_VM_SHUTDOWN;
	if (f->booted)
		return f->vm->state == VM_STATE_PAUSED ? VMM_VM_PAUSED : VMM_VM_RUNNING;
	return f->created ? VMM_VM_CREATED : VMM_VM_NONE;
}

static const struct vm_config *f_config(void *o)
{
	struct fake_vmm *f = o;

	return f->created ? &f->conf.cfg : NULL;
}

static int f_create(void *o, struct vm_config_owned *c, char *err, size_t errlen)
{
	struct fake_vmm *f = o;

	(void)err;
	(void)errlen;
	f->creates++;
	f->conf = *c;
	f->created = true;
	return 0;
}

static int f_boot(void *o, char *err, size_t errlen)
{
	struct fake_vmm *f = o;

	f->boots++;
	f->booted = true;
	if (cpu_target_new(&f->target, f->base, &fake_vm_ops, f->vm)) {
		snprintf(err, errlen, "no memory");
		return -ENOMEM;
	}
	if (f->remove_ms || f->ack_ms)
		cpu_target_set_timeouts(f->target, f->ack_ms ? f->ack_ms : CPU_TARGET_ADD_ACK_MS,
					f->remove_ms ? f->remove_ms : CPU_TARGET_REMOVE_MS);
	return 0;
}

/* Keeps what add_net was given; the fds stay open until the test closes them. */
static int f_add_net(void *o, const struct vm_net_config *n, char *err, size_t errlen)
{
	struct fake_vmm *f = o;

	if (f->conf.cfg.nr_net >= VM_MAX_NET) {
		for (unsigned i = 0; i < n->nfds; i++)
			close(n->fds[i]);	/* as vmm_ops says: closed on failure */
		snprintf(err, errlen, "full");
		return -ENOSPC;
	}
	f->conf.cfg.net[f->conf.cfg.nr_net++] = *n;
	return 0;
}

static int f_resize(void *o, unsigned n, char *err, size_t errlen)
{
	struct fake_vmm *f = o;
	int rc = cpu_target_set(f->target, n);

	if (rc)
		snprintf(err, errlen, "resize refused (%d)", rc);
	return rc;
}

static bool f_resize_status(void *o, struct cpu_target_status *out)
{
	struct fake_vmm *f = o;

	if (!f->target)
		return false;
	cpu_target_status(f->target, out);
	return true;
}

static void f_shutdown(void *o)
{
	__atomic_store_n(&((struct fake_vmm *)o)->shut_down, true, __ATOMIC_SEQ_CST);
}

const struct vmm_ops fake_vmm_ops = {
	.state = f_state,
	.config = f_config,
	.create = f_create,
	.boot = f_boot,
	.add_net = f_add_net,
	.resize = f_resize,
	.resize_status = f_resize_status,
	.shutdown = f_shutdown,
};

void fake_vmm_attach(struct harness *h, struct fake_vmm *f)
{
	memset(f, 0, sizeof(*f));
	f->vm = &h->vm;
	f->base = h->base;
	api_server_set_vmm(h->srv, &fake_vmm_ops, f);
}

void fake_vmm_detach(struct harness *h, struct fake_vmm *f)
{
	(void)h;
	cpu_target_free(f->target);
	vm_config_owned_free(&f->conf);
}

int fake_vmm_teardown(void **state, struct fake_vmm *f)
{
	struct harness *h = *state;

	harness_stop_loop(h);
	fake_vmm_detach(h, f);	/* the loop is stopped: the target's timer can go */
	return harness_free(h);
}

int http_send(int fd, const char *data, size_t len, const int *fds, unsigned nfds)
{
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * HTTP_SEND_MAX_FDS)];
	} ctl;
	struct iovec iov = { (void *)data, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > HTTP_SEND_MAX_FDS)
		return -1;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.b;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Reads until the head and Content-Length bytes of body are in. */
int http_recv(int fd, struct http_reply *r, int timeout_ms)
{
	char buf[sizeof(r->head) + sizeof(r->body)];
	size_t have = 0, need = 0, head_len = 0;
	struct pollfd p = { fd, POLLIN, 0 };

	memset(r, 0, sizeof(*r));
	for (;;) {
		char *end;

		if (head_len && have >= head_len + need)
			break;
		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		/* One byte at a time past the head: never eat the next reply. */
		ssize_t n = recv(fd, buf + have, head_len ? head_len + need - have : 1, 0);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		if (head_len || have >= sizeof(buf))
			continue;
		buf[have] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		head_len = (size_t)(end - buf) + 4;
		if (head_len >= sizeof(r->head))
			return -1;
		memcpy(r->head, buf, head_len);
		if (sscanf(buf, "HTTP/1.1 %d", &r->status) != 1)
			return -1;
		const char *cl = strcasestr(r->head, "Content-Length: ");
		need = cl ? strtoul(cl + 16, NULL, 10) : 0;
		if (need >= sizeof(r->body))
			return -1;
	}
	memcpy(r->body, buf + head_len, need);
	r->body[need] = 0;
	r->body_len = need;
	return 0;
}

int http_call(int fd, const char *method, const char *path, const char *body,
	      struct http_reply *r)
{
	char req[8192];
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n%s\r\n%s",
			 method, path, body ? strlen(body) : 0,
			 body ? "Content-Type: application/json\r\n" : "", body ? body : "");

	if (n < 0 || (size_t)n >= sizeof(req) || http_send(fd, req, (size_t)n, NULL, 0))
		return -1;
	return http_recv(fd, r, 5000) ? -1 : r->status;
}
