/*
 * Places the boot payload in guest RAM:
 *   RAM_BASE + text_offset   kernel Image (image_size bytes reserved)
 *   next 2 MiB boundary      initrd
 *   top 2 MiB of RAM         device tree | ACPI tables | UEFI hand-off
 */
#include "vmm/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/arm64/fdt.h"
#include "arch/arm64/image.h"
#include "arch/arm64/layout.h"
#include "arch/arm64/uefi.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define PAGE 4096ULL

static int read_header(const char *path, struct arm64_image *img, uint64_t *size,
		       char *err, size_t errlen)
{
	uint8_t hdr[ARM64_IMAGE_HEADER_SIZE];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = -errno;
		snprintf(err, errlen, "cannot read kernel %s: %s", path, strerror(errno));
		return e;
	}
	ssize_t n = (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ? read(fd, hdr, sizeof(hdr)) : -1;
	close(fd);
	int r = n >= 0 ? arm64_image_parse(hdr, (size_t)n, img) : -ENOEXEC;
	if (r == -EINVAL) {
		snprintf(err, errlen, "kernel %s is a big-endian arm64 Image, which is not supported", path);
		return r;
	}
	if (r) {
		snprintf(err, errlen, "kernel %s is not an arm64 Linux Image (no ARM\\x64 magic)", path);
		return -ENOEXEC;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

int boot_check_files(const struct vm_config *cfg, char *err, size_t errlen)
{
	struct arm64_image img;
	uint64_t size;
	int r = read_header(cfg->kernel, &img, &size, err, errlen);

	if (r)
		return r;
	if (cfg->initrd) {
		int fd = open(cfg->initrd, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = -errno;
			snprintf(err, errlen, "cannot read initrd %s: %s", cfg->initrd, strerror(errno));
			return e;
		}
		close(fd);
	}
	return 0;
}

static int load_file(struct vm *vm, const char *path, uint64_t gpa, uint64_t limit,
		     uint64_t *size, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return e;
	}
	if ((uint64_t)st.st_size > limit - gpa) {
		close(fd);
		snprintf(err, errlen, "%s (%llu MiB) does not fit in guest memory; give more --memory",
			 path, (unsigned long long)(st.st_size >> 20));
		return -EFBIG;
	}
	uint8_t *dst = vm->ram + (gpa - vm->ram_base);
	uint64_t done = 0;
	while (done < (uint64_t)st.st_size) {
		ssize_t n = read(fd, dst + done, (size_t)((uint64_t)st.st_size - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? -errno : -EIO;
			close(fd);
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(-e));
			return e;
		}
		done += (uint64_t)n;
	}
	close(fd);
	*size = done;
	return 0;
}

static int prepare_acpi(struct vm *vm, uint64_t fw_base, struct fdt_uefi_params *uefi,
			char *err, size_t errlen)
{
	struct acpi_cpu *cpus = calloc(vm->cfg.max_cpus, sizeof(*cpus));
	struct acpi_platform plat;
	struct acpi_tables tables;
	struct uefi_handoff ho;
	int r;

	if (!cpus)
		return -ENOMEM;
	boot_acpi_platform(&vm->cfg, cpus, &plat);
	uint64_t acpi_gpa = fw_base + FW_ACPI_OFFSET;
	r = acpi_build(&plat, vm->ram + (acpi_gpa - vm->ram_base), FW_ACPI_SIZE, acpi_gpa, &tables);
	free(cpus);
	if (r) {
		snprintf(err, errlen, "cannot build the ACPI tables: %s", strerror(-r));
		return r;
	}
	vm->boot.acpi_gpa = acpi_gpa;
	vm->boot.acpi_size = tables.used;

	const struct boot_info *b = &vm->boot;
	uint64_t payload_end = ALIGN_UP(b->initrd_end > b->kernel_end ? b->initrd_end : b->kernel_end, PAGE);
	uint64_t ram_end = vm->ram_base + vm->ram_size;
	struct uefi_mem_region map[] = {
		{ UART_BASE, UART_SIZE, UEFI_MEM_MMIO },
		{ GED_BASE, GED_SIZE, UEFI_MEM_MMIO },
		{ CPUHP_BASE, CPUHP_SIZE, UEFI_MEM_MMIO },
		{ VIRTIO_MMIO_BASE, vm->nvirtio ? VIRTIO_MMIO_REGION_SIZE : 0, UEFI_MEM_MMIO },
		{ vm->ram_base, b->kernel_gpa - vm->ram_base, UEFI_MEM_CONVENTIONAL },
		{ b->kernel_gpa, payload_end - b->kernel_gpa, UEFI_MEM_LOADER_DATA },
		{ payload_end, fw_base - payload_end, UEFI_MEM_CONVENTIONAL },
		{ fw_base, FW_DTB_SIZE, UEFI_MEM_LOADER_DATA },
		{ acpi_gpa, FW_ACPI_SIZE, UEFI_MEM_ACPI_RECLAIM },
		{ fw_base + FW_UEFI_OFFSET, ram_end - (fw_base + FW_UEFI_OFFSET), UEFI_MEM_LOADER_DATA },
	};
	/* Drop empty regions (a kernel at the very start of RAM). */
	struct uefi_mem_region regions[ARRAY_SIZE(map)];
	unsigned n = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(map); i++) {
		if (map[i].size)
			regions[n++] = map[i];
	}
	uint64_t uefi_gpa = fw_base + FW_UEFI_OFFSET;
	r = uefi_build_handoff(vm->ram + (uefi_gpa - vm->ram_base), FW_UEFI_SIZE, uefi_gpa,
			       tables.rsdp_gpa, regions, n, &ho);
	if (r) {
		snprintf(err, errlen, "cannot build the UEFI hand-off: %s", strerror(-r));
		return r;
	}
	*uefi = (struct fdt_uefi_params){
		.systab_gpa = ho.systab_gpa,
		.mmap_gpa = ho.mmap_gpa,
		.mmap_size = ho.mmap_size,
		.mmap_desc_size = ho.mmap_desc_size,
		.mmap_desc_ver = ho.mmap_desc_ver,
	};
	vm_log(vm, "ACPI tables at 0x%llx (%zu bytes, RSDP 0x%llx), UEFI system table at 0x%llx",
	       (unsigned long long)acpi_gpa, tables.used, (unsigned long long)tables.rsdp_gpa,
	       (unsigned long long)ho.systab_gpa);
	return 0;
}

int boot_prepare(struct vm *vm, char *err, size_t errlen)
{
	struct arm64_image img;
	struct boot_info *b = &vm->boot;
	uint64_t ksize, isize = 0;
	uint64_t ram_end = vm->ram_base + vm->ram_size;
	uint64_t fw_base = ram_end - FW_AREA_SIZE;
	char cmdline[4096];
	int r;

	if ((r = read_header(vm->cfg.kernel, &img, &ksize, err, errlen)))
		return r;
	b->kernel_gpa = vm->ram_base + img.text_offset;	/* RAM_BASE is 2 MiB aligned */
	uint64_t footprint = img.image_size ? img.image_size : ALIGN_UP(ksize, PAGE) + (16ULL << 20);
	if (footprint < ksize)
		footprint = ksize;
	b->kernel_end = b->kernel_gpa + footprint;
	if (b->kernel_end > fw_base) {
		snprintf(err, errlen, "the kernel needs %llu MiB; give more --memory",
			 (unsigned long long)(footprint >> 20));
		return -EFBIG;
	}
	if ((r = load_file(vm, vm->cfg.kernel, b->kernel_gpa, fw_base, &ksize, err, errlen)))
		return r;
	b->entry = b->kernel_gpa;

	b->initrd_gpa = b->initrd_end = ALIGN_UP(b->kernel_end, ARM64_KERNEL_ALIGN);
	if (vm->cfg.initrd) {
		if (b->initrd_gpa >= fw_base) {
			snprintf(err, errlen, "no room for the initrd; give more --memory");
			return -EFBIG;
		}
		if ((r = load_file(vm, vm->cfg.initrd, b->initrd_gpa, fw_base, &isize, err, errlen)))
			return r;
		b->initrd_end = b->initrd_gpa + isize;
	}

	const char *user = vm->cfg.cmdline ? vm->cfg.cmdline : "";
	struct fdt_uefi_params uefi;
	struct fdt_params fp = {
		.initrd_start = b->initrd_gpa,
		.initrd_end = b->initrd_end,
		.ram_base = vm->ram_base,
		.ram_size = vm->ram_size,
		.nr_cpus = vm->cfg.boot_cpus,
		.gicd_base = GIC_DIST_BASE,
		.gicd_size = GIC_DIST_SIZE,
		.gicr_base = GIC_REDIST_BASE,
		.gicr_size = GIC_REDIST_STRIDE * vm->cfg.max_cpus,
		.uart_base = UART_BASE,
		.uart_size = UART_SIZE,
		.uart_spi = UART_SPI,
	};
	for (unsigned i = 0; i < vm->nvirtio && i < FDT_MAX_VIRTIO; i++)
		fp.virtio[fp.nr_virtio++] = (struct fdt_virtio){
			.base = vm->virtio[i].slot.base,
			.size = VIRTIO_MMIO_STRIDE,
			.spi = vm->virtio[i].slot.spi,
		};
	if (vm->cfg.boot_mode == BOOT_MODE_ACPI) {
		if ((r = prepare_acpi(vm, fw_base, &uefi, err, errlen)))
			return r;
		fp.uefi = &uefi;
		/* No firmware stays resident: the kernel must not call EFI runtime services. */
		snprintf(cmdline, sizeof(cmdline), "efi=noruntime%s%s", *user ? " " : "", user);
	} else {
		snprintf(cmdline, sizeof(cmdline), "%s", user);
	}
	fp.bootargs = cmdline;
	b->dtb_gpa = fw_base + FW_DTB_OFFSET;
	r = fdt_build(vm->ram + (b->dtb_gpa - vm->ram_base), FW_DTB_SIZE, &fp);
	if (r) {
		snprintf(err, errlen, "cannot build the device tree: %s", strerror(-r));
		return r;
	}
	vm_log(vm, "kernel %s at 0x%llx (%llu KiB), initrd %llu KiB at 0x%llx, dtb at 0x%llx, cmdline \"%s\"",
	       vm->cfg.kernel, (unsigned long long)b->kernel_gpa, (unsigned long long)(ksize >> 10),
	       (unsigned long long)(isize >> 10), (unsigned long long)b->initrd_gpa,
	       (unsigned long long)b->dtb_gpa, cmdline);
	return 0;
}
