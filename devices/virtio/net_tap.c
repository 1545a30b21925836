#include "devices/virtio/net_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices/virtio/net.h"

_Static_assert(VNET_TUN_F_CSUM == TUN_F_CSUM && VNET_TUN_F_TSO4 == TUN_F_TSO4 &&
	       VNET_TUN_F_TSO6 == TUN_F_TSO6 && VNET_TUN_F_TSO_ECN == TUN_F_TSO_ECN &&
	       VNET_TUN_F_UFO == TUN_F_UFO, "TUN_F_* values");
_Static_assert(sizeof(struct virtio_net_hdr_v1) == VNET_HDR_LEN, "virtio_net_hdr_v1 size");

#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

int net_tap_prepare(int fd)
{
	int hdr = VNET_HDR_LEN;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ? -errno : 0;
}

int net_tap_open(const char *name, unsigned pairs, int *fds, char *err, size_t errlen)
{
	unsigned i;
	int r = 0;

	if (strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "tap name '%s' is longer than %d characters", name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	for (i = 0; i < pairs; i++) {
		struct ifreq ifr = { .ifr_flags = TAP_FLAGS | (pairs > 1 ? IFF_MULTI_QUEUE : 0) };
		strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
		fds[i] = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fds[i] < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
			break;
		}
		if (ioctl(fds[i], TUNSETIFF, &ifr) < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot attach tap %s%s: %s", name,
				 pairs > 1 ? " (multiqueue)" : "", strerror(errno));
			close(fds[i]);
			break;
		}
		if ((r = net_tap_prepare(fds[i]))) {
			snprintf(err, errlen, "tap %s: cannot set the vnet header size: %s", name, strerror(-r));
			close(fds[i]);
			break;
		}
	}
	if (r) {
		while (i--)
			close(fds[i]);
	}
	return r;
}

int net_tap_check(int fd, char *ifname, bool *multi_queue, char *err, size_t errlen)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (fcntl(fd, F_GETFD) < 0) {
		snprintf(err, errlen, "fd %d is not open", fd);
		return -EBADF;
	}
	if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		int e = errno;
		snprintf(err, errlen, "fd %d is not a tap (TUNGETIFF: %s)", fd, strerror(e));
		return e == EBADFD ? -EINVAL : -ENOTTY;
	}
	if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TAP) {
		snprintf(err, errlen, "fd %d is a tun (IP) device, not a tap", fd);
		return -EINVAL;
	}
	if ((ifr.ifr_flags & (IFF_NO_PI | IFF_VNET_HDR)) != (IFF_NO_PI | IFF_VNET_HDR)) {
		snprintf(err, errlen, "tap fd %d (%.*s) was opened without IFF_NO_PI and IFF_VNET_HDR",
			 fd, IFNAMSIZ, ifr.ifr_name);
		return -EINVAL;
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = 0;
	*multi_queue = ifr.ifr_flags & IFF_MULTI_QUEUE;
	return 0;
}

int net_tap_set_offload(int fd, unsigned flags)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) < 0 ? -errno : 0;
}

unsigned net_tap_probe_offloads(int fd)
{
	static const unsigned tries[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM,
	};
	unsigned got = 0;

	for (unsigned i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if (net_tap_set_offload(fd, tries[i]) == 0) {
			got = tries[i];
			break;
		}
	}
	(void)!net_tap_set_offload(fd, 0);
	return got;
}

int net_tap_set_queue(int fd, bool attach)
{
	struct ifreq ifr = { .ifr_flags = attach ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };
	return ioctl(fd, TUNSETQUEUE, &ifr) < 0 ? -errno : 0;
}
