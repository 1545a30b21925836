/*
 * Loads the boot payload into guest RAM where boot_place() put it:
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

/* The size of a regular file, for boot_place(); err names it as what. */
static int file_size(const char *what, const char *path, uint64_t *size, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		int e = -errno;
		snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a regular file", what, path);
		return -EINVAL;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Header and sizes of the payload files of cfg, ready for boot_place(). */
static int plan_files(const struct vm_config *cfg, uint64_t ram_base, uint64_t ram_size,
		      struct boot_place *place, char *err, size_t errlen)
{
	struct boot_place_in in = {
		.ram_base = ram_base,
		.ram_size = ram_size,
		.kernel = cfg->kernel,
		.initrd = cfg->initrd,
	};
	int r = read_header(cfg->kernel, &in.img, &in.kernel_bytes, err, errlen);

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
		if ((r = file_size("initrd", cfg->initrd, &in.initrd_bytes, err, errlen)))
			return r;
	}
	return boot_place(&in, place, err, errlen);
}

int boot_check_files(const struct vm_config *cfg, char *err, size_t errlen)
{
	struct boot_place place;

	return plan_files(cfg, RAM_BASE, cfg->memory_bytes, &place, err, errlen);
}

/*
 * Read path into guest RAM at gpa: at most max bytes (what boot_place()
 * reserved for it: a file that grew since is refused, never written beyond).
 */
static int load_file(struct vm *vm, const char *what, const char *path, uint64_t gpa,
		     uint64_t max, uint64_t *size, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = -errno;
		snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return e;
	}
	uint64_t want = (uint64_t)st.st_size;
	if (gpa < vm->ram_base || gpa - vm->ram_base > vm->ram_size ||
	    max > vm->ram_size - (gpa - vm->ram_base) || want > max) {
		close(fd);
		snprintf(err, errlen, "%s %s (%llu MiB) does not fit in guest memory; give more --memory",
			 what, path, (unsigned long long)(want >> 20));
		return -EFBIG;
	}
	uint8_t *dst = vm->ram + (gpa - vm->ram_base);
	uint64_t done = 0;
	while (done < want) {
		ssize_t n = read(fd, dst + done, (size_t)(want - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? -errno : -EIO;
			close(fd);
			snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(-e));
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
	boot_acpi_platform(&vm->cfg, vm->pmu, cpus, &plat);
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
	struct boot_info *b = &vm->boot;
	struct boot_place place;
	uint64_t ksize, isize = 0;
	char cmdline[BOOT_CMDLINE_SIZE];
	int r;

	/* Placed again from the files as they are now, then loaded within those bounds. */
	if ((r = plan_files(&vm->cfg, vm->ram_base, vm->ram_size, &place, err, errlen)))
		return r;
	uint64_t fw_base = place.fw_base;
	b->kernel_gpa = place.kernel_gpa;
	b->kernel_end = place.kernel_end;
	if ((r = load_file(vm, "kernel", vm->cfg.kernel, b->kernel_gpa, place.kernel_end - place.kernel_gpa,
			   &ksize, err, errlen)))
		return r;
	b->entry = b->kernel_gpa;

	b->initrd_gpa = b->initrd_end = place.initrd_gpa;
	if (vm->cfg.initrd) {
		if ((r = load_file(vm, "initrd", vm->cfg.initrd, b->initrd_gpa, fw_base - b->initrd_gpa,
				   &isize, err, errlen)))
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
		.pmu = vm->pmu,
		.uart_base = UART_BASE,
		.uart_size = UART_SIZE,
		.uart_spi = UART_SPI,
	};
	for (unsigned i = 0; i < vm->nvirtio && i < FDT_MAX_VIRTIO; i++)
		fp.virtio[fp.nr_virtio++] = (struct fdt_virtio){
			.base = vm->virtio[i].slot.base,
			.size = VIRTIO_MMIO_STRIDE,
			.spi = vm->virtio[i].slot.spi,
			.edge = vm->virtio[i].slot.edge,
		};
	struct gic_redist_region rd[GIC_REDIST_MAX_REGIONS];
	fp.nr_gicr = layout_redist_regions(vm->cfg.max_cpus, rd);
	for (unsigned i = 0; i < fp.nr_gicr && i < FDT_MAX_GICR; i++) {
		fp.gicr[i].base = rd[i].base;
		fp.gicr[i].size = (uint64_t)rd[i].count * GIC_REDIST_STRIDE;
	}
	if (vm->cfg.boot_mode == BOOT_MODE_ACPI) {
		if ((r = prepare_acpi(vm, fw_base, &uefi, err, errlen)))
			return r;
		fp.uefi = &uefi;
		/* No firmware stays resident: the kernel must not call EFI runtime services. */
		r = snprintf(cmdline, sizeof(cmdline), "%s%s%s", BOOT_ACPI_CMDLINE_PREFIX,
			     *user ? " " : "", user);
	} else {
		r = snprintf(cmdline, sizeof(cmdline), "%s", user);
	}
	if (r < 0 || (size_t)r >= sizeof(cmdline)) {
		snprintf(err, errlen, "--cmdline: longer than the %zu bytes the %s boot allows",
			 boot_cmdline_max(vm->cfg.boot_mode), boot_mode_name(vm->cfg.boot_mode));
		return -E2BIG;
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
