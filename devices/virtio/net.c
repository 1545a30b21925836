/* virtio-net: features, configuration, queue dispatch and the device's life (see net.h). */
#include "devices/virtio/net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "devices/virtio/net_tap.h"

#define B(f) VIRTIO_BIT(VIRTIO_NET_F_##f)

uint64_t virtio_net_features(unsigned tap_offloads, unsigned pairs)
{
	uint64_t f = B(MAC) | B(STATUS) | B(MRG_RXBUF) |
		     B(CSUM) | B(HOST_TSO4) | B(HOST_TSO6) | B(HOST_ECN);

	if (tap_offloads & VNET_TUN_F_CSUM) {
		f |= B(GUEST_CSUM);
		if ((tap_offloads & (VNET_TUN_F_TSO4 | VNET_TUN_F_TSO6)) ==
		    (VNET_TUN_F_TSO4 | VNET_TUN_F_TSO6)) {
			f |= B(GUEST_TSO4) | B(GUEST_TSO6);
			if (tap_offloads & VNET_TUN_F_TSO_ECN)
				f |= B(GUEST_ECN);
		}
		if (tap_offloads & VNET_TUN_F_UFO)
			f |= B(GUEST_UFO);
	}
	if (pairs > 1)
		f |= B(CTRL_VQ) | B(MQ);
	return f;
}

unsigned virtio_net_tap_offloads(uint64_t f)
{
	unsigned t = 0;

	if (!(f & B(GUEST_CSUM)))
		return 0;	/* without it the guest wants checksummed, segmented packets */
	t |= VNET_TUN_F_CSUM;
	if (f & B(GUEST_TSO4))
		t |= VNET_TUN_F_TSO4;
	if (f & B(GUEST_TSO6))
		t |= VNET_TUN_F_TSO6;
	if ((f & B(GUEST_ECN)) && (t & (VNET_TUN_F_TSO4 | VNET_TUN_F_TSO6)))
		t |= VNET_TUN_F_TSO_ECN;
	if (f & B(GUEST_UFO))
		t |= VNET_TUN_F_UFO;
	return t;
}

bool virtio_net_features_valid(uint64_t f)
{
	bool gtso = f & (B(GUEST_TSO4) | B(GUEST_TSO6) | B(GUEST_UFO));
	bool htso = f & (B(HOST_TSO4) | B(HOST_TSO6));

	if (gtso && !(f & B(GUEST_CSUM)))
		return false;
	if ((f & B(GUEST_ECN)) && !(f & (B(GUEST_TSO4) | B(GUEST_TSO6))))
		return false;
	if (htso && !(f & B(CSUM)))
		return false;
	if ((f & B(HOST_ECN)) && !htso)
		return false;
	if ((f & B(MQ)) && !(f & B(CTRL_VQ)))
		return false;
	return true;
}

static bool net_features_ok(void *opaque, uint64_t features)
{
	(void)opaque;
	return virtio_net_features_valid(features);
}

static void net_config_read(void *opaque, uint32_t offset, void *buf, unsigned len)
{
	struct virtio_net *net = opaque;
	memcpy(buf, (const uint8_t *)&net->config + offset, len);
}

static void pair_ready(void *opaque, int fd, uint32_t events);

void vnet_update_watch(struct vnet_pair *p)
{
	struct virtio_mmio *vdev = &p->net->vdev;
	uint32_t want = (p->rx_wait ? EPOLLIN : 0) | (p->tx_wait ? EPOLLOUT : 0);

	if (want == p->watched)
		return;
	if (p->watched)
		virtio_mmio_unwatch(vdev, p->fd);
	p->watched = 0;
	if (!want)
		return;
	if (virtio_mmio_watch(vdev, p->fd, want, pair_ready, p) == 0)
		p->watched = want;
}

/* Out of the I/O loop. Popped rx chains stay: the pair may be enabled again. */
static void pair_quiesce(struct vnet_pair *p)
{
	p->rx_wait = p->tx_wait = false;
	vnet_update_watch(p);
}

/* Queue pairs [0, n) receive; the rest are detached from a multiqueue tap. */
static void set_active_pairs(struct virtio_net *net, unsigned n)
{
	for (unsigned i = 0; i < net->pairs; i++) {
		bool on = i < n;
		/* Attaching an attached queue fails with EINVAL: nothing to do then. */
		if (net->mq_detach)
			(void)!net_tap_set_queue(net->pair[i].fd, on);
		if (!on)
			pair_quiesce(&net->pair[i]);
	}
	net->active_pairs = n;
}

uint8_t vnet_ctrl_request(struct virtio_net *net, const uint8_t *req, size_t len)
{
	uint16_t pairs;

	if (len < 2)
		return VIRTIO_NET_ERR;
	if (req[0] != VIRTIO_NET_CTRL_MQ || req[1] != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
	    !(virtio_mmio_features(&net->vdev) & B(MQ)) || len < 4)
		return VIRTIO_NET_ERR;
	memcpy(&pairs, req + 2, sizeof(pairs));
	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > net->pairs)
		return VIRTIO_NET_ERR;
	set_active_pairs(net, pairs);
	/* Serve the pairs just enabled: their buffers may already be waiting. */
	for (unsigned i = 0; i < pairs; i++) {
		if (vnet_rx(&net->pair[i]) < 0) {
			const char *why = net->vdev.vq[vnet_rxq(i)].error;
			virtio_mmio_fail(&net->vdev, "queue %u: %s", vnet_rxq(i), why ? why : "broken");
			return VIRTIO_NET_ERR;
		}
	}
	return VIRTIO_NET_OK;
}

static int net_activate(void *opaque)
{
	struct virtio_net *net = opaque;
	unsigned want = virtio_net_tap_offloads(virtio_mmio_features(&net->vdev));

	if (net->tap) {
		for (unsigned i = 0; i < net->pairs; i++) {
			int r = net_tap_set_offload(net->pair[i].fd, want);
			if (r < 0)
				return r;
		}
	}
	net->offloads_set = want;
	set_active_pairs(net, 1);	/* only the first pair until VQ_PAIRS_SET (5.1.6.5.5) */
	return 0;
}

static int net_queue_notify(void *opaque, unsigned q)
{
	struct virtio_net *net = opaque;
	unsigned pair = q / 2;

	if (q == vnet_ctrlq(net))
		return vnet_ctrl(net);
	if (pair >= net->pairs)
		return 0;
	if (q % 2)
		return net->pair[pair].tx_wait ? 0 : vnet_tx(&net->pair[pair]);
	return pair < net->active_pairs ? vnet_rx(&net->pair[pair]) : 0;
}

static void net_reset(void *opaque)
{
	struct virtio_net *net = opaque;

	for (unsigned i = 0; i < net->pairs; i++) {
		pair_quiesce(&net->pair[i]);
		vnet_rx_drop_all(&net->pair[i]);	/* the driver forgets them too */
	}
	net->active_pairs = 1;
	if (net->tap && net->offloads_set) {
		for (unsigned i = 0; i < net->pairs; i++)
			(void)!net_tap_set_offload(net->pair[i].fd, 0);
	}
	net->offloads_set = 0;
}

/* The tap fd of a pair is readable or writable (I/O thread, lock held). */
static void pair_ready(void *opaque, int fd, uint32_t events)
{
	struct vnet_pair *p = opaque;
	struct virtio_net *net = p->net;
	int r = 0;

	(void)fd;
	if (!virtio_mmio_running(&net->vdev)) {
		pair_quiesce(p);
		return;
	}
	if (p->tx_wait && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		p->tx_wait = false;
		vnet_update_watch(p);
		r = vnet_tx(p);
	}
	if (r == 0 && p->rx_wait && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		r = vnet_rx(p);
	if (r < 0) {
		unsigned q = p->tx_wait ? vnet_txq(p->index) : vnet_rxq(p->index);
		struct virtq *vq = virtio_mmio_queue(&net->vdev, q);
		virtio_mmio_fail(&net->vdev, "queue %u: %s", q,
				 vq && vq->error ? vq->error : strerror(-r));
	}
}

int virtio_net_init(struct virtio_net *net, const struct virtio_mmio_config *cfg,
		    const struct virtio_net_params *p, char *err, size_t errlen)
{
	int r;

	if (!p->nfds || p->nfds > VIRTIO_NET_MAX_PAIRS) {
		snprintf(err, errlen, "virtio-net: %u queue pairs (1 to %u)", p->nfds, VIRTIO_NET_MAX_PAIRS);
		for (unsigned i = 0; i < p->nfds; i++)
			close(p->fds[i]);
		return -EINVAL;
	}
	memset(net, 0, sizeof(*net));
	net->tap = p->tap;
	net->mq_detach = p->tap && p->nfds > 1;
	net->pairs = p->nfds;
	net->active_pairs = 1;
	net->tap_offloads = p->tap_offloads;
	memcpy(net->config.mac, p->mac, sizeof(net->config.mac));
	net->config.status = VIRTIO_NET_S_LINK_UP;
	net->config.max_virtqueue_pairs = (uint16_t)p->nfds;
	for (unsigned i = 0; i < p->nfds; i++)
		net->pair[i] = (struct vnet_pair){ .net = net, .index = i, .fd = p->fds[i] };
	net->ops = (struct virtio_dev_ops){
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.num_queues = 2 * p->nfds + (p->nfds > 1),
		.queue_max = VIRTIO_NET_QUEUE_SIZE,
		.features = virtio_net_features(p->tap_offloads, p->nfds),
		.config_size = sizeof(net->config),
		.config_read = net_config_read,
		.features_ok = net_features_ok,
		.activate = net_activate,
		.queue_notify = net_queue_notify,
		.reset = net_reset,
	};
	r = virtio_mmio_init(&net->vdev, cfg, &net->ops, net);
	if (r) {
		snprintf(err, errlen, "cannot set up virtio-net: %s", strerror(-r));
		for (unsigned i = 0; i < p->nfds; i++)
			close(p->fds[i]);
		net->pairs = 0;
	}
	return r;
}

void virtio_net_get_stats(struct virtio_net *net, struct virtio_net_stats *out)
{
	pthread_mutex_lock(&net->vdev.lock);
	*out = net->stats;
	pthread_mutex_unlock(&net->vdev.lock);
}

void virtio_net_destroy(struct virtio_net *net)
{
	const struct virtio_net_stats *s = &net->stats;

	virtio_mmio_stop(&net->vdev);
	if (net->vdev.ready && net->vdev.cfg.log) {
		char line[256];
		snprintf(line, sizeof(line),
			 "virtio-net@0x%llx: rx %llu packets %llu bytes %llu dropped, "
			 "tx %llu packets %llu bytes %llu dropped",
			 (unsigned long long)net->vdev.cfg.base,
			 (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
			 (unsigned long long)s->rx_drops, (unsigned long long)s->tx_packets,
			 (unsigned long long)s->tx_bytes, (unsigned long long)s->tx_drops);
		net->vdev.cfg.log(net->vdev.cfg.log_opaque, line);
	}
	virtio_mmio_destroy(&net->vdev);
	for (unsigned i = 0; i < net->pairs; i++) {
		if (net->pair[i].fd >= 0)
			close(net->pair[i].fd);
		net->pair[i].fd = -1;
	}
	net->pairs = 0;
}
