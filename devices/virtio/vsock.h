/*
 * virtio-vsock (device id 19, virtio 1.2 5.10) with a "hybrid vsock" host
 * side: no host kernel module, the host end of every connection is a unix
 * stream socket.
 *
 * - Host to guest: a program connects to the unix socket `path` and sends
 *   "CONNECT <port>\n"; the device asks the guest (OP_REQUEST from a local
 *   port counted from VSOCK_HOST_PORT_BASE) and answers "OK <local>\n" when
 *   the guest replies OP_RESPONSE, or closes the socket as soon as the guest
 *   answers OP_RST.
 * - Guest to host: OP_REQUEST to host port P connects (non-blocking) to the
 *   unix socket "<path>_<P>"; OP_RESPONSE on success, OP_RST otherwise.
 *
 * Every socket is non-blocking and served by the device's I/O thread: the
 * unix sockets sit in the device's own epoll set, which is one fd watched by
 * the transport's loop. Each connection buffers at most VSOCK_CONN_BUF bytes
 * of guest data its host peer has not read yet; that is the buf_alloc the
 * guest is told, so the guest's credit stops it before the buffer overflows
 * and a host peer that stops reading stalls only its own connection. Host
 * data is read straight into the guest's rx buffers, only as far as the
 * guest's credit allows.
 */
#ifndef DEVICES_VIRTIO_VSOCK_H
#define DEVICES_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>
#include "compiler.h"
#include "devices/virtio/mmio.h"
#include "devices/virtio/vsock_connect.h"
#include "devices/virtio/vsock_proto.h"

#define VSOCK_QUEUE_SIZE	256
#define VSOCK_MAX_CONNS		256		/* live connections, both directions */
#define VSOCK_CONN_BUF		(256u * 1024)	/* per connection; a power of two */
#define VSOCK_HOST_PORT_BASE	(1u << 30)	/* local ports for host-initiated connections */
#define VSOCK_HANDSHAKE_MS	5000		/* CONNECT line, then the guest's answer */
#define VSOCK_CLOSE_MS		2000		/* the guest's RST after our SHUTDOWN */
#define VSOCK_CREDIT_WAIT_MS	100		/* out of credit: the guest's own update, then we ask */
#define VSOCK_RX_BATCH		16		/* rx buffers filled by one read of a socket */
#define VSOCK_MAX_ORPHAN_RST	512		/* RSTs owed for connections already gone */
/* "<path>_<port>" must fit sun_path: room for "_4294967295". */
#define VSOCK_PATH_MAX		(sizeof(((struct sockaddr_un *)0)->sun_path) - 12)

enum vsock_state {
	VSOCK_HOST_LINE,	/* accepted; waiting for "CONNECT <port>\n" */
	VSOCK_GUEST_WAIT,	/* OP_REQUEST sent (or pending); waiting for the guest */
	VSOCK_ESTABLISHED,
	VSOCK_CLOSING,		/* our SHUTDOWN sent; waiting for the guest's RST */
	VSOCK_DRAINING,		/* gone from the guest; flushing buffered data to the host */
};

/* Control packets a connection owes the guest (sent when rx buffers are available). */
#define VSOCK_P_REQUEST		(1u << 0)
#define VSOCK_P_RESPONSE	(1u << 1)
#define VSOCK_P_CREDIT_UPDATE	(1u << 2)
#define VSOCK_P_CREDIT_REQUEST	(1u << 3)
#define VSOCK_P_SHUTDOWN	(1u << 4)
#define VSOCK_P_RST		(1u << 5)

struct vsock_conn {
	enum vsock_state state;
	int fd;				/* the unix socket */
	bool host_initiated;
	uint32_t local_port;		/* host side port (the guest's peer port) */
	uint32_t peer_port;		/* guest side port */
	uint32_t pending;		/* VSOCK_P_* */
	uint32_t shutdown_flags;	/* for a pending OP_SHUTDOWN */
	uint32_t guest_shutdown;	/* VSOCK_SHUTDOWN_* the guest sent */
	bool host_eof;			/* the host peer will send no more */
	bool readable;			/* fd has data we have not moved yet */
	bool hup;			/* the host peer closed both ways */
	bool wr_shut;			/* shutdown(fd, SHUT_WR) done */
	bool in_epoll;
	uint32_t events;		/* epoll interest now registered */
	unsigned slot;			/* index in conns[] */
	uint32_t gen;			/* tells a reused slot's events apart */
	uint64_t deadline_ms;		/* handshake / close timeout; 0: none */

	/* Guest -> host: rx_cnt bytes received, fwd_cnt written to fd, fwd_sent told to the guest. */
	uint32_t rx_cnt, fwd_cnt, fwd_sent;
	uint8_t *buf;			/* VSOCK_CONN_BUF ring, allocated on first use */
	/* Host -> guest: tx_cnt bytes sent; the guest's buffer as it last told us. */
	uint32_t tx_cnt, peer_buf_alloc, peer_fwd_cnt;
	bool credit_requested;		/* OP_CREDIT_REQUEST sent; no header from the guest since */
	uint64_t credit_wait_ms;	/* out of credit with data waiting: ask at this time; 0: not */

	char line[VSOCK_CONNECT_MAX];	/* CONNECT line bytes peeked so far */
};

struct vsock_stats {
	uint64_t host_conns, guest_conns;	/* connections established, by who asked */
	uint64_t refused;			/* either way: RST, bad line, timeout, no listener */
	uint64_t bad_lines;			/* CONNECT lines rejected */
	uint64_t bytes_to_guest, bytes_from_guest;
	uint64_t rx_packets, tx_packets;
	uint64_t resets_sent, credit_violations;
	uint64_t credit_requests;		/* OP_CREDIT_REQUESTs sent (the guest stayed silent) */
};

struct virtio_vsock {
	struct virtio_mmio vdev;	/* the transport; first, as the VMM expects */
	uint64_t guest_cid;
	char path[VSOCK_PATH_MAX];
	int listen_fd;
	int epoll_fd;			/* listener, connections, timer */
	int timer_fd;
	bool watching;			/* epoll_fd is in the transport's loop */
	bool ticking;			/* timer_fd runs (a deadline or a credit wait) */
	uint32_t next_port;
	unsigned rr;			/* round-robin start for rx */
	struct vsock_conn *conns[VSOCK_MAX_CONNS];
	unsigned nconns;
	uint32_t gen;
	struct {
		uint32_t src_port, dst_port;
	} orphan[VSOCK_MAX_ORPHAN_RST];
	unsigned norphan;
	struct vsock_stats stats;
	/* Scratch for one batched read (I/O thread): each rx chain, and the payload parts. */
	struct iovec rx_iov[VSOCK_RX_BATCH][VSOCK_QUEUE_SIZE];
	struct iovec rx_part[1024];
	uint64_t (*now_ms)(void);	/* clock (tests replace it) */
};

/*
 * Bind and listen on `path` (a stale socket file is replaced; any other
 * file is an error), set up the transport; err gets a message.
 */
int virtio_vsock_init(struct virtio_vsock *vs, const struct virtio_mmio_config *cfg,
		      uint64_t guest_cid, const char *path, char *err, size_t errlen) WUR;
/* Stop serving (the transport's thread stops first), close everything, unlink the socket. */
void virtio_vsock_destroy(struct virtio_vsock *vs);

/* Serve every ready socket and expired timer once, without waiting (I/O thread, lock held). */
void virtio_vsock_poll(struct virtio_vsock *vs);

/* ---- Inside the device (vsock.c, vsock_conn.c, vsock_host.c); exposed for the tests ---- */
extern const struct virtio_dev_ops vsock_ops;
struct vsock_conn *vsock_conn_find(struct virtio_vsock *vs, uint32_t local_port, uint32_t peer_port);
void vsock_conn_free(struct virtio_vsock *vs, struct vsock_conn *c);
void vsock_conn_rearm(struct virtio_vsock *vs, struct vsock_conn *c);
/* Move guest data toward the host (from `iov`, `len` bytes at `off`); -EPIPE / -ENOBUFS: reset. */
int vsock_conn_from_guest(struct virtio_vsock *vs, struct vsock_conn *c, const struct iovec *iov,
			  unsigned niov, uint64_t off, uint32_t len) WUR;
/* Write buffered guest data to the fd; -errno on a dead socket. */
int vsock_conn_flush(struct virtio_vsock *vs, struct vsock_conn *c) WUR;
/* Send the guest everything that is owed and fits in its rx buffers. */
void vsock_rx_flush(struct virtio_vsock *vs);
/* Open a host-bound connection (guest OP_REQUEST to port local): 0 or -errno (send RST). */
int vsock_host_connect(struct virtio_vsock *vs, struct vsock_conn *c) WUR;
/* The guest answered OP_RESPONSE to a host-initiated request: "OK <port>\n". */
int vsock_host_ok(struct virtio_vsock *vs, struct vsock_conn *c) WUR;
/* Tick while any connection has a deadline or a credit wait; a running tick is not postponed. */
void vsock_arm_timer(struct virtio_vsock *vs);
/* Credit waits over at `now` become OP_CREDIT_REQUESTs (timer). */
void vsock_credit_timeouts(struct virtio_vsock *vs, uint64_t now);
/* Abort a connection: an OP_RST goes to the guest if it knows it; buffered data is dropped. */
void vsock_conn_reset(struct virtio_vsock *vs, struct vsock_conn *c);
/* Queue an OP_RST to the guest for (host port, guest port); dropped when the queue is full. */
void vsock_orphan_rst(struct virtio_vsock *vs, uint32_t local_port, uint32_t peer_port);
/* A new connection in a free slot (fd is owned by it from now on), or NULL (fd closed). */
struct vsock_conn *vsock_conn_new(struct virtio_vsock *vs, int fd);
uint32_t vsock_conn_buffered(const struct vsock_conn *c);

#endif
