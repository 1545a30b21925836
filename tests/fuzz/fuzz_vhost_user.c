/*
 * The vhost-user front end against an arbitrary backend: the input is the
 * byte stream the backend sends back. It is fed on a socketpair (then end
 * of stream) to the handshake, a GET_VRING_BASE and an ACKed message, and
 * also given whole to the reply parser. Every outcome must be 0 or a
 * negative errno, never a hang (the stream ends, so no read times out), a
 * read past the input or a payload copied beyond what the caller asked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio/vhost_user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r)
{
	if (r > 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhost_user vu;
	uint64_t out[2] = { 0, 0 };
	uint32_t base;
	int sv[2];

	if (size > 16384)
		return 0;
	/* The parser alone: want of 0, 8 and 40 bytes, for two request codes. */
	const size_t wants[] = { 0, 8, 40 };
	for (unsigned i = 0; i < 3; i++) {
		uint8_t buf[40 + 8];
		memset(buf, 0xee, sizeof(buf));
		int r = vhu_parse_reply(data, size, VHU_GET_FEATURES, buf, wants[i]);
		check(r);
		if (buf[wants[i]] != 0xee)	/* wrote past what was asked */
			abort();
		check(vhu_parse_reply(data, size, VHU_GET_VRING_BASE, out, 8));
	}

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 0;
	vu = (struct vhost_user){ .fd = sv[0], .timeout_ms = 1000 };
	if (size && write(sv[1], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[1], SHUT_WR);
	check(vhu_handshake(&vu));
	if (vu.protocol_features & ~VHU_PROTOCOL_WANTED)	/* only what we asked for */
		abort();
	check(vhu_get_vring_base(&vu, 1, &base));
	vu.protocol_features |= 1ULL << VHU_PROTOCOL_F_REPLY_ACK;
	check(vhu_set_features(&vu, 1));
	vhu_close(&vu);
	close(sv[1]);
	return 0;
}
