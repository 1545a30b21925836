/*
 * One client connection: newline-delimited JSON in, bounded output out.
 * Nothing here blocks: a client that stops reading is dropped once its
 * backlog passes API_MAX_OUTPUT_BYTES.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "vmm/api/internal.h"

static void conn_free(struct api_conn *conn)
{
	bufferevent_free(conn->bev);
	free(conn);
}

void api_conn_drop(struct api_conn *conn)
{
	if (conn->dead)
		return;
	conn->dead = true;
	api_calls_detach(conn);
	TAILQ_REMOVE(&conn->srv->conns, conn, link);
	conn->srv->nconns--;
	bufferevent_disable(conn->bev, EV_READ | EV_WRITE);
	if (!conn->in_read)
		conn_free(conn);
}

void api_conn_flush(struct api_conn *conn)
{
	struct evbuffer *out = bufferevent_get_output(conn->bev);

	if (!conn->dead && evbuffer_get_length(out) > 0)
		(void)evbuffer_write(out, bufferevent_getfd(conn->bev));
}

int api_conn_send(struct api_conn *conn, json_object *msg)
{
	struct evbuffer *out = bufferevent_get_output(conn->bev);
	size_t len;
	const char *s = json_object_to_json_string_length(
		msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	if (conn->dead)
		return -ECONNRESET;
	if (!s || evbuffer_get_length(out) + len + 1 > API_MAX_OUTPUT_BYTES ||
	    bufferevent_write(conn->bev, s, len) < 0 || bufferevent_write(conn->bev, "\n", 1) < 0) {
		api_conn_drop(conn);
		return -ECONNRESET;
	}
	return 0;
}

void api_conn_check_drained(struct api_conn *conn)
{
	if (conn->dead || !conn->draining || !TAILQ_EMPTY(&conn->calls))
		return;
	if (evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
		api_conn_drop(conn);
	/* else conn_write_cb closes it once the output is flushed */
}

static void start_draining(struct api_conn *conn)
{
	const struct timeval tv = { API_DRAIN_TIMEOUT_S, 0 };

	conn->draining = true;
	conn->subscribed = false;
	bufferevent_disable(conn->bev, EV_READ);
	bufferevent_set_timeouts(conn->bev, NULL, &tv);
}

/* Refuse and hang up: the rest of the stream cannot be framed reliably. */
static void refuse_oversized(struct api_conn *conn)
{
	json_object *msg = json_object_new_object();
	char text[64];

	api_calls_detach(conn);
	start_draining(conn);
	snprintf(text, sizeof(text), "request exceeds %d bytes", API_MAX_REQUEST_BYTES);
	if (msg) {
		json_object_object_add(msg, "jsonrpc", json_object_new_string("2.0"));
		json_object_object_add(msg, "id", NULL);
		json_object_object_add(msg, "error", api_error_new(RPC_INVALID_REQUEST, text, NULL));
	}
	if (!msg || api_conn_send(conn, msg) == 0)
		api_conn_check_drained(conn);
	json_object_put(msg);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct api_conn *conn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	conn->in_read = true;
	while (!conn->dead && !conn->draining) {
		size_t eol_len;
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		size_t len = eol.pos < 0 ? evbuffer_get_length(in) : (size_t)eol.pos;
		const char *line;

		if (len > API_MAX_REQUEST_BYTES) {
			refuse_oversized(conn);
			break;
		}
		if (eol.pos < 0)
			break;		/* wait for the rest of the line */
		line = (const char *)evbuffer_pullup(in, eol.pos + eol_len);
		if (!line) {
			api_conn_drop(conn);
			break;
		}
		api_rpc_handle_line(conn, line, len);
		if (!conn->dead)
			evbuffer_drain(in, len + eol_len);
	}
	conn->in_read = false;
	if (conn->dead)
		conn_free(conn);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	api_conn_check_drained(arg);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct api_conn *conn = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF) {
		/* Half-closed (e.g. `socat` after stdin ends): still answer. */
		start_draining(conn);
		api_conn_check_drained(conn);
		return;
	}
	api_conn_drop(conn);	/* error or drain timeout */
}

int api_conn_accept(struct api_server *srv, int fd)
{
	struct api_conn *conn = calloc(1, sizeof(*conn));

	if (conn)
		conn->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!conn || !conn->bev) {
		free(conn);
		close(fd);
		return -ENOMEM;
	}
	conn->srv = srv;
	TAILQ_INIT(&conn->calls);
	bufferevent_setcb(conn->bev, conn_read_cb, conn_write_cb, conn_event_cb, conn);
	/* Stop reading a client that floods us faster than whole lines arrive. */
	bufferevent_setwatermark(conn->bev, EV_READ, 0, API_MAX_REQUEST_BYTES + 2);
	if (bufferevent_enable(conn->bev, EV_READ) < 0) {
		bufferevent_free(conn->bev);
		free(conn);
		return -ENOMEM;
	}
	TAILQ_INSERT_TAIL(&srv->conns, conn, link);
	srv->nconns++;
	return 0;
}
