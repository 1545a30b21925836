/*
 * The arm64 Image header and the payload placement: the kernel file, its
 * header and the initrd size are attacker-chosen. Input: one byte of
 * options, two bytes of initrd size (4 KiB units), then the kernel file.
 * Checks boot_place()'s invariants for any RAM size, then loads the payload
 * into a 64 MiB guest RAM fenced by ASan-poisoned guard zones.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <sanitizer/asan_interface.h>

#include "arch/arm64/layout.h"
#include "vmm/boot.h"
#include "vmm/vm.h"

#define RAM (64ULL << 20)
#define GUARD (2ULL << 20)

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant: %s\n", #c); __builtin_trap(); } } while (0)

static void check_place(const struct boot_place_in *in)
{
	struct boot_place p;
	char err[512];

	if (boot_place(in, &p, err, sizeof(err))) {
		CHECK(err[0]);
		return;
	}
	CHECK(p.fw_base + FW_AREA_SIZE == in->ram_base + in->ram_size);
	CHECK(p.kernel_gpa >= in->ram_base);
	CHECK(p.kernel_end >= p.kernel_gpa && p.kernel_end - p.kernel_gpa >= in->kernel_bytes);
	CHECK(p.kernel_end <= p.fw_base);
	CHECK(p.initrd_gpa >= p.kernel_end && p.initrd_gpa <= p.initrd_end);
	CHECK(p.initrd_end <= p.fw_base);
	CHECK(p.initrd_end - p.initrd_gpa == (in->initrd ? in->initrd_bytes : 0));
}

static int memfd_with(const char *name, const uint8_t *data, size_t n, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if ((n && write(fd, data, n) != (ssize_t)n) || (size && ftruncate(fd, (off_t)size)))
		abort();
	return fd;
}

static uint8_t *guarded_ram(void)
{
	static uint8_t *ram;

	if (!ram) {
		uint8_t *m = mmap(NULL, RAM + 2 * GUARD, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED)
			abort();
		ASAN_POISON_MEMORY_REGION(m, GUARD);
		ASAN_POISON_MEMORY_REGION(m + GUARD + RAM, GUARD);
		ram = m + GUARD;
	}
	return ram;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint8_t opt = data[0];
	uint64_t initrd_bytes = (uint64_t)(data[1] | data[2] << 8) << 12;
	const uint8_t *kernel = data + 3;
	size_t kernel_bytes = size - 3;
	struct arm64_image img;

	if (arm64_image_parse(kernel, kernel_bytes, &img))
		return 0;

	/* Placement alone, for RAM sizes from 2 MiB to 1 TiB and one absurd one. */
	struct boot_place_in in = {
		.ram_base = RAM_BASE,
		.img = img,
		.kernel = "Image",
		.kernel_bytes = kernel_bytes,
		.initrd = (opt & 1) ? "initrd" : NULL,
		.initrd_bytes = initrd_bytes,
	};
	for (unsigned shift = 21; shift <= 40; shift++) {
		in.ram_size = 1ULL << shift;
		check_place(&in);
	}
	in.ram_size = UINT64_MAX - RAM_BASE + 1;
	check_place(&in);

	/* The whole payload into a fenced guest RAM. */
	int kfd = memfd_with("Image", kernel, kernel_bytes, 0);
	int ifd = (opt & 1) ? memfd_with("initrd", NULL, 0, initrd_bytes) : -1;
	char kpath[64], ipath[64], err[512];
	snprintf(kpath, sizeof(kpath), "/proc/self/fd/%d", kfd);
	snprintf(ipath, sizeof(ipath), "/proc/self/fd/%d", ifd);
	struct vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		abort();
	vm->cfg = (struct vm_config){
		.boot_cpus = 1,
		.max_cpus = 1 + ((opt >> 2) & 7),
		.memory_bytes = RAM,
		.kernel = kpath,
		.initrd = ifd >= 0 ? ipath : NULL,
		.boot_mode = (opt & 2) ? BOOT_MODE_FDT : BOOT_MODE_ACPI,
		.console = CONSOLE_NONE,
	};
	vm->ram = guarded_ram();
	vm->ram_base = RAM_BASE;
	vm->ram_size = RAM;
	if (boot_prepare(vm, err, sizeof(err)) == 0) {
		CHECK(vm->boot.kernel_gpa >= RAM_BASE && vm->boot.kernel_end <= RAM_BASE + RAM);
		CHECK(!memcmp(vm->ram + (vm->boot.kernel_gpa - RAM_BASE), kernel, kernel_bytes));
		CHECK(vm->boot.initrd_end - vm->boot.initrd_gpa == ((opt & 1) ? initrd_bytes : 0));
	} else {
		CHECK(err[0]);
	}
	free(vm);
	close(kfd);
	if (ifd >= 0)
		close(ifd);
	return 0;
}
