/*
 * tapfd IFNAME PROG [ARGS...]: open tap IFNAME the way Kata Containers does
 * (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, flags 0x5002, creating it if needed),
 * then exec PROG ARGS... --net fd=N with the tap fd N inherited. L1 helper
 * for the e2e cases of `vmm --net fd=N`.
 */
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct ifreq ifr;
	char fdarg[32];
	char **args;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: tapfd IFNAME PROG [ARGS...]\n");
		return 2;
	}
	fd = open("/dev/net/tun", O_RDWR);	/* no O_CLOEXEC: PROG inherits it */
	if (fd < 0) {
		perror("tapfd: /dev/net/tun");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[1]);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("tapfd: TUNSETIFF");
		return 1;
	}
	snprintf(fdarg, sizeof(fdarg), "fd=%d", fd);
	args = calloc((size_t)argc + 2, sizeof(*args));
	if (!args)
		return 1;
	for (int i = 2; i < argc; i++)
		args[i - 2] = argv[i];
	args[argc - 2] = "--net";
	args[argc - 1] = fdarg;
	execv(args[0], args);
	perror("tapfd: exec");
	return 1;
}
