/*
 * How the VMM wires a device whose queues a backend outside it serves
 * (external_queues, as virtio-fs): on an edge-triggered slot its own
 * interrupt is an irqfd without resample and every call eventfd is an irqfd
 * on the same SPI, so completions bypass the VMM; on a level slot the I/O
 * thread relays the calls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "arch/arm64/layout.h"
#include "devices/virtio/mmio.h"
#include "vmm/virtio.h"
#include "testvm.h"

#define NQ 2

struct extdev {
	struct virtio_mmio vdev;
	struct virtio_dev_ops ops;
};

static void ext_free(void *dev)
{
	struct extdev *d = dev;
	virtio_mmio_destroy(&d->vdev);
	free(d);
}

/* An external-queues device in the slot after the rng. */
static struct virtio_mmio *attach_ext(struct testvm *t, bool edge)
{
	struct vm_virtio_slot s = {
		.kind = VM_VIRTIO_FS, .slot = 1, .base = VIRTIO_MMIO_BASE + VIRTIO_MMIO_STRIDE,
		.spi = VIRTIO_SPI_BASE + 1, .edge = edge,
	};
	struct virtio_mmio_config cfg;
	struct extdev *d = calloc(1, sizeof(*d));
	char err[256];

	assert_non_null(d);
	d->ops = (struct virtio_dev_ops){
		.name = "virtio-ext", .device_id = 26, .num_queues = NQ, .queue_max = 16,
		.external_queues = true,
	};
	vm_virtio_config(t->vm, &s, &cfg);
	assert_int_equal(virtio_mmio_init(&d->vdev, &cfg, &d->ops, d), 0);
	assert_int_equal(vm_virtio_attach(t->vm, &s, &d->vdev, d, ext_free, err, sizeof(err)), 0);
	return &d->vdev;
}

static const struct testvm_opts rng = {
	.boot = 1, .max = 1, .mode = BOOT_MODE_FDT, .rng = "/dev/urandom",
};

static void test_edge_slot_calls_are_irqfds(void **state)
{
	struct testvm t;
	struct fake_irqfd irq[8];
	struct virtio_mmio_stats st;

	(void)state;
	create_ok(&t, &rng);
	struct virtio_mmio *v = attach_ext(&t, true);
	/* The rng's (level, resampled), then the device's own and one per queue, all on its SPI. */
	assert_int_equal(fake_hv_irqfds(t.fh, irq, 8), 1 + 1 + NQ);
	assert_true(irq[0].resample_fd >= 0);
	assert_int_equal(irq[1].spi, VIRTIO_SPI_BASE + 1);
	assert_int_equal(irq[1].fd, v->irq_fd);
	assert_int_equal(irq[1].resample_fd, -1);	/* edge: a pulse per signal */
	for (unsigned q = 0; q < NQ; q++) {
		assert_int_equal(irq[2 + q].spi, VIRTIO_SPI_BASE + 1);
		assert_int_equal(irq[2 + q].fd, v->call_fd[q]);
		assert_int_equal(irq[2 + q].resample_fd, -1);
	}
	virtio_mmio_get_stats(v, &st);
	assert_true(st.direct_calls);
	testvm_finish(&t);
}

static void test_level_slot_relays_calls(void **state)
{
	struct testvm t;
	struct fake_irqfd irq[8];
	struct virtio_mmio_stats st;

	(void)state;
	create_ok(&t, &rng);
	struct virtio_mmio *v = attach_ext(&t, false);
	/* A pulse would be lost on a level line: no call irqfds, the I/O thread relays. */
	assert_int_equal(fake_hv_irqfds(t.fh, irq, 8), 2);
	assert_int_equal(irq[1].fd, v->irq_fd);
	assert_true(irq[1].resample_fd >= 0);
	virtio_mmio_get_stats(v, &st);
	assert_false(st.direct_calls);
	testvm_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_slot_calls_are_irqfds),
		cmocka_unit_test(test_level_slot_relays_calls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
