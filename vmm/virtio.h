/*
 * The VM's virtio-mmio devices: which ones a configuration has and where
 * (the plan, a pure function of the configuration shared by the device
 * setup, the device tree and the ACPI tables), and how a device is wired to
 * the hypervisor (ioeventfd per queue, irqfd with resample on its SPI, or
 * for a vhost-user device edge irqfds: the VMM's and the backend's call fds).
 */
#ifndef VMM_VIRTIO_H
#define VMM_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "arch/arm64/layout.h"
#include "devices/virtio/mmio.h"
#include "vmm/config.h"

#define VM_MAX_VIRTIO VIRTIO_MMIO_SLOTS

enum vm_virtio_kind {
	VM_VIRTIO_BLK,		/* one per --disk, in command-line order */
	VM_VIRTIO_RNG,
	VM_VIRTIO_NET,		/* one per --net, in command-line order */
	VM_VIRTIO_VSOCK,	/* --vsock */
	VM_VIRTIO_FS,		/* one per --fs, in command-line order */
};

struct vm_virtio_slot {
	enum vm_virtio_kind kind;
	unsigned index;		/* which device of its kind (the --disk or --fs number) */
	unsigned slot;		/* window VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_STRIDE */
	uint64_t base;
	unsigned spi;		/* VIRTIO_SPI_BASE + slot */
	bool edge;		/* SPI edge-triggered (else level with resample) */
};

/*
 * The virtio devices of cfg in slot order: disks first (so the guest's
 * /dev/vdX follow the --disk order), then the rng, then the vsock, then the
 * network devices (eth0, eth1, ... in --net order), then the --fs devices.
 * Returns how many (at
 * most VM_MAX_VIRTIO are filled).
 */
unsigned vm_virtio_plan(const struct vm_config *cfg, struct vm_virtio_slot *out);

/* Check the devices' host files before any VM exists (status 2 if not usable). */
int vm_virtio_check(const struct vm_config *cfg, char *err, size_t errlen) WUR;

/* One attached device, owned by the VM. */
struct vm_virtio_dev {
	struct vm_virtio_slot slot;
	struct virtio_mmio *vdev;	/* the transport, inside dev */
	void *dev;			/* the device object */
	void (*destroy)(void *dev);	/* frees dev (its transport included) */
	const char *name;		/* the device's ops name */
};

struct vm;

/* The transport configuration for a slot of this VM: window, SPI, guest RAM, logging. */
void vm_virtio_config(struct vm *vm, const struct vm_virtio_slot *s, struct virtio_mmio_config *out);
/*
 * Wire an initialised device: map its window, register one ioeventfd per
 * queue and the irqfd, start its I/O thread. On failure the device is
 * destroyed (destroy(dev)).
 */
int vm_virtio_attach(struct vm *vm, const struct vm_virtio_slot *s, struct virtio_mmio *vdev,
		     void *dev, void (*destroy)(void *dev), char *err, size_t errlen) WUR;
/* virtio-net (vmm/virtio_net.c): check --net fds (status 2 if not taps); make a device. */
int vm_net_check(const struct vm_net_config *n, char *err, size_t errlen) WUR;
/* Every --net of cfg, and no fd named twice. */
int vm_net_check_all(const struct vm_config *cfg, char *err, size_t errlen) WUR;
/* Takes the slot's fds from vm->cfg (-1 there): the device closes them, or this on failure. */
int vm_virtio_add_net(struct vm *vm, const struct vm_virtio_slot *s, char *err, size_t errlen) WUR;
/* Close the --net fds no device took (vm_create failed before their device). */
void vm_net_close_untaken(struct vm *vm);
/* virtio-blk (vmm/virtio_blk.c): open each --disk to check it; create the disk of a slot. */
int vm_disk_check(const struct vm_config *cfg, char *err, size_t errlen) WUR;
int vm_virtio_add_blk(struct vm *vm, const struct vm_virtio_slot *s, char *err, size_t errlen) WUR;
/* Create every device of the plan (vm_create). */
int vm_virtio_create_all(struct vm *vm, char *err, size_t errlen) WUR;
/* Stop the I/O threads and free the devices (before guest RAM goes away); close untaken tap fds. */
void vm_virtio_destroy_all(struct vm *vm);

#endif
