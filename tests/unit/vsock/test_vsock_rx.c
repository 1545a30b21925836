/*
 * virtio-vsock's rx scheduling when the guest is short of rx buffers (a
 * busy guest refilling its ring a few buffers at a time): owed control
 * packets are not left behind while buffers are there, and connections
 * take turns across flushes.
 */
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

static int setup(void **state)
{
	struct vguest *g = calloc(1, sizeof(*g));
	vg_setup(g);
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

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/*
 * A connection whose socket was drained exactly (still marked readable)
 * takes the last rx buffers for a read that finds nothing and gives them
 * back: the RESPONSE another connection owes goes out in the same flush,
 * not after some later event (the guest's connect would time out).
 */
static void test_control_not_stranded_by_empty_read(void **state)
{
	struct vguest *g = *state;
	struct vsock_hdr h;
	char data[8192], path[160];
	uint32_t hp;
	int lfd, fd;

	vg_rx_post(g, 1);
	fd = vg_open(g, 1024, &hp);		/* connection A, slot 0 */
	/* Exactly two buffers' worth: the socket is empty afterwards. */
	vg_rx_post(g, 2);
	memset(data, 'a', sizeof(data));
	assert_int_equal(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	vg_poll(g);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.len, 4096);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.len, 4096);
	assert_false(vg_recv(g, &h, NULL));

	/* The guest connects to host port 2000 while it has no rx buffer: RESPONSE owed. */
	snprintf(path, sizeof(path), "%s_2000", g->path);
	lfd = listen_at(path);
	vg_send(g, 5000, 2000, VSOCK_OP_REQUEST, 0, 65536, 0, NULL, 0);
	assert_int_equal(g->vs.stats.guest_conns, 1);
	assert_false(vg_recv(g, &h, NULL));

	/* Two buffers come; A is looked at first and finds its socket empty. */
	g->vs.rr = 0;
	vg_rx_post(g, 2);
	assert_true(vg_recv(g, &h, NULL));
	assert_int_equal(h.op, VSOCK_OP_RESPONSE);
	assert_int_equal(h.dst_port, 5000);
	assert_int_equal(h.src_port, 2000);
	close(fd);
	close(lfd);
	unlink(path);
}

/* Two connections with data, a guest posting one buffer at a time: they alternate. */
static void test_connections_take_turns(void **state)
{
	struct vguest *g = *state;
	static char data[65536];
	struct vsock_hdr h;
	uint32_t hp[2];
	int fd[2], got[2] = { 0, 0 };

	vg_rx_post(g, 2);
	fd[0] = vg_open(g, 1024, &hp[0]);
	fd[1] = vg_open(g, 1024, &hp[1]);
	memset(data, 'x', sizeof(data));
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(write(fd[i], data, sizeof(data)), (ssize_t)sizeof(data));
	vg_poll(g);
	for (unsigned n = 0; n < 8; n++) {
		vg_rx_post(g, 1);
		assert_true(vg_recv(g, &h, NULL));
		assert_int_equal(h.op, VSOCK_OP_RW);
		got[h.src_port == hp[1]]++;
		assert_false(vg_recv(g, &h, NULL));
	}
	assert_int_equal(got[0], 4);
	assert_int_equal(got[1], 4);
	close(fd[0]);
	close(fd[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_control_not_stranded_by_empty_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connections_take_turns, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
