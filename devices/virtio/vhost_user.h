/*
 * The front-end side of the vhost-user protocol (QEMU's
 * docs/interop/vhost-user.rst): the VMM hands a backend process (virtiofsd)
 * its guest memory and the rings of a virtio device over a unix socket, with
 * file descriptors passed as SCM_RIGHTS. After that the backend serves the
 * queues itself: the kick eventfds are the transport's notify eventfds (KVM
 * ioeventfds) and the backend signals a call eventfd per queue.
 *
 * Every exchange is synchronous with a timeout (vhu->timeout_ms): a backend
 * that does not answer, answers garbage or closes the socket gives -ETIMEDOUT,
 * -EPROTO or -ECONNRESET, never a hang. No function here keeps state beyond
 * the socket and what was negotiated.
 */
#ifndef DEVICES_VIRTIO_VHOST_USER_H
#define DEVICES_VIRTIO_VHOST_USER_H

#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

enum vhu_request {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_GET_QUEUE_NUM = 17,
	VHU_SET_VRING_ENABLE = 18,
};

#define VHU_F_PROTOCOL_FEATURES		30	/* virtio feature bit: protocol features exist */
#define VHU_PROTOCOL_F_MQ		0
#define VHU_PROTOCOL_F_REPLY_ACK	3
#define VHU_PROTOCOL_F_CONFIG		9
/* Protocol features the VMM can use. */
#define VHU_PROTOCOL_WANTED	((1ULL << VHU_PROTOCOL_F_MQ) | (1ULL << VHU_PROTOCOL_F_REPLY_ACK))

#define VHU_VERSION		0x1u
#define VHU_FLAG_REPLY		(1u << 2)
#define VHU_FLAG_NEED_REPLY	(1u << 3)
#define VHU_HDR_SIZE		12
#define VHU_MAX_PAYLOAD		256	/* the largest message the VMM sends or accepts */
#define VHU_MAX_REGIONS		8
#define VHU_VRING_NOFD		(1u << 8)

struct vhu_region {
	uint64_t gpa, size, uaddr, mmap_offset;
	int fd;
};

struct vhu_vring_addr {
	uint32_t index, flags;
	uint64_t desc, used, avail, log;	/* the VMM's virtual addresses */
};

struct vhost_user {
	int fd;				/* the connected socket, -1 when closed */
	int timeout_ms;			/* per read or write */
	uint64_t features;		/* what the backend offers (GET_FEATURES) */
	uint64_t protocol_features;	/* negotiated (ours & the backend's) */
	uint32_t queue_num;		/* GET_QUEUE_NUM, 0 without MQ */
};

/* Connect to the backend's socket (timeout_ms for each exchange later). */
int vhu_connect(struct vhost_user *vu, const char *path, int timeout_ms) WUR;
/* GET_FEATURES, GET/SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_OWNER. */
int vhu_handshake(struct vhost_user *vu) WUR;
void vhu_close(struct vhost_user *vu);

int vhu_set_features(struct vhost_user *vu, uint64_t features) WUR;
int vhu_set_mem_table(struct vhost_user *vu, const struct vhu_region *r, unsigned n) WUR;
int vhu_set_vring(struct vhost_user *vu, enum vhu_request req, uint32_t index, uint32_t num) WUR;
int vhu_set_vring_addr(struct vhost_user *vu, const struct vhu_vring_addr *a) WUR;
/* SET_VRING_KICK / SET_VRING_CALL with an eventfd (fd < 0: "no fd", polling). */
int vhu_set_vring_fd(struct vhost_user *vu, enum vhu_request req, uint32_t index, int fd) WUR;
/* Stops the ring; *base is where the backend would resume. */
int vhu_get_vring_base(struct vhost_user *vu, uint32_t index, uint32_t *base) WUR;

/* One message on the wire (encode/decode, no I/O). */
size_t vhu_encode(uint8_t *buf, uint32_t req, uint32_t flags, const void *payload, uint32_t len);
/*
 * Check a backend's reply in buf[0..len) to request req: the header (version,
 * REPLY flag, same request), the size (== want) and the payload copied to
 * out. Returns 0 or -EPROTO.
 */
int vhu_parse_reply(const uint8_t *buf, size_t len, uint32_t req, void *out, size_t want) WUR;

#endif
