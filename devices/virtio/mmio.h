/*
 * The virtio-mmio transport, version 2 (virtio 1.2, 4.2.2), virtio 1.x only.
 *
 * Threads. The guest's register accesses arrive on vCPU threads through the
 * MMIO bus (virtio_mmio_ops): configuration only. The data path runs on the
 * device's own I/O thread (one per device, an epoll loop): the QueueNotify
 * register is an eventfd per queue (the VMM registers it as a KVM ioeventfd
 * with datamatch = queue index, so a notify never leaves the kernel), and
 * the interrupt is an eventfd the VMM registers as a KVM irqfd on the
 * device's SPI, with a resample eventfd: the line is level-triggered as
 * virtio-mmio's InterruptStatus/InterruptACK expects (see docs/virtio.md);
 * those two registers are served without the lock, so a vCPU in the guest's
 * interrupt handler never waits for the I/O thread's batch. An
 * external_queues device's line is edge-triggered instead, so that its
 * backend's call eventfds can be irqfds too (virtio_mmio_set_direct_calls;
 * its InterruptStatus then reports VRING while the driver runs it).
 * Without ioeventfd (virtio_mmio_set_ioeventfd(false)) a QueueNotify write
 * on a vCPU thread only signals the same eventfd, and is counted.
 *
 * How a device plugs in:
 *   1. embed a struct virtio_mmio in the device's state and fill a
 *      struct virtio_dev_ops (id, queues, features, config space, callbacks);
 *   2. virtio_mmio_init(&dev->vdev, &cfg, &ops, dev) creates the eventfds;
 *      the VMM registers them with the hypervisor and maps the window on the
 *      MMIO bus with virtio_mmio_ops, then virtio_mmio_start() starts the
 *      I/O thread;
 *   3. on the I/O thread, ops->queue_notify(opaque, q) pops chains with
 *      virtq_pop(virtio_mmio_queue(vdev, q), ...), serves them, virtq_push()es
 *      them and calls virtio_mmio_used(vdev, q) to interrupt the driver if
 *      it wants; extra fds (a backend's completion eventfd, a source that
 *      was not readable) go into the same loop with virtio_mmio_watch();
 *      a device whose queues a separate process serves sets
 *      external_queues and hands that process notify_fd[] and call_fd[];
 *   4. a callback that finds the driver misbehaving (or gets a negative
 *      virtq_pop) returns a negative errno or calls virtio_mmio_fail(): the
 *      device sets DEVICE_NEEDS_RESET, raises a configuration interrupt,
 *      logs one line and serves nothing until the driver resets it.
 * Every device callback runs with the transport's lock held (vCPU thread
 * or I/O thread): callbacks never block; the lock also orders a reset
 * against the data path. ops->reset must return with no guest memory access
 * outstanding (a device with asynchronous I/O waits for it there).
 */
#ifndef DEVICES_VIRTIO_MMIO_H
#define DEVICES_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"
#include "devices/bus.h"
#include "devices/virtio/gmem.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/virtq.h"

/* Register offsets (4.2.2). Every register is 32 bits wide. */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_AVAIL_LOW	0x090	/* "QueueDriver" */
#define VIRTIO_MMIO_QUEUE_AVAIL_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_USED_LOW	0x0a0	/* "QueueDevice" */
#define VIRTIO_MMIO_QUEUE_USED_HIGH	0x0a4
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_QUEUE_RESET		0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_MAGIC		0x74726976	/* "virt" */
#define VIRTIO_MMIO_VENDOR		0x554d4551	/* "QEMU": what guests expect of a generic VMM */
#define VIRTIO_MMIO_WINDOW		0x200		/* registers + up to 256 bytes of config */
#define VIRTIO_MMIO_CONFIG_MAX		(VIRTIO_MMIO_WINDOW - VIRTIO_MMIO_CONFIG)
#define VIRTIO_MMIO_MAX_QUEUES		16

/* Features the transport offers on top of the device's own. */
#define VIRTIO_MMIO_TRANSPORT_FEATURES \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) | \
	 VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC))

struct virtio_mmio;

/* What a device implements. Unset optional callbacks mean "nothing to do". */
struct virtio_dev_ops {
	const char *name;		/* "virtio-rng": log lines, vm.info */
	uint32_t device_id;		/* VIRTIO_ID_* */
	unsigned num_queues;		/* 1..VIRTIO_MMIO_MAX_QUEUES */
	uint16_t queue_max;		/* QueueNumMax: power of two <= VIRTQ_MAX_SIZE */
	uint64_t features;		/* device-specific feature bits offered */
	uint32_t config_size;		/* bytes of device config space, <= VIRTIO_MMIO_CONFIG_MAX */
	/*
	 * The queues are served outside the VMM (a vhost-user backend reads
	 * notify_fd[] itself and signals call_fd[] when it used buffers): the
	 * I/O thread does not poll notify_fd[] and queue_notify is never called.
	 */
	bool external_queues;

	/* Config space access; offset + len <= config_size is checked already. */
	void (*config_read)(void *opaque, uint32_t offset, void *buf, unsigned len);
	void (*config_write)(void *opaque, uint32_t offset, const void *buf, unsigned len);
	/* Optional: refuse a feature combination at FEATURES_OK (false = refuse). */
	bool (*features_ok)(void *opaque, uint64_t features);
	/* Optional: DRIVER_OK was set; queues are ready. Negative: fail the device. */
	int (*activate)(void *opaque);
	/* The driver notified queue q (I/O thread). Negative: fail the device. */
	int (*queue_notify)(void *opaque, unsigned q);
	/* The driver reset the device: drop every request (no guest access after return). */
	void (*reset)(void *opaque);
};

/* Where the device lives; from the VMM. */
struct virtio_mmio_config {
	uint64_t base;			/* window base (VIRTIO_MMIO_WINDOW bytes) */
	unsigned spi;			/* interrupt, for descriptions and logs */
	struct gmem mem;		/* guest RAM */
	/* One log line (no newline); may be NULL. */
	void (*log)(void *opaque, const char *line);
	void *log_opaque;
};

/* Counters, for vm.info and the tests. */
struct virtio_mmio_stats {
	uint64_t notifies;		/* queue notifications served on the I/O thread */
	uint64_t vcpu_notifies;		/* QueueNotify writes that reached a vCPU thread */
	uint64_t interrupts;		/* irqfd signals */
	uint64_t relayed_calls;		/* call_fd[] signals the I/O thread turned into interrupts */
	uint64_t resets;
	uint64_t failures;		/* times DEVICE_NEEDS_RESET was set */
	/* Filled by virtio_mmio_get_stats() only: */
	uint32_t status;		/* device status register */
	bool ioeventfd;			/* notifications bypass the vCPU threads */
	bool direct_calls;		/* call_fd[] are irqfds: completions bypass the VMM */
};

typedef void (*virtio_fd_fn)(void *opaque, int fd, uint32_t events);

struct virtio_watch {
	int fd;
	virtio_fd_fn fn;		/* NULL: free slot */
	void *opaque;
};

#define VIRTIO_MMIO_MAX_WATCH		8

struct virtio_mmio {
	struct virtio_mmio_config cfg;
	const struct virtio_dev_ops *ops;
	void *opaque;

	pthread_mutex_t lock;		/* everything below */
	uint32_t status;
	uint32_t dev_features_sel, drv_features_sel;
	uint64_t driver_features;
	uint32_t queue_sel;
	uint32_t interrupt_status;	/* atomic: the guest reads and ACKs it without the lock */
	uint32_t running_status;	/* atomic: bits InterruptStatus reports while DRIVER_OK (set_status) */
	uint32_t config_generation;
	bool failed;			/* NEEDS_RESET set: serve nothing */
	struct {
		uint32_t num;		/* QueueNum as written */
		uint32_t desc_lo, desc_hi, avail_lo, avail_hi, used_lo, used_hi;
		bool ready;
	} qreg[VIRTIO_MMIO_MAX_QUEUES];
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];
	struct virtio_mmio_stats stats;
	struct virtio_watch watch[VIRTIO_MMIO_MAX_WATCH];

	/* Eventfds: the VMM registers notify_fd[q] / irq_fd / resample_fd with the hypervisor. */
	int notify_fd[VIRTIO_MMIO_MAX_QUEUES];
	int irq_fd;
	int resample_fd;
	bool ioeventfd;			/* notify_fd[] are KVM ioeventfds */
	bool resample;			/* resample_fd is wired (level-triggered line) */
	/*
	 * external_queues only: one call eventfd per queue, which the backend
	 * signals when it used buffers. By default the I/O thread relays a
	 * signal (InterruptStatus.VRING + irq_fd); with direct_calls they are
	 * irqfds on the device's (edge-triggered) SPI and the I/O thread never
	 * sees them (docs/virtio.md, "virtio-fs and vhost-user").
	 */
	int call_fd[VIRTIO_MMIO_MAX_QUEUES];
	bool direct_calls;

	/*
	 * Queues a device asked to serve again after one pass of the I/O loop
	 * (vmmio_rerun): bit q, and an eventfd that wakes the loop for them.
	 */
	uint32_t rerun;
	int rerun_fd;

	/* The I/O thread. */
	int epoll_fd;
	int stop_fd;
	pthread_t thread;
	bool thread_started;
	bool ready;			/* init succeeded: destroy has work */
};

/* The MMIO bus callbacks (opaque = struct virtio_mmio *). */
extern const struct mmio_ops virtio_mmio_ops;

/* Set up the transport and its eventfds; the I/O thread is not running yet. */
int virtio_mmio_init(struct virtio_mmio *vdev, const struct virtio_mmio_config *cfg,
		     const struct virtio_dev_ops *ops, void *opaque) WUR;
/* Tell the transport whether notify_fd[] are in-kernel ioeventfds (default false). */
void virtio_mmio_set_ioeventfd(struct virtio_mmio *vdev, bool on);
/* Whether the hypervisor resamples irq_fd (level line); false: edge, one signal per event. */
void virtio_mmio_set_resample(struct virtio_mmio *vdev, bool on);
/*
 * external_queues devices: call_fd[] are irqfds on the device's edge-triggered
 * SPI; the I/O thread stops relaying them and InterruptStatus reads report
 * the VRING bit whenever DRIVER_OK is set (the driver then checks every ring;
 * one with nothing used costs a look). Before virtio_mmio_start().
 */
int virtio_mmio_set_direct_calls(struct virtio_mmio *vdev) WUR;
/* Start / stop the I/O thread. */
int virtio_mmio_start(struct virtio_mmio *vdev) WUR;
void virtio_mmio_stop(struct virtio_mmio *vdev);
/* Stop the thread, close the eventfds. */
void virtio_mmio_destroy(struct virtio_mmio *vdev);

/* ---- For devices (called with the lock held, from their callbacks) ---- */

/* Queue q's ring (set up while the queue is ready). */
struct virtq *virtio_mmio_queue(struct virtio_mmio *vdev, unsigned q);
/* True while DRIVER_OK is set and the device has not failed: queues may be served. */
bool virtio_mmio_running(const struct virtio_mmio *vdev);
/* The features the driver accepted. */
uint64_t virtio_mmio_features(const struct virtio_mmio *vdev);
/* Chains were pushed on queue q: interrupt the driver if it asked for it. */
void virtio_mmio_used(struct virtio_mmio *vdev, unsigned q);
/* Latch InterruptStatus.VRING and interrupt, while the device runs (chains used outside virtq). */
void virtio_mmio_interrupt(struct virtio_mmio *vdev);
/* The config space changed: bump the generation, raise a config interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio *vdev);
/* Set DEVICE_NEEDS_RESET, interrupt, log "name: <reason>; device needs reset". */
void virtio_mmio_fail(struct virtio_mmio *vdev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Poll fd (EPOLLIN/EPOLLOUT in events) on the I/O thread; fn runs under the
 * lock. Call from a device callback (lock held) or before virtio_mmio_start().
 */
int virtio_mmio_watch(struct virtio_mmio *vdev, int fd, uint32_t events,
		      virtio_fd_fn fn, void *opaque) WUR;
void virtio_mmio_unwatch(struct virtio_mmio *vdev, int fd);

/* A snapshot of the counters (takes the lock). */
void virtio_mmio_get_stats(struct virtio_mmio *vdev, struct virtio_mmio_stats *out);

#endif
