/*
 * virtio-rng (device id 4, virtio 1.2 5.4): one request queue; each chain's
 * device-writable buffers are filled from a host entropy source, read
 * without blocking on the device's I/O thread. When the source has nothing
 * to give (a FIFO, say), the chain waits and the source fd is watched.
 */
#ifndef DEVICES_VIRTIO_RNG_H
#define DEVICES_VIRTIO_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include "compiler.h"
#include "devices/virtio/mmio.h"

#define VIRTIO_RNG_QUEUE_SIZE	64
#define VIRTIO_RNG_MAX_FILL	(64u * 1024)	/* bytes per request: bounded work per chain */
#define VIRTIO_RNG_DEFAULT_SRC	"/dev/urandom"

struct virtio_rng {
	struct virtio_mmio vdev;	/* the transport; vdev is what the bus and the VMM see */
	int src_fd;
	bool watching;			/* src_fd is in the I/O loop: a chain waits for data */
	bool eof_logged;
	uint64_t bytes;			/* bytes handed to the guest */
};

/* Open src (non-blocking) and set up the transport; err gets a message. */
int virtio_rng_init(struct virtio_rng *rng, const struct virtio_mmio_config *cfg,
		    const char *src, char *err, size_t errlen) WUR;
void virtio_rng_destroy(struct virtio_rng *rng);

#endif
