/*
 * One vsock connection's host end: its slot, its epoll interest, and the
 * guest -> host byte stream with its credit (virtio 1.2, 5.10.6.3).
 */
#include "devices/virtio/vsock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_TAG(c)	((uint64_t)(c)->gen << 16 | (c)->slot)

uint32_t vsock_conn_buffered(const struct vsock_conn *c)
{
	return c->rx_cnt - c->fwd_cnt;
}

struct vsock_conn *vsock_conn_new(struct virtio_vsock *vs, int fd)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		if (vs->conns[i])
			continue;
		struct vsock_conn *c = calloc(1, sizeof(*c));
		if (!c)
			break;
		c->fd = fd;
		c->slot = i;
		c->gen = ++vs->gen & 0x7fffffff;
		vs->conns[i] = c;
		vs->nconns++;
		return c;
	}
	close(fd);
	return NULL;
}

struct vsock_conn *vsock_conn_find(struct virtio_vsock *vs, uint32_t local_port, uint32_t peer_port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = vs->conns[i];
		if (c && c->state != VSOCK_HOST_LINE && c->state != VSOCK_DRAINING &&
		    c->local_port == local_port && c->peer_port == peer_port)
			return c;
	}
	return NULL;
}

void vsock_conn_free(struct virtio_vsock *vs, struct vsock_conn *c)
{
	if (c->fd >= 0) {
		if (c->in_epoll)
			(void)epoll_ctl(vs->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	vs->conns[c->slot] = NULL;
	vs->nconns--;
	free(c->buf);
	free(c);
}

void vsock_orphan_rst(struct virtio_vsock *vs, uint32_t local_port, uint32_t peer_port)
{
	if (vs->norphan == VSOCK_MAX_ORPHAN_RST)
		return;		/* the guest's own timeout covers it */
	vs->orphan[vs->norphan].src_port = local_port;
	vs->orphan[vs->norphan].dst_port = peer_port;
	vs->norphan++;
}

void vsock_conn_reset(struct virtio_vsock *vs, struct vsock_conn *c)
{
	bool guest_knows = c->state != VSOCK_HOST_LINE && c->state != VSOCK_DRAINING &&
			   !(c->state == VSOCK_GUEST_WAIT && (c->pending & VSOCK_P_REQUEST));

	if (guest_knows)
		vsock_orphan_rst(vs, c->local_port, c->peer_port);
	vs->stats.resets_sent += guest_knows;
	free(c->buf);
	c->buf = NULL;
	vsock_conn_free(vs, c);
}

/* What the connection waits for on its socket. */
static uint32_t wanted(const struct vsock_conn *c)
{
	uint32_t ev = 0;

	if (c->fd < 0 || c->hup)
		return 0;
	switch (c->state) {
	case VSOCK_HOST_LINE:
		return EPOLLIN;
	case VSOCK_GUEST_WAIT:
		return EPOLLRDHUP;	/* only a client that gives up */
	case VSOCK_ESTABLISHED:
	case VSOCK_CLOSING:
		if (!c->readable && !c->host_eof && !(c->guest_shutdown & VSOCK_SHUTDOWN_RCV))
			ev |= EPOLLIN;
		/* fallthrough */
	case VSOCK_DRAINING:
		if (vsock_conn_buffered(c))
			ev |= EPOLLOUT;
		break;
	}
	return ev;
}

/*
 * Register what the connection waits for. A socket nothing is wanted from
 * leaves the set: its hang-up would otherwise be reported again and again.
 */
void vsock_conn_rearm(struct virtio_vsock *vs, struct vsock_conn *c)
{
	uint32_t ev = wanted(c);
	struct epoll_event e = { .events = ev, .data.u64 = CONN_TAG(c) };

	if (ev == c->events && c->in_epoll == (ev != 0))
		return;
	if (!ev) {
		if (c->in_epoll)
			(void)epoll_ctl(vs->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
		c->in_epoll = false;
	} else if (epoll_ctl(vs->epoll_fd, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) == 0) {
		c->in_epoll = true;
	}
	c->events = ev;
}

static ssize_t send_iov(int fd, struct iovec *iov, unsigned n)
{
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
	ssize_t w;

	do
		w = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return w < 0 ? -errno : w;
}

/* The guest's view of our free space is getting small: tell it what we forwarded. */
static void maybe_credit_update(struct vsock_conn *c)
{
	if (c->fwd_cnt != c->fwd_sent && c->rx_cnt - c->fwd_sent >= VSOCK_CONN_BUF / 2)
		c->pending |= VSOCK_P_CREDIT_UPDATE;
}

static void after_drain(struct vsock_conn *c)
{
	if (vsock_conn_buffered(c) == 0 && (c->guest_shutdown & VSOCK_SHUTDOWN_SEND) && !c->wr_shut &&
	    c->fd >= 0) {
		(void)shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
}

int vsock_conn_flush(struct virtio_vsock *vs, struct vsock_conn *c)
{
	uint32_t mask = VSOCK_CONN_BUF - 1;

	while (vsock_conn_buffered(c)) {
		uint32_t n = vsock_conn_buffered(c), off = c->fwd_cnt & mask;
		uint32_t first = n < VSOCK_CONN_BUF - off ? n : VSOCK_CONN_BUF - off;
		struct iovec iov[2] = {
			{ c->buf + off, first },
			{ c->buf, n - first },
		};
		ssize_t w = send_iov(c->fd, iov, n > first ? 2 : 1);
		if (w < 0)
			return (int)w;
		if (w == 0)
			break;
		c->fwd_cnt += (uint32_t)w;
		vs->stats.bytes_from_guest += (uint64_t)w;
	}
	maybe_credit_update(c);
	after_drain(c);
	vsock_conn_rearm(vs, c);
	return 0;
}

/* Copy len bytes of iov from offset off into the ring at the rx_cnt position. */
static void ring_put(struct vsock_conn *c, const struct iovec *iov, unsigned niov, uint64_t off, uint32_t len)
{
	uint32_t mask = VSOCK_CONN_BUF - 1;

	for (unsigned i = 0; i < niov && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		const uint8_t *p = (const uint8_t *)iov[i].iov_base + off;
		uint64_t n = iov[i].iov_len - off;
		if (n > len)
			n = len;
		off = 0;
		while (n) {
			uint32_t at = c->rx_cnt & mask;
			uint32_t chunk = VSOCK_CONN_BUF - at < n ? VSOCK_CONN_BUF - at : (uint32_t)n;
			memcpy(c->buf + at, p, chunk);
			c->rx_cnt += chunk;
			p += chunk;
			n -= chunk;
			len -= chunk;
		}
	}
}

/* The part [off, off + len) of iov as at most cap iovecs. */
static unsigned slice(const struct iovec *iov, unsigned niov, uint64_t off, uint64_t len,
		      struct iovec *out, unsigned cap)
{
	unsigned n = 0;

	for (unsigned i = 0; i < niov && len && n < cap; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		uint64_t l = iov[i].iov_len - off;
		if (l > len)
			l = len;
		out[n++] = (struct iovec){ (uint8_t *)iov[i].iov_base + off, l };
		len -= l;
		off = 0;
	}
	return n;
}

int vsock_conn_from_guest(struct virtio_vsock *vs, struct vsock_conn *c, const struct iovec *iov,
			  unsigned niov, uint64_t off, uint32_t len)
{
	uint32_t sent = 0;

	if (len > VSOCK_CONN_BUF - vsock_conn_buffered(c)) {
		vs->stats.credit_violations++;
		return -ENOBUFS;	/* the guest ignored our buf_alloc */
	}
	if (c->hup)
		return -EPIPE;
	/* Nothing queued: straight from guest memory to the socket. */
	if (vsock_conn_buffered(c) == 0) {
		struct iovec part[VSOCK_QUEUE_SIZE];
		unsigned n = slice(iov, niov, off, len, part, VSOCK_QUEUE_SIZE);
		ssize_t w = n ? send_iov(c->fd, part, n) : 0;
		if (w < 0)
			return (int)w;
		sent = (uint32_t)w;
		c->rx_cnt += sent;
		c->fwd_cnt += sent;
		vs->stats.bytes_from_guest += sent;
	}
	if (sent < len) {
		if (!c->buf && !(c->buf = malloc(VSOCK_CONN_BUF)))
			return -ENOMEM;
		ring_put(c, iov, niov, off + sent, len - sent);
	}
	maybe_credit_update(c);
	after_drain(c);
	vsock_conn_rearm(vs, c);
	return 0;
}
