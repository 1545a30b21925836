/*
 * AML builder: constructs a tree of AML terms in an arena owned by a context,
 * then serializes it (PkgLength, buffer sizes and element counts are computed
 * at serialization). Encodings follow ACPI 6.5 chapter 20.
 *
 * Errors: the first error is kept in the context. Once it is set every
 * constructor returns NULL and every append is a no-op, so callers build a
 * whole tree without checking each call and look at the result of
 * aml_serialize() (or aml_error()) once.
 */
#ifndef ACPI_AML_H
#define ACPI_AML_H

#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

struct aml;
struct aml_chunk;

/* Fields are private; the struct is public so callers can keep it on the stack. */
struct aml_ctx {
	struct aml_chunk *chunks;
	size_t allocated;	/* bytes taken from malloc so far */
	size_t limit;		/* arena cap; exceeding it is -ENOMEM */
	int err;		/* first error, 0 if none */
};

#define AML_ARENA_DEFAULT_LIMIT (64u << 20)

/* limit 0 means AML_ARENA_DEFAULT_LIMIT. */
int aml_ctx_init(struct aml_ctx *ctx, size_t limit) WUR;
/* Frees every node built in ctx. */
void aml_ctx_destroy(struct aml_ctx *ctx);
/* The first error recorded, or 0. */
int aml_error(const struct aml_ctx *ctx) WUR;

/*
 * Write node (a whole table if it came from aml_definition_block) into buf.
 * *len gets the serialized size, also when the result is -ENOSPC so the
 * caller can learn the size needed. Returns the context's first error if any.
 */
int aml_serialize(struct aml_ctx *ctx, const struct aml *node, uint8_t *buf, size_t cap,
		  size_t *len) WUR;

/* Attach child as the last term of parent. A node may be appended once. */
void aml_append(struct aml *parent, struct aml *child);

/* --- Table --------------------------------------------------------------- */

struct aml_table_id {
	const char *signature;		/* 4 chars, e.g. "DSDT" */
	uint8_t revision;		/* 2 or more: integers are 64-bit */
	const char *oem_id;		/* up to 6 chars */
	const char *oem_table_id;	/* up to 8 chars */
	uint32_t oem_revision;
	const char *creator_id;		/* 4 chars */
	uint32_t creator_revision;
};

/* DefinitionBlock: the table header; length and checksum set on serialize. */
struct aml *aml_definition_block(struct aml_ctx *ctx, const struct aml_table_id *id);

/* --- Data ---------------------------------------------------------------- */

/* Integer in its smallest encoding: Zero, One, Ones or Byte/Word/DWord/QWord. */
struct aml *aml_int(struct aml_ctx *ctx, uint64_t value);
/* String: ASCII, no NUL inside. */
struct aml *aml_string(struct aml_ctx *ctx, const char *s);
/* EISAID("PNP0A05"): 3 upper-case letters + 4 hex digits, as a DWord. */
struct aml *aml_eisaid(struct aml_ctx *ctx, const char *id);
/* Buffer holding a copy of data. */
struct aml *aml_buffer(struct aml_ctx *ctx, const uint8_t *data, size_t len);
/* Package; append up to 255 elements. */
struct aml *aml_package(struct aml_ctx *ctx);
/* A reference to a named object: "\\_SB.CPUS", "^FOO", "C000". */
struct aml *aml_name(struct aml_ctx *ctx, const char *path);
struct aml *aml_local(struct aml_ctx *ctx, unsigned n);	/* Local0-7 */
struct aml *aml_arg(struct aml_ctx *ctx, unsigned n);	/* Arg0-6 */

/* --- Named objects and scopes -------------------------------------------- */

struct aml *aml_scope(struct aml_ctx *ctx, const char *path);
struct aml *aml_device(struct aml_ctx *ctx, const char *path);
/* Name(path, value) */
struct aml *aml_name_decl(struct aml_ctx *ctx, const char *path, struct aml *value);

enum aml_method_serialize {
	AML_NOT_SERIALIZED = 0,
	AML_SERIALIZED = 1,
};
struct aml *aml_method(struct aml_ctx *ctx, const char *path, unsigned nargs,
		       enum aml_method_serialize serialize);

/* Mutex(path, sync_level 0-15) */
struct aml *aml_mutex(struct aml_ctx *ctx, const char *path, unsigned sync_level);
/* Acquire(mutex, timeout ms; 0xFFFF waits forever) */
struct aml *aml_acquire(struct aml_ctx *ctx, struct aml *mutex, uint16_t timeout);
struct aml *aml_release(struct aml_ctx *ctx, struct aml *mutex);

enum aml_region_space {
	AML_SYSTEM_MEMORY = 0x00,
	AML_SYSTEM_IO = 0x01,
	AML_PCI_CONFIG = 0x02,
};
struct aml *aml_operation_region(struct aml_ctx *ctx, const char *path,
				 enum aml_region_space space, uint64_t offset, uint64_t length);

enum aml_access_type {
	AML_ANY_ACC = 0,
	AML_BYTE_ACC = 1,
	AML_WORD_ACC = 2,
	AML_DWORD_ACC = 3,
	AML_QWORD_ACC = 4,
	AML_BUFFER_ACC = 5,
};
enum aml_lock_rule {
	AML_NO_LOCK = 0,
	AML_LOCK = 1,
};
enum aml_update_rule {
	AML_PRESERVE = 0,
	AML_WRITE_AS_ONES = 1,
	AML_WRITE_AS_ZEROS = 2,
};
/* Field(region, ...); append aml_field_unit()/aml_field_reserved(). */
struct aml *aml_field(struct aml_ctx *ctx, const char *region, enum aml_access_type access,
		      enum aml_lock_rule lock, enum aml_update_rule update);
struct aml *aml_field_unit(struct aml_ctx *ctx, const char *nameseg, unsigned bits);
struct aml *aml_field_reserved(struct aml_ctx *ctx, unsigned bits);

/* --- Statements ---------------------------------------------------------- */

struct aml *aml_if(struct aml_ctx *ctx, struct aml *predicate);
/* Append right after the If it belongs to, in the same parent. */
struct aml *aml_else(struct aml_ctx *ctx);
struct aml *aml_while(struct aml_ctx *ctx, struct aml *predicate);
struct aml *aml_break(struct aml_ctx *ctx);
struct aml *aml_return(struct aml_ctx *ctx, struct aml *value);
struct aml *aml_notify(struct aml_ctx *ctx, struct aml *object, struct aml *value);
/* Invoke a method: path(args[0], ...). */
struct aml *aml_call(struct aml_ctx *ctx, const char *path, unsigned nargs, struct aml *const *args);

/* --- Expressions ----------------------------------------------------------
 * A NULL target means "no target" (NullName); any other NULL argument is an
 * error unless the context already holds one.
 */
struct aml *aml_store(struct aml_ctx *ctx, struct aml *src, struct aml *dst);
struct aml *aml_add(struct aml_ctx *ctx, struct aml *a, struct aml *b, struct aml *target);
struct aml *aml_subtract(struct aml_ctx *ctx, struct aml *a, struct aml *b, struct aml *target);
struct aml *aml_increment(struct aml_ctx *ctx, struct aml *target);
struct aml *aml_and(struct aml_ctx *ctx, struct aml *a, struct aml *b, struct aml *target);
struct aml *aml_or(struct aml_ctx *ctx, struct aml *a, struct aml *b, struct aml *target);
struct aml *aml_shiftleft(struct aml_ctx *ctx, struct aml *value, struct aml *count,
			  struct aml *target);
struct aml *aml_lequal(struct aml_ctx *ctx, struct aml *a, struct aml *b);
struct aml *aml_lless(struct aml_ctx *ctx, struct aml *a, struct aml *b);
struct aml *aml_lnot(struct aml_ctx *ctx, struct aml *a);
struct aml *aml_land(struct aml_ctx *ctx, struct aml *a, struct aml *b);

/* --- Resource templates (ACPI 6.5 section 6.4) --------------------------- */

/* A Buffer of resource descriptors; the End Tag is added on serialize. */
struct aml *aml_resource_template(struct aml_ctx *ctx);

enum aml_rw {
	AML_READ_ONLY = 0,
	AML_READ_WRITE = 1,
};
struct aml *aml_memory32_fixed(struct aml_ctx *ctx, uint32_t base, uint32_t length,
			       enum aml_rw rw);

enum aml_consumer {
	AML_RESOURCE_PRODUCER = 0,
	AML_RESOURCE_CONSUMER = 1,
};
enum aml_trigger {
	AML_LEVEL = 0,
	AML_EDGE = 1,
};
enum aml_polarity {
	AML_ACTIVE_HIGH = 0,
	AML_ACTIVE_LOW = 1,
};
enum aml_sharing {
	AML_EXCLUSIVE = 0,
	AML_SHARED = 1,
};
/* Extended Interrupt descriptor (Interrupt() in ASL) with n (1-255) GSIVs. */
struct aml *aml_interrupt(struct aml_ctx *ctx, enum aml_consumer consumer,
			  enum aml_trigger trigger, enum aml_polarity polarity,
			  enum aml_sharing sharing, const uint32_t *irqs, unsigned n);

#endif
