/*
 * virtio-net (device id 1, virtio 1.2 5.1) on a Linux tap.
 *
 * Queues: rx0, tx0, rx1, tx1, ..., then the control queue when there are
 * several queue pairs (VIRTIO_NET_F_MQ needs VIRTIO_NET_F_CTRL_VQ). Queue
 * pair i is served with tap fd i: the tap is opened with IFF_TAP |
 * IFF_NO_PI | IFF_VNET_HDR (| IFF_MULTI_QUEUE, one fd per pair) and a vnet
 * header size of 12 bytes, which is struct virtio_net_hdr_v1 byte for byte,
 * so headers pass between the guest and the tap untouched:
 * - TX: the chain's device-readable buffers (header + frame) go to the tap
 *   with one writev();
 * - RX: one readv() from the tap straight into the guest's device-writable
 *   buffers; with VIRTIO_NET_F_MRG_RXBUF a packet may span several chains,
 *   and the device writes num_buffers (the tap leaves it alone).
 * Offloads: the guest's GUEST_CSUM/TSO4/TSO6/ECN/UFO choices become the
 * tap's TUNSETOFFLOAD flags at DRIVER_OK (the tap then hands us only
 * packets the guest accepts); HOST_* offloads need nothing (the tap takes
 * GSO packets with a vnet header).
 *
 * Nothing blocks: the fds are non-blocking. A tap fd is in the I/O thread's
 * loop for EPOLLIN only while its rx queue has buffers (no spinning when the
 * guest has none; the rx queue notification re-arms it), and for EPOLLOUT
 * only while a tx chain waits for room. Every guest buffer comes from the
 * bounds-checked queue walker.
 */
#ifndef DEVICES_VIRTIO_NET_H
#define DEVICES_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "compiler.h"
#include "devices/virtio/mmio.h"

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_MQ			22

#define VIRTIO_NET_S_LINK_UP		1

/* Control queue (5.1.6.5). */
#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET	0
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN	1

/* TUNSETOFFLOAD flags (linux/if_tun.h), here so the mapping is testable anywhere. */
#define VNET_TUN_F_CSUM			0x01
#define VNET_TUN_F_TSO4			0x02
#define VNET_TUN_F_TSO6			0x04
#define VNET_TUN_F_TSO_ECN		0x08
#define VNET_TUN_F_UFO			0x10

/* The header in front of every packet (5.1.6), 12 bytes with VIRTIO_F_VERSION_1. */
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
#define VNET_HDR_LEN			12
#define VNET_HDR_NUM_BUFFERS_OFF	10

/* Device configuration layout (5.1.4), up to max_virtqueue_pairs. */
struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

#define VIRTIO_NET_MAX_PAIRS	7	/* 2 * 7 + ctrl = 15 queues <= VIRTIO_MMIO_MAX_QUEUES */
#define VIRTIO_NET_QUEUE_SIZE	256
#define VNET_CHAIN_MAX		128	/* buffers in one chain (Linux uses at most MAX_SKB_FRAGS + 2) */
#define VNET_RX_IOV		1024	/* IOV_MAX: buffers one readv() may fill */
#define VNET_RX_MAX_CHAINS	VIRTIO_NET_QUEUE_SIZE
#define VNET_BATCH		128	/* packets per callback before yielding to other fds */
/* Largest frame the tap hands over: 64 KiB GSO packet + Ethernet + VLAN, or a 1500-byte MTU frame. */
#define VNET_MAX_GSO_FRAME	(65535 + 14 + 4)
#define VNET_MAX_FRAME		(1500 + 14 + 4)

struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes, rx_drops;
	uint64_t tx_packets, tx_bytes, tx_drops;
};

struct virtio_net;

/* A popped rx chain waiting for a packet (its writable buffers are in the pair's rx_iov). */
struct vnet_rx_chain {
	uint16_t head;
	unsigned iov;			/* first entry in rx_iov */
	unsigned n;			/* entries */
	uint64_t bytes;
};

struct vnet_pair {
	struct virtio_net *net;
	unsigned index;
	int fd;
	uint32_t watched;		/* events fd is registered for (0: not in the loop) */
	bool rx_wait;			/* rx: wants EPOLLIN (buffers are there, the tap is empty) */
	bool tx_wait;			/* tx: a chain waits for EPOLLOUT */
	bool rx_error_logged;
	/* Chains popped from the rx queue, not used yet. */
	struct vnet_rx_chain rx[VNET_RX_MAX_CHAINS];
	unsigned rx_n;
	unsigned rx_iov_n;
	uint64_t rx_space;
	struct iovec rx_iov[VNET_RX_IOV];
};

/* How the device is made: fds already open (see net_tap.h for making them). */
struct virtio_net_params {
	const int *fds;			/* one per queue pair, non-blocking, 12-byte vnet header */
	unsigned nfds;			/* 1..VIRTIO_NET_MAX_PAIRS */
	uint8_t mac[6];
	bool tap;			/* fds are taps: use the tap ioctls (false: plain sockets, tests) */
	unsigned tap_offloads;		/* VNET_TUN_F_* the tap supports (net_tap_probe_offloads) */
};

struct virtio_net {
	struct virtio_mmio vdev;	/* the transport; what the bus and the VMM see */
	struct virtio_dev_ops ops;	/* per device: queue count and features vary */
	struct virtio_net_config config;
	bool tap;
	bool mq_detach;			/* fds are queues of one IFF_MULTI_QUEUE tap */
	unsigned pairs;
	unsigned active_pairs;		/* set by VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET; 1 until then */
	unsigned tap_offloads;
	unsigned offloads_set;		/* what TUNSETOFFLOAD got at DRIVER_OK */
	struct virtio_net_stats stats;
	struct vnet_pair pair[VIRTIO_NET_MAX_PAIRS];
};

/*
 * Set up the device on the given fds (the device owns them from here: they
 * are closed by virtio_net_destroy, or here on failure); err gets a message.
 */
int virtio_net_init(struct virtio_net *net, const struct virtio_mmio_config *cfg,
		    const struct virtio_net_params *p, char *err, size_t errlen) WUR;
/* Log the counters, stop, close the fds. */
void virtio_net_destroy(struct virtio_net *net);
void virtio_net_get_stats(struct virtio_net *net, struct virtio_net_stats *out);

/* The device features offered for a tap supporting `tap_offloads` with `pairs` queue pairs. */
uint64_t virtio_net_features(unsigned tap_offloads, unsigned pairs);
/* The TUNSETOFFLOAD flags for the features the driver accepted. */
unsigned virtio_net_tap_offloads(uint64_t features);
/* Feature dependencies (5.1.3.1): false when the combination is invalid. */
bool virtio_net_features_valid(uint64_t features);

/* Queue numbering. */
static inline unsigned vnet_rxq(unsigned pair) { return 2 * pair; }
static inline unsigned vnet_txq(unsigned pair) { return 2 * pair + 1; }
static inline unsigned vnet_ctrlq(const struct virtio_net *n) { return 2 * n->pairs; }

/* ---- Inside the device (net_rx.c, net_tx.c); lock held, I/O thread ---- */
int vnet_rx(struct vnet_pair *p) WUR;
void vnet_rx_drop_all(struct vnet_pair *p);
int vnet_tx(struct vnet_pair *p) WUR;
int vnet_ctrl(struct virtio_net *net) WUR;
/* Put p->fd in the I/O loop for what rx_wait / tx_wait ask for (or take it out). */
void vnet_update_watch(struct vnet_pair *p);
/* Handle one control request: class/cmd/data in `req` (len bytes); returns the ack byte. */
uint8_t vnet_ctrl_request(struct virtio_net *net, const uint8_t *req, size_t len);

#endif
