/*
 * Virtio 1.x constants shared by the transport and the devices (virtio 1.2,
 * "Virtual I/O Device (VIRTIO) Version 1.2", sections 2, 4.2 and 5).
 */
#ifndef DEVICES_VIRTIO_VIRTIO_H
#define DEVICES_VIRTIO_VIRTIO_H

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1u
#define VIRTIO_STATUS_DRIVER		2u
#define VIRTIO_STATUS_DRIVER_OK		4u
#define VIRTIO_STATUS_FEATURES_OK	8u
#define VIRTIO_STATUS_NEEDS_RESET	64u
#define VIRTIO_STATUS_FAILED		128u

/* Transport and ring feature bits (6). */
#define VIRTIO_F_RING_INDIRECT_DESC	28
#define VIRTIO_F_RING_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

#define VIRTIO_BIT(b)			(1ULL << (b))

/* Device ids (5). */
#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3
#define VIRTIO_ID_RNG			4
#define VIRTIO_ID_FS			26

/* InterruptStatus bits (4.2.2). */
#define VIRTIO_MMIO_INT_VRING		1u
#define VIRTIO_MMIO_INT_CONFIG		2u

#endif
