/*
 * HTTP/1.1 request framing for the REST dialect, on Debian's http-parser:
 * bytes in, whole requests out, with hard limits. Pure (no sockets), so the
 * libFuzzer target and the unit tests drive it directly.
 */
#ifndef VMM_API_HTTP_H
#define VMM_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <http_parser.h>
#include "compiler.h"

#define HTTP_MAX_URL		1024
#define HTTP_MAX_HEADER_BYTES	(8 * 1024)	/* names and values together */
#define HTTP_MAX_BODY		(64 * 1024)
#define HTTP_MAX_FDS		8		/* SCM_RIGHTS fds kept per request */
#define HTTP_REQUEST_TIMEOUT_S	10		/* first byte to last byte of a request */

struct http_request {
	enum http_method method;
	char url[HTTP_MAX_URL + 1];
	size_t url_len;
	char *body;		/* NUL-terminated; NULL if empty */
	size_t body_len;
	bool keep_alive;
	int fds[HTTP_MAX_FDS];	/* received with the request; the handler may take them (-1) */
	unsigned nfds;
};

/* Called for each complete request; the request is reset afterwards. */
typedef void (*http_request_fn)(void *arg, struct http_request *req);
/* The client sent "Expect: 100-continue": answer before the body. */
typedef void (*http_continue_fn)(void *arg);

struct http_framer {
	http_parser parser;
	http_parser_settings settings;
	struct http_request req;
	size_t body_cap;
	size_t header_bytes;
	char field[16];		/* the header being read, truncated: name and value */
	size_t field_len;
	char value[16];
	size_t value_len;
	bool field_done, expect_continue;
	bool in_message;	/* between the first byte and the last of a request */
	int error_status;	/* 0, or the 4xx that ended the stream */
	const char *error;
	http_request_fn on_request;
	http_continue_fn on_continue;
	void *arg;
};

void http_framer_init(struct http_framer *f, http_request_fn on_request,
		      http_continue_fn on_continue, void *arg);
/* Closes the fds still held and frees the body. */
void http_framer_fini(struct http_framer *f);
/*
 * Feed bytes. Returns 0, or a 4xx status once the stream cannot go on
 * (f->error says why); later calls return the same status.
 */
int http_framer_feed(struct http_framer *f, const char *data, size_t len) WUR;
/* fds received on the socket go to the request being read (extra ones are closed). */
void http_framer_add_fds(struct http_framer *f, const int *fds, unsigned n);
/* The reason phrase of a status we send. */
const char *http_status_text(int status);

#endif
