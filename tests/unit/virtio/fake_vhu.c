/* The fake vhost-user backend (see fake_vhu.h). */
#include "fake_vhu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/virtio/vhost_user.h"

void fv_reply(struct fake_vhu *f, uint32_t req, const void *payload, uint32_t len)
{
	if (f->rlen + VHU_HDR_SIZE + len > sizeof(f->replies))
		abort();
	f->rlen += vhu_encode(f->replies + f->rlen, req, VHU_FLAG_REPLY, payload, len);
}

void fv_reply_u64(struct fake_vhu *f, uint32_t req, uint64_t v)
{
	fv_reply(f, req, &v, 8);
}

void fv_flush(struct fake_vhu *f)
{
	if (f->rlen && write(f->fd, f->replies, f->rlen) != (ssize_t)f->rlen)
		abort();
	f->rlen = 0;
}

int fv_read(int fd, struct fv_msg *m)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} ctl;
	uint32_t hdr[3];
	struct iovec iov = { .iov_base = hdr, .iov_len = sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };

	memset(m, 0, sizeof(*m));
	if (recvmsg(fd, &mh, MSG_WAITALL) != (ssize_t)sizeof(hdr))
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			m->nfds = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(m->fds, CMSG_DATA(c), m->nfds * sizeof(int));
		}
	}
	m->req = hdr[0];
	m->flags = hdr[1];
	m->size = hdr[2];
	if (m->size > sizeof(m->payload))
		return -1;
	if (m->size && recv(fd, m->payload, m->size, MSG_WAITALL) != (ssize_t)m->size)
		return -1;
	return 0;
}

void fv_listen(struct fake_vhu *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	f->close_after = f->close_after ? f->close_after : -1;
	snprintf(f->path, sizeof(f->path), "/tmp/vmm-fv-%d-%p.sock", (int)getpid(), (void *)f);
	unlink(f->path);
	strcpy(sa.sun_path, f->path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(f->listen_fd, 1))
		abort();
	f->fd = -1;
}

static void *serve(void *arg)
{
	struct fake_vhu *f = arg;

	f->fd = accept(f->listen_fd, NULL, NULL);
	if (f->fd < 0)
		return NULL;
	fv_flush(f);
	for (unsigned n = 0; n < 64 && (f->close_after < 0 || (int)n < f->close_after) &&
	     fv_read(f->fd, &f->msgs[n]) == 0; n++)
		__atomic_store_n(&f->nmsgs, n + 1, __ATOMIC_RELEASE);
	shutdown(f->fd, SHUT_RDWR);
	return NULL;
}

void fv_serve(struct fake_vhu *f)
{
	if (pthread_create(&f->thread, NULL, serve, f))
		abort();
	f->serving = true;
}

unsigned fv_wait(struct fake_vhu *f, unsigned n, unsigned ms)
{
	unsigned got;
	while ((got = __atomic_load_n(&f->nmsgs, __ATOMIC_ACQUIRE)) < n && ms--)
		usleep(1000);
	return got;
}

void fv_join(struct fake_vhu *f)
{
	if (f->serving)
		pthread_join(f->thread, NULL);
	f->serving = false;
}

void fv_cleanup(struct fake_vhu *f)
{
	for (unsigned i = 0; i < f->nmsgs; i++)
		for (unsigned j = 0; j < f->msgs[i].nfds; j++)
			close(f->msgs[i].fds[j]);
	if (f->fd >= 0)
		close(f->fd);
	if (f->listen_fd > 0) {
		close(f->listen_fd);
		unlink(f->path);
	}
}
