/* --vsock cid=N,socket=PATH: the virtio-vsock device with its hybrid vsock unix socket. */
#include "cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/vsock.h"

/* CIDs 0-2 are the hypervisor, local and host; 0xffffffff is VMADDR_CID_ANY. */
#define CID_MIN 3
#define CID_MAX 0xfffffffeULL

static int parse_cid(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 10 || (s[0] == '0' && n > 1))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < CID_MIN || v > CID_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_vsock(const char *v, struct vm_config *cfg, char *err, size_t errlen)
{
	bool have_cid = false;
	const char *sock = NULL;

	if (cfg->vsock.socket) {
		snprintf(err, errlen, "--vsock: only one vsock device");
		return -EINVAL;
	}
	/* socket= comes last or the path would have to be comma-free; cid= has no comma anyway. */
	while (*v) {
		const char *comma = strchr(v, ',');
		size_t n = comma ? (size_t)(comma - v) : strlen(v);
		if (!strncmp(v, "cid=", 4)) {
			if (parse_cid(v + 4, n - 4, &cfg->vsock.cid)) {
				snprintf(err, errlen, "--vsock: cid='%.*s' must be a number from %u to %llu",
					 (int)(n - 4), v + 4, CID_MIN, CID_MAX);
				return -EINVAL;
			}
			have_cid = true;
		} else if (!strncmp(v, "socket=", 7)) {
			sock = v + 7;
			n = strlen(v);		/* the rest, commas included */
			comma = NULL;
		} else {
			snprintf(err, errlen, "--vsock: unknown key in '%.*s' (expected cid=N,socket=PATH)",
				 (int)n, v);
			return -EINVAL;
		}
		v = comma ? comma + 1 : v + n;
	}
	if (!have_cid || !sock || !*sock) {
		snprintf(err, errlen, "--vsock: cid= and socket= are both required");
		return -EINVAL;
	}
	if (strlen(sock) >= VSOCK_PATH_MAX) {
		snprintf(err, errlen, "--vsock: socket path is longer than %zu bytes (PATH_<port> must fit "
			 "a unix socket address)", VSOCK_PATH_MAX - 1);
		return -EINVAL;
	}
	cfg->vsock.socket = sock;
	return 0;
}
