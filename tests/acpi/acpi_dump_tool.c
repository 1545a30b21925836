/*
 * Host tool: build the ACPI tables for an arm64 machine with boot=N of
 * max=M vCPUs and write DIR/<SIG>.dat for each (RSDP.dat too), the same
 * files as `vmm --dump-acpi`. Used by tests/acpi/check_tables.py.
 *
 *   acpi_dump_tool --cpus boot=N,max=M DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acpi/acpi.h"
#include "arch/arm64/layout.h"

#define TABLES_CAP (1u << 20)
#define TABLES_GPA 0x7ff00000ULL	/* anywhere: the tables hold absolute addresses */

/* The MPIDR KVM gives vcpu id i: Aff0 = bits 3:0, Aff1 = 11:4, Aff2 = 19:12. */
static uint64_t vcpu_mpidr(unsigned i)
{
	return (i & 0xF) | (((uint64_t)(i >> 4) & 0xFF) << 8) | (((uint64_t)(i >> 12) & 0xFF) << 16);
}

static int write_file(const char *dir, const char *sig, const uint8_t *p, size_t len)
{
	char path[4096];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, sig);
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	if (fwrite(p, 1, len, f) != len)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static int parse_cpus(const char *s, unsigned *boot, unsigned *max)
{
	if (sscanf(s, "boot=%u,max=%u", boot, max) != 2 || *boot == 0 || *boot > *max)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct acpi_platform p = {
		.gicd_base = GIC_DIST_BASE,
		.gicr_base = GIC_REDIST_BASE,
		.uart_base = UART_BASE, .uart_size = UART_SIZE,
		.uart_gsi = GIC_SPI_BASE + UART_SPI,
		.ged_base = GED_BASE, .ged_size = GED_SIZE,
		.ged_gsi = GIC_SPI_BASE + GED_SPI,
		.cpuhp_base = CPUHP_BASE, .cpuhp_size = CPUHP_SIZE,
		.ppi_virt_timer = PPI_VIRT_TIMER, .ppi_ns_phys_timer = PPI_NS_PHYS_TIMER,
		.ppi_sec_phys_timer = PPI_SEC_PHYS_TIMER, .ppi_hyp_timer = PPI_HYP_TIMER,
		.ppi_pmu = PPI_PMU, .ppi_vgic_maint = PPI_VGIC_MAINT,
	};
	struct acpi_cpu *cpus;
	struct acpi_tables t;
	unsigned boot, max;
	uint8_t *buf;
	int err;

	if (argc != 4 || strcmp(argv[1], "--cpus") || parse_cpus(argv[2], &boot, &max) ||
	    max > LAYOUT_MAX_VCPUS) {
		fprintf(stderr, "usage: %s --cpus boot=N,max=M DIR  (1 <= N <= M <= %u)\n",
			argv[0], LAYOUT_MAX_VCPUS);
		return 2;
	}
	cpus = calloc(max, sizeof(*cpus));
	buf = calloc(1, TABLES_CAP);
	if (!cpus || !buf) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < max; i++)
		cpus[i] = (struct acpi_cpu){ .uid = i, .mpidr = vcpu_mpidr(i), .enabled = i < boot };
	p.nr_cpus = max;
	p.cpus = cpus;
	p.gicr_length = (uint64_t)max * GIC_REDIST_STRIDE;

	err = acpi_build(&p, buf, TABLES_CAP, TABLES_GPA, &t);
	for (unsigned i = 0; !err && i < t.count; i++)
		err = write_file(argv[3], t.tables[i].signature, buf + t.tables[i].offset,
				 t.tables[i].length);
	if (err)
		fprintf(stderr, "acpi_dump_tool: %s\n", strerror(-err));
	free(buf);
	free(cpus);
	return err ? 1 : 0;
}
