/*
 * virtio-net on a real Linux tap, in a network namespace of its own (the
 * host's interfaces are never touched). Skipped where /dev/net/tun or a
 * new network namespace is not available (not root, a container).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio/net_tap.h"
#include "tnet.h"

#define B(f) VIRTIO_BIT(VIRTIO_NET_F_##f)
#define TAP "vmmtest0"

static bool have_netns;

static int group_setup(void **state)
{
	(void)state;
	have_netns = access("/dev/net/tun", R_OK | W_OK) == 0 && unshare(CLONE_NEWNET) == 0;
	return 0;
}

#define NEED_TAP() do { if (!have_netns) skip(); } while (0)

static int ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int r = ioctl(s, req, ifr);
	close(s);
	return r;
}

static uint32_t ethtool_get(const char *ifname, uint32_t cmd)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr = { .ifr_data = (char *)&ev };
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	assert_int_equal(ifreq_ioctl(SIOCETHTOOL, &ifr), 0);
	return ev.data;
}

static void link_up(const char *ifname)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	assert_int_equal(ifreq_ioctl(SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ifreq_ioctl(SIOCSIFFLAGS, &ifr), 0);
}

static void test_open_by_name(void **state)
{
	(void)state;
	NEED_TAP();
	int fds[2], hdr = 0;
	char err[160], name[NET_TAP_NAME_MAX];
	bool mq;

	assert_int_equal(net_tap_open(TAP, 2, fds, err, sizeof(err)), 0);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(net_tap_check(fds[i], name, &mq, err, sizeof(err)), 0);
		assert_string_equal(name, TAP);
		assert_true(mq);
		assert_int_equal(ioctl(fds[i], TUNGETVNETHDRSZ, &hdr), 0);
		assert_int_equal(hdr, VNET_HDR_LEN);
		assert_true(fcntl(fds[i], F_GETFL) & O_NONBLOCK);
		assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
		close(fds[i]);
	}
	/* A name the kernel cannot take is one clear message. */
	assert_int_equal(net_tap_open("a-name-far-too-long", 1, fds, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than 15"));
}

static void test_check_refuses_what_is_not_a_usable_tap(void **state)
{
	(void)state;
	char err[160], name[NET_TAP_NAME_MAX];
	int p[2];
	bool mq;

	/* A pipe (runs everywhere). */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(net_tap_check(p[0], name, &mq, err, sizeof(err)), -ENOTTY);
	assert_non_null(strstr(err, "is not a tap"));
	close(p[0]);
	close(p[1]);
	assert_int_equal(net_tap_check(p[0], name, &mq, err, sizeof(err)), -EBADF);
	assert_non_null(strstr(err, "is not open"));

	NEED_TAP();
	static const struct { short flags; const char *msg; } bad[] = {
		{ IFF_TAP | IFF_NO_PI, "without IFF_NO_PI and IFF_VNET_HDR" },
		{ IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, "tun (IP) device" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ifreq ifr = { .ifr_flags = bad[i].flags };
		snprintf(ifr.ifr_name, IFNAMSIZ, "vmmbad%u", i);
		int fd = open("/dev/net/tun", O_RDWR);
		assert_true(fd >= 0);
		assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
		assert_int_equal(net_tap_check(fd, name, &mq, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("flags 0x%x: '%s'", bad[i].flags, err);
		close(fd);
	}
}

/* Negotiated guest features become the tap's offloads (what the interface reports). */
static void test_offloads_follow_negotiation(void **state)
{
	(void)state;
	NEED_TAP();
	struct tnet t;
	char err[160];
	int fd;

	assert_int_equal(net_tap_open(TAP, 1, &fd, err, sizeof(err)), 0);
	unsigned off = net_tap_probe_offloads(fd);
	assert_true(off & VNET_TUN_F_CSUM);
	assert_true(off & VNET_TUN_F_TSO4);
	assert_int_equal(ethtool_get(TAP, ETHTOOL_GTXCSUM), 0);	/* probing left none */
	assert_true(tn_make(&t, &fd, 1, true, off));
	assert_true(t.net.ops.features & B(GUEST_TSO4));

	assert_true(tn_bringup(&t, B(GUEST_CSUM) | B(GUEST_TSO4) | B(GUEST_TSO6)) &
		    VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(ethtool_get(TAP, ETHTOOL_GTXCSUM), 1);
	assert_int_equal(ethtool_get(TAP, ETHTOOL_GTSO), 1);
	/* Without GUEST_TSO the tap must segment: TSO off, checksum offload kept. */
	assert_true(tn_bringup(&t, B(GUEST_CSUM)) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(ethtool_get(TAP, ETHTOOL_GTXCSUM), 1);
	assert_int_equal(ethtool_get(TAP, ETHTOOL_GTSO), 0);
	/* A reset leaves the tap with none. */
	tg_wr(&t.net.vdev, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(ethtool_get(TAP, ETHTOOL_GTXCSUM), 0);
	tn_free(&t);
}

/* The tap up in our namespace (no IPv6 chatter) and a packet socket bound to it. */
static int tap_with_packet_socket(int *fd)
{
	char err[160];

	assert_int_equal(net_tap_open(TAP, 1, fd, err, sizeof(err)), 0);
	FILE *v6 = fopen("/proc/sys/net/ipv6/conf/" TAP "/disable_ipv6", "w");
	if (v6) {
		fputs("1\n", v6);
		fclose(v6);
	}
	link_up(TAP);
	int ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	assert_true(ps >= 0);
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)if_nametoindex(TAP),
	};
	assert_int_equal(bind(ps, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return ps;
}

static size_t make_frame(uint8_t *frame, size_t len, uint8_t tag)
{
	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x01", 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		frame[i] = (uint8_t)(tag + i);
	return len;
}

/* A frame larger than the guest's buffer: the tap truncates, the device drops it and keeps the buffer. */
static void test_oversized_frame_dropped(void **state)
{
	(void)state;
	NEED_TAP();
	struct tnet t;
	uint8_t big[600], small[80];
	uint32_t id, len;
	int fd;

	int ps = tap_with_packet_socket(&fd);
	assert_true(tn_make(&t, &fd, 1, true, 0));
	assert_true(tn_bringup(&t, 0) & VIRTIO_STATUS_DRIVER_OK);	/* no MRG_RXBUF: one chain a packet */
	uint64_t a = tn_post_rx(&t, vnet_rxq(0), 0, 200);
	assert_int_equal(send(ps, big, make_frame(big, sizeof(big), 1), 0), sizeof(big));
	assert_int_equal(send(ps, small, make_frame(small, sizeof(small), 2), 0), sizeof(small));
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 2000), 1);
	tn_notify(&t, vnet_rxq(0));
	assert_true(tg_used(&t.q[vnet_rxq(0)], &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, VNET_HDR_LEN + sizeof(small));
	assert_memory_equal((uint8_t *)tg_host(&t.g, a) + VNET_HDR_LEN, small, sizeof(small));
	struct virtio_net_stats s;
	virtio_net_get_stats(&t.net, &s);
	assert_int_equal(s.rx_drops, 1);
	assert_int_equal(s.rx_packets, 1);
	assert_false(t.net.vdev.failed);
	close(ps);
	tn_free(&t);
}

/* Frames both ways through the tap, seen by a packet socket on the interface. */
static void test_frames_through_the_tap(void **state)
{
	(void)state;
	NEED_TAP();
	struct tnet t;
	char err[160];
	uint8_t frame[60], got[2048];
	uint32_t id, len;
	int fd;

	assert_int_equal(net_tap_open(TAP, 1, &fd, err, sizeof(err)), 0);
	FILE *v6 = fopen("/proc/sys/net/ipv6/conf/" TAP "/disable_ipv6", "w");
	if (v6) {	/* no router solicitations racing the test's frames */
		fputs("1\n", v6);
		fclose(v6);
	}
	link_up(TAP);
	int ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	assert_true(ps >= 0);
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)if_nametoindex(TAP),
	};
	assert_int_equal(bind(ps, (struct sockaddr *)&sll, sizeof(sll)), 0);
	assert_true(tn_make(&t, &fd, 1, true, net_tap_probe_offloads(fd)));
	assert_true(tn_bringup(&t, B(MRG_RXBUF) | B(GUEST_CSUM)) & VIRTIO_STATUS_DRIVER_OK);

	/* Host -> guest: an Ethernet frame sent on the interface lands in a guest buffer. */
	memset(frame, 0xff, 6);					/* broadcast */
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x01", 6);
	frame[12] = 0x88;					/* local experimental ethertype */
	frame[13] = 0xb5;
	for (unsigned i = 14; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	uint64_t buf[4];
	for (uint16_t i = 0; i < 4; i++)
		buf[i] = tn_post_rx(&t, vnet_rxq(0), i, 2048);
	tn_notify(&t, vnet_rxq(0));
	assert_true(tn_watched(&t, fd, POLLIN));		/* buffers, nothing to read yet */
	assert_int_equal(send(ps, frame, sizeof(frame), 0), sizeof(frame));
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 2000), 1);
	tn_fire(&t, POLLIN);
	uint8_t *g;
	do {	/* the frame sent, past anything else on the link */
		assert_true(tg_used(&t.q[vnet_rxq(0)], &id, &len));
		assert_true(id < 4);
		g = tg_host(&t.g, buf[id]);
	} while (len != VNET_HDR_LEN + sizeof(frame) || g[VNET_HDR_LEN + 12] != 0x88);
	assert_int_equal(g[VNET_HDR_NUM_BUFFERS_OFF], 1);
	assert_memory_equal(g + VNET_HDR_LEN, frame, sizeof(frame));

	/* Guest -> host: header (no offload) + frame, read from the interface. */
	uint64_t tx = tg_alloc(&t.g, VNET_HDR_LEN + sizeof(frame));
	memset(tg_host(&t.g, tx), 0, VNET_HDR_LEN);
	frame[20] = 0x5a;
	memcpy((uint8_t *)tg_host(&t.g, tx) + VNET_HDR_LEN, frame, sizeof(frame));
	tg_desc(&t.q[vnet_txq(0)], 0, tx, VNET_HDR_LEN + sizeof(frame), 0, 0);
	tg_publish(&t.q[vnet_txq(0)], 0);
	tn_notify(&t, vnet_txq(0));
	ssize_t n;
	do {	/* skip anything else the stack sent on the link (IPv6 router solicitations) */
		pf = (struct pollfd){ .fd = ps, .events = POLLIN };
		assert_int_equal(poll(&pf, 1, 2000), 1);
		n = recv(ps, got, sizeof(got), 0);
	} while (n > 13 && !(got[12] == 0x88 && got[13] == 0xb5 && got[20] == 0x5a));
	assert_int_equal(n, sizeof(frame));
	assert_memory_equal(got, frame, sizeof(frame));
	struct virtio_net_stats s;
	virtio_net_get_stats(&t.net, &s);
	assert_int_equal(s.tx_packets, 1);
	assert_true(s.rx_packets >= 1);
	close(ps);
	tn_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_by_name),
		cmocka_unit_test(test_check_refuses_what_is_not_a_usable_tap),
		cmocka_unit_test(test_offloads_follow_negotiation),
		cmocka_unit_test(test_frames_through_the_tap),
		cmocka_unit_test(test_oversized_frame_dropped),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
