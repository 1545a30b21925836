/*
 * Linux tap fds for virtio-net: open or create a tap by name, check an fd
 * someone else opened (Kata passes IFF_TAP | IFF_NO_PI | IFF_VNET_HDR fds),
 * and the per-fd settings the device needs.
 */
#ifndef DEVICES_VIRTIO_NET_TAP_H
#define DEVICES_VIRTIO_NET_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include "compiler.h"

#define NET_TAP_NAME_MAX 16		/* IFNAMSIZ, NUL included */

/*
 * Open (creating it if needed) tap `name` with IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, and IFF_MULTI_QUEUE when pairs > 1: one fd per queue pair,
 * each prepared with net_tap_prepare(). On failure nothing stays open.
 */
int net_tap_open(const char *name, unsigned pairs, int *fds, char *err, size_t errlen) WUR;
/*
 * Is fd a tap usable by virtio-net (IFF_TAP, IFF_NO_PI, IFF_VNET_HDR)?
 * Fills the interface name (NET_TAP_NAME_MAX bytes) and whether it is
 * multiqueue. -ENOTTY/-EBADF/-EINVAL with a message otherwise.
 */
int net_tap_check(int fd, char *ifname, bool *multi_queue, char *err, size_t errlen) WUR;
/* Non-blocking, close-on-exec, 12-byte vnet header (struct virtio_net_hdr_v1). */
int net_tap_prepare(int fd) WUR;
/* The VNET_TUN_F_* offloads the tap accepts (left at none). */
unsigned net_tap_probe_offloads(int fd);
int net_tap_set_offload(int fd, unsigned flags) WUR;
/* Attach or detach a queue of a multiqueue tap (inactive queue pairs get no packets). */
int net_tap_set_queue(int fd, bool attach) WUR;

#endif
