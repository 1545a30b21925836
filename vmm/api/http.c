#include "vmm/api/http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static struct http_framer *F(http_parser *p)
{
	return p->data;
}

static int fail(struct http_framer *f, int status, const char *why)
{
	f->error_status = status;
	f->error = why;
	return 1;	/* stops the parser */
}

static void close_fds(struct http_request *r)
{
	for (unsigned i = 0; i < r->nfds; i++) {
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	}
	r->nfds = 0;
}

static void reset_request(struct http_framer *f)
{
	close_fds(&f->req);
	free(f->req.body);
	memset(&f->req, 0, sizeof(f->req));
	f->body_cap = 0;
	f->header_bytes = 0;
	f->field_len = f->value_len = 0;
	f->field[0] = f->value[0] = 0;
	f->field_done = false;
	f->expect_continue = false;
}

static int on_begin(http_parser *p)
{
	F(p)->in_message = true;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct http_framer *f = F(p);

	if (len > HTTP_MAX_URL - f->req.url_len)
		return fail(f, 414, "request URL too long");
	memcpy(f->req.url + f->req.url_len, at, len);
	f->req.url_len += len;
	f->req.url[f->req.url_len] = 0;
	return 0;
}

static int count_header(struct http_framer *f, size_t len)
{
	if (len > HTTP_MAX_HEADER_BYTES - f->header_bytes)
		return fail(f, 431, "request headers too large");
	f->header_bytes += len;
	return 0;
}

/* A header is complete: note the ones that matter to the framing. */
static void header_done(struct http_framer *f)
{
	if (!strcasecmp(f->field, "expect") && !strcasecmp(f->value, "100-continue"))
		f->expect_continue = true;
	f->field_len = f->value_len = 0;
	f->field[0] = f->value[0] = 0;
	f->field_done = false;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	struct http_framer *f = F(p);

	if (f->field_done)
		header_done(f);
	for (size_t i = 0; i < len && f->field_len < sizeof(f->field) - 1; i++)
		f->field[f->field_len++] = at[i];
	f->field[f->field_len] = 0;
	return count_header(f, len);
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	struct http_framer *f = F(p);

	f->field_done = true;
	for (size_t i = 0; i < len && f->value_len < sizeof(f->value) - 1; i++)
		f->value[f->value_len++] = at[i];
	f->value[f->value_len] = 0;
	return count_header(f, len);
}

static int on_headers_complete(http_parser *p)
{
	struct http_framer *f = F(p);

	if (f->field_done)
		header_done(f);
	/* A declared length over the cap is refused before any body arrives. */
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > HTTP_MAX_BODY) {
		(void)fail(f, 413, "request body too large");
		return -1;	/* 1 would mean "no body" here: any other value is an error */
	}
	if (f->expect_continue && f->on_continue)
		f->on_continue(f->arg);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct http_framer *f = F(p);
	size_t need;

	if (len > HTTP_MAX_BODY - f->req.body_len)
		return fail(f, 413, "request body too large");
	need = f->req.body_len + len + 1;
	if (need > f->body_cap) {
		size_t cap = f->body_cap ? f->body_cap : 1024;
		char *b;

		while (cap < need)
			cap *= 2;
		b = realloc(f->req.body, cap);
		if (!b)
			return fail(f, 413, "out of memory for the request body");
		f->req.body = b;
		f->body_cap = cap;
	}
	memcpy(f->req.body + f->req.body_len, at, len);
	f->req.body_len += len;
	f->req.body[f->req.body_len] = 0;
	return 0;
}

static int on_complete(http_parser *p)
{
	struct http_framer *f = F(p);

	f->req.method = (enum http_method)p->method;
	f->req.keep_alive = http_should_keep_alive(p);
	f->in_message = false;
	f->on_request(f->arg, &f->req);
	reset_request(f);
	return 0;
}

void http_framer_init(struct http_framer *f, http_request_fn on_request,
		      http_continue_fn on_continue, void *arg)
{
	memset(f, 0, sizeof(*f));
	http_parser_init(&f->parser, HTTP_REQUEST);
	f->parser.data = f;
	f->settings.on_message_begin = on_begin;
	f->settings.on_url = on_url;
	f->settings.on_header_field = on_field;
	f->settings.on_header_value = on_value;
	f->settings.on_headers_complete = on_headers_complete;
	f->settings.on_body = on_body;
	f->settings.on_message_complete = on_complete;
	f->on_request = on_request;
	f->on_continue = on_continue;
	f->arg = arg;
}

void http_framer_fini(struct http_framer *f)
{
	reset_request(f);
}

int http_framer_feed(struct http_framer *f, const char *data, size_t len)
{
	size_t used;

	if (f->error_status)
		return f->error_status;
	if (len == 0)
		return 0;
	used = http_parser_execute(&f->parser, &f->settings, data, len);
	if (f->error_status)
		return f->error_status;
	if (HTTP_PARSER_ERRNO(&f->parser) != HPE_OK || used != len) {
		f->error_status = 400;
		f->error = http_errno_description(HTTP_PARSER_ERRNO(&f->parser));
		return 400;
	}
	return 0;
}

void http_framer_add_fds(struct http_framer *f, const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (f->req.nfds < HTTP_MAX_FDS)
			f->req.fds[f->req.nfds++] = fds[i];
		else
			close(fds[i]);
	}
}

const char *http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	}
	return "Error";
}
