/*
 * A VM with virtio-blk disks on the fake hypervisor: slots, queues and
 * their ioeventfds, descriptions, vm.info, and a guest write played
 * through vCPU 0's MMIO exits that reaches the file through the (fake)
 * ioeventfd, the I/O thread and io_uring, answered through the irqfd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <libfdt.h>

#include "arch/arm64/layout.h"
#include "devices/virtio/blk.h"
#include "testvm.h"

#define DISK0		VIRTIO_MMIO_BASE
#define DISK1		(VIRTIO_MMIO_BASE + VIRTIO_MMIO_STRIDE)
#define RING_GPA	(RAM_BASE + (16ULL << 20))
#define BUF_GPA		(RAM_BASE + (17ULL << 20))
#define QN		16

static char paths[2][64];
static struct disk_config disks[2];

static void make_disks(void)
{
	for (unsigned i = 0; i < 2; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/tmp/vmm-vmblk-XXXXXX");
		int fd = mkstemp(paths[i]);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, 1 << 20), 0);
		close(fd);
		memset(&disks[i], 0, sizeof(disks[i]));
		strcpy(disks[i].path, paths[i]);
		disks[i].queue_size = 64;
	}
	disks[1].num_queues = 2;
	disks[1].read_only = true;
}

static void remove_disks(void)
{
	unlink(paths[0]);
	unlink(paths[1]);
}

static struct testvm_opts opts(enum boot_mode mode)
{
	make_disks();
	return (struct testvm_opts){ .boot = 1, .max = 4, .mode = mode, .disks = disks, .ndisks = 2 };
}

static uint8_t *host(struct testvm *t, uint64_t gpa)
{
	return t->vm->ram + (gpa - t->vm->ram_base);
}

static void test_wiring(void **state)
{
	struct testvm t;
	struct testvm_opts o = opts(BOOT_MODE_ACPI);
	struct fake_ioeventfd io[8];
	struct fake_irqfd irq[4];
	struct vm_info info;

	(void)state;
	create_ok(&t, &o);
	/* One queue per possible vCPU by default (4), then num_queues=2. */
	assert_int_equal(fake_hv_ioeventfds(t.fh, io, 8), 6);
	for (unsigned i = 0; i < 6; i++) {
		uint64_t base = i < 4 ? DISK0 : DISK1;
		assert_int_equal(io[i].gpa, base + VIRTIO_MMIO_QUEUE_NOTIFY);
		assert_int_equal(io[i].datamatch, i < 4 ? i : i - 4);
	}
	assert_int_equal(fake_hv_irqfds(t.fh, irq, 4), 2);
	assert_int_equal(irq[0].spi, VIRTIO_SPI_BASE);
	assert_int_equal(irq[1].spi, VIRTIO_SPI_BASE + 1);
	assert_int_equal(vm_api_ops.info(t.vm, &info), 0);
	assert_int_equal(info.ndevices, 2);
	assert_string_equal(info.devices[0].type, "virtio-blk");
	assert_int_equal(info.devices[0].base, DISK0);
	assert_string_equal(info.devices[1].type, "virtio-blk");
	assert_int_equal(info.devices[1].base, DISK1);
	/* The device's identity and config through vCPU 0's MMIO reads. */
	start_ok(&t);
	assert_int_equal(mmio_read(&t, 0, DISK0 + VIRTIO_MMIO_DEVICE_ID, 4), VIRTIO_ID_BLOCK);
	assert_int_equal(mmio_read(&t, 0, DISK0 + VIRTIO_MMIO_CONFIG, 4), (1 << 20) / 512);
	assert_int_equal(mmio_read(&t, 0, DISK0 + VIRTIO_MMIO_CONFIG + 34, 2), 4);	/* num_queues */
	assert_int_equal(mmio_read(&t, 0, DISK1 + VIRTIO_MMIO_CONFIG + 34, 2), 2);
	mmio_write(&t, 0, DISK1 + VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 0);
	assert_true(mmio_read(&t, 0, DISK1 + VIRTIO_MMIO_DEVICE_FEATURES, 4) & (1u << VIRTIO_BLK_F_RO));
	testvm_finish(&t);
	remove_disks();
}

static void test_fdt_nodes(void **state)
{
	struct testvm t;
	struct testvm_opts o = opts(BOOT_MODE_FDT);
	int n = 0;

	(void)state;
	create_ok(&t, &o);
	const void *fdt = host(&t, t.vm->boot.dtb_gpa);
	for (int node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio"); node >= 0;
	     node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio"))
		n++;
	assert_int_equal(n, 2);
	assert_true(fdt_path_offset(fdt, "/virtio_mmio@a000000") >= 0);
	assert_true(fdt_path_offset(fdt, "/virtio_mmio@a000200") >= 0);
	testvm_finish(&t);
	remove_disks();
}

static void wr(struct testvm *t, uint64_t off, uint32_t v)
{
	mmio_write(t, 0, DISK0 + off, 4, v);
}

static void desc(struct testvm *t, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = host(t, RING_GPA + 16 * i);
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* The Linux driver's bring-up (FLUSH negotiated), then one 4 KiB write at sector 8 through the ioeventfd. */
static void test_guest_write_reaches_file(void **state)
{
	struct testvm t;
	struct testvm_opts o = opts(BOOT_MODE_ACPI);
	struct fake_irqfd irq;
	const uint32_t drv = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	const uint32_t fok = drv | VIRTIO_STATUS_FEATURES_OK;

	(void)state;
	create_ok(&t, &o);
	assert_int_equal(fake_hv_irqfds(t.fh, &irq, 1), 2);
	start_ok(&t);
	wr(&t, VIRTIO_MMIO_STATUS, 0);
	wr(&t, VIRTIO_MMIO_STATUS, drv);
	wr(&t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(&t, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_BLK_F_FLUSH);
	wr(&t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(&t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(&t, VIRTIO_MMIO_STATUS, fok);
	wr(&t, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(&t, VIRTIO_MMIO_QUEUE_NUM, QN);
	wr(&t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)RING_GPA);
	wr(&t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(RING_GPA + 0x1000));
	wr(&t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(RING_GPA + 0x2000));
	wr(&t, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(&t, VIRTIO_MMIO_STATUS, fok | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(mmio_read(&t, 0, DISK0 + VIRTIO_MMIO_STATUS, 4), fok | VIRTIO_STATUS_DRIVER_OK);

	struct virtio_blk_outhdr h = { VIRTIO_BLK_T_OUT, 0, 8 };
	memcpy(host(&t, BUF_GPA), &h, sizeof(h));
	memset(host(&t, BUF_GPA + 4096), 0xc3, 4096);
	*host(&t, BUF_GPA + 16) = 0xff;
	desc(&t, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(&t, 1, BUF_GPA + 4096, 4096, VIRTQ_DESC_F_NEXT, 2);
	desc(&t, 2, BUF_GPA + 16, 1, VIRTQ_DESC_F_WRITE, 0);
	uint16_t *avail = (uint16_t *)(void *)host(&t, RING_GPA + 0x1000);
	avail[2] = 0;
	__atomic_store_n(&avail[1], 1, __ATOMIC_RELEASE);
	unsigned hits = fake_hv_ioeventfd_hits(t.fh);
	fake_hv_push_mmio_write(t.fh, 0, DISK0 + VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
	struct pollfd p = { .fd = irq.fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, TMO), 1);
	assert_int_equal(fake_hv_ioeventfd_hits(t.fh), hits + 1);
	assert_int_equal(__atomic_load_n((uint16_t *)(void *)host(&t, RING_GPA + 0x2002), __ATOMIC_ACQUIRE), 1);
	assert_int_equal(*host(&t, BUF_GPA + 16), VIRTIO_BLK_S_OK);
	testvm_finish(&t);	/* stops, drains, fdatasyncs, closes */

	uint8_t buf[4096];
	int fd = open(paths[0], O_RDONLY);
	assert_int_equal(pread(fd, buf, sizeof(buf), 8 * 512), sizeof(buf));
	close(fd);
	for (unsigned i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xc3);
	remove_disks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wiring),
		cmocka_unit_test(test_fdt_nodes),
		cmocka_unit_test(test_guest_write_reaches_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
