/*
 * AML builder: resource templates and the descriptors we need
 * (ACPI 6.5 section 6.4: Resource Data Types).
 */
#include "acpi/aml.h"

#include <errno.h>
#include "acpi/aml_node.h"

struct aml *aml_resource_template(struct aml_ctx *ctx)
{
	static const uint8_t op = 0x11;	/* BufferOp; the End Tag comes at serialize */

	return aml_node_new(ctx, AML_NODE_RESOURCES, &op, 1);
}

struct aml *aml_memory32_fixed(struct aml_ctx *ctx, uint32_t base, uint32_t length,
			       enum aml_rw rw)
{
	uint8_t d[12];

	if (ctx->err)
		return NULL;
	if (rw != AML_READ_ONLY && rw != AML_READ_WRITE) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	d[0] = 0x86;			/* Large item, name 0x06: 32-bit Fixed Memory Range */
	aml_put16(d + 1, 9);		/* Length of the data that follows */
	d[3] = rw;			/* Information: bit 0 write status */
	aml_put32(d + 4, base);		/* Range base address */
	aml_put32(d + 8, length);	/* Range length */
	return aml_node_new(ctx, AML_NODE_PLAIN, d, sizeof(d));
}

struct aml *aml_interrupt(struct aml_ctx *ctx, enum aml_consumer consumer,
			  enum aml_trigger trigger, enum aml_polarity polarity,
			  enum aml_sharing sharing, const uint32_t *irqs, unsigned n)
{
	uint8_t d[5 + 4 * 255];

	if (ctx->err)
		return NULL;
	if (!irqs || n == 0 || n > 255 || (unsigned)consumer > AML_RESOURCE_CONSUMER ||
	    (unsigned)trigger > AML_EDGE || (unsigned)polarity > AML_ACTIVE_LOW ||
	    (unsigned)sharing > AML_SHARED) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	d[0] = 0x89;			/* Large item, name 0x09: Extended Interrupt */
	aml_put16(d + 1, 2 + 4 * n);	/* Length of the data that follows */
	/* Interrupt Vector Flags: consumer bit 0, edge bit 1, low bit 2, shared bit 3. */
	d[3] = consumer | (trigger << 1) | (polarity << 2) | (sharing << 3);
	d[4] = n;			/* Interrupt table length */
	for (unsigned i = 0; i < n; i++)
		aml_put32(d + 5 + 4 * i, irqs[i]);	/* Interrupt Number[i] */
	return aml_node_new(ctx, AML_NODE_PLAIN, d, 5 + 4 * n);
}
