#include "arch/arm64/fdt.h"

#include <errno.h>
#include <stdio.h>
#include <libfdt.h>

#include "arch/arm64/layout.h"
#include "arch/arm64/psci.h"

#define PHANDLE_GIC	1
#define PHANDLE_CLK	2

/* GIC interrupt specifier: type (0 SPI, 1 PPI), number, flags. */
#define GIC_FDT_SPI		0
#define GIC_FDT_PPI		1
#define IRQ_EDGE_RISING		1
#define IRQ_LEVEL_HIGH		4

/* Every libfdt call below goes through this to keep the first error. */
#define TRY(expr) do { int _r = (expr); if (_r < 0) return _r; } while (0)


static int prop_u64_pairs(void *fdt, const char *name, const uint64_t *v, unsigned n)
{
	fdt64_t cells[2 + 2 * FDT_MAX_GICR];
	if (n > sizeof(cells) / sizeof(cells[0]))
		return -FDT_ERR_BADVALUE;
	for (unsigned i = 0; i < n; i++)
		cells[i] = cpu_to_fdt64(v[i]);
	return fdt_property(fdt, name, cells, (int)(n * sizeof(fdt64_t)));
}

static int add_chosen(void *fdt, const struct fdt_params *p)
{
	TRY(fdt_begin_node(fdt, "chosen"));
	if (p->bootargs)
		TRY(fdt_property_string(fdt, "bootargs", p->bootargs));
	if (p->initrd_end > p->initrd_start) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start", p->initrd_start));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", p->initrd_end));
	}
	if (p->uefi) {
		/* The six properties the kernel's EFI FDT parameter scan requires. */
		TRY(fdt_property_u64(fdt, "linux,uefi-system-table", p->uefi->systab_gpa));
		TRY(fdt_property_u64(fdt, "linux,uefi-mmap-start", p->uefi->mmap_gpa));
		TRY(fdt_property_u32(fdt, "linux,uefi-mmap-size", p->uefi->mmap_size));
		TRY(fdt_property_u32(fdt, "linux,uefi-mmap-desc-size", p->uefi->mmap_desc_size));
		TRY(fdt_property_u32(fdt, "linux,uefi-mmap-desc-ver", p->uefi->mmap_desc_ver));
		TRY(fdt_property_u32(fdt, "linux,uefi-secure-boot", 0));
	} else {
		char path[48];
		snprintf(path, sizeof(path), "/pl011@%llx", (unsigned long long)p->uart_base);
		TRY(fdt_property_string(fdt, "stdout-path", path));
	}
	return fdt_end_node(fdt);
}

static int add_cpus(void *fdt, const struct fdt_params *p)
{
	char name[32];

	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_u32(fdt, "#address-cells", 1));
	TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned i = 0; i < p->nr_cpus; i++) {
		uint64_t mpidr = arm64_mpidr_of_vcpu(i);
		snprintf(name, sizeof(name), "cpu@%llx", (unsigned long long)mpidr);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		TRY(fdt_property_u32(fdt, "reg", (uint32_t)mpidr));
		TRY(fdt_property_string(fdt, "enable-method", "psci"));
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int add_irq(void *fdt, const char *name, const uint32_t *spec, unsigned n)
{
	fdt32_t cells[12];
	for (unsigned i = 0; i < n && i < 12; i++)
		cells[i] = cpu_to_fdt32(spec[i]);
	return fdt_property(fdt, name, cells, (int)(n * sizeof(fdt32_t)));
}

static int add_devices(void *fdt, const struct fdt_params *p)
{
	char name[48];

	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)p->ram_base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "device_type", "memory"));
	TRY(prop_u64_pairs(fdt, "reg", (uint64_t[]){ p->ram_base, p->ram_size }, 2));
	TRY(fdt_end_node(fdt));

	TRY(add_cpus(fdt, p));

	TRY(fdt_begin_node(fdt, "psci"));
	TRY(fdt_property(fdt, "compatible", "arm,psci-1.0\0arm,psci-0.2",
			 sizeof("arm,psci-1.0\0arm,psci-0.2")));
	TRY(fdt_property_string(fdt, "method", "hvc"));
	TRY(fdt_end_node(fdt));

	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)p->gicd_base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 3));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	/* reg: the distributor, then each redistributor region (no GICC/GICH/GICV). */
	uint64_t reg[2 + 2 * FDT_MAX_GICR] = { p->gicd_base, p->gicd_size };
	if (p->nr_gicr == 0 || p->nr_gicr > FDT_MAX_GICR)
		return -FDT_ERR_BADVALUE;
	for (unsigned i = 0; i < p->nr_gicr; i++) {
		reg[2 + 2 * i] = p->gicr[i].base;
		reg[3 + 2 * i] = p->gicr[i].size;
	}
	TRY(fdt_property_u32(fdt, "#redistributor-regions", p->nr_gicr));
	TRY(prop_u64_pairs(fdt, "reg", reg, 2 + 2 * p->nr_gicr));
	/* No maintenance interrupt: the guest has no EL2. */
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_GIC));
	TRY(fdt_end_node(fdt));

	if (p->pmu) {
		TRY(fdt_begin_node(fdt, "pmu"));
		TRY(fdt_property_string(fdt, "compatible", "arm,armv8-pmuv3"));
		TRY(add_irq(fdt, "interrupts", (uint32_t[]){ GIC_FDT_PPI, PPI_PMU - 16,
							      IRQ_LEVEL_HIGH }, 3));
		TRY(fdt_end_node(fdt));
	}

	TRY(fdt_begin_node(fdt, "timer"));
	TRY(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	TRY(add_irq(fdt, "interrupts", (uint32_t[]){
		GIC_FDT_PPI, PPI_SEC_PHYS_TIMER - 16, IRQ_LEVEL_HIGH,
		GIC_FDT_PPI, PPI_NS_PHYS_TIMER - 16, IRQ_LEVEL_HIGH,
		GIC_FDT_PPI, PPI_VIRT_TIMER - 16, IRQ_LEVEL_HIGH,
		GIC_FDT_PPI, PPI_HYP_TIMER - 16, IRQ_LEVEL_HIGH }, 12));
	TRY(fdt_property(fdt, "always-on", NULL, 0));
	TRY(fdt_end_node(fdt));

	/* The AMBA bus wants an apb_pclk to probe the PL011. */
	TRY(fdt_begin_node(fdt, "apb-pclk"));
	TRY(fdt_property_string(fdt, "compatible", "fixed-clock"));
	TRY(fdt_property_u32(fdt, "#clock-cells", 0));
	TRY(fdt_property_u32(fdt, "clock-frequency", 24000000));
	TRY(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_CLK));
	TRY(fdt_end_node(fdt));

	snprintf(name, sizeof(name), "pl011@%llx", (unsigned long long)p->uart_base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property(fdt, "compatible", "arm,pl011\0arm,primecell",
			 sizeof("arm,pl011\0arm,primecell")));
	TRY(prop_u64_pairs(fdt, "reg", (uint64_t[]){ p->uart_base, p->uart_size }, 2));
	TRY(add_irq(fdt, "interrupts", (uint32_t[]){ GIC_FDT_SPI, p->uart_spi, IRQ_LEVEL_HIGH }, 3));
	TRY(add_irq(fdt, "clocks", (uint32_t[]){ PHANDLE_CLK, PHANDLE_CLK }, 2));
	TRY(fdt_property(fdt, "clock-names", "uartclk\0apb_pclk", sizeof("uartclk\0apb_pclk")));
	return fdt_end_node(fdt);
}

/*
 * Level-triggered (virtio-mmio's InterruptStatus/ACK), or edge for a device
 * whose backend raises the line itself; coherent DMA, as on any KVM guest.
 */
static int add_virtio(void *fdt, const struct fdt_params *p)
{
	char name[32];

	for (unsigned i = 0; i < p->nr_virtio && i < FDT_MAX_VIRTIO; i++) {
		const struct fdt_virtio *v = &p->virtio[i];
		snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)v->base);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
		TRY(prop_u64_pairs(fdt, "reg", (uint64_t[]){ v->base, v->size }, 2));
		uint32_t type = v->edge ? IRQ_EDGE_RISING : IRQ_LEVEL_HIGH;
		TRY(add_irq(fdt, "interrupts", (uint32_t[]){ GIC_FDT_SPI, v->spi, type }, 3));
		TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
		TRY(fdt_end_node(fdt));
	}
	return 0;
}

static int build(void *buf, size_t cap, const struct fdt_params *p)
{
	TRY(fdt_create(buf, (int)cap));
	TRY(fdt_finish_reservemap(buf));
	TRY(fdt_begin_node(buf, ""));
	TRY(fdt_property_u32(buf, "#address-cells", 2));
	TRY(fdt_property_u32(buf, "#size-cells", 2));
	if (!p->uefi) {
		TRY(fdt_property_string(buf, "compatible", "linux,dummy-virt"));
		TRY(fdt_property_string(buf, "model", "vmm arm64"));
		TRY(fdt_property_u32(buf, "interrupt-parent", PHANDLE_GIC));
	}
	TRY(add_chosen(buf, p));
	if (!p->uefi) {
		TRY(add_devices(buf, p));
		TRY(add_virtio(buf, p));
	}
	TRY(fdt_end_node(buf));
	return fdt_finish(buf);
}

int fdt_build(void *buf, size_t cap, const struct fdt_params *p)
{
	if (cap > 0x7fffffff)
		cap = 0x7fffffff;
	int r = build(buf, cap, p);
	if (r == -FDT_ERR_NOSPACE)
		return -ENOSPC;
	if (r < 0)
		return -EINVAL;
	return 0;
}
