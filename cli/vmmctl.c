/*
 * vmmctl: a synchronous command-line client for the VMM's JSON-RPC API
 * (docs/api.md). One request per run; "events" prints notifications until
 * the VMM closes the socket.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "cli/vmmctl_client.h"
#include "cli/vmmctl_cmd.h"

#define REQUEST_ID 1

static int fail(const char *what, int rc)
{
	fprintf(stderr, "vmmctl: %s: %s\n", what, strerror(-rc));
	return VMMCTL_EXIT_API;
}

/* Reads until the reply to REQUEST_ID; notifications before it go to events. */
static int await_reply(const struct vmmctl_cmd *cmd, struct vmmctl_conn *c, json_object **reply)
{
	json_object *msg, *id;
	int rc;

	for (;;) {
		rc = vmmctl_recv(c, vmmctl_reply_deadline_ms(cmd), &msg);
		if (rc)
			return rc;
		if (json_object_object_get_ex(msg, "id", &id) && json_object_get_int(id) == REQUEST_ID) {
			*reply = msg;
			return 0;
		}
		if (cmd->op == VMMCTL_EVENTS && vmmctl_print_event(cmd, msg, stdout) < 0)
			rc = -EIO;
		json_object_put(msg);
		if (rc)
			return rc;
	}
}

static int stream_events(const struct vmmctl_cmd *cmd, struct vmmctl_conn *c)
{
	json_object *msg;
	int rc;

	for (;;) {
		rc = vmmctl_recv(c, -1, &msg);
		if (rc == -ECONNRESET)
			return VMMCTL_EXIT_OK;	/* the VMM went away: the stream is over */
		if (rc)
			return fail("events", rc);
		rc = vmmctl_print_event(cmd, msg, stdout);
		json_object_put(msg);
		if (rc)
			return VMMCTL_EXIT_API;
	}
}

/* send: the line goes out as it is; whatever comes back first is printed raw. */
static int send_raw(const struct vmmctl_cmd *cmd, struct vmmctl_conn *c)
{
	json_object *reply, *part;
	size_t len = strlen(cmd->line);
	int rc = vmmctl_send_raw(c, cmd->line, len);

	if (rc == 0 && (len == 0 || cmd->line[len - 1] != '\n'))
		rc = vmmctl_send_raw(c, "\n", 1);
	if (rc)
		return fail("send", rc);
	rc = vmmctl_recv(c, vmmctl_reply_deadline_ms(cmd), &reply);
	if (rc)
		return fail("no reply", rc);
	printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN));
	rc = json_object_object_get_ex(reply, "error", &part) ? VMMCTL_EXIT_API : VMMCTL_EXIT_OK;
	json_object_put(reply);
	return rc;
}

/* cpu resize: how many CPUs it will add or remove, from vm.info (-1: unknown). */
static int resize_steps(const struct vmmctl_cmd *cmd, struct vmmctl_conn *c)
{
	struct vmmctl_cmd info = *cmd;
	json_object *req, *reply = NULL, *n;
	int steps = -1;

	info.op = VMMCTL_INFO;
	info.timeout_ms = -1;
	req = vmmctl_request(&info, REQUEST_ID);
	if (!req || vmmctl_send(c, req) || await_reply(&info, c, &reply)) {
		json_object_put(req);
		return -1;
	}
	json_object_put(req);
	if (json_object_object_get_ex(reply, "result", &n) &&
	    json_object_object_get_ex(n, "enabled_cpus", &n)) {
		int enabled = json_object_get_int(n);
		steps = enabled > cmd->count ? enabled - cmd->count : cmd->count - enabled;
	}
	json_object_put(reply);
	return steps;
}

static int run(const struct vmmctl_cmd *in, struct vmmctl_conn *c)
{
	struct vmmctl_cmd resize = *in;
	const struct vmmctl_cmd *cmd = in;

	if (in->op == VMMCTL_CPU_RESIZE) {
		resize.resize_steps = resize_steps(in, c);
		cmd = &resize;
	}
	json_object *req = vmmctl_request(cmd, REQUEST_ID), *reply = NULL, *part;
	int rc, status;

	if (!req)
		return fail("request", -ENOMEM);
	rc = vmmctl_send(c, req);
	json_object_put(req);
	if (rc)
		return fail("send", rc);
	rc = await_reply(cmd, c, &reply);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "vmmctl: no reply within %d ms (see --timeout)\n",
			vmmctl_reply_deadline_ms(cmd));
		return VMMCTL_EXIT_API;
	}
	if (rc)
		return fail("no reply", rc);
	if (json_object_object_get_ex(reply, "error", &part)) {
		vmmctl_print_error(part, stderr);
		status = VMMCTL_EXIT_API;
	} else {
		json_object_object_get_ex(reply, "result", &part);
		status = vmmctl_print_result(cmd, part, stdout) ? VMMCTL_EXIT_API : VMMCTL_EXIT_OK;
	}
	json_object_put(reply);
	if (status == VMMCTL_EXIT_OK && cmd->op == VMMCTL_EVENTS) {
		fflush(stdout);
		status = stream_events(cmd, c);
	}
	return status;
}

int main(int argc, char *argv[])
{
	struct vmmctl_cmd cmd;
	struct vmmctl_conn c;
	char err[256];
	int rc, status;

	if (vmmctl_parse(argc, argv, &cmd, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmmctl: %s\nTry 'vmmctl --help'.\n", err);
		return VMMCTL_EXIT_USAGE;
	}
	if (cmd.help) {
		vmmctl_usage(stdout);
		return VMMCTL_EXIT_OK;
	}
	if (cmd.version) {
		printf("vmmctl %s\n", VMM_VERSION);
		return VMMCTL_EXIT_OK;
	}
	signal(SIGPIPE, SIG_IGN);	/* a closed stdout pipe is an error, not death */
	rc = vmmctl_connect(&c, cmd.socket);
	if (rc) {
		fprintf(stderr, "vmmctl: cannot connect to %s: %s\n", cmd.socket, strerror(-rc));
		return VMMCTL_EXIT_CONNECT;
	}
	status = cmd.op == VMMCTL_SEND ? send_raw(&cmd, &c) : run(&cmd, &c);
	vmmctl_close(&c);
	if (fflush(stdout) != 0 && status == VMMCTL_EXIT_OK)
		status = VMMCTL_EXIT_API;
	return status;
}
