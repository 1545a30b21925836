/*
 * virtio-vsock: the device's queues. Packets from the guest (tx queue) are
 * served as they come; packets to the guest (rx queue) are built when the
 * guest has buffers there: control packets first, then host data, one
 * packet per connection per round so no connection starves the others.
 */
#include "devices/virtio/vsock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

const char *vsock_hdr_check(const struct vsock_hdr *h, uint64_t avail, uint64_t guest_cid)
{
	if (h->src_cid != guest_cid)
		return "source CID is not the guest's";
	if (h->dst_cid != VSOCK_HOST_CID)
		return "destination CID is not the host";
	if (h->type != VSOCK_TYPE_STREAM)
		return "socket type is not stream";
	if (h->op == VSOCK_OP_INVALID || h->op > VSOCK_OP_CREDIT_REQUEST)
		return "unknown operation";
	if (h->len > avail)
		return "length is beyond the buffer";
	if (h->len > VSOCK_MAX_PKT_PAYLOAD)
		return "payload is larger than 64 KiB";
	if (h->len && h->op != VSOCK_OP_RW)
		return "payload on a control packet";
	return NULL;
}

static void fill_hdr(struct virtio_vsock *vs, struct vsock_hdr *h, uint32_t src_port,
		     uint32_t dst_port, uint16_t op)
{
	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID,
		.dst_cid = vs->guest_cid,
		.src_port = src_port,
		.dst_port = dst_port,
		.type = VSOCK_TYPE_STREAM,
		.op = op,
		.buf_alloc = VSOCK_CONN_BUF,
	};
}

/* ---- Guest -> device ---- */

static void conn_from_request(struct vsock_conn *c, const struct vsock_hdr *h)
{
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
}

static void guest_request(struct virtio_vsock *vs, const struct vsock_hdr *h)
{
	struct vsock_conn *c;

	if (vs->nconns >= VSOCK_MAX_CONNS || !(c = vsock_conn_new(vs, -1))) {
		vs->stats.refused++;
		vsock_orphan_rst(vs, h->dst_port, h->src_port);
		return;
	}
	conn_from_request(c, h);
	c->state = VSOCK_ESTABLISHED;
	if (vsock_host_connect(vs, c) < 0) {
		vs->stats.refused++;
		vsock_conn_reset(vs, c);
		return;
	}
	vs->stats.guest_conns++;
	c->pending |= VSOCK_P_RESPONSE;
	vsock_conn_rearm(vs, c);
}

static void guest_shutdown(struct virtio_vsock *vs, struct vsock_conn *c, uint32_t flags)
{
	c->guest_shutdown |= flags & VSOCK_SHUTDOWN_BOTH;
	if (c->guest_shutdown != VSOCK_SHUTDOWN_BOTH) {
		if (vsock_conn_flush(vs, c) < 0)	/* SHUT_WR once drained */
			vsock_conn_reset(vs, c);
		return;
	}
	/* Closed both ways: the guest waits for our RST; what it sent still reaches the host. */
	vsock_orphan_rst(vs, c->local_port, c->peer_port);
	c->pending = 0;
	c->state = VSOCK_DRAINING;
	c->deadline_ms = vs->now_ms() + VSOCK_CLOSE_MS;
	if (vsock_conn_flush(vs, c) < 0 || vsock_conn_buffered(c) == 0)
		vsock_conn_free(vs, c);
	vsock_arm_timer(vs);
}

static void guest_packet(struct virtio_vsock *vs, const struct vsock_hdr *h,
			 const struct virtq_chain *ch)
{
	struct vsock_conn *c = vsock_conn_find(vs, h->dst_port, h->src_port);

	if (!c) {
		if (h->op == VSOCK_OP_REQUEST)
			guest_request(vs, h);
		else if (h->op != VSOCK_OP_RST)
			vsock_orphan_rst(vs, h->dst_port, h->src_port);
		return;
	}
	/* Every header carries the guest's receive window. */
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->credit_requested = false;
	if (c->credit_wait_ms) {
		c->credit_wait_ms = 0;
		vsock_arm_timer(vs);	/* the tick may stop */
	}

	switch (h->op) {
	case VSOCK_OP_REQUEST:		/* a second request for a live pair */
		vsock_conn_reset(vs, c);
		break;
	case VSOCK_OP_RESPONSE:
		if (c->state == VSOCK_GUEST_WAIT && c->host_initiated && !(c->pending & VSOCK_P_REQUEST) &&
		    vsock_host_ok(vs, c) == 0) {
			c->state = VSOCK_ESTABLISHED;
			c->deadline_ms = 0;
			vs->stats.host_conns++;
			vsock_conn_rearm(vs, c);
		} else {
			vsock_conn_reset(vs, c);
		}
		break;
	case VSOCK_OP_RST:
		if (c->state == VSOCK_GUEST_WAIT)
			vs->stats.refused++;
		vsock_conn_free(vs, c);		/* the unix client sees its socket close now */
		break;
	case VSOCK_OP_SHUTDOWN:
		guest_shutdown(vs, c, h->flags);
		break;
	case VSOCK_OP_RW:
		if ((c->state != VSOCK_ESTABLISHED && c->state != VSOCK_CLOSING) ||
		    (c->guest_shutdown & VSOCK_SHUTDOWN_SEND) ||
		    vsock_conn_from_guest(vs, c, ch->iov, ch->n_out, sizeof(*h), h->len) < 0)
			vsock_conn_reset(vs, c);
		break;
	case VSOCK_OP_CREDIT_UPDATE:
		break;			/* the window was taken above */
	case VSOCK_OP_CREDIT_REQUEST:
		c->pending |= VSOCK_P_CREDIT_UPDATE;
		break;
	}
}

static int serve_tx(struct virtio_vsock *vs)
{
	struct virtq *q = virtio_mmio_queue(&vs->vdev, VSOCK_QUEUE_TX);
	struct iovec iov[VSOCK_QUEUE_SIZE];
	bool pushed = false;
	int r;

	for (;;) {
		struct virtq_chain ch = { .iov = iov, .cap = VSOCK_QUEUE_SIZE };
		struct vsock_hdr h;

		if ((r = virtq_pop(q, &ch)) <= 0)
			break;
		vs->stats.tx_packets++;
		/* A malformed packet is dropped (RST if it names a connection); the device goes on. */
		if (ch.out_bytes >= sizeof(h) && virtq_chain_read(&ch, 0, &h, sizeof(h)) == sizeof(h)) {
			if (!vsock_hdr_check(&h, ch.out_bytes - sizeof(h), vs->guest_cid))
				guest_packet(vs, &h, &ch);
			else if (h.op != VSOCK_OP_RST && h.src_cid == vs->guest_cid)
				vsock_orphan_rst(vs, h.dst_port, h.src_port);
		}
		if ((r = virtq_push(q, ch.head, 0)) < 0)
			break;
		pushed = true;
	}
	if (pushed)
		virtio_mmio_used(&vs->vdev, VSOCK_QUEUE_TX);
	return r < 0 ? r : 0;
}

/* ---- Device -> guest ---- */

struct rx {
	struct virtio_vsock *vs;
	struct virtq *q;
	struct iovec iov[VSOCK_QUEUE_SIZE];
	struct virtq_chain ch;
	bool pushed, empty;
};

/*
 * Take the next rx buffer into ch (iov, cap VSOCK_QUEUE_SIZE); false when
 * the guest has none (or the queue broke). Buffers smaller than min_in are
 * handed back unused, or, while batching, end the batch.
 */
static bool rx_take_into(struct rx *rx, struct virtq_chain *ch, struct iovec *iov, uint64_t min_in,
			 bool batching)
{
	for (;;) {
		*ch = (struct virtq_chain){ .iov = iov, .cap = VSOCK_QUEUE_SIZE };
		if (virtq_pop(rx->q, ch) != 1) {
			rx->empty = true;
			return false;
		}
		if (ch->in_bytes >= min_in)
			return true;
		if (batching) {
			/* Keep a batch contiguous in the ring, so it can be given back by unpopping. */
			virtq_unpop(rx->q);
			return false;
		}
		if (virtq_push(rx->q, ch->head, 0) < 0) {
			rx->empty = true;
			return false;
		}
		rx->pushed = true;
	}
}

static bool rx_take(struct rx *rx)
{
	return rx_take_into(rx, &rx->ch, rx->iov, sizeof(struct vsock_hdr), false);
}

static void rx_give(struct rx *rx, struct vsock_hdr *h)
{
	(void)virtq_chain_write(&rx->ch, 0, h, sizeof(*h));
	if (virtq_push(rx->q, rx->ch.head, (uint32_t)sizeof(*h) + h->len) == 0) {
		rx->pushed = true;
		rx->vs->stats.rx_packets++;
	}
}

static bool send_orphan(struct rx *rx)
{
	struct virtio_vsock *vs = rx->vs;
	struct vsock_hdr h;

	if (!vs->norphan || !rx_take(rx))
		return false;
	fill_hdr(vs, &h, vs->orphan[0].src_port, vs->orphan[0].dst_port, VSOCK_OP_RST);
	memmove(&vs->orphan[0], &vs->orphan[1], --vs->norphan * sizeof(vs->orphan[0]));
	rx_give(rx, &h);
	return true;
}

static uint16_t next_control(struct vsock_conn *c, uint32_t *flags)
{
	static const struct { uint32_t bit; uint16_t op; } order[] = {
		{ VSOCK_P_REQUEST, VSOCK_OP_REQUEST },
		{ VSOCK_P_RESPONSE, VSOCK_OP_RESPONSE },
		{ VSOCK_P_SHUTDOWN, VSOCK_OP_SHUTDOWN },
		{ VSOCK_P_CREDIT_UPDATE, VSOCK_OP_CREDIT_UPDATE },
		{ VSOCK_P_CREDIT_REQUEST, VSOCK_OP_CREDIT_REQUEST },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(order); i++) {
		if (c->pending & order[i].bit) {
			c->pending &= ~order[i].bit;
			*flags = order[i].op == VSOCK_OP_SHUTDOWN ? c->shutdown_flags : 0;
			return order[i].op;
		}
	}
	c->pending = 0;
	return VSOCK_OP_INVALID;
}

/* The host peer will send nothing more (EOF), or is gone altogether (hang-up). */
static void host_eof(struct virtio_vsock *vs, struct vsock_conn *c)
{
	c->host_eof = true;
	c->readable = false;
	c->pending |= VSOCK_P_SHUTDOWN;
	if (c->hup) {
		c->shutdown_flags = VSOCK_SHUTDOWN_BOTH;
		c->state = VSOCK_CLOSING;
		c->deadline_ms = vs->now_ms() + VSOCK_CLOSE_MS;
		vsock_arm_timer(vs);
	} else {
		c->shutdown_flags = VSOCK_SHUTDOWN_SEND;
	}
	vsock_conn_rearm(vs, c);
}

/* The writable part of ch after the header, at most room bytes, appended to parts; bytes taken. */
static uint64_t payload_parts(const struct virtq_chain *ch, uint64_t room, struct iovec *parts,
			      unsigned *np, unsigned cap)
{
	uint64_t skip = sizeof(struct vsock_hdr), taken = 0;

	for (unsigned i = 0; i < ch->n_in && room && *np < cap; i++) {
		struct iovec v = ch->iov[ch->n_out + i];
		if (skip >= v.iov_len) {
			skip -= v.iov_len;
			continue;
		}
		v.iov_base = (uint8_t *)v.iov_base + skip;
		v.iov_len -= skip;
		skip = 0;
		if (v.iov_len > room)
			v.iov_len = room;
		room -= v.iov_len;
		taken += v.iov_len;
		parts[(*np)++] = v;
	}
	return taken;
}

/*
 * No credit: stop reading. A Linux guest sends OP_CREDIT_UPDATE by itself
 * once it has consumed most of its buffer, so asking at once would only
 * add a request and an answer per stall, each bringing what little the
 * application read meanwhile. We ask only if the guest stays silent for
 * VSOCK_CREDIT_WAIT_MS (vsock_credit_timeouts()), and only for data that
 * is really there.
 */
static bool no_credit(struct virtio_vsock *vs, struct vsock_conn *c)
{
	char b;

	if (c->credit_requested || c->credit_wait_ms)
		return false;		/* already waiting: the guest's next header ends it */
	ssize_t p = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	if (p == 0) {
		host_eof(vs, c);
		return true;
	}
	if (p < 0) {
		c->readable = false;
		vsock_conn_rearm(vs, c);
		return false;
	}
	c->credit_wait_ms = vs->now_ms() + VSOCK_CREDIT_WAIT_MS;
	vsock_arm_timer(vs);
	return false;
}

void vsock_credit_timeouts(struct virtio_vsock *vs, uint64_t now)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = vs->conns[i];
		if (!c || !c->credit_wait_ms || now < c->credit_wait_ms)
			continue;
		c->credit_wait_ms = 0;
		c->credit_requested = true;
		c->pending |= VSOCK_P_CREDIT_REQUEST;
		vs->stats.credit_requests++;
	}
}

/*
 * Host data as RW packets, as much as the guest's credit allows: up to
 * VSOCK_RX_BATCH rx buffers are filled by one readv of the socket (Linux
 * posts 4 KiB buffers: one system call per 64 KiB rather than per 4 KiB).
 */
static bool send_data(struct rx *rx, struct vsock_conn *c)
{
	struct virtio_vsock *vs = rx->vs;
	uint64_t want = vsock_credit(c->peer_buf_alloc, c->peer_fwd_cnt, c->tx_cnt);
	struct virtq_chain ch[VSOCK_RX_BATCH];
	uint64_t room[VSOCK_RX_BATCH];
	unsigned k = 0, np = 0;

	if (!c->readable || (c->state != VSOCK_ESTABLISHED && c->state != VSOCK_CLOSING) ||
	    (c->guest_shutdown & VSOCK_SHUTDOWN_RCV))
		return false;
	if (!want)
		return no_credit(vs, c);
	while (k < VSOCK_RX_BATCH && want && np < ARRAY_SIZE(vs->rx_part) &&
	       rx_take_into(rx, &ch[k], vs->rx_iov[k], sizeof(struct vsock_hdr) + 1, k > 0)) {
		uint64_t r = want < VSOCK_MAX_PKT_PAYLOAD ? want : VSOCK_MAX_PKT_PAYLOAD;
		room[k] = payload_parts(&ch[k], r, vs->rx_part, &np, ARRAY_SIZE(vs->rx_part));
		want -= room[k];
		k++;
	}
	if (!k)
		return false;
	ssize_t got = readv(c->fd, vs->rx_part, (int)np);
	if (got <= 0) {
		int e = got < 0 ? errno : 0;
		for (unsigned i = 0; i < k; i++)
			virtq_unpop(rx->q);
		rx->empty = false;	/* the buffers went back: others may use them */
		if (got == 0) {
			host_eof(vs, c);
		} else if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) {
			c->readable = false;
			vsock_conn_rearm(vs, c);
		} else {
			vsock_conn_reset(vs, c);
		}
		return true;	/* state changed: a control packet may be owed */
	}
	/* The bytes fill the buffers in order; buffers left empty go back to the ring. */
	uint64_t left = (uint64_t)got;
	unsigned used = 0;
	for (; used < k && left; used++) {
		struct vsock_hdr h;
		uint32_t n = (uint32_t)(left < room[used] ? left : room[used]);
		left -= n;
		fill_hdr(vs, &h, c->local_port, c->peer_port, VSOCK_OP_RW);
		h.len = n;
		h.fwd_cnt = c->fwd_cnt;
		c->fwd_sent = c->fwd_cnt;
		c->tx_cnt += n;
		vs->stats.bytes_to_guest += n;
		rx->ch = ch[used];
		rx_give(rx, &h);
	}
	for (unsigned i = used; i < k; i++)
		virtq_unpop(rx->q);
	if (used < k)
		rx->empty = false;	/* buffers went back: the ring is not empty */
	return true;
}

/* One packet for connection c if it owes one; true if something happened. */
static bool serve_conn(struct rx *rx, struct vsock_conn *c)
{
	struct virtio_vsock *vs = rx->vs;
	struct vsock_hdr h;
	uint32_t flags = 0;

	if (c->state == VSOCK_HOST_LINE || c->state == VSOCK_DRAINING)
		return false;
	if (!c->pending)
		return send_data(rx, c);
	if (!rx_take(rx))
		return false;
	uint16_t op = next_control(c, &flags);
	fill_hdr(vs, &h, c->local_port, c->peer_port, op);
	h.flags = flags;
	h.fwd_cnt = c->fwd_cnt;
	c->fwd_sent = c->fwd_cnt;
	rx_give(rx, &h);
	return true;
}

/*
 * Tell the driver about what was just pushed, not only when the whole flush
 * is done: it works on these packets while the next ones are read. Its
 * used_event keeps this to one interrupt per poll.
 */
static void rx_used(struct rx *rx)
{
	if (rx->pushed)
		virtio_mmio_used(&rx->vs->vdev, VSOCK_QUEUE_RX);
	rx->pushed = false;
}

void vsock_rx_flush(struct virtio_vsock *vs)
{
	struct rx rx = { .vs = vs, .q = virtio_mmio_queue(&vs->vdev, VSOCK_QUEUE_RX) };
	bool progress = true;

	if (!virtio_mmio_running(&vs->vdev))
		return;
	while (progress && !rx.empty) {
		unsigned next = vs->rr;

		progress = false;
		while (send_orphan(&rx))
			progress = true;
		rx_used(&rx);
		for (unsigned k = 0; k < VSOCK_MAX_CONNS && !rx.empty; k++) {
			unsigned i = (vs->rr + k) % VSOCK_MAX_CONNS;
			if (vs->conns[i] && serve_conn(&rx, vs->conns[i])) {
				progress = true;
				next = (i + 1) % VSOCK_MAX_CONNS;
			}
			rx_used(&rx);
		}
		/* The next round (or flush) starts after the last connection served. */
		vs->rr = next;
	}
	if (rx.q && rx.q->broken)
		virtio_mmio_fail(&vs->vdev, "queue %u: %s", VSOCK_QUEUE_RX, rx.q->error);
}

/* ---- The transport's callbacks ---- */

static int vsock_queue_notify(void *opaque, unsigned q)
{
	struct virtio_vsock *vs = opaque;
	int r = 0;

	if (q == VSOCK_QUEUE_TX)
		r = serve_tx(vs);
	if (r == 0 && q != VSOCK_QUEUE_EVENT)
		vsock_rx_flush(vs);	/* new rx buffers, or answers owed to what tx brought */
	return r;
}

static void vsock_config_read(void *opaque, uint32_t offset, void *buf, unsigned len)
{
	struct virtio_vsock *vs = opaque;
	uint64_t cid = vs->guest_cid;	/* config: le64 guest_cid */
	memcpy(buf, (uint8_t *)&cid + offset, len);
}

/* The driver reset the device: every connection is gone (host peers see their socket close). */
static void vsock_reset(void *opaque)
{
	struct virtio_vsock *vs = opaque;

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		if (vs->conns[i])
			vsock_conn_free(vs, vs->conns[i]);
	}
	vs->norphan = 0;
	vsock_arm_timer(vs);
}

const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.num_queues = 3,
	.queue_max = VSOCK_QUEUE_SIZE,
	.features = 0,			/* stream only: VIRTIO_VSOCK_F_SEQPACKET not offered */
	.config_size = sizeof(uint64_t),
	.config_read = vsock_config_read,
	.queue_notify = vsock_queue_notify,
	.reset = vsock_reset,
};
