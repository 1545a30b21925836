/*
 * AML builder: statements and expressions (ACPI 6.5 sections 20.2.5.3 and
 * 20.2.5.4). Each is an opcode followed by its operands as child nodes.
 */
#include "acpi/aml.h"

#include <errno.h>
#include "acpi/aml_node.h"

static struct aml *op1(struct aml_ctx *ctx, enum aml_node_kind kind, uint8_t op, struct aml *a)
{
	return aml_node_with(ctx, kind, &op, 1, 1, &a);
}

static struct aml *op2(struct aml_ctx *ctx, uint8_t op, struct aml *a, struct aml *b)
{
	struct aml *kids[2] = { a, b };

	return aml_node_with(ctx, AML_NODE_PLAIN, &op, 1, 2, kids);
}

/* Opcode, two operands, then Target (NullName when target is NULL). */
static struct aml *op2_target(struct aml_ctx *ctx, uint8_t op, struct aml *a, struct aml *b,
			      struct aml *target)
{
	static const uint8_t null_name = 0x00;
	struct aml *kids[3] = { a, b, target };

	if (ctx->err)
		return NULL;
	if (!target)
		kids[2] = aml_node_new(ctx, AML_NODE_PLAIN, &null_name, 1);
	return aml_node_with(ctx, AML_NODE_PLAIN, &op, 1, 3, kids);
}

struct aml *aml_if(struct aml_ctx *ctx, struct aml *predicate)
{
	return op1(ctx, AML_NODE_PKG, 0xA0, predicate);	/* IfOp PkgLength Predicate */
}

struct aml *aml_else(struct aml_ctx *ctx)
{
	static const uint8_t op = 0xA1;	/* ElseOp PkgLength */

	return aml_node_new(ctx, AML_NODE_PKG, &op, 1);
}

struct aml *aml_while(struct aml_ctx *ctx, struct aml *predicate)
{
	return op1(ctx, AML_NODE_PKG, 0xA2, predicate);	/* WhileOp PkgLength Predicate */
}

struct aml *aml_break(struct aml_ctx *ctx)
{
	static const uint8_t op = 0xA5;	/* BreakOp */

	return aml_node_new(ctx, AML_NODE_PLAIN, &op, 1);
}

struct aml *aml_return(struct aml_ctx *ctx, struct aml *value)
{
	return op1(ctx, AML_NODE_PLAIN, 0xA4, value);	/* ReturnOp ArgObject */
}

struct aml *aml_notify(struct aml_ctx *ctx, struct aml *object, struct aml *value)
{
	return op2(ctx, 0x86, object, value);	/* NotifyOp NotifyObject NotifyValue */
}

struct aml *aml_call(struct aml_ctx *ctx, const char *path, unsigned nargs, struct aml *const *args)
{
	struct aml *call;

	if (ctx->err)
		return NULL;
	if (nargs > 7 || (nargs && !args)) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	for (unsigned i = 0; i < nargs; i++) {
		if (!args[i]) {
			aml_fail(ctx, -EINVAL);
			return NULL;
		}
	}
	/* MethodInvocation: NameString TermArgList; the callee fixes the count. */
	call = aml_name(ctx, path);
	for (unsigned i = 0; i < nargs; i++)
		aml_append(call, args[i]);
	return call;
}

struct aml *aml_store(struct aml_ctx *ctx, struct aml *src, struct aml *dst)
{
	return op2(ctx, 0x70, src, dst);	/* StoreOp TermArg SuperName */
}

struct aml *aml_add(struct aml_ctx *ctx, struct aml *a, struct aml *b, struct aml *target)
{
	return op2_target(ctx, 0x72, a, b, target);	/* AddOp */
}

struct aml *aml_subtract(struct aml_ctx *ctx, struct aml *a, struct aml *b, struct aml *target)
{
	return op2_target(ctx, 0x74, a, b, target);	/* SubtractOp */
}

struct aml *aml_increment(struct aml_ctx *ctx, struct aml *target)
{
	return op1(ctx, AML_NODE_PLAIN, 0x75, target);	/* IncrementOp SuperName */
}

struct aml *aml_and(struct aml_ctx *ctx, struct aml *a, struct aml *b, struct aml *target)
{
	return op2_target(ctx, 0x7B, a, b, target);	/* AndOp */
}

struct aml *aml_or(struct aml_ctx *ctx, struct aml *a, struct aml *b, struct aml *target)
{
	return op2_target(ctx, 0x7D, a, b, target);	/* OrOp */
}

struct aml *aml_shiftleft(struct aml_ctx *ctx, struct aml *value, struct aml *count,
			  struct aml *target)
{
	return op2_target(ctx, 0x79, value, count, target);	/* ShiftLeftOp */
}

struct aml *aml_lequal(struct aml_ctx *ctx, struct aml *a, struct aml *b)
{
	return op2(ctx, 0x93, a, b);	/* LEqualOp */
}

struct aml *aml_lless(struct aml_ctx *ctx, struct aml *a, struct aml *b)
{
	return op2(ctx, 0x95, a, b);	/* LLessOp */
}

struct aml *aml_lnot(struct aml_ctx *ctx, struct aml *a)
{
	return op1(ctx, AML_NODE_PLAIN, 0x92, a);	/* LNotOp */
}

struct aml *aml_land(struct aml_ctx *ctx, struct aml *a, struct aml *b)
{
	return op2(ctx, 0x90, a, b);	/* LAndOp */
}
