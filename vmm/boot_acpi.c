/* The machine as ACPI describes it, and the --dump-acpi writer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/arm64/layout.h"
#include "arch/arm64/psci.h"
#include "vmm/boot.h"
#include "vmm/virtio.h"

void boot_acpi_platform(const struct vm_config *cfg, bool pmu, struct acpi_cpu *cpus,
			struct acpi_platform *out)
{
	struct gic_redist_region rd[GIC_REDIST_MAX_REGIONS];
	unsigned nr_rd = layout_redist_regions(cfg->max_cpus, rd);

	for (unsigned i = 0; i < cfg->max_cpus; i++) {
		cpus[i] = (struct acpi_cpu){
			.uid = i,
			.mpidr = arm64_mpidr_of_vcpu(i),
			.enabled = i < cfg->boot_cpus,
		};
	}
	*out = (struct acpi_platform){
		.nr_cpus = cfg->max_cpus,
		.cpus = cpus,
		.gicd_base = GIC_DIST_BASE,
		.uart_base = UART_BASE,
		.uart_size = UART_SIZE,
		.uart_gsi = GIC_SPI_BASE + UART_SPI,
		.ged_base = GED_BASE,
		.ged_size = GED_SIZE,
		.ged_gsi = GIC_SPI_BASE + GED_SPI,
		.cpuhp_base = CPUHP_BASE,
		.cpuhp_size = CPUHP_SIZE,
		.ppi_virt_timer = PPI_VIRT_TIMER,
		.ppi_ns_phys_timer = PPI_NS_PHYS_TIMER,
		.ppi_sec_phys_timer = PPI_SEC_PHYS_TIMER,
		.ppi_hyp_timer = PPI_HYP_TIMER,
		.ppi_pmu = pmu ? PPI_PMU : 0,
	};
	struct vm_virtio_slot plan[VM_MAX_VIRTIO];
	unsigned n = vm_virtio_plan(cfg, plan);
	for (unsigned i = 0; i < n && i < ACPI_MAX_VIRTIO; i++)
		out->virtio[out->nr_virtio++] = (struct acpi_virtio){
			.base = plan[i].base,
			.size = VIRTIO_MMIO_STRIDE,
			.gsi = GIC_SPI_BASE + plan[i].spi,
			.edge = plan[i].edge,
		};
	/* acpi_build refuses a platform without GICR (max_cpus out of range). */
	for (unsigned i = 0; i < nr_rd && i < ACPI_MAX_GICR; i++) {
		out->gicr[out->nr_gicr].base = rd[i].base;
		out->gicr[out->nr_gicr++].length = (uint64_t)rd[i].count * GIC_REDIST_STRIDE;
	}
}

static int write_file(const char *dir, const char *name, const uint8_t *data, size_t len,
		      char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = -errno;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return e;
	}
	while (len > 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? -errno : -EIO;
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(-e));
			close(fd);
			return e;
		}
		data += w;
		len -= (size_t)w;
	}
	return close(fd) < 0 ? -errno : 0;
}

int boot_dump_acpi(const struct vm_config *cfg, const char *dir, char *err, size_t errlen)
{
	struct acpi_cpu *cpus = calloc(cfg->max_cpus, sizeof(*cpus));
	uint8_t *buf = calloc(1, FW_ACPI_SIZE);
	struct acpi_platform plat;
	struct acpi_tables tables;
	int r;

	if (!cpus || !buf) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	/* Described as on a host whose KVM gives vCPUs a PMU. */
	boot_acpi_platform(cfg, true, cpus, &plat);
	/* Same address as in a real boot of a guest this size. */
	uint64_t gpa = RAM_BASE + cfg->memory_bytes - FW_AREA_SIZE + FW_ACPI_OFFSET;
	r = acpi_build(&plat, buf, FW_ACPI_SIZE, gpa, &tables);
	if (r) {
		snprintf(err, errlen, "cannot build the ACPI tables: %s", strerror(-r));
		goto out;
	}
	for (unsigned i = 0; i < tables.count; i++) {
		const struct acpi_table_ref *t = &tables.tables[i];
		r = write_file(dir, t->signature, buf + t->offset, t->length, err, errlen);
		if (r)
			goto out;
	}
out:
	free(cpus);
	free(buf);
	return r;
}
