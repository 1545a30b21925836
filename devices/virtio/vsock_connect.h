/*
 * The hybrid-vsock handshake line a host program sends on the device's
 * unix socket: "CONNECT <port>\n" (ASCII decimal, LF only), answered with
 * "OK <host_port>\n" once the guest accepted. The line is untrusted input:
 * bounded length, digits only, a port the guest can listen on.
 */
#ifndef DEVICES_VIRTIO_VSOCK_CONNECT_H
#define DEVICES_VIRTIO_VSOCK_CONNECT_H

#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

/* Longest line accepted: "CONNECT 4294967294\n" is 19 bytes. */
#define VSOCK_CONNECT_MAX	32
#define VSOCK_PORT_MAX		0xfffffffeu	/* 0xffffffff is VMADDR_PORT_ANY */

/*
 * Look at the first len bytes a client sent (not NUL-terminated).
 * 1: a complete, valid line; *port is set and *line_len counts its bytes
 *    including the '\n' (anything after it is stream data);
 * 0: a valid beginning, more bytes needed;
 * -EINVAL: not a CONNECT line (wrong word, non-digit, no digits, leading
 *    zero, out-of-range port, longer than VSOCK_CONNECT_MAX without '\n').
 */
int vsock_connect_parse(const char *buf, size_t len, uint32_t *port, size_t *line_len) WUR;

/* "OK <port>\n" into out (at least 16 bytes); returns its length. */
size_t vsock_connect_reply(char *out, size_t outlen, uint32_t host_port);

#endif
