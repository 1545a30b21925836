/* --net: virtio-net devices on a tap (by name, or already-open fds). */
#include "cli/args.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		if (s[3 * i + 2] != (i == 5 ? 0 : ':'))
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	if (mac[0] & 1)
		return -EINVAL;		/* a multicast address cannot be a NIC's */
	return 0;
}

static int parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out > max ? -EINVAL : 0;
}

int parse_net(const char *v, struct vm_config *cfg, char *err, size_t errlen)
{
	char buf[256];
	struct vm_net_config n = { .nfds = 0 };
	unsigned long num_queues = 0, x;

	if (cfg->nr_net >= VM_MAX_NET) {
		snprintf(err, errlen, "--net: at most %d devices", VM_MAX_NET);
		return -EINVAL;
	}
	if (strlen(v) >= sizeof(buf)) {
		snprintf(err, errlen, "--net: value too long");
		return -EINVAL;
	}
	strcpy(buf, v);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');
		if (!val) {
			snprintf(err, errlen, "--net: expected key=value, got '%s'", tok);
			return -EINVAL;
		}
		*val++ = 0;
		if (!strcmp(tok, "tap")) {
			if (!*val || strlen(val) >= VM_NET_NAME_MAX || strchr(val, '/')) {
				snprintf(err, errlen, "--net: tap='%s' is not an interface name (1 to %d characters)",
					 val, VM_NET_NAME_MAX - 1);
				return -EINVAL;
			}
			strcpy(n.tap, val);
		} else if (!strcmp(tok, "fd")) {
			if (parse_num(val, INT_MAX, &x)) {
				snprintf(err, errlen, "--net: fd='%s' is not a file descriptor number", val);
				return -EINVAL;
			}
			if (n.nfds >= VM_NET_MAX_PAIRS) {
				snprintf(err, errlen, "--net: at most %d fds (one per queue pair)", VM_NET_MAX_PAIRS);
				return -EINVAL;
			}
			n.fds[n.nfds++] = (int)x;
		} else if (!strcmp(tok, "mac")) {
			if (parse_mac(val, n.mac)) {
				snprintf(err, errlen, "--net: mac='%s' is not a unicast MAC address "
					 "(xx:xx:xx:xx:xx:xx)", val);
				return -EINVAL;
			}
			n.have_mac = true;
		} else if (!strcmp(tok, "num_queues")) {
			if (parse_num(val, 2 * VM_NET_MAX_PAIRS, &num_queues) || num_queues < 2 ||
			    num_queues % 2) {
				snprintf(err, errlen, "--net: num_queues='%s': an even number from 2 to %d "
					 "(rx and tx of each queue pair)", val, 2 * VM_NET_MAX_PAIRS);
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen, "--net: unknown key '%s' (expected tap=, fd=, mac=, num_queues=)", tok);
			return -EINVAL;
		}
	}
	if (!!n.tap[0] == !!n.nfds) {
		snprintf(err, errlen, "--net: give either tap=NAME or fd=N (one fd per queue pair)");
		return -EINVAL;
	}
	if (n.nfds && num_queues && num_queues != 2 * n.nfds) {
		snprintf(err, errlen, "--net: num_queues=%lu needs %lu fds, got %u", num_queues,
			 num_queues / 2, n.nfds);
		return -EINVAL;
	}
	n.pairs = n.nfds ? n.nfds : num_queues ? (unsigned)(num_queues / 2) : 1;
	cfg->net[cfg->nr_net++] = n;
	return 0;
}
