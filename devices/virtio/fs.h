/*
 * virtio-fs (device id 26, virtio 1.2 5.11) served by a vhost-user backend
 * (virtiofsd). The VMM owns the transport (registers, config space: the tag
 * and the number of request queues) and hands the queues to the backend at
 * DRIVER_OK: guest memory (a memfd, --memory shared=on), each ring's size,
 * addresses (in the VMM's mapping), kick eventfd (the queue's notify
 * eventfd, a KVM ioeventfd) and call eventfd (the transport's call_fd[q],
 * a KVM irqfd on the device's edge-triggered SPI when the hypervisor takes
 * it, else relayed by the I/O thread). Requests and completions then go
 * between the guest and the backend without the VMM.
 *
 * A backend that closes its socket fails the device (DEVICE_NEEDS_RESET,
 * one log line); the VM keeps running.
 */
#ifndef DEVICES_VIRTIO_FS_H
#define DEVICES_VIRTIO_FS_H

#include <stdbool.h>
#include <stddef.h>
#include "compiler.h"
#include "devices/virtio/mmio.h"
#include "devices/virtio/vhost_user.h"

#define VIRTIO_FS_TAG_LEN	36
#define VIRTIO_FS_CONFIG_SIZE	(VIRTIO_FS_TAG_LEN + 4)
#define VIRTIO_FS_MAX_REQUEST_QUEUES	6	/* + hiprio: within VIRTIO_MMIO_MAX_QUEUES */
#define VIRTIO_FS_DEFAULT_QUEUE_SIZE	1024
/* Start-up handshake and each later exchange (on the thread that asks). */
#define VIRTIO_FS_TIMEOUT_MS	1000

struct virtio_fs_params {
	const char *tag;		/* 1..36 bytes */
	const char *socket;		/* the backend's unix socket */
	unsigned num_queues;		/* request queues */
	unsigned queue_size;		/* QueueNumMax */
	int ram_fd;			/* guest RAM's memfd (offset 0 = cfg->mem.base) */
};

struct virtio_fs {
	struct virtio_mmio vdev;	/* first: the VMM sees the transport */
	struct virtio_dev_ops ops;
	struct vhost_user vu;
	uint8_t config[VIRTIO_FS_CONFIG_SIZE];
	int ram_fd;
	bool started[VIRTIO_MMIO_MAX_QUEUES];	/* ring handed to the backend */
	bool dead;			/* the backend closed its socket */
	char socket[108];
};

/* Connect and negotiate with the backend, set up the transport. */
int virtio_fs_init(struct virtio_fs *fs, const struct virtio_mmio_config *cfg,
		   const struct virtio_fs_params *p, char *err, size_t errlen) WUR;
void virtio_fs_destroy(struct virtio_fs *fs);

#endif
