/*
 * One REST client connection. Requests are read with recvmsg() so that the
 * fds a client passes as SCM_RIGHTS (vm.add-net's tap) arrive with the
 * bytes they belong to; replies go out through a bufferevent. Handlers
 * answer at once, so pipelined requests are answered in order. Nothing
 * blocks: a request must be complete within HTTP_REQUEST_TIMEOUT_S of its
 * first byte, and a client that stops reading is dropped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "vmm/api/internal.h"

#define READS_PER_WAKEUP 16

struct http_conn {
	TAILQ_ENTRY(http_conn) link;
	struct api_server *srv;
	int fd;
	struct event *rd, *timer;
	struct bufferevent *bev;	/* output only */
	struct http_framer fr;
	bool closing;			/* no more requests: close once the output is out */
	bool in_read, dead;
	int last_status;		/* of the last reply, for the log */
};

static void conn_free(struct http_conn *c)
{
	http_framer_fini(&c->fr);
	if (c->rd)
		event_free(c->rd);
	if (c->timer)
		event_free(c->timer);
	if (c->bev)
		bufferevent_free(c->bev);	/* closes fd */
	else
		close(c->fd);
	free(c);
}

static void conn_drop(struct http_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	TAILQ_REMOVE(&c->srv->http_conns, c, link);
	c->srv->nconns--;
	if (!c->in_read)
		conn_free(c);
}

static void check_closing(struct http_conn *c)
{
	if (!c->dead && c->closing &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_drop(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	check_closing(arg);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	conn_drop(arg);		/* write error or write timeout */
}

static void stop_reading(struct http_conn *c)
{
	const struct timeval tv = { API_DRAIN_TIMEOUT_S, 0 };

	c->closing = true;
	event_del(c->rd);
	event_del(c->timer);
	bufferevent_set_timeouts(c->bev, NULL, &tv);
}

void api_http_reply(struct http_conn *c, int status, const char *ctype, const char *body,
		    size_t len, bool close_after)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char head[256];
	int n;

	if (c->dead)
		return;
	c->last_status = status;
	if (status == 204 || !body)
		len = 0;
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
	if (ctype && len)
		n += snprintf(head + n, sizeof(head) - n, "Content-Type: %s\r\n", ctype);
	if (status != 204)
		n += snprintf(head + n, sizeof(head) - n, "Content-Length: %zu\r\n", len);
	if (close_after)
		n += snprintf(head + n, sizeof(head) - n, "Connection: close\r\n");
	n += snprintf(head + n, sizeof(head) - n, "\r\n");
	if (evbuffer_get_length(out) + (size_t)n + len > API_MAX_OUTPUT_BYTES ||
	    evbuffer_add(out, head, (size_t)n) < 0 || (len && evbuffer_add(out, body, len) < 0)) {
		conn_drop(c);
		return;
	}
	if (close_after)
		stop_reading(c);
}

void api_http_reply_error(struct http_conn *c, int status, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(text) - 2)
		n = sizeof(text) - 2;
	text[n++] = '\n';
	api_http_reply(c, status, "text/plain", text, (size_t)n, false);
}

void api_http_flush(struct http_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (!c->dead && evbuffer_get_length(out) > 0)
		(void)evbuffer_write(out, c->fd);
}

static void on_request(void *arg, struct http_request *req)
{
	struct http_conn *c = arg;

	if (c->dead || c->closing)
		return;
	api_rest_handle(c->srv, c, req);
	if (c->srv->verbosity)
		vm_api_log(c->srv->ops, c->srv->vm, "api: %s %s -> %d", http_method_str(req->method),
			   req->url, c->last_status);
	if (!req->keep_alive && !c->dead && !c->closing)
		stop_reading(c);
}

static void on_continue(void *arg)
{
	struct http_conn *c = arg;
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (!c->dead && bufferevent_write(c->bev, cont, sizeof(cont) - 1) < 0)
		conn_drop(c);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)fd;
	(void)what;
	api_http_reply(c, 408, "text/plain", "request not complete in time\n", 29, true);
	check_closing(c);
}

/* Every fd in the message's SCM_RIGHTS goes to the request being read. */
static void take_fds(struct http_conn *c, struct msghdr *msg)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		unsigned n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[64];

		if (n > 64)
			n = 64;
		memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
		http_framer_add_fds(&c->fr, fds, n);
	}
}

static void read_once(struct http_conn *c, bool *again)
{
	char buf[4096];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * HTTP_MAX_FDS)];
	} ctl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	const struct timeval tv = { c->srv->http_timeout_ms / 1000, (c->srv->http_timeout_ms % 1000) * 1000 };
	ssize_t n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	int rc;

	*again = false;
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_drop(c);
		return;
	}
	take_fds(c, &msg);
	if (n == 0) {
		stop_reading(c);	/* the client is done sending: answer, then close */
		check_closing(c);
		return;
	}
	if (!c->fr.in_message && !evtimer_pending(c->timer, NULL))
		evtimer_add(c->timer, &tv);
	rc = http_framer_feed(&c->fr, buf, (size_t)n);
	if (c->dead || c->closing)
		return;
	if (rc) {
		char text[160];
		int len = snprintf(text, sizeof(text), "%s\n", c->fr.error ? c->fr.error : "bad request");

		api_http_reply(c, rc, "text/plain", text, (size_t)len, true);
		check_closing(c);
		return;
	}
	if (!c->fr.in_message)
		event_del(c->timer);	/* between requests a kept-alive client may idle */
	*again = (size_t)n == sizeof(buf);
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	bool again = true;

	(void)fd;
	(void)what;
	c->in_read = true;
	for (int i = 0; i < READS_PER_WAKEUP && again && !c->dead && !c->closing; i++)
		read_once(c, &again);
	c->in_read = false;
	if (c->dead)
		conn_free(c);
	else
		check_closing(c);
}

int api_http_accept(struct api_server *srv, int fd)
{
	struct http_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->srv = srv;
	c->fd = fd;
	http_framer_init(&c->fr, on_request, on_continue, c);
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->rd = event_new(srv->base, fd, EV_READ | EV_PERSIST, read_cb, c);
	c->timer = evtimer_new(srv->base, timeout_cb, c);
	if (!c->bev || !c->rd || !c->timer || event_add(c->rd, NULL) < 0) {
		conn_free(c);
		return -ENOMEM;
	}
	bufferevent_setcb(c->bev, NULL, write_cb, event_cb, c);
	bufferevent_disable(c->bev, EV_READ);
	TAILQ_INSERT_TAIL(&srv->http_conns, c, link);
	srv->nconns++;
	return 0;
}

void api_http_drop_all(struct api_server *srv)
{
	while (!TAILQ_EMPTY(&srv->http_conns)) {
		struct http_conn *c = TAILQ_FIRST(&srv->http_conns);

		api_http_flush(c);
		conn_drop(c);
	}
}
