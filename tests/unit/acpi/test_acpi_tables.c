/*
 * acpi_build: layout, checksums and the fields the arm64 kernel relies on
 * (MADT flags per vCPU, GICR range, _UID = GICC UID), and error returns.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "acpi/acpi.h"
#include "acpi/dsdt.h"
#include "arch/arm64/layout.h"

/* What the AML's Fields cover lies inside the devices' windows. */
_Static_assert(DSDT_CPUHP_REGION_LEN <= CPUHP_MMIO_SIZE, "cpuhp region");
_Static_assert(DSDT_GED_REGION_LEN <= GED_MMIO_SIZE, "ged region");

#define CAP (1u << 20)
#define GPA 0x7ff00000ULL

struct fx {
	struct acpi_platform p;
	struct acpi_cpu cpus[512];
	uint8_t buf[CAP];
	struct acpi_tables t;
};

static void platform(struct fx *f, unsigned boot, unsigned max)
{
	f->p = (struct acpi_platform){
		.nr_cpus = max, .cpus = f->cpus,
		.gicd_base = GIC_DIST_BASE,
		.uart_base = UART_BASE, .uart_size = UART_SIZE,
		.uart_gsi = GIC_SPI_BASE + UART_SPI,
		.ged_base = GED_BASE, .ged_size = GED_SIZE, .ged_gsi = GIC_SPI_BASE + GED_SPI,
		.cpuhp_base = CPUHP_BASE, .cpuhp_size = CPUHP_SIZE,
		.ppi_virt_timer = PPI_VIRT_TIMER, .ppi_ns_phys_timer = PPI_NS_PHYS_TIMER,
		.ppi_sec_phys_timer = PPI_SEC_PHYS_TIMER, .ppi_hyp_timer = PPI_HYP_TIMER,
		.ppi_pmu = PPI_PMU,
	};
	/* As the VMM places them: 123 in the first window, the rest in the second. */
	unsigned first = max < GIC_REDIST1_VCPUS ? max : GIC_REDIST1_VCPUS;
	f->p.gicr[f->p.nr_gicr].base = GIC_REDIST_BASE;
	f->p.gicr[f->p.nr_gicr++].length = (uint64_t)first * GIC_REDIST_STRIDE;
	if (max > first) {
		f->p.gicr[f->p.nr_gicr].base = GIC_REDIST2_BASE;
		f->p.gicr[f->p.nr_gicr++].length = (uint64_t)(max - first) * GIC_REDIST_STRIDE;
	}
	for (unsigned i = 0; i < max; i++)
		f->cpus[i] = (struct acpi_cpu){ .uid = i, .mpidr = ((i >> 4) << 8) | (i & 0xF),
						.enabled = i < boot };
}

static int fx_setup(void **state)
{
	*state = calloc(1, sizeof(struct fx));
	return *state ? 0 : -1;
}

static int fx_teardown(void **state)
{
	free(*state);
	return 0;
}

static uint16_t rd16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static const struct acpi_table_ref *find(const struct fx *f, const char *sig)
{
	for (unsigned i = 0; i < f->t.count; i++)
		if (!strcmp(f->t.tables[i].signature, sig))
			return &f->t.tables[i];
	fail_msg("no table %s", sig);
	return NULL;
}

static const uint8_t *table(const struct fx *f, const char *sig)
{
	return f->buf + find(f, sig)->offset;
}

static void build(struct fx *f, unsigned boot, unsigned max)
{
	platform(f, boot, max);
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, &f->t), 0);
}

static void test_layout_and_checksums(void **state)
{
	static const char *const order[] = { "RSDP", "DSDT", "FACP", "APIC", "GTDT", "SPCR", "XSDT" };
	struct fx *f = *state;
	size_t end = 0;

	build(f, 2, 8);
	assert_int_equal(f->t.count, 7);
	assert_int_equal(f->t.rsdp_gpa, GPA);
	for (unsigned i = 0; i < f->t.count; i++) {
		const struct acpi_table_ref *r = &f->t.tables[i];
		const uint8_t *t = f->buf + r->offset;

		assert_string_equal(r->signature, order[i]);
		assert_int_equal(r->gpa, GPA + r->offset);
		assert_int_equal(r->offset % 8, 0);
		assert_true(r->offset >= end);
		end = r->offset + r->length;
		if (i == 0)
			continue;
		assert_memory_equal(t, order[i], 4);
		assert_int_equal(rd32(t + 4), r->length);
		assert_int_equal(sum(t, r->length), 0);
		assert_memory_equal(t + 10, "VMMVMM", 6);
		assert_memory_equal(t + 16, "VMMTABLE", 8);
	}
	assert_int_equal(f->t.used, end);
}

static void test_rsdp_xsdt_fadt(void **state)
{
	struct fx *f = *state;
	const uint8_t *rsdp, *xsdt, *fadt;

	build(f, 1, 4);
	rsdp = table(f, "RSDP");
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(rsdp, 20), 0);
	assert_int_equal(sum(rsdp, 36), 0);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(rd32(rsdp + 20), 36);
	assert_int_equal(rd64(rsdp + 24), find(f, "XSDT")->gpa);

	xsdt = table(f, "XSDT");
	assert_int_equal(find(f, "XSDT")->length, 36 + 4 * 8);
	assert_int_equal(rd64(xsdt + 36), find(f, "FACP")->gpa);
	assert_int_equal(rd64(xsdt + 44), find(f, "APIC")->gpa);
	assert_int_equal(rd64(xsdt + 52), find(f, "GTDT")->gpa);
	assert_int_equal(rd64(xsdt + 60), find(f, "SPCR")->gpa);

	fadt = table(f, "FACP");
	assert_int_equal(find(f, "FACP")->length, 276);
	assert_int_equal(fadt[8], 6);				/* Revision */
	assert_int_equal(fadt[131], 5);				/* FADT Minor Version */
	assert_int_equal(rd32(fadt + 112), 1u << 20);		/* Flags: HW_REDUCED_ACPI */
	assert_int_equal(rd16(fadt + 129), 3);			/* PSCI_COMPLIANT | PSCI_USE_HVC */
	assert_int_equal(rd32(fadt + 40), 0);			/* DSDT */
	assert_int_equal(rd64(fadt + 140), find(f, "DSDT")->gpa);	/* X_DSDT */
}

static void test_madt_per_cpu_flags(void **state)
{
	struct fx *f = *state;
	const unsigned boot = 3, max = 16;
	const uint8_t *m, *g;

	build(f, boot, max);
	m = table(f, "APIC");
	assert_int_equal(find(f, "APIC")->length, 44 + max * 82 + 24 + 16);
	assert_int_equal(m[8], 6);
	for (unsigned i = 0; i < max; i++) {
		g = m + 44 + i * 82;
		assert_int_equal(g[0], 0x0B);
		assert_int_equal(g[1], 82);
		assert_int_equal(rd32(g + 4), i);		/* CPU Interface Number */
		assert_int_equal(rd32(g + 8), i);		/* ACPI Processor UID */
		/* Enabled for boot CPUs, Online Capable (only) for the others. */
		assert_int_equal(rd32(g + 12), i < boot ? 0x1 : 0x8);
		assert_int_equal(rd32(g + 20), PPI_PMU);
		assert_int_equal(rd32(g + 56), 0);		/* VGIC maintenance: no EL2 */
		assert_int_equal(rd64(g + 60), 0);		/* GICR Base Address */
		assert_int_equal(rd64(g + 68), f->cpus[i].mpidr);
	}
	g = m + 44 + max * 82;
	assert_int_equal(g[0], 0x0C);
	assert_int_equal(g[1], 24);
	assert_int_equal(rd64(g + 8), GIC_DIST_BASE);
	assert_int_equal(g[20], 3);
	g += 24;
	assert_int_equal(g[0], 0x0E);
	assert_int_equal(g[1], 16);
	assert_int_equal(rd64(g + 4), GIC_REDIST_BASE);
	assert_int_equal(rd32(g + 12), max * GIC_REDIST_STRIDE);
}

/* 256 vCPUs: two GICR ranges, together one redistributor per vCPU. */
static void test_madt_two_redist_ranges(void **state)
{
	struct fx *f = *state;
	const unsigned max = 256;

	build(f, 1, max);
	const uint8_t *m = table(f, "APIC");
	assert_int_equal(find(f, "APIC")->length, 44 + max * 82 + 24 + 2 * 16);
	const uint8_t *g = m + 44 + max * 82 + 24;
	assert_int_equal(g[0], 0x0E);
	assert_int_equal(g[1], 16);
	assert_int_equal(rd64(g + 4), GIC_REDIST_BASE);
	assert_int_equal(rd32(g + 12), 123 * GIC_REDIST_STRIDE);
	g += 16;
	assert_int_equal(g[0], 0x0E);
	assert_int_equal(g[1], 16);
	assert_int_equal(rd64(g + 4), GIC_REDIST2_BASE);
	assert_int_equal(rd32(g + 12), (max - 123) * GIC_REDIST_STRIDE);
	/* The last GICC, of a CPU in the second range, is Online Capable. */
	g = m + 44 + (max - 1) * 82;
	assert_int_equal(rd32(g + 8), max - 1);
	assert_int_equal(rd32(g + 12), 0x8);
	assert_int_equal(rd64(g + 60), 0);
}

/* vCPUs without a PMU: no performance interrupt in any GICC. */
static void test_madt_no_pmu(void **state)
{
	struct fx *f = *state;

	platform(f, 2, 4);
	f->p.ppi_pmu = 0;
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, &f->t), 0);
	const uint8_t *m = table(f, "APIC");
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(rd32(m + 44 + i * 82 + 20), 0);
}

static void test_gtdt_spcr(void **state)
{
	struct fx *f = *state;
	const uint8_t *g, *s;

	build(f, 1, 1);
	g = table(f, "GTDT");
	assert_int_equal(find(f, "GTDT")->length, 96);
	assert_int_equal(rd32(g + 48), PPI_SEC_PHYS_TIMER);
	assert_int_equal(rd32(g + 56), PPI_NS_PHYS_TIMER);
	assert_int_equal(rd32(g + 64), PPI_VIRT_TIMER);
	assert_int_equal(rd32(g + 72), PPI_HYP_TIMER);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rd32(g + 52 + 8 * i), 0x4);	/* level, high, always-on */

	s = table(f, "SPCR");
	assert_int_equal(find(f, "SPCR")->length, 80);
	assert_int_equal(s[8], 2);
	assert_int_equal(s[36], 3);				/* ARM PL011 */
	assert_int_equal(s[40], 0);				/* GAS: SystemMemory */
	assert_int_equal(s[43], 3);				/* GAS: DWord access */
	assert_int_equal(rd64(s + 44), UART_BASE);
	assert_int_equal(s[52], 8);				/* GIC interrupt */
	assert_int_equal(rd32(s + 54), GIC_SPI_BASE + UART_SPI);
	assert_int_equal(s[58], 7);				/* 115200 */
}

static const uint8_t *memfind(const uint8_t *h, size_t hn, const void *n, size_t nn)
{
	for (size_t i = 0; i + nn <= hn; i++)
		if (!memcmp(h + i, n, nn))
			return h + i;
	return NULL;
}

static size_t count(const uint8_t *h, size_t hn, const char *n)
{
	size_t c = 0, nn = strlen(n);

	for (const uint8_t *p = h; (p = memfind(p, hn - (p - h), n, nn)); p++)
		c++;
	return c;
}

/* Each Cnnn carries _HID ACPI0007 and _UID = its GICC UID; _EJ0 on all but C000. */
static void check_dsdt_cpus(struct fx *f)
{
	const struct acpi_table_ref *r = find(f, "DSDT");
	const uint8_t *d = f->buf + r->offset;
	static const char hid_uid[] = "\x08_HID\x0D" "ACPI0007\x00\x08_UID";
	unsigned ej0 = 0;

	for (unsigned i = 0; i < f->p.nr_cpus; i++) {
		uint32_t uid = f->cpus[i].uid;
		char name[5];
		const uint8_t *p, *v;

		snprintf(name, sizeof(name), "C%03X", uid);
		/* The device's NameSeg is directly followed by its _HID and _UID. */
		p = d;
		do {
			p = memfind(p + 1, r->length - (p + 1 - d), name, 4);
			assert_non_null(p);
		} while (memcmp(p + 4, hid_uid, sizeof(hid_uid) - 1));
		v = p + 4 + sizeof(hid_uid) - 1;
		if (uid <= 1)
			assert_int_equal(v[0], uid);
		else if (uid <= 0xFF)
			assert_true(v[0] == 0x0A && v[1] == uid);
		else
			assert_true(v[0] == 0x0B && rd16(v + 1) == uid);
		ej0 += uid != 0;
	}
	assert_int_equal(count(d, r->length, "_EJ0"), ej0);
	assert_int_equal(count(d, r->length, "ACPI0007"), f->p.nr_cpus);
	assert_int_equal(count(d, r->length, "ACPI0010"), 1);
	assert_int_equal(count(d, r->length, "ACPI0013"), 1);
	assert_int_equal(count(d, r->length, "ARMH0011"), 1);
}

static void test_dsdt_uids(void **state)
{
	struct fx *f = *state;

	build(f, 2, 8);
	check_dsdt_cpus(f);
	build(f, 1, 1);
	check_dsdt_cpus(f);
	build(f, 4, 512);
	check_dsdt_cpus(f);
}

static void test_sparse_uids(void **state)
{
	struct fx *f = *state;
	static const uint32_t uids[] = { 0, 2, 5, 0x123 };

	platform(f, 1, 4);
	for (unsigned i = 0; i < 4; i++)
		f->cpus[i].uid = uids[i];
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, &f->t), 0);
	check_dsdt_cpus(f);
	assert_int_equal(rd32(table(f, "APIC") + 44 + 3 * 82 + 8), 0x123);
}

static void test_enospc(void **state)
{
	struct fx *f = *state;
	size_t used, caps[7];

	build(f, 2, 64);
	used = f->t.used;
	/* Fails inside the RSDP, the DSDT, the fixed tables and the XSDT. */
	memcpy(caps, (size_t[]){ 0, 35, 36, 100, 300, used / 2, used - 1 }, sizeof(caps));
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		assert_int_equal(acpi_build(&f->p, f->buf, caps[i], GPA, &f->t), -ENOSPC);
	assert_int_equal(acpi_build(&f->p, f->buf, used, GPA, &f->t), 0);
	assert_int_equal(f->t.used, used);
}

static void test_einval(void **state)
{
	struct fx *f = *state;

	platform(f, 1, 4);
	assert_int_equal(acpi_build(NULL, f->buf, CAP, GPA, &f->t), -EINVAL);
	assert_int_equal(acpi_build(&f->p, NULL, CAP, GPA, &f->t), -EINVAL);
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, NULL), -EINVAL);
	f->p.nr_cpus = 0;
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, &f->t), -EINVAL);
	platform(f, 1, 4);
	f->p.cpus = NULL;
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, &f->t), -EINVAL);
	platform(f, 1, 4);
	f->cpus[3].uid = 1;					/* duplicate */
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, &f->t), -EINVAL);
	platform(f, 1, 4);
	f->cpus[3].uid = 4096;					/* no Cnnn name for it */
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, &f->t), -EINVAL);
	platform(f, 1, 4);
	f->p.uart_base = 0x100000000ULL;			/* Memory32Fixed */
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, &f->t), -EINVAL);
	platform(f, 1, 4);
	f->p.nr_gicr = 0;					/* no redistributors */
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, &f->t), -EINVAL);
	f->p.nr_gicr = ACPI_MAX_GICR + 1;
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, &f->t), -EINVAL);
	platform(f, 1, 4);
	f->p.gicr[0].length = 1ULL << 32;			/* 32-bit length field */
	assert_int_equal(acpi_build(&f->p, f->buf, CAP, GPA, &f->t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_layout_and_checksums),
		T(test_rsdp_xsdt_fadt),
		T(test_madt_per_cpu_flags),
		T(test_madt_two_redist_ranges),
		T(test_madt_no_pmu),
		T(test_gtdt_spcr),
		T(test_dsdt_uids),
		T(test_sparse_uids),
		T(test_enospc),
		T(test_einval),
#undef T
	};

	return cmocka_run_group_tests_name("acpi_tables", tests, NULL, NULL);
}
