/*
 * JSON-RPC 2.0 envelope: validate a request line, dispatch it to its
 * method, and send the reply when the method completes the call.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/api/internal.h"

struct api_method {
	const char *name;
	void (*handler)(struct api_call *call, json_object *params);
};

static const struct api_method methods[] = {
	{ "vm.info", api_method_vm_info },
	{ "vm.pause", api_method_vm_pause },
	{ "vm.resume", api_method_vm_resume },
	{ "vm.shutdown", api_method_vm_shutdown },
	{ "cpu.list", api_method_cpu_list },
	{ "cpu.add", api_method_cpu_add },
	{ "cpu.remove", api_method_cpu_remove },
	{ "cpu.resize", api_method_cpu_resize },
	{ "events.subscribe", api_method_events_subscribe },
};

static json_object *envelope(json_object *id)
{
	json_object *msg = json_object_new_object();

	if (!msg)
		return NULL;
	json_object_object_add(msg, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(msg, "id", json_object_get(id));
	return msg;
}

/* An error for a request we could not turn into a call (id may be NULL). */
static void send_error(struct api_conn *conn, json_object *id, int code, const char *text)
{
	json_object *msg = envelope(id);

	if (!msg)
		return;
	json_object_object_add(msg, "error", api_error_new(code, text, NULL));
	if (api_conn_send(conn, msg) == 0)
		api_conn_check_drained(conn);
	json_object_put(msg);
}

static void call_finish(struct api_call *call, const char *key, json_object *payload)
{
	struct api_conn *conn = call->conn;
	json_object *msg;

	if (conn)
		TAILQ_REMOVE(&conn->calls, call, link);
	if (conn && call->want_reply && (msg = envelope(call->id))) {
		json_object_object_add(msg, key, payload);
		payload = NULL;
		if (api_conn_send(conn, msg) == 0)
			api_conn_check_drained(conn);
		json_object_put(msg);
	} else if (conn) {
		api_conn_check_drained(conn);
	}
	json_object_put(payload);
	json_object_put(call->id);
	free(call);
}

void api_call_reply(struct api_call *call, json_object *result)
{
	call_finish(call, "result", result);
}

void api_call_fail(struct api_call *call, json_object *error)
{
	if (!error)
		error = api_error_new(RPC_INTERNAL_ERROR, "out of memory", NULL);
	call_finish(call, "error", error);
}

void api_call_fail_code(struct api_call *call, int code, const char *msg)
{
	api_call_fail(call, api_error_new(code, msg, NULL));
}

void api_call_fail_vm(struct api_call *call, int rc, json_object *data)
{
	api_call_fail(call, api_error_from_vm(rc, data));
}

void api_calls_detach(struct api_conn *conn)
{
	struct api_call *call;

	while ((call = TAILQ_FIRST(&conn->calls))) {
		TAILQ_REMOVE(&conn->calls, call, link);
		call->conn = NULL;
	}
}

static json_object *parse_line(const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *obj;
	size_t end;

	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!obj && json_tokener_get_error(tok) == json_tokener_continue) {
		/* A bare number only ends at a delimiter: supply the newline. */
		obj = json_tokener_parse_ex(tok, "\n", 1);
		end = len;
	}
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(obj);
		obj = NULL;
	}
	/* One value per line: anything but whitespace after it is an error. */
	for (; obj && end < len; end++) {
		if (!isspace((unsigned char)line[end])) {
			json_object_put(obj);
			obj = NULL;
		}
	}
	json_tokener_free(tok);
	return obj;
}

static bool valid_id(json_object *id)
{
	/* JSON null, an integer or a string; fractions and structures are not. */
	return !id || json_object_is_type(id, json_type_int) ||
	       json_object_is_type(id, json_type_string);
}

static void handle_request(struct api_conn *conn, json_object *req)
{
	json_object *id = NULL, *version, *method, *params = NULL;
	bool has_id = false;
	struct api_call *call;
	const char *name;
	size_t i;

	if (!json_object_is_type(req, json_type_object)) {
		send_error(conn, NULL, RPC_INVALID_REQUEST, "request is not a JSON object");
		return;
	}
	has_id = json_object_object_get_ex(req, "id", &id);
	if (!valid_id(id)) {
		send_error(conn, NULL, RPC_INVALID_REQUEST, "id must be an integer, a string or null");
		return;
	}
	if (!json_object_object_get_ex(req, "jsonrpc", &version) ||
	    !json_object_is_type(version, json_type_string) ||
	    strcmp(json_object_get_string(version), "2.0") != 0) {
		send_error(conn, id, RPC_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
		return;
	}
	if (!json_object_object_get_ex(req, "method", &method) ||
	    !json_object_is_type(method, json_type_string)) {
		send_error(conn, id, RPC_INVALID_REQUEST, "method must be a string");
		return;
	}
	json_object_object_get_ex(req, "params", &params);
	name = json_object_get_string(method);
	for (i = 0; i < ARRAY_SIZE(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
			break;
	if (i == ARRAY_SIZE(methods)) {
		if (has_id)
			send_error(conn, id, RPC_METHOD_NOT_FOUND, "unknown method");
		return;
	}
	call = calloc(1, sizeof(*call));
	if (!call) {
		if (has_id)
			send_error(conn, id, RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	call->srv = conn->srv;
	call->conn = conn;
	call->id = json_object_get(id);
	call->want_reply = has_id;
	TAILQ_INSERT_TAIL(&conn->calls, call, link);
	methods[i].handler(call, params);
}

void api_rpc_handle_line(struct api_conn *conn, const char *line, size_t len)
{
	json_object *req;
	size_t i;

	for (i = 0; i < len && isspace((unsigned char)line[i]); i++)
		;
	if (i == len)
		return;		/* blank lines are keep-alives */
	req = parse_line(line, len);
	if (!req) {
		send_error(conn, NULL, RPC_PARSE_ERROR, "parse error: not valid JSON");
		return;
	}
	if (json_object_is_type(req, json_type_array))
		send_error(conn, NULL, RPC_INVALID_REQUEST, "batch requests are not supported");
	else
		handle_request(conn, req);
	json_object_put(req);
}
