#include "devices/virtio/vsock_connect.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char word[] = "CONNECT ";

int vsock_connect_parse(const char *buf, size_t len, uint32_t *port, size_t *line_len)
{
	size_t wl = sizeof(word) - 1, i;
	uint64_t v = 0;

	/* The fixed word, as far as we have it. */
	if (memcmp(buf, word, len < wl ? len : wl))
		return -EINVAL;
	if (len <= wl)
		return 0;
	for (i = wl; i < len && i < VSOCK_CONNECT_MAX; i++) {
		char c = buf[i];
		if (c == '\n')
			break;
		if (c < '0' || c > '9')
			return -EINVAL;
		if (i == wl + 1 && buf[wl] == '0')
			return -EINVAL;		/* no leading zeros: one spelling per port */
		v = v * 10 + (uint64_t)(c - '0');
		if (v > VSOCK_PORT_MAX)
			return -EINVAL;		/* also stops any overflow: at most 11 digits get here */
	}
	if (i == VSOCK_CONNECT_MAX)
		return -EINVAL;
	if (i == len)
		return 0;
	if (i == wl)
		return -EINVAL;			/* "CONNECT \n": no port */
	*port = (uint32_t)v;
	*line_len = i + 1;
	return 1;
}

size_t vsock_connect_reply(char *out, size_t outlen, uint32_t host_port)
{
	int n = snprintf(out, outlen, "OK %u\n", host_port);
	return n < 0 ? 0 : (size_t)n < outlen ? (size_t)n : outlen - 1;
}
