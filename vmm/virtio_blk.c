/* The VM's virtio-blk disks (--disk): checked at start-up, created on their slots, logged at exit. */
#include "vmm/virtio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/blk.h"
#include "vmm/log.h"
#include "vmm/vm.h"

struct vm_blk {
	struct virtio_blk blk;		/* first: the transport is blk.vdev */
	struct vm *vm;
	unsigned index;
};

/* One queue per possible vCPU unless num_queues= says otherwise: hot-added vCPUs get theirs too. */
static unsigned disk_queues(const struct vm_config *cfg, const struct disk_config *d)
{
	if (d->num_queues)
		return d->num_queues;
	return cfg->max_cpus < VIRTIO_BLK_MAX_QUEUES ? cfg->max_cpus : VIRTIO_BLK_MAX_QUEUES;
}

int vm_disk_check(const struct vm_config *cfg, char *err, size_t errlen)
{
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		const struct disk_config *d = &cfg->disks[i];
		struct blk_file f;
		int r = blk_file_open(&f, d->path, d->read_only, d->direct, err, errlen);
		if (r)
			return r;
		r = blk_file_close(&f);
		(void)r;	/* nothing was written */
	}
	return 0;
}

static void blk_free(void *dev)
{
	struct vm_blk *vb = dev;
	struct virtio_blk_stats bs;

	/* The transport logs its notifications and interrupts; these are the disk's own. */
	virtio_blk_get_stats(&vb->blk, &bs);
	vm_log(vb->vm, "disk %u: %llu requests (%llu I/O errors, %llu unsupported), "
	       "%llu io_uring submissions, %llu completion wake-ups",
	       vb->index, (unsigned long long)bs.requests, (unsigned long long)bs.errors,
	       (unsigned long long)bs.unsupported, (unsigned long long)bs.submits,
	       (unsigned long long)bs.completion_wakeups);
	int r = virtio_blk_destroy(&vb->blk);
	if (r)
		vm_log(vb->vm, "disk %u: making writes durable at exit failed: %s", vb->index, strerror(-r));
	free(vb);
}

int vm_virtio_add_blk(struct vm *vm, const struct vm_virtio_slot *s, char *err, size_t errlen)
{
	const struct disk_config *d = &vm->cfg.disks[s->index];
	struct virtio_mmio_config cfg;
	struct vm_blk *vb = calloc(1, sizeof(*vb));
	int r;

	if (!vb) {
		snprintf(err, errlen, "out of memory for virtio-blk");
		return -ENOMEM;
	}
	vb->vm = vm;
	vb->index = s->index;
	struct virtio_blk_params p = {
		.path = d->path,
		.read_only = d->read_only,
		.direct = d->direct,
		.num_queues = disk_queues(&vm->cfg, d),
		.queue_size = d->queue_size,
		.serial = d->serial,
	};
	vm_virtio_config(vm, s, &cfg);
	if ((r = virtio_blk_init(&vb->blk, &cfg, &p, err, errlen))) {
		free(vb);
		return r;
	}
	return vm_virtio_attach(vm, s, &vb->blk.vdev, vb, blk_free, err, errlen);
}
