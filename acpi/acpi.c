/*
 * acpi_build: lays the tables out in the caller's buffer. Order: RSDP,
 * then DSDT (the FADT points at it), FADT, MADT, GTDT, SPCR, and the XSDT
 * last because it lists the others' addresses. Tables start 8-aligned.
 */
#include "acpi/acpi.h"

#include <errno.h>
#include <string.h>
#include "acpi/table.h"

#define TABLE_ALIGN 8

static bool fits32(uint64_t base, uint64_t size)
{
	return base <= UINT32_MAX && size <= UINT32_MAX && base + size <= (1ULL << 32);
}

static int platform_check(const struct acpi_platform *p)
{
	uint8_t seen[ACPI_MAX_CPUS / 8] = { 0 };

	if (!p->cpus || p->nr_cpus == 0 || p->nr_cpus > ACPI_MAX_CPUS)
		return -EINVAL;
	for (unsigned i = 0; i < p->nr_cpus; i++) {
		uint32_t uid = p->cpus[i].uid;

		/* UIDs name the Cnnn devices and must be unique. */
		if (uid >= ACPI_MAX_CPUS || (seen[uid / 8] & (1u << (uid % 8))))
			return -EINVAL;
		seen[uid / 8] |= 1u << (uid % 8);
	}
	/* Memory32Fixed and the SPCR's byte-wide fields need 32-bit resources. */
	if (!fits32(p->uart_base, p->uart_size) || !fits32(p->ged_base, p->ged_size) ||
	    p->uart_size == 0 || p->ged_size == 0 || p->cpuhp_size == 0)
		return -EINVAL;
	/* The GICR's Discovery Range Length is 32 bits. */
	if (p->nr_gicr == 0 || p->nr_gicr > ACPI_MAX_GICR)
		return -EINVAL;
	for (unsigned i = 0; i < p->nr_gicr; i++) {
		if (p->gicr[i].length == 0 || p->gicr[i].length > UINT32_MAX)
			return -EINVAL;
	}
	return 0;
}

struct layout {
	uint8_t *buf;
	size_t cap, off;
	uint64_t gpa;
	struct acpi_tables *out;
};

static void record(struct layout *l, const char *sig, size_t off, uint32_t len)
{
	struct acpi_table_ref *r = &l->out->tables[l->out->count++];

	memcpy(r->signature, sig, 4);
	r->signature[4] = '\0';
	r->gpa = l->gpa + off;
	r->offset = off;
	r->length = len;
}

/* Reserve the next 8-aligned slot; -ENOSPC if nothing is left. */
static int next_slot(struct layout *l, size_t *off)
{
	size_t o = ALIGN_UP(l->off, (size_t)TABLE_ALIGN);

	if (o > l->cap)
		return -ENOSPC;
	*off = o;
	return 0;
}

typedef int (*table_fn)(const struct acpi_platform *p, uint8_t *t, size_t cap, uint32_t *len);

static int place(struct layout *l, const struct acpi_platform *p, const char *sig, table_fn fn,
		 uint64_t *gpa)
{
	uint32_t len = 0;
	size_t off;
	int err = next_slot(l, &off);

	if (!err)
		err = fn(p, l->buf + off, l->cap - off, &len);
	if (err)
		return err;
	record(l, sig, off, len);
	l->off = off + len;
	*gpa = l->gpa + off;
	return 0;
}

int acpi_build(const struct acpi_platform *p, uint8_t *buf, size_t cap, uint64_t buf_gpa,
	       struct acpi_tables *out)
{
	struct layout l = { .buf = buf, .cap = cap, .gpa = buf_gpa, .out = out };
	uint64_t sdt[4], dsdt_gpa, xsdt_gpa;
	uint32_t len;
	size_t off;
	int err;

	if (!p || !buf || !out)
		return -EINVAL;
	err = platform_check(p);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));

	/* The RSDP goes first but needs the XSDT's address: fill it in last. */
	if (cap < 36)
		return -ENOSPC;
	record(&l, "RSDP", 0, 36);
	l.off = 36;

	err = place(&l, p, "DSDT", dsdt_build, &dsdt_gpa);
	if (!err)
		err = next_slot(&l, &off);
	if (!err)
		err = fadt_build(buf + off, cap - off, dsdt_gpa, &len);
	if (err)
		return err;
	record(&l, "FACP", off, len);
	l.off = off + len;
	sdt[0] = buf_gpa + off;

	err = place(&l, p, "APIC", madt_build, &sdt[1]);
	if (!err)
		err = place(&l, p, "GTDT", gtdt_build, &sdt[2]);
	if (!err)
		err = place(&l, p, "SPCR", spcr_build, &sdt[3]);
	if (err)
		return err;
	/* The DSDT is reached through the FADT, not listed in the XSDT. */
	err = next_slot(&l, &off);
	if (!err)
		err = xsdt_build(buf + off, cap - off, sdt, 4, &len);
	if (err)
		return err;
	record(&l, "XSDT", off, len);
	l.off = off + len;
	xsdt_gpa = buf_gpa + off;

	err = rsdp_build(buf, cap, xsdt_gpa, &len);
	if (err)
		return err;
	out->rsdp_gpa = buf_gpa;
	out->used = l.off;
	return 0;
}
