/*
 * vmmctl: the command line, the request it becomes, and how replies and
 * events are printed. Pure functions, unit-tested; vmmctl.c does the I/O.
 */
#ifndef CLI_VMMCTL_CMD_H
#define CLI_VMMCTL_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>
#include "compiler.h"

/* Exit statuses. */
#define VMMCTL_EXIT_OK		0
#define VMMCTL_EXIT_API		1	/* the server answered with an error, or broke off */
#define VMMCTL_EXIT_USAGE	2
#define VMMCTL_EXIT_CONNECT	3

#define VMMCTL_REPLY_MS		10000	/* default wait for an immediate reply */
#define VMMCTL_GUEST_MARGIN_MS	5000	/* beyond timeout_ms for cpu add/remove */

enum vmmctl_op {
	VMMCTL_INFO, VMMCTL_CPU_LIST, VMMCTL_CPU_ADD, VMMCTL_CPU_REMOVE, VMMCTL_CPU_RESIZE,
	VMMCTL_PAUSE, VMMCTL_RESUME, VMMCTL_SHUTDOWN, VMMCTL_EVENTS,
	VMMCTL_CALL,		/* any method with JSON params */
	VMMCTL_SEND,		/* one raw line, for protocol debugging */
};

struct vmmctl_cmd {
	const char *socket;
	bool json, no_wait, help, version;
	int timeout_ms;		/* -1: the server's default */
	enum vmmctl_op op;
	int id;			/* cpu add/remove; -1: none given */
	int count;		/* cpu resize */
	int resize_steps;	/* cpu resize: CPUs to add or remove (vm.info); -1 unknown */
	const char *method;	/* call */
	const char *params;	/* call: JSON text, NULL for none */
	const char *line;	/* send */
};

/* 0, or -EINVAL with a one-line reason in err (help/version need no command). */
int vmmctl_parse(int argc, char *argv[], struct vmmctl_cmd *cmd, char *err, size_t errlen) WUR;
void vmmctl_usage(FILE *f);
/* The JSON-RPC request for cmd (not for send), or NULL when out of memory. */
json_object *vmmctl_request(const struct vmmctl_cmd *cmd, int id);
/*
 * How long to wait for the reply in ms, -1 for no limit (events only).
 * cpu resize: one guest timeout per step, plus one, plus a margin.
 */
int vmmctl_reply_deadline_ms(const struct vmmctl_cmd *cmd);
/* Print a successful result / one notification; -EIO on a write error. */
int vmmctl_print_result(const struct vmmctl_cmd *cmd, json_object *result, FILE *out) WUR;
int vmmctl_print_event(const struct vmmctl_cmd *cmd, json_object *msg, FILE *out) WUR;
/* "vmmctl: <message>", plus the error's data on a second line if any. */
void vmmctl_print_error(json_object *error, FILE *out);

#endif
