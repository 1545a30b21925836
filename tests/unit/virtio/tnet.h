/*
 * A virtio-net device and a driver played by the test (unit tests and the
 * fuzz target): one ring per queue in tguest RAM, the Linux probe sequence,
 * queue notifications and watched-fd events delivered by hand (no I/O
 * thread runs).
 */
#ifndef TESTS_UNIT_VIRTIO_TNET_H
#define TESTS_UNIT_VIRTIO_TNET_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/virtio/net.h"
#include "tguest.h"

#define TN_QSIZE 8
#define TN_RAM (1u << 20)
#define TN_MAX_QUEUES (2 * 2 + 1)

struct tnet {
	struct tguest g;		/* guest RAM (and its allocator) */
	struct tguest q[TN_MAX_QUEUES];	/* one ring per queue, in g's RAM */
	unsigned nq;
	struct virtio_net net;
	char log[512];			/* the device's last log line */
};

/* The device on fds (1 or 2 pairs); false with err filled if init failed. */
bool tn_make(struct tnet *t, const int *fds, unsigned nfds, bool tap, unsigned offloads);
void tn_free(struct tnet *t);
/* Features (VERSION_1 added), every queue on its ring, DRIVER_OK; the status read back. */
uint32_t tn_bringup(struct tnet *t, uint64_t features);
/* The driver's QueueNotify, served as the I/O thread would; the callback's result. */
int tn_notify(struct tnet *t, unsigned q);
/* One single-buffer device-writable chain on queue q at descriptor d; its guest address. */
uint64_t tn_post_rx(struct tnet *t, unsigned q, uint16_t d, uint32_t len);
/* Deliver `events` to every fd the device watches. */
void tn_fire(struct tnet *t, uint32_t events);
/* Is fd in the device's I/O loop for exactly `events`? */
bool tn_watched(struct tnet *t, int fd, uint32_t events);

#endif
