/*
 * virtio-vsock against a fake guest driver and real unix sockets: the
 * CONNECT handshake, guest connections to PATH_<port>, stream data both
 * ways, credit, shutdown and reset, and a host peer that stops reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "vguest.h"

#define GBUF 262144u	/* the fake guest's buf_alloc */

static int setup(void **state)
{
	struct vguest *g = calloc(1, sizeof(*g));
	vg_setup(g);
	vg_rx_post(g, 32);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct vguest *g = *state;
	vg_teardown(g);
	free(g);
	return 0;
}

static void test_hdr_check(void **state)
{
	(void)state;
	struct vsock_hdr ok = { .src_cid = 3, .dst_cid = 2, .type = VSOCK_TYPE_STREAM,
				.op = VSOCK_OP_RW, .len = 100 };
	struct vsock_hdr h;

	assert_null(vsock_hdr_check(&ok, 100, 3));
	assert_non_null(strstr(vsock_hdr_check(&ok, 99, 3), "beyond"));
	assert_non_null(strstr(vsock_hdr_check(&ok, 100, 4), "source CID"));
	h = ok; h.dst_cid = 3;
	assert_non_null(strstr(vsock_hdr_check(&h, 100, 3), "destination"));
	h = ok; h.type = 2;	/* seqpacket: not negotiated */
	assert_non_null(vsock_hdr_check(&h, 100, 3));
	h = ok; h.op = 0;
	assert_non_null(vsock_hdr_check(&h, 100, 3));
	h = ok; h.op = 8;
	assert_non_null(vsock_hdr_check(&h, 100, 3));
	h = ok; h.op = VSOCK_OP_REQUEST;
	assert_non_null(strstr(vsock_hdr_check(&h, 100, 3), "payload on a control"));
	h = ok; h.len = 0xffffffff;
	assert_non_null(vsock_hdr_check(&h, UINT64_MAX, 3));
	h = ok; h.len = VSOCK_MAX_PKT_PAYLOAD + 1;
	assert_non_null(vsock_hdr_check(&h, UINT64_MAX, 3));
}

static void test_credit(void **state)
{
	(void)state;
	assert_int_equal(vsock_credit(1000, 0, 0), 1000);
	assert_int_equal(vsock_credit(1000, 0, 400), 600);
	assert_int_equal(vsock_credit(1000, 400, 1400), 0);
	/* Free-running counters wrap. */
	assert_int_equal(vsock_credit(1000, 0xffffff00u, 0x100), 488);
	/* A peer claiming more consumed than we sent, or more in flight than its buffer: no credit. */
	assert_int_equal(vsock_credit(1000, 2000, 500), 0);
	assert_int_equal(vsock_credit(0, 0, 0), 0);
}

/* CONNECT, REQUEST, RESPONSE, OK; data both ways with the credit fields right. */
static void test_host_connect_and_data(void **state)
{
	struct vguest *g = *state;
	struct vsock_hdr h;
	uint32_t hp;
	char buf[8192];
	int fd = vg_open(g, 1024, &hp);

	assert_int_equal(hp, VSOCK_HOST_PORT_BASE);
	assert_int_equal(g->vs.stats.host_conns, 1);
	/* Host -> guest. */
	assert_int_equal(write(fd, "ping\n", 5), 5);
	vg_poll(g);
	assert_true(vg_recv(g, &h, buf));
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.src_port, hp);
	assert_int_equal(h.dst_port, 1024);
	assert_int_equal(h.len, 5);
	assert_memory_equal(buf, "ping\n", 5);
	/* Guest -> host. */
	vg_send(g, 1024, hp, VSOCK_OP_RW, 0, GBUF, 5, "pong\n", 5);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 1000), 5);
	assert_memory_equal(buf, "pong\n", 5);
	/* A second connection gets the next port; both carry data independently. */
	uint32_t hp2;
	int fd2 = vg_open(g, 1024, &hp2);
	assert_int_equal(hp2, hp + 1);
	vg_send(g, 1024, hp2, VSOCK_OP_RW, 0, GBUF, 0, "two", 3);
	vg_send(g, 1024, hp, VSOCK_OP_RW, 0, GBUF, 5, "one", 3);
	assert_int_equal(vg_read(fd2, buf, sizeof(buf), 1000), 3);
	assert_memory_equal(buf, "two", 3);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 1000), 3);
	assert_memory_equal(buf, "one", 3);
	close(fd);
	close(fd2);
}

/* Let the device's clock pass its credit wait, and its timer tick if it runs. */
static void expire_credit_wait(struct vguest *g)
{
	struct pollfd p = { .fd = g->vs.timer_fd, .events = POLLIN };

	g->now += VSOCK_CREDIT_WAIT_MS;
	(void)poll(&p, 1, g->vs.ticking ? 1000 : 0);
	vg_poll(g);
}

/*
 * A guest that updates its credit by itself (as Linux does once it has
 * consumed most of its buffer) before the wait is over is never asked:
 * the data flows on with no OP_CREDIT_REQUEST, and the timer stops.
 */
static void test_no_credit_request_when_guest_updates(void **state)
{
	struct vguest *g = *state;
	struct vsock_hdr h;
	uint32_t hp;
	char buf[8192];
	int fd = vg_open(g, 1024, &hp);

	vg_send(g, 1024, hp, VSOCK_OP_CREDIT_UPDATE, 0, 4, 0, NULL, 0);	/* 4-byte window */
	assert_int_equal(write(fd, "abcdefgh", 8), 8);
	vg_poll(g);
	assert_true(vg_recv(g, &h, buf));
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.len, 4);
	assert_false(vg_recv(g, &h, NULL));
	assert_int_not_equal(g->vs.conns[0]->credit_wait_ms, 0);	/* waiting, and ticking */
	assert_true(g->vs.ticking);
	/* Just before the wait is over, the guest consumed the 4 bytes and says so. */
	g->now += VSOCK_CREDIT_WAIT_MS - 1;
	vg_send(g, 1024, hp, VSOCK_OP_CREDIT_UPDATE, 0, 4, 4, NULL, 0);
	assert_true(vg_recv(g, &h, buf));
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.len, 4);
	assert_memory_equal(buf, "efgh", 4);
	/* Out of credit again but nothing waits on the socket: no wait, no request, no tick. */
	g->now += 10 * VSOCK_CREDIT_WAIT_MS;
	vg_poll(g);
	assert_false(vg_recv(g, &h, NULL));
	assert_int_equal(g->vs.conns[0]->credit_wait_ms, 0);
	assert_false(g->vs.ticking);
	assert_int_equal(g->vs.stats.credit_requests, 0);
	close(fd);
}

/* Host data never exceeds the guest's advertised window; a CREDIT_UPDATE reopens it. */
static void test_host_data_respects_guest_credit(void **state)
{
	struct vguest *g = *state;
	struct vsock_hdr h;
	uint32_t hp;
	char buf[8192];
	int fd = vg_open(g, 1024, &hp);

	vg_send(g, 1024, hp, VSOCK_OP_CREDIT_UPDATE, 0, 10, 0, NULL, 0);	/* 10-byte window */
	assert_int_equal(write(fd, "0123456789abcdefghij", 20), 20);
	vg_poll(g);
	assert_true(vg_recv(g, &h, buf));
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.len, 10);
	assert_memory_equal(buf, "0123456789", 10);
	/* Out of credit: nothing more, and no request while the guest may still update by itself. */
	assert_false(vg_recv(g, &h, NULL));
	vg_poll(g);
	assert_false(vg_recv(g, &h, NULL));
	/* The guest stays silent: the device asks for credit, once. */
	assert_true(g->vs.ticking);
	expire_credit_wait(g);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_CREDIT_REQUEST);
	assert_int_equal(g->vs.stats.credit_requests, 1);
	assert_false(vg_recv(g, &h, NULL));
	expire_credit_wait(g);
	assert_false(vg_recv(g, &h, NULL));
	/* The guest consumed the 10 bytes. */
	vg_send(g, 1024, hp, VSOCK_OP_CREDIT_UPDATE, 0, 10, 10, NULL, 0);
	assert_true(vg_recv(g, &h, buf));
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.len, 10);
	assert_memory_equal(buf, "abcdefghij", 10);
	/* A CREDIT_REQUEST from the guest is answered with our window. */
	vg_send(g, 1024, hp, VSOCK_OP_CREDIT_REQUEST, 0, 10, 20, NULL, 0);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(h.buf_alloc, VSOCK_CONN_BUF);
	close(fd);
}

/* Nothing listens in the guest: RST closes the client's socket at once. */
static void test_host_connect_refused(void **state)
{
	struct vguest *g = *state;
	struct vsock_hdr h;
	char buf[16];
	int fd = vg_client(g);

	assert_int_equal(write(fd, "CONNECT 5555\n", 13), 13);
	vg_poll(g);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_REQUEST);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 0), -1);	/* no answer yet */
	vg_send(g, 5555, h.src_port, VSOCK_OP_RST, 0, 0, 0, NULL, 0);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 100), 0);	/* EOF, no OK */
	assert_int_equal(g->vs.nconns, 0);
	assert_int_equal(g->vs.stats.refused, 1);
	assert_false(vg_recv(g, &h, NULL));	/* no RST back for an RST */
	close(fd);
}

static void expect_closed(struct vguest *g, int fd)
{
	char buf[64];
	vg_poll(g);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 100), 0);
	close(fd);
}

/* Hostile CONNECT lines and a client that never sends one. */
static void test_bad_lines(void **state)
{
	struct vguest *g = *state;
	static const char *const bad[] = {
		"GET / HTTP/1.0\n", "CONNECT\n", "CONNECT \n", "CONNECT -1\n", "CONNECT 12a\n",
		"CONNECT 4294967295\n", "CONNECT 99999999999999999999\n", "connect 1024\n",
		"CONNECT 01024\n", "CONNECT 1024 \n", "CONNECT  1024\n",
		"CONNECT 1111111111111111111111111111111111111111",
	};
	struct vsock_hdr h;

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		int fd = vg_client(g);
		assert_int_equal(write(fd, bad[i], strlen(bad[i])), (ssize_t)strlen(bad[i]));
		expect_closed(g, fd);
	}
	assert_int_equal(g->vs.stats.bad_lines, ARRAY_SIZE(bad));
	assert_false(vg_recv(g, &h, NULL));	/* the guest heard of none of them */
	/* Silence, then a partial line: both time out. */
	int quiet = vg_client(g), partial = vg_client(g);
	assert_int_equal(write(partial, "CONN", 4), 4);
	vg_poll(g);
	vg_poll(g);
	assert_int_equal(g->vs.nconns, 2);
	g->now += VSOCK_HANDSHAKE_MS + 1;
	vsock_arm_timer(&g->vs);
	struct pollfd p = { .fd = g->vs.timer_fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 1000), 1);
	expect_closed(g, quiet);
	expect_closed(g, partial);
	assert_int_equal(g->vs.nconns, 0);
	/* A line split over two writes is fine. */
	int fd = vg_client(g);
	assert_int_equal(write(fd, "CONNECT 10", 10), 10);
	vg_poll(g);
	assert_int_equal(write(fd, "24\n", 3), 3);
	vg_poll(g);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_REQUEST);
	assert_int_equal(h.dst_port, 1024);
	close(fd);
}

/* Bytes the client sends right after its line stay stream data for the guest. */
static void test_data_after_line_kept(void **state)
{
	struct vguest *g = *state;
	struct vsock_hdr h;
	char buf[64];
	int fd = vg_client(g);

	assert_int_equal(write(fd, "CONNECT 7\nhello", 15), 15);
	vg_poll(g);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_REQUEST);
	vg_send(g, 7, h.src_port, VSOCK_OP_RESPONSE, 0, GBUF, 0, NULL, 0);
	assert_true(vg_read(fd, buf, sizeof(buf), 1000) > 0);
	vg_poll(g);
	assert_true(vg_recv(g, &h, buf));
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.len, 5);
	assert_memory_equal(buf, "hello", 5);
	close(fd);
}

static int listen_at(struct vguest *g, uint32_t port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	char p[160];
	snprintf(p, sizeof(p), "%s_%u", g->path, port);
	assert_true(strlen(p) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, p, strlen(p) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void unlink_port(struct vguest *g, uint32_t port)
{
	char p[160];
	snprintf(p, sizeof(p), "%s_%u", g->path, port);
	unlink(p);
}

/* The guest connects to host port 2000: PATH_2000; to 2001 (no listener): RST. */
static void test_guest_connect(void **state)
{
	struct vguest *g = *state;
	struct vsock_hdr h;
	char buf[64];
	int l = listen_at(g, 2000);

	vg_send(g, 40000, 2000, VSOCK_OP_REQUEST, 0, GBUF, 0, NULL, 0);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_RESPONSE);
	assert_int_equal(h.src_port, 2000);
	assert_int_equal(h.dst_port, 40000);
	int fd = accept(l, NULL, NULL);
	assert_true(fd >= 0);
	vg_send(g, 40000, 2000, VSOCK_OP_RW, 0, GBUF, 0, "hi host", 7);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 1000), 7);
	assert_memory_equal(buf, "hi host", 7);
	assert_int_equal(write(fd, "hi guest", 8), 8);
	vg_poll(g);
	assert_true(vg_recv(g, &h, buf));
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.len, 8);
	assert_memory_equal(buf, "hi guest", 8);
	assert_int_equal(g->vs.stats.guest_conns, 1);

	vg_send(g, 40001, 2001, VSOCK_OP_REQUEST, 0, GBUF, 0, NULL, 0);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_RST);
	assert_int_equal(h.src_port, 2001);
	assert_int_equal(h.dst_port, 40001);
	/* A packet for a connection that does not exist: RST. */
	vg_send(g, 40002, 2000, VSOCK_OP_RW, 0, GBUF, 0, "x", 1);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_RST);
	assert_int_equal(h.dst_port, 40002);
	/* A duplicate request for a live pair resets it. */
	vg_send(g, 40000, 2000, VSOCK_OP_REQUEST, 0, GBUF, 0, NULL, 0);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_RST);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 100), 0);
	close(fd);
	close(l);
	unlink_port(g, 2000);
}

/* SHUTDOWN one way and both, the host closing, RST from the guest. */
static void test_shutdown(void **state)
{
	struct vguest *g = *state;
	struct vsock_hdr h;
	char buf[64];
	uint32_t hp;
	int fd = vg_open(g, 1024, &hp);

	/* The guest stops sending: the host reads EOF but can still write. */
	vg_send(g, 1024, hp, VSOCK_OP_RW, 0, GBUF, 0, "last", 4);
	vg_send(g, 1024, hp, VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_SEND, GBUF, 0, NULL, 0);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 1000), 4);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 1000), 0);
	assert_int_equal(write(fd, "still", 5), 5);
	vg_poll(g);
	assert_true(vg_recv(g, &h, buf));
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.len, 5);
	/* Data after SHUTDOWN(SEND) is a protocol error: RST, connection gone. */
	vg_send(g, 1024, hp, VSOCK_OP_RW, 0, GBUF, 0, "bad", 3);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_RST);
	assert_int_equal(g->vs.nconns, 0);
	close(fd);

	/* The host half-closes: SHUTDOWN(SEND); then closes: the guest closes both ways and gets RST. */
	fd = vg_open(g, 1024, &hp);
	shutdown(fd, SHUT_WR);
	vg_poll(g);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_SHUTDOWN);
	assert_int_equal(h.flags, VSOCK_SHUTDOWN_SEND);
	vg_send(g, 1024, hp, VSOCK_OP_RW, 0, GBUF, 0, "reply", 5);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 1000), 5);
	vg_send(g, 1024, hp, VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_BOTH, GBUF, 0, NULL, 0);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_RST);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 1000), 0);
	assert_int_equal(g->vs.nconns, 0);
	close(fd);

	/* The host closes altogether: SHUTDOWN(both); the guest's RST ends it. */
	fd = vg_open(g, 1024, &hp);
	close(fd);
	vg_poll(g);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_SHUTDOWN);
	assert_int_equal(h.flags, VSOCK_SHUTDOWN_BOTH);
	assert_int_equal(g->vs.nconns, 1);
	vg_send(g, 1024, hp, VSOCK_OP_RST, 0, GBUF, 0, NULL, 0);
	assert_int_equal(g->vs.nconns, 0);
	assert_false(vg_recv(g, &h, NULL));
}

/*
 * A host peer that stops reading: the guest may fill exactly our buf_alloc
 * (all of it accepted at once, nothing blocks), more is a credit violation
 * (RST); meanwhile another connection works as usual.
 */
static void test_stalled_host_peer(void **state)
{
	struct vguest *g = *state;
	struct vsock_hdr h;
	static char chunk[VSOCK_MAX_PKT_PAYLOAD];
	char buf[64];
	uint32_t hp, hp2;
	int stalled = vg_open(g, 1024, &hp);
	int other = vg_open(g, 1025, &hp2);
	uint32_t sent = 0;

	memset(chunk, 'x', sizeof(chunk));
	/* Our window is VSOCK_CONN_BUF beyond what the unix socket itself absorbs. */
	for (unsigned i = 0; i < 64 && g->vs.nconns == 2; i++) {
		struct vsock_conn *c = vsock_conn_find(&g->vs, hp, 1024);
		uint32_t room = VSOCK_CONN_BUF - vsock_conn_buffered(c);
		if (room == 0)
			break;
		uint32_t n = room < sizeof(chunk) ? room : sizeof(chunk);
		vg_send(g, 1024, hp, VSOCK_OP_RW, 0, GBUF, 0, chunk, n);
		sent += n;
	}
	struct vsock_conn *c = vsock_conn_find(&g->vs, hp, 1024);
	assert_non_null(c);
	assert_int_equal(vsock_conn_buffered(c), VSOCK_CONN_BUF);
	assert_true(sent > VSOCK_CONN_BUF);
	/* No credit left for the guest on this connection. */
	while (vg_recv(g, &h, NULL))
		;
	assert_int_equal(vsock_credit(VSOCK_CONN_BUF, c->fwd_cnt, c->rx_cnt), 0);

	/* The other connection is unaffected, both ways. */
	vg_send(g, 1025, hp2, VSOCK_OP_RW, 0, GBUF, 0, "ok?", 3);
	assert_int_equal(vg_read(other, buf, sizeof(buf), 1000), 3);
	assert_int_equal(write(other, "ok!", 3), 3);
	vg_poll(g);
	assert_true(vg_recv(g, &h, buf));
	assert_int_equal(h.src_port, hp2);
	assert_memory_equal(buf, "ok!", 3);

	/* The stalled peer reads what its socket holds: the device forwards more and credits the guest. */
	static char sink[1 << 20];
	ssize_t got = read(stalled, sink, sizeof(sink));
	assert_true(got > 0);
	vg_poll(g);
	assert_true(vsock_conn_buffered(c) < VSOCK_CONN_BUF);

	/* Beyond the window: the guest broke the protocol, only its connection pays. */
	for (uint32_t room; (room = VSOCK_CONN_BUF - vsock_conn_buffered(c)) > 0;) {
		vg_send(g, 1024, hp, VSOCK_OP_RW, 0, GBUF, 0, chunk, room < sizeof(chunk) ? room : sizeof(chunk));
		assert_int_equal(g->vs.stats.credit_violations, 0);
	}
	vg_send(g, 1024, hp, VSOCK_OP_RW, 0, GBUF, 0, chunk, 1);
	assert_int_equal(g->vs.stats.credit_violations, 1);
	assert_null(vsock_conn_find(&g->vs, hp, 1024));
	bool rst = false;
	while (vg_recv(g, &h, NULL))
		rst |= h.op == VSOCK_OP_RST && h.src_port == hp;
	assert_true(rst);
	vg_send(g, 1025, hp2, VSOCK_OP_RW, 0, GBUF, 0, "yes", 3);
	assert_int_equal(vg_read(other, buf, sizeof(buf), 1000), 3);
	close(stalled);
	close(other);
}

/* Without a driver, a client is turned away at once; a device reset closes every connection. */
static void test_reset_and_not_running(void **state)
{
	struct vguest *g = *state;
	char buf[16];
	uint32_t hp;
	int fd = vg_open(g, 1024, &hp);

	tg_wr(&g->vs.vdev, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vg_read(fd, buf, sizeof(buf), 100), 0);
	close(fd);
	assert_int_equal(g->vs.nconns, 0);
	fd = vg_client(g);
	assert_int_equal(write(fd, "CONNECT 1024\n", 13), 13);
	expect_closed(g, fd);
	assert_int_equal(g->vs.nconns, 0);
}

/* The config space is the guest CID, as a little-endian u64. */
static void test_config(void **state)
{
	struct vguest *g = *state;
	assert_int_equal(virtio_mmio_ops.read(&g->vs.vdev, VIRTIO_MMIO_CONFIG, 4), VG_CID);
	assert_int_equal(virtio_mmio_ops.read(&g->vs.vdev, VIRTIO_MMIO_CONFIG, 8), VG_CID);
	assert_int_equal(virtio_mmio_ops.read(&g->vs.vdev, VIRTIO_MMIO_CONFIG + 4, 4), 0);
	assert_int_equal(virtio_mmio_ops.read(&g->vs.vdev, VIRTIO_MMIO_CONFIG + 8, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_check),
		cmocka_unit_test(test_credit),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_connect_and_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_data_respects_guest_credit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_credit_request_when_guest_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_connect_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_after_line_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_host_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_and_not_running, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
