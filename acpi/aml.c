/*
 * AML builder core: the arena, the tree, and serialization (ACPI 6.5 ch. 20).
 */
#include "acpi/aml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "acpi/aml_node.h"

#define AML_CHUNK_SIZE (64u << 10)
#define AML_TABLE_HEADER_LEN 36
#define AML_PKGLEN_MAX 0x0FFFFFFFu	/* 28 bits */

struct aml_chunk {
	struct aml_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

int aml_ctx_init(struct aml_ctx *ctx, size_t limit)
{
	if (!ctx)
		return -EINVAL;
	memset(ctx, 0, sizeof(*ctx));
	ctx->limit = limit ? limit : AML_ARENA_DEFAULT_LIMIT;
	return 0;
}

void aml_ctx_destroy(struct aml_ctx *ctx)
{
	struct aml_chunk *c, *next;

	if (!ctx)
		return;
	for (c = ctx->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	ctx->chunks = NULL;
	ctx->allocated = 0;
}

int aml_error(const struct aml_ctx *ctx)
{
	return ctx ? ctx->err : -EINVAL;
}

void aml_fail(struct aml_ctx *ctx, int err)
{
	if (!ctx->err)
		ctx->err = err;
}

void *aml_alloc(struct aml_ctx *ctx, size_t size)
{
	struct aml_chunk *c = ctx->chunks;
	size_t need = ALIGN_UP(size, sizeof(max_align_t));
	void *p;

	if (ctx->err)
		return NULL;
	if (!c || c->cap - c->used < need) {
		/* Big requests get a chunk of their own; the old chunk stays current. */
		size_t cap = need > AML_CHUNK_SIZE ? need : AML_CHUNK_SIZE;

		if (cap > ctx->limit - ctx->allocated || ctx->allocated > ctx->limit) {
			aml_fail(ctx, -ENOMEM);
			return NULL;
		}
		c = malloc(sizeof(*c) + cap);
		if (!c) {
			aml_fail(ctx, -ENOMEM);
			return NULL;
		}
		ctx->allocated += cap;
		c->used = 0;
		c->cap = cap;
		if (ctx->chunks && need > AML_CHUNK_SIZE) {
			c->next = ctx->chunks->next;
			ctx->chunks->next = c;
		} else {
			c->next = ctx->chunks;
			ctx->chunks = c;
		}
	}
	p = (uint8_t *)c->data + c->used;
	c->used += need;
	memset(p, 0, need);
	return p;
}

struct aml *aml_node_new(struct aml_ctx *ctx, enum aml_node_kind kind, const uint8_t *bytes,
			 size_t nbytes)
{
	struct aml *n = aml_alloc(ctx, sizeof(*n) + nbytes);

	if (!n)
		return NULL;
	n->ctx = ctx;
	n->kind = kind;
	n->bytes = (uint8_t *)(n + 1);
	n->nbytes = nbytes;
	if (nbytes)
		memcpy(n->bytes, bytes, nbytes);
	return n;
}

struct aml *aml_node_with(struct aml_ctx *ctx, enum aml_node_kind kind, const uint8_t *bytes,
			  size_t nbytes, unsigned n, struct aml *const *children)
{
	struct aml *node;

	if (ctx->err)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		if (!children[i]) {
			aml_fail(ctx, -EINVAL);
			return NULL;
		}
	}
	node = aml_node_new(ctx, kind, bytes, nbytes);
	for (unsigned i = 0; node && i < n; i++)
		aml_append(node, children[i]);
	return node;
}

void aml_append(struct aml *parent, struct aml *child)
{
	struct aml_ctx *ctx = parent ? parent->ctx : child ? child->ctx : NULL;

	if (!ctx || ctx->err)
		return;
	/* One NULL and no error: the caller lost a node, which is a bug. */
	if (!parent || !child || child->attached || child == parent || child->ctx != ctx ||
	    child->kind == AML_NODE_TABLE) {
		aml_fail(ctx, -EINVAL);
		return;
	}
	if (parent->kind == AML_NODE_PACKAGE && parent->nchildren == 255) {
		aml_fail(ctx, -E2BIG);
		return;
	}
	child->attached = true;
	if (parent->last)
		parent->last->next = child;
	else
		parent->first = child;
	parent->last = child;
	parent->nchildren++;
}

size_t aml_int_encode(uint64_t v, uint8_t *out)
{
	size_t n;

	if (v == 0 || v == 1 || v == UINT64_MAX) {
		out[0] = v == 0 ? 0x00 : v == 1 ? 0x01 : 0xFF;	/* ZeroOp OneOp OnesOp */
		return 1;
	}
	if (v <= 0xFF) {
		out[0] = 0x0A;	/* BytePrefix */
		n = 1;
	} else if (v <= 0xFFFF) {
		out[0] = 0x0B;	/* WordPrefix */
		n = 2;
	} else if (v <= 0xFFFFFFFF) {
		out[0] = 0x0C;	/* DWordPrefix */
		n = 4;
	} else {
		out[0] = 0x0E;	/* QWordPrefix */
		n = 8;
	}
	for (size_t i = 0; i < n; i++)
		out[1 + i] = v >> (8 * i);
	return n + 1;
}

/* Bytes a PkgLength takes when it frames content bytes (it counts itself). */
static int pkglen_size(size_t content, size_t *out)
{
	static const size_t max[] = { 0x3F, 0xFFF, 0xFFFFF, AML_PKGLEN_MAX };

	for (size_t n = 1; n <= 4; n++) {
		if (content + n <= max[n - 1]) {
			*out = n;
			return 0;
		}
	}
	return -E2BIG;
}

static void pkglen_write(uint8_t *p, size_t value, size_t n)
{
	if (n == 1) {
		p[0] = value;
		return;
	}
	/* Lead byte: count of following bytes in bits 7-6, low nibble of value. */
	p[0] = ((n - 1) << 6) | (value & 0xF);
	for (size_t i = 1; i < n; i++)
		p[i] = value >> (4 + 8 * (i - 1));
}

static int children_size(const struct aml *node, size_t *out);

/* Size of what follows the PkgLength, and the BufferSize value if any. */
static int content_size(const struct aml *node, size_t *content, uint64_t *bufsize)
{
	uint8_t tmp[9];
	size_t kids;
	int err = children_size(node, &kids);

	if (err)
		return err;
	switch (node->kind) {
	case AML_NODE_BUFFER:
	case AML_NODE_RESOURCES:
		*bufsize = kids + (node->kind == AML_NODE_RESOURCES ? 2 : 0);
		*content = aml_int_encode(*bufsize, tmp) + *bufsize;
		break;
	case AML_NODE_PACKAGE:
		*content = 1 + kids;
		break;
	default:
		*content = kids;
		break;
	}
	return 0;
}

static int node_size(const struct aml *node, size_t *out)
{
	size_t content, pkglen = 0;
	uint64_t bufsize = 0;
	int err = content_size(node, &content, &bufsize);

	if (err)
		return err;
	if (node->kind != AML_NODE_PLAIN && node->kind != AML_NODE_TABLE) {
		err = pkglen_size(content, &pkglen);
		if (err)
			return err;
	}
	*out = node->nbytes + pkglen + content;
	return 0;
}

static int children_size(const struct aml *node, size_t *out)
{
	size_t total = 0, one;

	for (const struct aml *c = node->first; c; c = c->next) {
		int err = node_size(c, &one);

		if (err)
			return err;
		total += one;
	}
	*out = total;
	return 0;
}

/* Writes node at p, which has room (checked by the caller); returns bytes written. */
static size_t node_write(const struct aml *node, uint8_t *p)
{
	size_t content = 0, pkglen = 0, off;
	uint64_t bufsize = 0;

	/* Sizes were validated by the measuring pass, so these cannot fail. */
	if (content_size(node, &content, &bufsize))
		return 0;
	memcpy(p, node->bytes, node->nbytes);
	off = node->nbytes;
	if (node->kind != AML_NODE_PLAIN && node->kind != AML_NODE_TABLE) {
		if (pkglen_size(content, &pkglen))
			return 0;
		pkglen_write(p + off, content + pkglen, pkglen);
		off += pkglen;
	}
	if (node->kind == AML_NODE_BUFFER || node->kind == AML_NODE_RESOURCES)
		off += aml_int_encode(bufsize, p + off);
	else if (node->kind == AML_NODE_PACKAGE)
		p[off++] = node->nchildren;
	for (const struct aml *c = node->first; c; c = c->next)
		off += node_write(c, p + off);
	if (node->kind == AML_NODE_RESOURCES) {
		p[off++] = 0x79;	/* End Tag, small item 0xF, length 1 */
		p[off++] = 0x00;	/* checksum 0: treat as valid */
	}
	return off;
}

int aml_serialize(struct aml_ctx *ctx, const struct aml *node, uint8_t *buf, size_t cap,
		  size_t *len)
{
	size_t size;
	int err;

	if (!ctx || !len)
		return -EINVAL;
	*len = 0;
	if (ctx->err)
		return ctx->err;
	if (!node || node->ctx != ctx || (cap && !buf))
		return -EINVAL;
	err = node_size(node, &size);
	if (err)
		return err;
	*len = size;
	if (size > cap)
		return -ENOSPC;
	if (node_write(node, buf) != size)
		return -EINVAL;
	if (node->kind == AML_NODE_TABLE) {
		uint8_t sum = 0;

		if (size > UINT32_MAX)
			return -E2BIG;
		aml_put32(buf + 4, size);	/* Length */
		buf[9] = 0;			/* Checksum */
		for (size_t i = 0; i < size; i++)
			sum += buf[i];
		buf[9] = -sum;
	}
	return 0;
}

struct aml *aml_definition_block(struct aml_ctx *ctx, const struct aml_table_id *id)
{
	uint8_t h[AML_TABLE_HEADER_LEN] = { 0 };

	if (ctx->err)
		return NULL;
	if (!id || !id->signature || strlen(id->signature) != 4 || !id->oem_id ||
	    strlen(id->oem_id) > 6 || !id->oem_table_id || strlen(id->oem_table_id) > 8 ||
	    !id->creator_id || strlen(id->creator_id) != 4) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	memcpy(h + 0, id->signature, 4);			/* Signature */
	/* Length (4) and Checksum (9) are filled in by aml_serialize. */
	h[8] = id->revision;					/* Revision */
	memcpy(h + 10, id->oem_id, strlen(id->oem_id));		/* OEMID */
	memcpy(h + 16, id->oem_table_id, strlen(id->oem_table_id));	/* OEM Table ID */
	aml_put32(h + 24, id->oem_revision);			/* OEM Revision */
	memcpy(h + 28, id->creator_id, 4);			/* Creator ID */
	aml_put32(h + 32, id->creator_revision);		/* Creator Revision */
	return aml_node_new(ctx, AML_NODE_TABLE, h, sizeof(h));
}
