/*
 * The host side of virtio-vsock: the listening unix socket, the CONNECT
 * handshake, connections to "<path>_<port>", timeouts, and the device's
 * epoll set, which the transport's I/O thread watches as one fd.
 */
#include "devices/virtio/vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TAG_LISTEN	(1ULL << 62)
#define TAG_TIMER	(1ULL << 62 | 1)
#define TICK_MS		100

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A periodic tick while any connection has a deadline or a credit wait;
 * none otherwise. A running tick goes on as it is: arming it again on
 * every stall of a busy connection would keep postponing another's.
 */
void vsock_arm_timer(struct virtio_vsock *vs)
{
	bool need = false;
	struct itimerspec its = { 0 };

	for (unsigned i = 0; i < VSOCK_MAX_CONNS && !need; i++)
		need = vs->conns[i] && (vs->conns[i]->deadline_ms || vs->conns[i]->credit_wait_ms);
	if (need == vs->ticking || vs->timer_fd < 0)
		return;
	if (need)
		its.it_value.tv_nsec = its.it_interval.tv_nsec = TICK_MS * 1000000L;
	(void)timerfd_settime(vs->timer_fd, 0, &its, NULL);
	vs->ticking = need;
}

static uint32_t alloc_port(struct virtio_vsock *vs)
{
	for (;;) {
		uint32_t p = vs->next_port++;
		if (vs->next_port == 0 || vs->next_port > VSOCK_PORT_MAX)
			vs->next_port = VSOCK_HOST_PORT_BASE;
		bool used = false;
		for (unsigned i = 0; i < VSOCK_MAX_CONNS && !used; i++)
			used = vs->conns[i] && vs->conns[i]->host_initiated && vs->conns[i]->local_port == p;
		if (!used)
			return p;	/* at most VSOCK_MAX_CONNS are in use: this ends */
	}
}

static void read_line(struct virtio_vsock *vs, struct vsock_conn *c);

static void accept_all(struct virtio_vsock *vs)
{
	for (;;) {
		int fd = accept4(vs->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;		/* EAGAIN, or a client that left (ECONNABORTED): next time */
		/* No driver yet, or no room: close now so the client retries rather than waits. */
		if (!virtio_mmio_running(&vs->vdev) || vs->nconns >= VSOCK_MAX_CONNS) {
			vs->stats.refused++;
			close(fd);
			continue;
		}
		struct vsock_conn *c = vsock_conn_new(vs, fd);
		if (!c)
			continue;
		c->host_initiated = true;
		c->state = VSOCK_HOST_LINE;
		c->deadline_ms = vs->now_ms() + VSOCK_HANDSHAKE_MS;
		vsock_conn_rearm(vs, c);
		vsock_arm_timer(vs);
		read_line(vs, c);	/* the line usually came with the connection */
	}
}

static void refuse(struct virtio_vsock *vs, struct vsock_conn *c, bool bad_line)
{
	vs->stats.refused++;
	vs->stats.bad_lines += bad_line;
	vsock_conn_reset(vs, c);
}

/*
 * Bytes of the CONNECT line: peek, and consume only up to the '\n', so
 * whatever the client sends after it stays in the socket as stream data.
 */
static void read_line(struct virtio_vsock *vs, struct vsock_conn *c)
{
	size_t have = strnlen(c->line, sizeof(c->line)), line_len;
	char peek[VSOCK_CONNECT_MAX];
	uint32_t port;

	ssize_t n = recv(c->fd, peek, sizeof(c->line) - have, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		refuse(vs, c, false);	/* the client left before asking */
		return;
	}
	char *nl = memchr(peek, '\n', (size_t)n);
	size_t take = nl ? (size_t)(nl - peek) + 1 : (size_t)n;
	if (recv(c->fd, c->line + have, take, MSG_DONTWAIT) != (ssize_t)take) {
		refuse(vs, c, false);
		return;
	}
	int r = vsock_connect_parse(c->line, have + take, &port, &line_len);
	if (r < 0 || (r == 0 && nl)) {
		refuse(vs, c, true);
		return;
	}
	if (r == 0)
		return;		/* more to come, before the deadline */
	/* A NUL in the line would confuse strnlen: the parser allowed none (digits only). */
	c->peer_port = port;
	c->local_port = alloc_port(vs);
	c->state = VSOCK_GUEST_WAIT;
	c->pending |= VSOCK_P_REQUEST;
	c->deadline_ms = vs->now_ms() + VSOCK_HANDSHAKE_MS;
	vsock_conn_rearm(vs, c);
}

int vsock_host_ok(struct virtio_vsock *vs, struct vsock_conn *c)
{
	char ok[24];
	size_t n = vsock_connect_reply(ok, sizeof(ok), c->local_port);
	(void)vs;
	/* The socket is fresh and empty: a short line always fits. */
	return send(c->fd, ok, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n ? 0 : -EIO;
}

int vsock_host_connect(struct virtio_vsock *vs, struct vsock_conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", vs->path, c->local_port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A unix connect completes at once or fails (EAGAIN: the listener's backlog is full). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	c->fd = fd;
	return 0;
}

static void conn_event(struct virtio_vsock *vs, struct vsock_conn *c, uint32_t ev)
{
	if (c->state == VSOCK_HOST_LINE) {
		if (ev & EPOLLIN)
			read_line(vs, c);
		else
			refuse(vs, c, false);
		return;
	}
	if (c->state == VSOCK_GUEST_WAIT) {	/* the client gave up waiting */
		if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			refuse(vs, c, false);
		return;
	}
	if (ev & EPOLLERR) {
		vsock_conn_reset(vs, c);
		return;
	}
	if (ev & EPOLLHUP) {
		/* Gone both ways: read what is left, then tell the guest (send_data sees EOF). */
		c->hup = true;
		c->readable = true;
	}
	if (ev & EPOLLIN)
		c->readable = true;
	if ((ev & (EPOLLOUT | EPOLLHUP)) && vsock_conn_buffered(c) && vsock_conn_flush(vs, c) < 0) {
		if (c->state == VSOCK_DRAINING)
			vsock_conn_free(vs, c);
		else
			vsock_conn_reset(vs, c);
		return;
	}
	if (c->state == VSOCK_DRAINING) {
		if (!vsock_conn_buffered(c) || c->hup)
			vsock_conn_free(vs, c);
		return;
	}
	vsock_conn_rearm(vs, c);
}

static void expire(struct virtio_vsock *vs)
{
	uint64_t now = vs->now_ms(), n;

	(void)!read(vs->timer_fd, &n, sizeof(n));
	vsock_credit_timeouts(vs, now);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = vs->conns[i];
		if (!c || !c->deadline_ms || now < c->deadline_ms)
			continue;
		if (c->state == VSOCK_HOST_LINE || c->state == VSOCK_GUEST_WAIT)
			refuse(vs, c, false);
		else if (c->state == VSOCK_DRAINING)
			vsock_conn_free(vs, c);
		else
			vsock_conn_reset(vs, c);	/* CLOSING: the guest never sent its RST */
	}
	vsock_arm_timer(vs);
}

void virtio_vsock_poll(struct virtio_vsock *vs)
{
	struct epoll_event ev[32];
	int n = epoll_wait(vs->epoll_fd, ev, ARRAY_SIZE(ev), 0);

	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;
		if (tag == TAG_LISTEN) {
			accept_all(vs);
		} else if (tag == TAG_TIMER) {
			expire(vs);
		} else {
			struct vsock_conn *c = vs->conns[tag & 0xffff];
			if (c && c->gen == (uint32_t)(tag >> 16))
				conn_event(vs, c, ev[i].events);
		}
	}
	vsock_rx_flush(vs);
}

static void watched(void *opaque, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	virtio_vsock_poll(opaque);
}

static int listen_on(struct virtio_vsock *vs, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int r;

	if (lstat(vs->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--vsock: %s exists and is not a socket", vs->path);
			return -EEXIST;
		}
		(void)unlink(vs->path);		/* left behind by an earlier run */
	}
	strcpy(sa.sun_path, vs->path);		/* fits: checked at init */
	vs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (vs->listen_fd < 0 || bind(vs->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(vs->listen_fd, 128) < 0) {
		r = -errno;
		snprintf(err, errlen, "--vsock: cannot listen on %s: %s", vs->path, strerror(errno));
		return r;
	}
	return 0;
}

static int epoll_add(int epfd, int fd, uint64_t tag)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = tag };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

int virtio_vsock_init(struct virtio_vsock *vs, const struct virtio_mmio_config *cfg,
		      uint64_t guest_cid, const char *path, char *err, size_t errlen)
{
	int r;

	memset(vs, 0, sizeof(*vs));
	vs->listen_fd = vs->epoll_fd = vs->timer_fd = -1;
	vs->guest_cid = guest_cid;
	vs->next_port = VSOCK_HOST_PORT_BASE;
	vs->now_ms = mono_ms;
	if (strlen(path) >= sizeof(vs->path)) {
		snprintf(err, errlen, "--vsock: socket path is longer than %zu bytes", sizeof(vs->path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(vs->path, path);
	if ((r = listen_on(vs, err, errlen)))
		goto fail;
	vs->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	vs->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (vs->epoll_fd < 0 || vs->timer_fd < 0 ||
	    (r = epoll_add(vs->epoll_fd, vs->listen_fd, TAG_LISTEN)) ||
	    (r = epoll_add(vs->epoll_fd, vs->timer_fd, TAG_TIMER))) {
		r = r ? r : -errno;
		snprintf(err, errlen, "cannot set up virtio-vsock: %s", strerror(-r));
		goto fail;
	}
	if ((r = virtio_mmio_init(&vs->vdev, cfg, &vsock_ops, vs))) {
		snprintf(err, errlen, "cannot set up virtio-vsock: %s", strerror(-r));
		goto fail;
	}
	if ((r = virtio_mmio_watch(&vs->vdev, vs->epoll_fd, EPOLLIN, watched, vs))) {
		snprintf(err, errlen, "cannot watch the virtio-vsock sockets: %s", strerror(-r));
		virtio_mmio_destroy(&vs->vdev);
		goto fail;
	}
	vs->watching = true;
	return 0;
fail:
	virtio_vsock_destroy(vs);
	return r;
}

void virtio_vsock_destroy(struct virtio_vsock *vs)
{
	virtio_mmio_destroy(&vs->vdev);		/* stops the I/O thread first */
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		if (vs->conns[i])
			vsock_conn_free(vs, vs->conns[i]);
	}
	if (vs->listen_fd >= 0) {
		close(vs->listen_fd);
		(void)unlink(vs->path);
	}
	if (vs->timer_fd >= 0)
		close(vs->timer_fd);
	if (vs->epoll_fd >= 0)
		close(vs->epoll_fd);
	vs->listen_fd = vs->timer_fd = vs->epoll_fd = -1;
	vs->watching = false;
}
