/* Shared by the register half (mmio.c) and the I/O thread half (mmio_thread.c). */
#ifndef DEVICES_VIRTIO_MMIO_INTERNAL_H
#define DEVICES_VIRTIO_MMIO_INTERNAL_H

#include "devices/virtio/mmio.h"

/* Lock held. Latch InterruptStatus bits and signal the irqfd. */
void vmmio_raise(struct virtio_mmio *v, uint32_t bits);
/* Make the I/O thread serve queue q (signals its notify eventfd). */
void vmmio_kick(struct virtio_mmio *v, unsigned q);
/*
 * Serve queue q again after the I/O loop's other ready fds had their turn
 * (not counted as a notification). For a device that keeps the driver's
 * notifications off while it expects more buffers.
 */
void vmmio_rerun(struct virtio_mmio *v, unsigned q);
/* The I/O thread's side: serve the queues vmmio_rerun asked for (takes the lock). */
void vmmio_serve_reruns(struct virtio_mmio *v);
void vmmio_log(struct virtio_mmio *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
