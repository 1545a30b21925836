/* The VM's virtio-net devices: their taps checked, opened and handed to the device. */
#include "vmm/virtio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "devices/virtio/net.h"
#include "devices/virtio/net_tap.h"
#include "vmm/log.h"
#include "vmm/vm.h"

_Static_assert(VM_NET_MAX_PAIRS == VIRTIO_NET_MAX_PAIRS, "queue pairs");
_Static_assert(VM_NET_NAME_MAX == NET_TAP_NAME_MAX, "interface names");

int vm_net_check(const struct vm_net_config *n, char *err, size_t errlen)
{
	char first[NET_TAP_NAME_MAX], name[NET_TAP_NAME_MAX], why[160];
	bool mq;

	for (unsigned i = 0; i < n->nfds; i++) {
		int r = net_tap_check(n->fds[i], i ? name : first, &mq, why, sizeof(why));
		if (r) {
			snprintf(err, errlen, "--net: %s", why);
			return r;
		}
		if (n->nfds > 1 && !mq) {
			snprintf(err, errlen, "--net: %u fds given, but tap %s was opened without "
				 "IFF_MULTI_QUEUE", n->nfds, i ? name : first);
			return -EINVAL;
		}
		if (i && strcmp(name, first)) {
			snprintf(err, errlen, "--net: fd %d is tap %s, fd %d is tap %s: the fds of one "
				 "device must be queues of one tap", n->fds[0], first, n->fds[i], name);
			return -EINVAL;
		}
	}
	return 0;
}

/* Each device closes its fds: an fd named twice would be closed twice. */
int vm_net_check_all(const struct vm_config *cfg, char *err, size_t errlen)
{
	int seen[VM_MAX_NET * VM_NET_MAX_PAIRS];
	unsigned nseen = 0;

	for (unsigned i = 0; i < cfg->nr_net && i < VM_MAX_NET; i++) {
		for (unsigned j = 0; j < cfg->net[i].nfds && j < VM_NET_MAX_PAIRS; j++) {
			int fd = cfg->net[i].fds[j];

			for (unsigned k = 0; k < nseen; k++) {
				if (seen[k] == fd) {
					snprintf(err, errlen, "--net: fd %d is given twice (one fd is one queue "
						 "pair of one device)", fd);
					return -EINVAL;
				}
			}
			seen[nseen++] = fd;
		}
	}
	for (unsigned i = 0; i < cfg->nr_net; i++) {
		int r = vm_net_check(&cfg->net[i], err, errlen);
		if (r)
			return r;
	}
	return 0;
}

static void net_free(void *dev)
{
	virtio_net_destroy(dev);
	free(dev);
}

static void random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6)
		memset(mac, 0x5a, 6);
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);	/* unicast, locally administered */
}

static void close_fds(const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

int vm_virtio_add_net(struct vm *vm, const struct vm_virtio_slot *s, char *err, size_t errlen)
{
	struct vm_net_config *n = &vm->cfg.net[s->index];
	struct virtio_net_params p = { .nfds = n->pairs, .tap = true };
	int fds[VM_NET_MAX_PAIRS];
	struct virtio_mmio_config cfg;
	struct virtio_net *net;
	char why[160];
	int r;

	if (n->tap[0]) {
		if ((r = net_tap_open(n->tap, n->pairs, fds, why, sizeof(why)))) {
			snprintf(err, errlen, "--net: %s", why);
			return r;
		}
	} else {
		/* Ours from here: closed below on failure, else by the device. */
		for (unsigned i = 0; i < n->nfds; i++) {
			fds[i] = n->fds[i];
			n->fds[i] = -1;
		}
		for (unsigned i = 0; i < n->nfds; i++) {
			if ((r = net_tap_prepare(fds[i]))) {
				snprintf(err, errlen, "--net: tap fd %d: cannot make it non-blocking with a "
					 "12-byte vnet header: %s", fds[i], strerror(-r));
				close_fds(fds, n->nfds);
				return r;
			}
		}
	}
	p.fds = fds;
	p.tap_offloads = net_tap_probe_offloads(fds[0]);
	if (n->have_mac)
		memcpy(p.mac, n->mac, sizeof(p.mac));
	else
		random_mac(p.mac);
	net = calloc(1, sizeof(*net));
	if (!net) {
		close_fds(fds, p.nfds);
		snprintf(err, errlen, "out of memory for virtio-net");
		return -ENOMEM;
	}
	vm_virtio_config(vm, s, &cfg);
	if ((r = virtio_net_init(net, &cfg, &p, err, errlen))) {
		free(net);
		return r;
	}
	vm_log(vm, "virtio-net@0x%llx: %s%s, %u queue pair%s, mac %02x:%02x:%02x:%02x:%02x:%02x",
	       (unsigned long long)s->base, n->tap[0] ? "tap " : "tap fds", n->tap[0] ? n->tap : "",
	       p.nfds, p.nfds > 1 ? "s" : "", p.mac[0], p.mac[1], p.mac[2], p.mac[3], p.mac[4], p.mac[5]);
	return vm_virtio_attach(vm, s, &net->vdev, net, net_free, err, errlen);
}

void vm_net_close_untaken(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.nr_net; i++) {
		struct vm_net_config *n = &vm->cfg.net[i];

		for (unsigned j = 0; j < n->nfds; j++) {
			if (n->fds[j] >= 0)
				close(n->fds[j]);
			n->fds[j] = -1;
		}
	}
}
