/* Shared by the register half (mmio.c) and the I/O thread half (mmio_thread.c). */
#ifndef DEVICES_VIRTIO_MMIO_INTERNAL_H
#define DEVICES_VIRTIO_MMIO_INTERNAL_H

#include "devices/virtio/mmio.h"

/* Lock held. Latch InterruptStatus bits and signal the irqfd. */
void vmmio_raise(struct virtio_mmio *v, uint32_t bits);
/* Make the I/O thread serve queue q (signals its notify eventfd). */
void vmmio_kick(struct virtio_mmio *v, unsigned q);
void vmmio_log(struct virtio_mmio *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
