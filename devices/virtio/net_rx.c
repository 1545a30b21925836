/*
 * virtio-net receive: tap -> guest. Rx chains are popped ahead into a small
 * per-pair cache until they can hold the largest packet the tap may hand
 * over; one readv() then fills them, and the chains the packet used are
 * returned (several with VIRTIO_NET_F_MRG_RXBUF, num_buffers says how many).
 * Chains the packet did not need stay cached for the next one.
 */
#include "devices/virtio/net.h"
#include "devices/virtio/mmio_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void vnet_rx_drop_all(struct vnet_pair *p)
{
	p->rx_n = 0;
	p->rx_iov_n = 0;
	p->rx_space = 0;
}

/* Pop rx chains into the cache until it holds `need` bytes; 1, or < 0 (queue broken). */
static int rx_fill(struct vnet_pair *p, struct virtq *q, uint64_t need, bool mrg)
{
	struct iovec tmp[VNET_CHAIN_MAX];

	while (p->rx_space < need && p->rx_n < VNET_RX_MAX_CHAINS && (mrg || p->rx_n == 0)) {
		struct virtq_chain c = { .iov = tmp, .cap = ARRAY_SIZE(tmp) };
		int r = virtq_pop(q, &c);
		if (r <= 0)
			return r;
		if (c.n_in > VNET_RX_IOV - p->rx_iov_n) {
			virtq_unpop(q);		/* no room for its buffers in this readv */
			break;
		}
		if (c.in_bytes < VNET_HDR_LEN) {
			virtio_mmio_fail(&p->net->vdev, "queue %u: rx buffer of %llu bytes cannot hold the "
					 "%u-byte header", vnet_rxq(p->index),
					 (unsigned long long)c.in_bytes, VNET_HDR_LEN);
			return -EINVAL;
		}
		memcpy(&p->rx_iov[p->rx_iov_n], &tmp[c.n_out], c.n_in * sizeof(struct iovec));
		p->rx[p->rx_n++] = (struct vnet_rx_chain){
			.head = c.head, .iov = p->rx_iov_n, .n = c.n_in, .bytes = c.in_bytes,
		};
		p->rx_iov_n += c.n_in;
		p->rx_space += c.in_bytes;
	}
	return 1;
}

/* Write into the cached buffers at byte offset off (the header's num_buffers). */
static void iov_put(struct iovec *iov, unsigned n, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	for (unsigned i = 0; i < n && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t chunk = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		memcpy((uint8_t *)iov[i].iov_base + off, b, chunk);
		b += chunk;
		len -= chunk;
		off = 0;
	}
}

/* A packet of n bytes is in the cached chains: return the ones it used. */
static int rx_complete(struct vnet_pair *p, struct virtq *q, uint64_t n)
{
	uint64_t left = n;
	unsigned k = 0;
	int r;

	while (left && k < p->rx_n) {
		uint64_t take = p->rx[k].bytes < left ? p->rx[k].bytes : left;
		left -= take;
		k++;
	}
	uint16_t nbuf = (uint16_t)k;	/* k <= VNET_RX_MAX_CHAINS */
	iov_put(p->rx_iov, p->rx_iov_n, VNET_HDR_NUM_BUFFERS_OFF, &nbuf, sizeof(nbuf));
	left = n;
	for (unsigned i = 0; i < k; i++) {
		uint64_t take = p->rx[i].bytes < left ? p->rx[i].bytes : left;
		left -= take;
		if ((r = virtq_push(q, p->rx[i].head, (uint32_t)take)) < 0)
			return r;
	}
	/* Keep the chains it did not need, at the front. */
	unsigned first = k < p->rx_n ? p->rx[k].iov : p->rx_iov_n;
	memmove(p->rx_iov, p->rx_iov + first, (p->rx_iov_n - first) * sizeof(struct iovec));
	memmove(p->rx, p->rx + k, (p->rx_n - k) * sizeof(p->rx[0]));
	p->rx_n -= k;
	p->rx_iov_n -= first;
	p->rx_space = 0;
	for (unsigned i = 0; i < p->rx_n; i++) {
		p->rx[i].iov -= first;
		p->rx_space += p->rx[i].bytes;
	}
	return 0;
}

int vnet_rx(struct vnet_pair *p)
{
	struct virtio_net *net = p->net;
	struct virtio_mmio *vdev = &net->vdev;
	struct virtq *q = virtio_mmio_queue(vdev, vnet_rxq(p->index));
	bool mrg = virtio_mmio_features(vdev) & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	bool gso = net->offloads_set & (VNET_TUN_F_TSO4 | VNET_TUN_F_TSO6 | VNET_TUN_F_UFO);
	uint64_t need = VNET_HDR_LEN + (gso ? VNET_MAX_GSO_FRAME : VNET_MAX_FRAME);
	int r = 0;

	if (!q || !q->size || p->index >= net->active_pairs) {
		p->rx_wait = false;
		vnet_update_watch(p);
		return 0;
	}
	for (unsigned done = 0;; done++) {
		if (done == VNET_BATCH) {
			p->rx_wait = true;	/* more may wait: back after the other fds */
			break;
		}
		if ((r = rx_fill(p, q, need, mrg)) < 0)
			break;
		r = 0;
		/*
		 * Read when the cache can hold any packet, or when it cannot grow:
		 * it holds half the ring (a guest with a small ring would wait
		 * for ever) or is full. Otherwise wait for the driver's notify.
		 */
		bool ready = p->rx_n && (p->rx_space >= need || !mrg || p->rx_n >= q->size / 2u ||
					 p->rx_n == VNET_RX_MAX_CHAINS || p->rx_iov_n == VNET_RX_IOV);
		if (!ready) {
			p->rx_wait = false;
			break;
		}
		ssize_t n = readv(p->fd, p->rx_iov, (int)p->rx_iov_n);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				p->rx_wait = true;
				break;
			}
			p->net->stats.rx_drops++;
			if (errno == EFAULT || errno == EINVAL || errno == EMSGSIZE)
				continue;	/* a packet the buffers could not take: the tap dropped it */
			if (!p->rx_error_logged) {
				p->rx_error_logged = true;
				vmmio_log(vdev, "queue %u: tap read: %s (receive stopped until the "
					  "driver adds buffers)", vnet_rxq(p->index), strerror(errno));
			}
			p->rx_wait = false;
			break;
		}
		if (n == 0) {		/* the other end is gone (a socket); nothing more will come */
			p->rx_wait = false;
			break;
		}
		/*
		 * The tap cuts a packet to the buffers and returns the length it
		 * copied: buffers smaller than the largest packet, filled to the
		 * last byte, held a cut packet (or, rarely, one that fitted
		 * exactly). Drop it; the chains stay for the next one.
		 */
		if ((uint64_t)n > p->rx_space || n < VNET_HDR_LEN ||
		    ((uint64_t)n == p->rx_space && p->rx_space < need)) {
			p->net->stats.rx_drops++;
			continue;
		}
		if ((r = rx_complete(p, q, (uint64_t)n)) < 0)
			break;
		net->stats.rx_packets++;
		net->stats.rx_bytes += (uint64_t)n - VNET_HDR_LEN;
		/*
		 * Tell the driver now, not after the batch: it starts on this
		 * packet while the next ones are copied. Its used_event keeps
		 * this to one interrupt per poll.
		 */
		virtio_mmio_used(vdev, vnet_rxq(p->index));
	}
	vnet_update_watch(p);
	return r;
}
