/*
 * A virtio-vsock driver for the unit tests: three queues in one fake guest
 * memory (tests/unit/virtio/tguest.c), packets sent on tx and read from rx
 * the way Linux's virtio_transport does, and the device polled by hand
 * (no I/O thread: the test is the only thread).
 */
#ifndef TESTS_UNIT_VSOCK_VGUEST_H
#define TESTS_UNIT_VSOCK_VGUEST_H

#include "../virtio/tguest.h"
#include "devices/virtio/vsock.h"

#define VG_QSIZE	64
#define VG_CID		3
#define VG_RX_BUF	(4096 + 44)

struct vguest {
	struct tguest q[3];		/* rx, tx, event: q[0] owns the memory */
	uint64_t rx_addr[VG_QSIZE];	/* buffer of each rx descriptor */
	struct virtio_vsock vs;
	char dir[64], path[128];
	uint64_t now;			/* the device's clock, ms */
};

void vg_setup(struct vguest *g);
void vg_teardown(struct vguest *g);
/* Post n rx buffers of VG_RX_BUF bytes and notify. */
void vg_rx_post(struct vguest *g, unsigned n);
/* Send one packet (header fields given, cids filled in) and notify tx. */
void vg_send(struct vguest *g, uint32_t src_port, uint32_t dst_port, uint16_t op, uint32_t flags,
	     uint32_t buf_alloc, uint32_t fwd_cnt, const void *data, uint32_t len);
/* Next packet the device put on rx; false if none. payload (if non-NULL) gets h->len bytes. */
bool vg_recv(struct vguest *g, struct vsock_hdr *h, void *payload);
/* Run the device's socket loop once. */
void vg_poll(struct vguest *g);
/* A unix client connected to the device's socket (non-blocking). */
int vg_client(struct vguest *g);
/* Read what is available on fd within ms; returns bytes (0 = EOF), -1 if nothing. */
ssize_t vg_read(int fd, void *buf, size_t len, unsigned ms);
/* Full host->guest handshake for port; returns the client fd, local port in *host_port. */
int vg_open(struct vguest *g, uint32_t guest_port, uint32_t *host_port);

#endif
