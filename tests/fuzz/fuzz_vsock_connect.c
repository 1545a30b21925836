/*
 * The hybrid-vsock CONNECT line parser against arbitrary client bytes. The
 * parser's verdict must not depend on how the bytes were split into reads:
 * every prefix of an accepted line is "need more", every prefix of a
 * refused input is "need more" or refused, and an accepted line round-trips
 * through printf.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/vsock_connect.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant: %s\n", #c); __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	uint32_t port = 0;
	size_t line = 0;
	int r = vsock_connect_parse(buf, size, &port, &line);

	CHECK(r == 1 || r == 0 || r == -EINVAL);
	if (r == 1) {
		char again[VSOCK_CONNECT_MAX + 1];
		CHECK(line >= 10 && line <= size && line <= VSOCK_CONNECT_MAX);
		CHECK(buf[line - 1] == '\n' && !memchr(buf, '\n', line - 1));
		CHECK(port <= VSOCK_PORT_MAX);
		int n = snprintf(again, sizeof(again), "CONNECT %u\n", port);
		CHECK((size_t)n == line && !memcmp(again, buf, line));
	}
	if (r == 0)
		CHECK(size < VSOCK_CONNECT_MAX && !memchr(buf, '\n', size));
	/* The same answer, or "need more", for every shorter read. */
	for (size_t k = 0; k < size && k <= VSOCK_CONNECT_MAX; k++) {
		uint32_t p2;
		size_t l2;
		int r2 = vsock_connect_parse(buf, k, &p2, &l2);
		if (r == 1)
			CHECK(k >= line ? (r2 == 1 && p2 == port && l2 == line) : r2 == 0);
		else if (r == -EINVAL)
			CHECK(r2 == 0 || r2 == -EINVAL);
		else
			CHECK(r2 == 0);
	}
	return 0;
}
