/*
 * Differentiated System Description Table: \_SB with the PL011 (COM0),
 * the Generic Event Device (GED0) that signals hotplug, and the CPU
 * container (dsdt_cpus.c). Built with the AML builder.
 */
#include "acpi/dsdt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "acpi/table.h"

#define DSDT_REVISION 2	/* 2+: 64-bit integers */

/*
 * Device (COM0): SPCR only names the console's address; the OS still
 * needs this device to bind the pl011 driver (ARMH0011) to it.
 */
static struct aml *dsdt_uart(struct aml_ctx *ctx, const struct acpi_platform *p)
{
	struct aml *dev = aml_device(ctx, "COM0");
	struct aml *crs = aml_resource_template(ctx);

	aml_append(dev, aml_name_decl(ctx, "_HID", aml_string(ctx, "ARMH0011")));
	aml_append(dev, aml_name_decl(ctx, "_UID", aml_int(ctx, 0)));
	aml_append(crs, aml_memory32_fixed(ctx, p->uart_base, p->uart_size, AML_READ_WRITE));
	aml_append(crs, aml_interrupt(ctx, AML_RESOURCE_CONSUMER, AML_LEVEL, AML_ACTIVE_HIGH,
				      AML_EXCLUSIVE, &p->uart_gsi, 1));
	aml_append(dev, aml_name_decl(ctx, "_CRS", crs));
	return dev;
}

/*
 * Device (GED0): its level interrupt runs _EVT, which reads (and so clears)
 * the event register and scans the CPUs when the hotplug bit is set.
 * Only the interrupt goes in _CRS: the Linux GED driver walks _CRS for
 * interrupts, and the register is reached through the OperationRegion.
 */
static struct aml *dsdt_ged(struct aml_ctx *ctx, const struct acpi_platform *p)
{
	struct aml *dev = aml_device(ctx, "GED0");
	struct aml *crs = aml_resource_template(ctx);
	struct aml *f, *evt, *hit;

	aml_append(dev, aml_name_decl(ctx, "_HID", aml_string(ctx, "ACPI0013")));
	aml_append(dev, aml_name_decl(ctx, "_UID", aml_int(ctx, 0)));
	aml_append(crs, aml_interrupt(ctx, AML_RESOURCE_CONSUMER, AML_LEVEL, AML_ACTIVE_HIGH,
				      AML_EXCLUSIVE, &p->ged_gsi, 1));
	aml_append(dev, aml_name_decl(ctx, "_CRS", crs));

	aml_append(dev, aml_operation_region(ctx, "GREG", AML_SYSTEM_MEMORY,
					     p->ged_base + GED_REG_EVENT, DSDT_GED_REGION_LEN));
	f = aml_field(ctx, "GREG", AML_DWORD_ACC, AML_NO_LOCK, AML_WRITE_AS_ZEROS);
	aml_append(f, aml_field_unit(ctx, "GEVT", 32));
	aml_append(dev, f);

	evt = aml_method(ctx, "_EVT", 1, AML_SERIALIZED);
	aml_append(evt, aml_store(ctx, aml_name(ctx, "GEVT"), aml_local(ctx, 0)));
	hit = aml_if(ctx, aml_and(ctx, aml_local(ctx, 0),
				  aml_int(ctx, GED_EVENT_CPU_HOTPLUG), NULL));
	aml_append(hit, aml_call(ctx, DSDT_CPU_SCAN_PATH, 0, NULL));
	aml_append(evt, hit);
	aml_append(dev, evt);
	return dev;
}

/*
 * Device (VRnn): a virtio-mmio transport, as Linux's virtio_mmio driver
 * matches it (LNRO0005): the window and its interrupt, level-triggered or,
 * for a device whose backend raises the line itself, edge-triggered.
 * _CCA 1: DMA is cache-coherent.
 */
static struct aml *dsdt_virtio(struct aml_ctx *ctx, const struct acpi_virtio *v, unsigned uid)
{
	char name[5];
	struct aml *dev, *crs;

	snprintf(name, sizeof(name), "VR%02X", uid & 0xff);
	dev = aml_device(ctx, name);
	crs = aml_resource_template(ctx);
	aml_append(dev, aml_name_decl(ctx, "_HID", aml_string(ctx, "LNRO0005")));
	aml_append(dev, aml_name_decl(ctx, "_UID", aml_int(ctx, uid)));
	aml_append(dev, aml_name_decl(ctx, "_CCA", aml_int(ctx, 1)));
	aml_append(crs, aml_memory32_fixed(ctx, v->base, v->size, AML_READ_WRITE));
	aml_append(crs, aml_interrupt(ctx, AML_RESOURCE_CONSUMER, v->edge ? AML_EDGE : AML_LEVEL,
				      AML_ACTIVE_HIGH, AML_EXCLUSIVE, &v->gsi, 1));
	aml_append(dev, aml_name_decl(ctx, "_CRS", crs));
	return dev;
}

int dsdt_build(const struct acpi_platform *p, uint8_t *t, size_t cap, uint32_t *len)
{
	const struct aml_table_id id = {
		.signature = "DSDT",
		.revision = DSDT_REVISION,
		.oem_id = ACPI_OEM_ID,
		.oem_table_id = ACPI_OEM_TABLE_ID,
		.oem_revision = ACPI_OEM_REVISION,
		.creator_id = ACPI_CREATOR_ID,
		.creator_revision = ACPI_CREATOR_REVISION,
	};
	struct aml_ctx ctx;
	struct aml *dsdt, *sb;
	size_t l = 0;
	int err;

	err = aml_ctx_init(&ctx, 0);
	if (err)
		return err;
	dsdt = aml_definition_block(&ctx, &id);
	sb = aml_scope(&ctx, "\\_SB");
	aml_append(sb, dsdt_uart(&ctx, p));
	aml_append(sb, dsdt_ged(&ctx, p));
	aml_append(sb, dsdt_cpus(&ctx, p));
	for (unsigned i = 0; i < p->nr_virtio && i < ACPI_MAX_VIRTIO; i++)
		aml_append(sb, dsdt_virtio(&ctx, &p->virtio[i], i));
	aml_append(dsdt, sb);
	err = aml_serialize(&ctx, dsdt, t, cap, &l);
	aml_ctx_destroy(&ctx);
	if (err)
		return err;
	*len = l;
	return 0;
}
