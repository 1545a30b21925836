/* vmmctl's blocking connection: one JSON value per line each way. */
#ifndef CLI_VMMCTL_CLIENT_H
#define CLI_VMMCTL_CLIENT_H

#include <stddef.h>
#include <json-c/json.h>
#include "compiler.h"

#define VMMCTL_MAX_LINE (16 * 1024 * 1024)

struct vmmctl_conn {
	int fd;
	char *buf;
	size_t len, cap;
};

/* 0 or -errno (connect failures: the caller exits with VMMCTL_EXIT_CONNECT). */
int vmmctl_connect(struct vmmctl_conn *c, const char *path) WUR;
void vmmctl_close(struct vmmctl_conn *c);
int vmmctl_send(struct vmmctl_conn *c, json_object *msg) WUR;
/* Bytes exactly as given (no newline added). */
int vmmctl_send_raw(struct vmmctl_conn *c, const char *data, size_t len) WUR;
/* Next line as JSON into *out. timeout_ms < 0 waits forever. -ETIMEDOUT,
 * -ECONNRESET when the server closed, -EBADMSG for a bad line, -errno. */
int vmmctl_recv(struct vmmctl_conn *c, int timeout_ms, json_object **out) WUR;

#endif
