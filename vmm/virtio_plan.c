/* Where each virtio device of a configuration lives (pure: --dump-acpi uses it too). */
#include "vmm/virtio.h"

static unsigned place(struct vm_virtio_slot *out, unsigned n, enum vm_virtio_kind kind, unsigned index)
{
	if (n >= VM_MAX_VIRTIO)
		return n;
	out[n] = (struct vm_virtio_slot){
		.kind = kind,
		.index = index,
		.slot = n,
		.base = VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_STRIDE,
		.spi = VIRTIO_SPI_BASE + n,
		/* A vhost-user backend's call eventfds pulse the line: edge (docs/virtio.md). */
		.edge = kind == VM_VIRTIO_FS,
	};
	return n + 1;
}

unsigned vm_virtio_plan(const struct vm_config *cfg, struct vm_virtio_slot *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->ndisks; i++)
		n = place(out, n, VM_VIRTIO_BLK, i);
	if (cfg->rng_source)
		n = place(out, n, VM_VIRTIO_RNG, 0);
	if (cfg->vsock.socket)
		n = place(out, n, VM_VIRTIO_VSOCK, 0);
	for (unsigned i = 0; i < cfg->nr_net; i++)
		n = place(out, n, VM_VIRTIO_NET, i);
	for (unsigned i = 0; i < cfg->nfs; i++)
		n = place(out, n, VM_VIRTIO_FS, i);
	return n;
}
