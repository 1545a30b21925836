/*
 * Private to the AML builder: the node layout shared by aml.c (arena,
 * serialization) and the files of constructors.
 */
#ifndef ACPI_AML_NODE_H
#define ACPI_AML_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "acpi/aml.h"

/* How the bytes around a node's children are framed. */
enum aml_node_kind {
	AML_NODE_PLAIN,		/* bytes, children */
	AML_NODE_PKG,		/* bytes, PkgLength, children */
	AML_NODE_BUFFER,	/* 0x11, PkgLength, BufferSize, children */
	AML_NODE_RESOURCES,	/* as BUFFER, children then an End Tag */
	AML_NODE_PACKAGE,	/* 0x12, PkgLength, NumElements, children */
	AML_NODE_TABLE,		/* 36-byte header (bytes), children */
};

struct aml {
	struct aml_ctx *ctx;
	enum aml_node_kind kind;
	uint8_t *bytes;		/* leading opcode/data bytes, from the arena */
	size_t nbytes;
	struct aml *first, *last, *next;
	unsigned nchildren;
	bool attached;		/* already a child of some node */
};

/* Record err in ctx unless an earlier error is already there. */
void aml_fail(struct aml_ctx *ctx, int err);
/* Integer term in its smallest encoding into out (up to 9 bytes); returns its length. */
size_t aml_int_encode(uint64_t value, uint8_t *out);
/* Zeroed arena memory, NULL (with ctx->err set) on failure. */
void *aml_alloc(struct aml_ctx *ctx, size_t size);
/* A node of kind with a copy of nbytes leading bytes. NULL if ctx has an error. */
struct aml *aml_node_new(struct aml_ctx *ctx, enum aml_node_kind kind, const uint8_t *bytes,
			 size_t nbytes);
/* A node as aml_node_new, then each of the n children appended (NULL child: error). */
struct aml *aml_node_with(struct aml_ctx *ctx, enum aml_node_kind kind, const uint8_t *bytes,
			  size_t nbytes, unsigned n, struct aml *const *children);

static inline void aml_put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void aml_put32(uint8_t *p, uint32_t v)
{
	aml_put16(p, v);
	aml_put16(p + 2, v >> 16);
}

static inline void aml_put64(uint8_t *p, uint64_t v)
{
	aml_put32(p, v);
	aml_put32(p + 4, v >> 32);
}

#endif
