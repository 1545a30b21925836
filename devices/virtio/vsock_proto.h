/*
 * The virtio-vsock wire format (virtio 1.2, 5.10): the packet header every
 * rx and tx buffer starts with, its operations, and the credit arithmetic
 * both sides of a stream connection apply (5.10.6.3).
 */
#ifndef DEVICES_VIRTIO_VSOCK_PROTO_H
#define DEVICES_VIRTIO_VSOCK_PROTO_H

#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"

#define VIRTIO_ID_VSOCK			19

#define VSOCK_HOST_CID			2	/* the host end of every connection */
#define VSOCK_QUEUE_RX			0	/* device -> driver packets */
#define VSOCK_QUEUE_TX			1	/* driver -> device packets */
#define VSOCK_QUEUE_EVENT		2	/* transport events: unused */

#define VSOCK_TYPE_STREAM		1

enum vsock_op {
	VSOCK_OP_INVALID = 0,
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};

/* OP_SHUTDOWN flags: what the sender will no longer do. */
#define VSOCK_SHUTDOWN_RCV		1u
#define VSOCK_SHUTDOWN_SEND		2u
#define VSOCK_SHUTDOWN_BOTH		(VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)

/* Little-endian in guest memory; arm64 hosts and guests are LE. */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;		/* payload bytes after the header */
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;	/* sender's receive buffer for this connection */
	uint32_t fwd_cnt;	/* bytes the sender has consumed from it */
} __attribute__((packed));

_Static_assert(sizeof(struct vsock_hdr) == 44, "virtio-vsock header is 44 bytes");

/* Largest payload the device accepts or sends in one packet. */
#define VSOCK_MAX_PKT_PAYLOAD		(64u * 1024)

/*
 * Why a tx packet from the driver cannot be served, or NULL if its header
 * is acceptable. `avail` is the number of readable bytes after the header.
 * guest_cid is the device's configured CID.
 */
const char *vsock_hdr_check(const struct vsock_hdr *h, uint64_t avail, uint64_t guest_cid);

/*
 * Credit (5.10.6.3): the peer has room for buf_alloc - (tx_cnt - fwd_cnt)
 * more bytes. Counters are free-running u32; a peer whose numbers claim
 * more in flight than its buffer gets no credit.
 */
static inline uint32_t vsock_credit(uint32_t peer_buf_alloc, uint32_t peer_fwd_cnt, uint32_t tx_cnt)
{
	uint32_t in_flight = tx_cnt - peer_fwd_cnt;
	return in_flight >= peer_buf_alloc ? 0 : peer_buf_alloc - in_flight;
}

#endif
