/*
 * A VM with virtio-rng on the fake hypervisor: the eventfds it registers,
 * the descriptions, vm.info, and the guest's side played through vCPU 0's
 * MMIO exits: the notify goes through the (fake) ioeventfd to the device's
 * I/O thread and the answer comes back through the irqfd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <libfdt.h>

#include "arch/arm64/layout.h"
#include "devices/virtio/mmio.h"
#include "testvm.h"

#define RNG0		VIRTIO_MMIO_BASE
#define RING_GPA	(RAM_BASE + (16ULL << 20))	/* rings of a 16-entry queue */
#define BUF_GPA		(RAM_BASE + (17ULL << 20))
#define QN		16

static const struct testvm_opts rng_acpi = {
	.boot = 1, .max = 1, .mode = BOOT_MODE_ACPI, .rng = "/dev/urandom",
};

static uint8_t *host(struct testvm *t, uint64_t gpa)
{
	return t->vm->ram + (gpa - t->vm->ram_base);
}

static uint64_t wait_fd(int fd, unsigned ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t n = 0;
	if (poll(&p, 1, (int)ms) == 1 && read(fd, &n, sizeof(n)) == sizeof(n))
		return n;
	return 0;
}

static void test_wiring(void **state)
{
	struct testvm t;
	struct fake_ioeventfd io[4];
	struct fake_irqfd irq[4];
	struct vm_info info;

	(void)state;
	create_ok(&t, &rng_acpi);
	assert_int_equal(fake_hv_ioeventfds(t.fh, io, 4), 1);
	assert_int_equal(io[0].gpa, RNG0 + VIRTIO_MMIO_QUEUE_NOTIFY);
	assert_int_equal(io[0].len, 4);
	assert_int_equal(io[0].datamatch, 0);
	assert_int_equal(io[0].fd, t.vm->virtio[0].vdev->notify_fd[0]);
	assert_int_equal(fake_hv_irqfds(t.fh, irq, 4), 1);
	assert_int_equal(irq[0].spi, VIRTIO_SPI_BASE);
	assert_int_equal(irq[0].fd, t.vm->virtio[0].vdev->irq_fd);
	assert_true(irq[0].resample_fd >= 0);

	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_int_equal(info.ndevices, 1);
	assert_string_equal(info.devices[0].type, "virtio-rng");
	assert_int_equal(info.devices[0].base, RNG0);
	assert_int_equal(info.devices[0].irq, 32 + VIRTIO_SPI_BASE);
	assert_true(info.devices[0].ioeventfd);
	assert_int_equal(info.devices[0].status, 0);
	testvm_finish(&t);
}

static void test_no_rng(void **state)
{
	struct testvm t;
	struct testvm_opts o = rng_acpi;
	struct vm_info info;

	(void)state;
	o.rng = NULL;
	create_ok(&t, &o);
	assert_int_equal(fake_hv_ioeventfds(t.fh, NULL, 0), 0);
	assert_int_equal(fake_hv_irqfds(t.fh, NULL, 0), 0);
	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_int_equal(info.ndevices, 0);
	testvm_finish(&t);
}

static void test_irqfd_failure_fails_create(void **state)
{
	struct testvm t;
	struct testvm_opts o = rng_acpi;

	(void)state;
	o.fail_op = FAKE_OP_IRQFD;
	o.fail_err = -EINVAL;
	assert_int_equal(testvm_create(&t, &o), -EINVAL);
	assert_non_null(strstr(t.err, "irqfd"));
	testvm_finish(&t);
}

static void test_fdt_node(void **state)
{
	struct testvm t;
	struct testvm_opts o = rng_acpi;
	int len;

	(void)state;
	o.mode = BOOT_MODE_FDT;
	create_ok(&t, &o);
	const void *fdt = host(&t, t.vm->boot.dtb_gpa);
	int node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio");
	assert_true(node >= 0);
	assert_string_equal(fdt_get_name(fdt, node, NULL), "virtio_mmio@a000000");
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
	assert_int_equal(len, 16);
	assert_int_equal(((uint64_t)fdt32_to_cpu(reg[0]) << 32) | fdt32_to_cpu(reg[1]), RNG0);
	assert_int_equal(fdt32_to_cpu(reg[3]), VIRTIO_MMIO_STRIDE);
	const fdt32_t *irq = fdt_getprop(fdt, node, "interrupts", &len);
	assert_int_equal(len, 12);
	assert_int_equal(fdt32_to_cpu(irq[0]), 0);			/* SPI */
	assert_int_equal(fdt32_to_cpu(irq[1]), VIRTIO_SPI_BASE);
	assert_int_equal(fdt32_to_cpu(irq[2]), 4);			/* level, active high */
	assert_non_null(fdt_getprop(fdt, node, "dma-coherent", &len));
	assert_true(fdt_node_offset_by_compatible(fdt, node, "virtio,mmio") < 0);	/* only one */
	testvm_finish(&t);
}

static void wr(struct testvm *t, uint64_t off, uint32_t v)
{
	mmio_write(t, 0, RNG0 + off, 4, v);
}

/* The Linux driver's bring-up of queue 0, through vCPU 0's MMIO exits. */
static void bring_up(struct testvm *t)
{
	const uint32_t ack = VIRTIO_STATUS_ACKNOWLEDGE, drv = ack | VIRTIO_STATUS_DRIVER;
	const uint32_t fok = drv | VIRTIO_STATUS_FEATURES_OK;

	assert_int_equal(mmio_read(t, 0, RNG0 + VIRTIO_MMIO_MAGIC_VALUE, 4), VIRTIO_MMIO_MAGIC);
	assert_int_equal(mmio_read(t, 0, RNG0 + VIRTIO_MMIO_VERSION, 4), 2);
	assert_int_equal(mmio_read(t, 0, RNG0 + VIRTIO_MMIO_DEVICE_ID, 4), 4);
	wr(t, VIRTIO_MMIO_STATUS, 0);
	wr(t, VIRTIO_MMIO_STATUS, ack);
	wr(t, VIRTIO_MMIO_STATUS, drv);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(t, VIRTIO_MMIO_STATUS, fok);
	assert_int_equal(mmio_read(t, 0, RNG0 + VIRTIO_MMIO_STATUS, 4), fok);
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(mmio_read(t, 0, RNG0 + VIRTIO_MMIO_QUEUE_NUM_MAX, 4), 64);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, QN);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)RING_GPA);
	wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(RING_GPA + 0x1000));
	wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(RING_GPA + 0x2000));
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(t, VIRTIO_MMIO_STATUS, fok | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(mmio_read(t, 0, RNG0 + VIRTIO_MMIO_STATUS, 4), fok | VIRTIO_STATUS_DRIVER_OK);
}

/* One 64-byte request in the rings at RING_GPA. */
static void post_request(struct testvm *t)
{
	uint8_t *desc = host(t, RING_GPA);
	uint16_t *avail = (uint16_t *)(void *)host(t, RING_GPA + 0x1000);
	uint64_t a = BUF_GPA;
	uint32_t l = 64;
	uint16_t fl = VIRTQ_DESC_F_WRITE;
	memcpy(desc, &a, 8);
	memcpy(desc + 8, &l, 4);
	memcpy(desc + 12, &fl, 2);
	avail[2] = 0;
	__atomic_store_n(&avail[1], 1, __ATOMIC_RELEASE);
}

static uint16_t used_idx(struct testvm *t)
{
	return __atomic_load_n((uint16_t *)(void *)host(t, RING_GPA + 0x2002), __ATOMIC_ACQUIRE);
}

static void test_guest_reads_entropy_through_ioeventfd(void **state)
{
	struct testvm t;
	struct fake_irqfd irq;
	struct vm_info info;

	(void)state;
	create_ok(&t, &rng_acpi);
	assert_int_equal(fake_hv_irqfds(t.fh, &irq, 1), 1);
	start_ok(&t);
	bring_up(&t);
	post_request(&t);
	unsigned consumed = fake_hv_ioeventfd_hits(t.fh);
	fake_hv_push_mmio_write(t.fh, 0, RNG0 + VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
	assert_true(wait_fd(irq.fd, TMO) > 0);		/* the interrupt, through the irqfd */
	assert_int_equal(fake_hv_ioeventfd_hits(t.fh), consumed + 1);
	assert_int_equal(used_idx(&t), 1);
	uint8_t zero[64] = { 0 };
	assert_memory_not_equal(host(&t, BUF_GPA), zero, 64);
	assert_int_equal(mmio_read(&t, 0, RNG0 + VIRTIO_MMIO_INTERRUPT_STATUS, 4), VIRTIO_MMIO_INT_VRING);

	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_int_equal(info.devices[0].vcpu_notifies, 0);
	assert_true(info.devices[0].notifies >= 1);
	assert_true(info.devices[0].interrupts >= 1);
	assert_int_equal(info.devices[0].status & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
	testvm_finish(&t);
}

/* No ioeventfd from the hypervisor: the vCPU's exit only kicks the I/O thread, and is counted. */
static void test_without_ioeventfd(void **state)
{
	struct testvm t;
	struct testvm_opts o = rng_acpi;
	struct fake_irqfd irq;
	struct vm_info info;

	(void)state;
	o.fail_op = FAKE_OP_IOEVENTFD;
	o.fail_err = -ENOSYS;
	create_ok(&t, &o);
	assert_int_equal(fake_hv_irqfds(t.fh, &irq, 1), 1);
	start_ok(&t);
	bring_up(&t);
	post_request(&t);
	wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(wait_fd(irq.fd, TMO) > 0);
	assert_int_equal(used_idx(&t), 1);
	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_false(info.devices[0].ioeventfd);
	assert_int_equal(info.devices[0].vcpu_notifies, 1);
	testvm_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wiring),
		cmocka_unit_test(test_no_rng),
		cmocka_unit_test(test_irqfd_failure_fails_create),
		cmocka_unit_test(test_fdt_node),
		cmocka_unit_test(test_guest_reads_entropy_through_ioeventfd),
		cmocka_unit_test(test_without_ioeventfd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
