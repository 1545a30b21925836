/*
 * virtio-net transmit (guest -> tap, one writev() per chain: header and
 * frame as the guest laid them out) and the control queue.
 *
 * A guest streaming packets adds the next one while we write the last: a
 * pass that sent something leaves the driver's notifications off and comes
 * back after one turn of the I/O loop; only a pass that finds the ring
 * empty asks for a notification again (and looks once more). So a stream
 * costs one queue notification (a VM exit) per burst, not per packet.
 */
#include "devices/virtio/net.h"
#include "devices/virtio/mmio_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int vnet_tx(struct vnet_pair *p)
{
	struct virtio_net *net = p->net;
	struct virtio_mmio *vdev = &net->vdev;
	unsigned qi = vnet_txq(p->index);
	struct virtq *q = virtio_mmio_queue(vdev, qi);
	struct iovec iov[VNET_CHAIN_MAX];
	bool pushed = false;
	unsigned done;
	int r = 0;

	if (!q || !q->size)
		return 0;
	for (done = 0; done < VNET_BATCH; done++) {
		struct virtq_chain c = { .iov = iov, .cap = ARRAY_SIZE(iov) };
		r = virtq_pop_held(q, &c);
		if (r == 0 && done == 0)
			r = virtq_pop(q, &c);	/* nothing since the last pass: notify me again */
		if (r <= 0)
			break;
		r = 0;
		if (c.out_bytes < VNET_HDR_LEN) {
			net->stats.tx_drops++;		/* not even a header: nothing to send */
		} else {
			ssize_t n;
			do
				n = writev(p->fd, iov, (int)c.n_out);
			while (n < 0 && errno == EINTR);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
				virtq_unpop(q);		/* send it when the tap has room */
				p->tx_wait = true;
				vnet_update_watch(p);
				break;
			}
			if (n < 0) {
				net->stats.tx_drops++;	/* the tap refused it (a bad header, the link down) */
			} else {
				net->stats.tx_packets++;
				net->stats.tx_bytes += c.out_bytes - VNET_HDR_LEN;
			}
		}
		if ((r = virtq_push(q, c.head, 0)) < 0)
			break;
		pushed = true;
	}
	if (pushed)
		virtio_mmio_used(vdev, qi);
	/* Sent something, notifications still off: look again after the other fds had their turn. */
	if (r == 0 && done > 0 && !p->tx_wait)
		vmmio_rerun(vdev, qi);
	return r;
}

int vnet_ctrl(struct virtio_net *net)
{
	struct virtio_mmio *vdev = &net->vdev;
	unsigned qi = vnet_ctrlq(net);
	struct virtq *q = virtio_mmio_queue(vdev, qi);
	struct iovec iov[VNET_CHAIN_MAX];
	bool pushed = false;
	int r = 0;

	if (!q || !q->size)
		return 0;
	for (;;) {
		struct virtq_chain c = { .iov = iov, .cap = ARRAY_SIZE(iov) };
		uint8_t req[16];
		uint32_t written = 0;

		if ((r = virtq_pop(q, &c)) <= 0)
			break;
		r = 0;
		size_t len = c.out_bytes < sizeof(req) ? (size_t)c.out_bytes : sizeof(req);
		len = virtq_chain_read(&c, 0, req, len);
		/* The ack is the device-writable byte after the command; no room: not answered. */
		if (c.in_bytes >= 1) {
			uint8_t ack = vnet_ctrl_request(net, req, len);
			written = (uint32_t)virtq_chain_write(&c, 0, &ack, 1);
		}
		if (net->vdev.failed)
			break;
		if ((r = virtq_push(q, c.head, written)) < 0)
			break;
		pushed = true;
	}
	if (pushed)
		virtio_mmio_used(vdev, qi);
	return r;
}
