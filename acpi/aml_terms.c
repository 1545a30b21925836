/*
 * AML builder: data objects, names, named objects, statements and
 * expressions (ACPI 6.5 sections 20.2.3 - 20.2.5).
 */
#include "acpi/aml.h"

#include <errno.h>
#include <string.h>
#include "acpi/aml_node.h"

#define NAME_MAX_ENCODED 1024

static int is_lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_char(char c)
{
	return is_lead_char(c) || (c >= '0' && c <= '9');
}

/*
 * NameString: RootChar or ParentPrefixChars, then NullName, one NameSeg,
 * DualNamePrefix + 2 segs or MultiNamePrefix + count + segs. Short segments
 * are padded with '_' as ASL does.
 */
static int namestring_encode(const char *path, uint8_t *out, size_t cap, size_t *len)
{
	size_t off = 0, nsegs = 0, hdr;
	const char *s = path;

	if (*s == '\\') {
		out[off++] = '\\';
		s++;
	} else {
		while (*s == '^' && off < cap) {
			out[off++] = '^';
			s++;
		}
	}
	if (*s == '\0') {
		if (off >= cap)
			return -E2BIG;
		out[off++] = 0x00;	/* NullName */
		*len = off;
		return 0;
	}
	for (const char *p = s; *p; p++)
		nsegs += *p == '.';
	nsegs++;
	hdr = nsegs == 1 ? 0 : nsegs == 2 ? 1 : 2;
	if (nsegs > 255 || off + hdr + 4 * nsegs > cap)
		return -E2BIG;
	if (nsegs == 2) {
		out[off++] = 0x2E;	/* DualNamePrefix */
	} else if (nsegs > 2) {
		out[off++] = 0x2F;	/* MultiNamePrefix */
		out[off++] = nsegs;
	}
	while (nsegs--) {
		size_t n = 0;

		if (!is_lead_char(*s))
			return -EINVAL;
		while (is_name_char(s[n]) && n < 4) {
			out[off + n] = s[n];
			n++;
		}
		if (s[n] != '.' && s[n] != '\0')
			return -EINVAL;
		memset(out + off + n, '_', 4 - n);
		off += 4;
		s += n + (s[n] == '.');
	}
	*len = off;
	return 0;
}

/* A node whose bytes are op, the encoded path, then tail. */
static struct aml *named_node(struct aml_ctx *ctx, enum aml_node_kind kind, const uint8_t *op,
			      size_t oplen, const char *path, const uint8_t *tail, size_t taillen)
{
	uint8_t b[NAME_MAX_ENCODED + 16];
	struct aml *n;
	size_t nlen;
	int err;

	if (ctx->err)
		return NULL;
	if (!path || oplen + taillen > 16) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	if (oplen)
		memcpy(b, op, oplen);
	err = namestring_encode(path, b + oplen, NAME_MAX_ENCODED, &nlen);
	if (err) {
		aml_fail(ctx, err);
		return NULL;
	}
	if (taillen)
		memcpy(b + oplen + nlen, tail, taillen);
	if (kind == AML_NODE_PLAIN)
		return aml_node_new(ctx, kind, b, oplen + nlen + taillen);
	/* PkgLength comes right after the opcode: name and tail are the first child. */
	n = aml_node_new(ctx, kind, op, oplen);
	aml_append(n, aml_node_new(ctx, AML_NODE_PLAIN, b + oplen, nlen + taillen));
	return n;
}

/* --- Data ---------------------------------------------------------------- */

struct aml *aml_int(struct aml_ctx *ctx, uint64_t value)
{
	uint8_t b[9];

	if (ctx->err)
		return NULL;
	return aml_node_new(ctx, AML_NODE_PLAIN, b, aml_int_encode(value, b));
}

struct aml *aml_string(struct aml_ctx *ctx, const char *s)
{
	struct aml *n;
	size_t len;

	if (ctx->err)
		return NULL;
	if (!s) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	len = strlen(s);
	for (size_t i = 0; i < len; i++) {
		if ((uint8_t)s[i] > 0x7F) {	/* AsciiCharList is 0x01-0x7F */
			aml_fail(ctx, -EINVAL);
			return NULL;
		}
	}
	n = aml_node_new(ctx, AML_NODE_PLAIN, NULL, 0);
	if (!n)
		return NULL;
	n->bytes = aml_alloc(ctx, len + 2);
	if (!n->bytes)
		return NULL;
	n->bytes[0] = 0x0D;	/* StringPrefix */
	memcpy(n->bytes + 1, s, len + 1);	/* chars and NullChar */
	n->nbytes = len + 2;
	return n;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

struct aml *aml_eisaid(struct aml_ctx *ctx, const char *id)
{
	uint32_t v = 0;
	uint8_t b[5];

	if (ctx->err)
		return NULL;
	if (!id || strlen(id) != 7) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	/* Three 5-bit letters ('A' = 1) then four hex digits, stored big-endian. */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			aml_fail(ctx, -EINVAL);
			return NULL;
		}
		v |= (uint32_t)(id[i] - 0x40) << (26 - 5 * i);
	}
	for (int i = 0; i < 4; i++) {
		int d = hex_digit(id[3 + i]);

		if (d < 0) {
			aml_fail(ctx, -EINVAL);
			return NULL;
		}
		v |= (uint32_t)d << (12 - 4 * i);
	}
	b[0] = 0x0C;	/* always DWordPrefix, as iasl emits it */
	b[1] = v >> 24;
	b[2] = v >> 16;
	b[3] = v >> 8;
	b[4] = v;
	return aml_node_new(ctx, AML_NODE_PLAIN, b, sizeof(b));
}

struct aml *aml_buffer(struct aml_ctx *ctx, const uint8_t *data, size_t len)
{
	static const uint8_t op = 0x11;	/* BufferOp */
	struct aml *buf, *bytes;

	if (ctx->err)
		return NULL;
	if (len && !data) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	buf = aml_node_new(ctx, AML_NODE_BUFFER, &op, 1);
	bytes = aml_node_new(ctx, AML_NODE_PLAIN, data, len);
	aml_append(buf, bytes);
	return buf;
}

struct aml *aml_package(struct aml_ctx *ctx)
{
	static const uint8_t op = 0x12;	/* PackageOp */

	return aml_node_new(ctx, AML_NODE_PACKAGE, &op, 1);
}

struct aml *aml_name(struct aml_ctx *ctx, const char *path)
{
	return named_node(ctx, AML_NODE_PLAIN, NULL, 0, path, NULL, 0);
}

struct aml *aml_local(struct aml_ctx *ctx, unsigned n)
{
	uint8_t op = 0x60 + n;	/* Local0Op .. Local7Op */

	if (ctx->err)
		return NULL;
	if (n > 7) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	return aml_node_new(ctx, AML_NODE_PLAIN, &op, 1);
}

struct aml *aml_arg(struct aml_ctx *ctx, unsigned n)
{
	uint8_t op = 0x68 + n;	/* Arg0Op .. Arg6Op */

	if (ctx->err)
		return NULL;
	if (n > 6) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	return aml_node_new(ctx, AML_NODE_PLAIN, &op, 1);
}

/* --- Named objects and scopes -------------------------------------------- */

struct aml *aml_scope(struct aml_ctx *ctx, const char *path)
{
	static const uint8_t op = 0x10;	/* ScopeOp */

	return named_node(ctx, AML_NODE_PKG, &op, 1, path, NULL, 0);
}

struct aml *aml_device(struct aml_ctx *ctx, const char *path)
{
	static const uint8_t op[] = { 0x5B, 0x82 };	/* DeviceOp */

	return named_node(ctx, AML_NODE_PKG, op, 2, path, NULL, 0);
}

struct aml *aml_name_decl(struct aml_ctx *ctx, const char *path, struct aml *value)
{
	static const uint8_t op = 0x08;	/* NameOp */
	struct aml *n;

	if (ctx->err)
		return NULL;
	if (!value) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	n = named_node(ctx, AML_NODE_PLAIN, &op, 1, path, NULL, 0);
	aml_append(n, value);
	return n;
}

struct aml *aml_method(struct aml_ctx *ctx, const char *path, unsigned nargs,
		       enum aml_method_serialize serialize)
{
	static const uint8_t op = 0x14;	/* MethodOp */
	uint8_t flags;

	if (ctx->err)
		return NULL;
	if (nargs > 7 || (serialize != AML_NOT_SERIALIZED && serialize != AML_SERIALIZED)) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	/* MethodFlags: ArgCount bits 0-2, SerializeFlag bit 3, SyncLevel 0. */
	flags = nargs | (serialize << 3);
	return named_node(ctx, AML_NODE_PKG, &op, 1, path, &flags, 1);
}

struct aml *aml_mutex(struct aml_ctx *ctx, const char *path, unsigned sync_level)
{
	static const uint8_t op[] = { 0x5B, 0x01 };	/* MutexOp */
	uint8_t flags = sync_level;	/* SyncFlags: SyncLevel bits 0-3 */

	if (ctx->err)
		return NULL;
	if (sync_level > 15) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	return named_node(ctx, AML_NODE_PLAIN, op, 2, path, &flags, 1);
}

struct aml *aml_acquire(struct aml_ctx *ctx, struct aml *mutex, uint16_t timeout)
{
	static const uint8_t op[] = { 0x5B, 0x23 };	/* AcquireOp */
	uint8_t t[2];
	struct aml *kids[2] = { mutex, NULL };

	if (ctx->err)
		return NULL;
	aml_put16(t, timeout);	/* Timeout is WordData, not a TermArg */
	kids[1] = aml_node_new(ctx, AML_NODE_PLAIN, t, 2);
	return aml_node_with(ctx, AML_NODE_PLAIN, op, 2, 2, kids);
}

struct aml *aml_release(struct aml_ctx *ctx, struct aml *mutex)
{
	static const uint8_t op[] = { 0x5B, 0x27 };	/* ReleaseOp */

	return aml_node_with(ctx, AML_NODE_PLAIN, op, 2, 1, &mutex);
}

struct aml *aml_operation_region(struct aml_ctx *ctx, const char *path,
				 enum aml_region_space space, uint64_t offset, uint64_t length)
{
	static const uint8_t op[] = { 0x5B, 0x80 };	/* OpRegionOp */
	uint8_t rs = space;	/* RegionSpace */
	struct aml *n;

	if (ctx->err)
		return NULL;
	if (space != AML_SYSTEM_MEMORY && space != AML_SYSTEM_IO && space != AML_PCI_CONFIG) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	n = named_node(ctx, AML_NODE_PLAIN, op, 2, path, &rs, 1);
	aml_append(n, aml_int(ctx, offset));	/* RegionOffset */
	aml_append(n, aml_int(ctx, length));	/* RegionLen */
	return n;
}

struct aml *aml_field(struct aml_ctx *ctx, const char *region, enum aml_access_type access,
		      enum aml_lock_rule lock, enum aml_update_rule update)
{
	static const uint8_t op[] = { 0x5B, 0x81 };	/* FieldOp */
	uint8_t flags;

	if (ctx->err)
		return NULL;
	if ((unsigned)access > AML_BUFFER_ACC || (unsigned)lock > AML_LOCK ||
	    (unsigned)update > AML_WRITE_AS_ZEROS) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	/* FieldFlags: AccessType bits 0-3, LockRule bit 4, UpdateRule bits 5-6. */
	flags = access | (lock << 4) | (update << 5);
	return named_node(ctx, AML_NODE_PKG, op, 2, region, &flags, 1);
}

/* A field element's bit length: a PkgLength that does not count itself. */
static size_t field_len_encode(unsigned bits, uint8_t *out)
{
	if (bits <= 0x3F) {
		out[0] = bits;
		return 1;
	}
	if (bits <= 0xFFF) {
		out[0] = 0x40 | (bits & 0xF);
		out[1] = bits >> 4;
		return 2;
	}
	if (bits <= 0xFFFFF) {
		out[0] = 0x80 | (bits & 0xF);
		out[1] = bits >> 4;
		out[2] = bits >> 12;
		return 3;
	}
	out[0] = 0xC0 | (bits & 0xF);
	out[1] = bits >> 4;
	out[2] = bits >> 12;
	out[3] = bits >> 20;
	return 4;
}

struct aml *aml_field_unit(struct aml_ctx *ctx, const char *nameseg, unsigned bits)
{
	uint8_t len[4];

	if (ctx->err)
		return NULL;
	/* NamedField takes a bare NameSeg, never a path. */
	if (!nameseg || strlen(nameseg) > 4 || strchr(nameseg, '.') || strchr(nameseg, '\\') ||
	    strchr(nameseg, '^') || bits == 0 || bits > 0x0FFFFFFF) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	return named_node(ctx, AML_NODE_PLAIN, NULL, 0, nameseg, len, field_len_encode(bits, len));
}

struct aml *aml_field_reserved(struct aml_ctx *ctx, unsigned bits)
{
	uint8_t b[5] = { 0x00 };	/* ReservedField: 0x00 PkgLength */

	if (ctx->err)
		return NULL;
	if (bits == 0 || bits > 0x0FFFFFFF) {
		aml_fail(ctx, -EINVAL);
		return NULL;
	}
	return aml_node_new(ctx, AML_NODE_PLAIN, b, 1 + field_len_encode(bits, b + 1));
}
