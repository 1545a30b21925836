/*
 * Two dialects share the API socket; the first byte a client sends says
 * which: an HTTP method token starts with an upper-case letter (GET, PUT),
 * a JSON-RPC request with '{' (or white space, or anything else). The byte
 * is only peeked at: the dialect's reader then sees the whole stream, and
 * SCM_RIGHTS fds stay queued with it (a peek without a control buffer does
 * not consume them). Both dialects are client-first, so a connection that
 * sends nothing is only waited for, like an idle one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>
#include "vmm/api/internal.h"

struct api_sniff {
	TAILQ_ENTRY(api_sniff) link;
	struct api_server *srv;
	struct event *ev;
	int fd;
};

static void sniff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_sniff *s = arg;
	struct api_server *srv = s->srv;
	unsigned char c;
	ssize_t n;
	int rc;

	(void)what;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	TAILQ_REMOVE(&srv->sniffs, s, link);
	event_free(s->ev);
	free(s);
	srv->nconns--;
	if (n <= 0) {
		close(fd);
		return;
	}
	if (c >= 'A' && c <= 'Z')
		rc = api_http_accept(srv, fd);
	else
		rc = api_conn_accept(srv, fd);
	if (rc < 0)
		vm_api_log(srv->ops, srv->vm, "api: out of memory, client refused");
}

int api_sniff_accept(struct api_server *srv, int fd)
{
	struct api_sniff *s = calloc(1, sizeof(*s));

	if (s)
		s->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, sniff_cb, s);
	if (!s || !s->ev || event_add(s->ev, NULL) < 0) {
		if (s && s->ev)
			event_free(s->ev);
		free(s);
		close(fd);
		return -ENOMEM;
	}
	s->srv = srv;
	s->fd = fd;
	TAILQ_INSERT_TAIL(&srv->sniffs, s, link);
	srv->nconns++;
	return 0;
}

void api_sniff_drop_all(struct api_server *srv)
{
	while (!TAILQ_EMPTY(&srv->sniffs)) {
		struct api_sniff *s = TAILQ_FIRST(&srv->sniffs);

		TAILQ_REMOVE(&srv->sniffs, s, link);
		event_free(s->ev);
		close(s->fd);
		free(s);
		srv->nconns--;
	}
}
