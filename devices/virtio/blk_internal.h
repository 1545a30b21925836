/* Shared by the virtio-blk set-up (blk.c) and its data path (blk_queue.c). */
#ifndef DEVICES_VIRTIO_BLK_INTERNAL_H
#define DEVICES_VIRTIO_BLK_INTERNAL_H

#include "devices/virtio/blk.h"

/* Lock held, I/O thread. Serve queue qi until it is empty or full. */
int blk_queue_serve(struct virtio_blk *b, unsigned qi) WUR;
/* The completion eventfd is readable (a virtio_fd_fn; opaque = the device). */
void blk_queue_completions(void *opaque, int fd, uint32_t events);
/* The engine's done callback (opaque = the struct blk_queue). */
void blk_queue_done(void *opaque, struct blk_io *io, uint8_t status);
/* Wait for every request in flight on every queue. */
int blk_queue_drain(struct virtio_blk *b) WUR;

#endif
