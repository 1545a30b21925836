/*
 * Golden-byte tests for every AML encoding the builder emits. Each test's
 * comment holds the equivalent ASL; the bytes are what `iasl -on` (20200925)
 * compiles it to, body only (after the 36-byte header). To re-check one:
 *   printf 'DefinitionBlock ("", "SSDT", 2, "VMMVMM", "VMMTABLE", 1) {\n%s\n}\n' \
 *       'ASL' > t.asl && iasl -on t.asl && xxd -s 36 t.aml
 */
#include "tests/unit/acpi/aml_test_util.h"

#include <string.h>

/* Name (INTS, Package () {Zero, One, Ones, 0x2A, 0x1234, 0x12345678, 0x123456789A}) */
static void test_integers_in_package(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *pkg = aml_package(ctx);
	static const uint64_t v[] = { 0, 1, UINT64_MAX, 0x2A, 0x1234, 0x12345678, 0x123456789AULL };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		aml_append(pkg, aml_int(ctx, v[i]));
	aml_append(blk, aml_name_decl(ctx, "INTS", pkg));
	EXPECT_BODY(ctx, blk, 0x08, 0x49, 0x4e, 0x54, 0x53, 0x12, 0x18, 0x07, 0x00, 0x01, 0xff,
		    0x0a, 0x2a, 0x0b, 0x34, 0x12, 0x0c, 0x78, 0x56, 0x34, 0x12, 0x0e, 0x9a, 0x78,
		    0x56, 0x34, 0x12, 0x00, 0x00, 0x00);
}

/* Boundaries of each integer encoding (no ASL: iasl picks the same forms). */
static void test_integer_boundaries(void **state)
{
	static const struct {
		uint64_t v;
		uint8_t len, b[9];
	} cases[] = {
		{ 2, 2, { 0x0a, 0x02 } },
		{ 0xFF, 2, { 0x0a, 0xff } },
		{ 0x100, 3, { 0x0b, 0x00, 0x01 } },
		{ 0xFFFF, 3, { 0x0b, 0xff, 0xff } },
		{ 0x10000, 5, { 0x0c, 0x00, 0x00, 0x01, 0x00 } },
		{ 0xFFFFFFFF, 5, { 0x0c, 0xff, 0xff, 0xff, 0xff } },
		{ 0x100000000ULL, 9, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 } },
		{ UINT64_MAX - 1, 9, { 0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
	};
	struct aml_ctx *ctx = *state;
	uint8_t buf[16];
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(aml_serialize(ctx, aml_int(ctx, cases[i].v), buf, sizeof(buf),
					       &len), 0);
		assert_int_equal(len, cases[i].len);
		assert_memory_equal(buf, cases[i].b, len);
	}
}

/* Name (_HID, "ACPI0007") */
static void test_string(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx);

	aml_append(blk, aml_name_decl(ctx, "_HID", aml_string(ctx, "ACPI0007")));
	EXPECT_BODY(ctx, blk, 0x08, 0x5f, 0x48, 0x49, 0x44, 0x0d, 0x41, 0x43, 0x50, 0x49, 0x30,
		    0x30, 0x30, 0x37, 0x00);
}

/* Name (_CID, EisaId ("PNP0A05")) */
static void test_eisaid(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx);

	aml_append(blk, aml_name_decl(ctx, "_CID", aml_eisaid(ctx, "PNP0A05")));
	EXPECT_BODY(ctx, blk, 0x08, 0x5f, 0x43, 0x49, 0x44, 0x0c, 0x41, 0xd0, 0x0a, 0x05);
}

/* Name (BUF0, Buffer () {0x01, 0x02, 0x03}) */
static void test_buffer(void **state)
{
	static const uint8_t data[] = { 1, 2, 3 };
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx);

	aml_append(blk, aml_name_decl(ctx, "BUF0", aml_buffer(ctx, data, sizeof(data))));
	EXPECT_BODY(ctx, blk, 0x08, 0x42, 0x55, 0x46, 0x30, 0x11, 0x06, 0x0a, 0x03, 0x01, 0x02,
		    0x03);
}

/* Name (B100, Buffer () {0x02, 0x03, ... 0x65}): a two-byte PkgLength (0x48 0x06 = 104) */
static void test_pkglength_two_bytes(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx);
	uint8_t data[100], want[110] = { 0x08, 0x42, 0x31, 0x30, 0x30, 0x11, 0x48, 0x06, 0x0a, 0x64 };

	for (int i = 0; i < 100; i++)
		data[i] = want[10 + i] = i + 2;
	aml_append(blk, aml_name_decl(ctx, "B100", aml_buffer(ctx, data, sizeof(data))));
	expect_body(ctx, blk, want, sizeof(want));
}

/* Name (B5K_, Buffer () {0x07 x 5000}): a three-byte PkgLength (0x8e 0x38 0x01 = 5006) */
static void test_pkglength_three_bytes(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx);
	static const uint8_t head[] = { 0x08, 0x42, 0x35, 0x4b, 0x5f, 0x11, 0x8e, 0x38, 0x01,
					0x0b, 0x88, 0x13 };
	uint8_t *data = malloc(5000), *want = malloc(sizeof(head) + 5000);

	assert_true(data && want);
	memset(data, 7, 5000);
	memcpy(want, head, sizeof(head));
	memset(want + sizeof(head), 7, 5000);
	aml_append(blk, aml_name_decl(ctx, "B5K", aml_buffer(ctx, data, 5000)));
	expect_body(ctx, blk, want, sizeof(head) + 5000);
	free(data);
	free(want);
}

/* Scope (\_SB) { Device (DEV0) { Name (_UID, One) } } */
static void test_scope_device(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *sb = aml_scope(ctx, "\\_SB");
	struct aml *dev = aml_device(ctx, "DEV0");

	aml_append(dev, aml_name_decl(ctx, "_UID", aml_int(ctx, 1)));
	aml_append(sb, dev);
	aml_append(blk, sb);
	EXPECT_BODY(ctx, blk, 0x10, 0x13, 0x5c, 0x5f, 0x53, 0x42, 0x5f, 0x5b, 0x82, 0x0b, 0x44,
		    0x45, 0x56, 0x30, 0x08, 0x5f, 0x55, 0x49, 0x44, 0x01);
}

/* Method (MTH0, 2, Serialized) { Return (Arg1) } */
static void test_method_serialized(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *m = aml_method(ctx, "MTH0", 2, AML_SERIALIZED);

	aml_append(m, aml_return(ctx, aml_arg(ctx, 1)));
	aml_append(blk, m);
	EXPECT_BODY(ctx, blk, 0x14, 0x08, 0x4d, 0x54, 0x48, 0x30, 0x0a, 0xa4, 0x69);
}

/* Method (MTH1, 1) { If (LEqual (Arg0, One)) { Return (One) } Else { Return (Zero) } } */
static void test_if_else(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *m = aml_method(ctx, "MTH1", 1, AML_NOT_SERIALIZED);
	struct aml *i = aml_if(ctx, aml_lequal(ctx, aml_arg(ctx, 0), aml_int(ctx, 1)));
	struct aml *e = aml_else(ctx);

	aml_append(i, aml_return(ctx, aml_int(ctx, 1)));
	aml_append(e, aml_return(ctx, aml_int(ctx, 0)));
	aml_append(m, i);
	aml_append(m, e);
	aml_append(blk, m);
	EXPECT_BODY(ctx, blk, 0x14, 0x11, 0x4d, 0x54, 0x48, 0x31, 0x01, 0xa0, 0x06, 0x93, 0x68,
		    0x01, 0xa4, 0x01, 0xa1, 0x03, 0xa4, 0x00);
}

/*
 * Method (MTH2) { Store (Zero, Local0)
 *     While (LLess (Local0, 0x10)) { Increment (Local0)
 *         If (LEqual (Local0, 0x08)) { Break } } }
 */
static void test_while_break_increment(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *m = aml_method(ctx, "MTH2", 0, AML_NOT_SERIALIZED);
	struct aml *w = aml_while(ctx, aml_lless(ctx, aml_local(ctx, 0), aml_int(ctx, 0x10)));
	struct aml *i = aml_if(ctx, aml_lequal(ctx, aml_local(ctx, 0), aml_int(ctx, 8)));

	aml_append(m, aml_store(ctx, aml_int(ctx, 0), aml_local(ctx, 0)));
	aml_append(w, aml_increment(ctx, aml_local(ctx, 0)));
	aml_append(i, aml_break(ctx));
	aml_append(w, i);
	aml_append(m, w);
	aml_append(blk, m);
	EXPECT_BODY(ctx, blk, 0x14, 0x18, 0x4d, 0x54, 0x48, 0x32, 0x00, 0x70, 0x00, 0x60, 0xa2,
		    0x0e, 0x95, 0x60, 0x0a, 0x10, 0x75, 0x60, 0xa0, 0x06, 0x93, 0x60, 0x0a, 0x08,
		    0xa5);
}

/*
 * Method (MTH3, 2) { Add (Arg0, Arg1, Local0) Subtract (Arg0, Arg1, Local1)
 *     And (Arg0, 0xFF, Local2) Or (Arg0, Arg1, Local3) ShiftLeft (One, Arg0, Local4)
 *     Return (And (Arg0, Arg1)) }
 */
static void test_arithmetic(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *m = aml_method(ctx, "MTH3", 2, AML_NOT_SERIALIZED);

	aml_append(m, aml_add(ctx, aml_arg(ctx, 0), aml_arg(ctx, 1), aml_local(ctx, 0)));
	aml_append(m, aml_subtract(ctx, aml_arg(ctx, 0), aml_arg(ctx, 1), aml_local(ctx, 1)));
	aml_append(m, aml_and(ctx, aml_arg(ctx, 0), aml_int(ctx, 0xFF), aml_local(ctx, 2)));
	aml_append(m, aml_or(ctx, aml_arg(ctx, 0), aml_arg(ctx, 1), aml_local(ctx, 3)));
	aml_append(m, aml_shiftleft(ctx, aml_int(ctx, 1), aml_arg(ctx, 0), aml_local(ctx, 4)));
	aml_append(m, aml_return(ctx, aml_and(ctx, aml_arg(ctx, 0), aml_arg(ctx, 1), NULL)));
	aml_append(blk, m);
	EXPECT_BODY(ctx, blk, 0x14, 0x20, 0x4d, 0x54, 0x48, 0x33, 0x02, 0x72, 0x68, 0x69, 0x60,
		    0x74, 0x68, 0x69, 0x61, 0x7b, 0x68, 0x0a, 0xff, 0x62, 0x7d, 0x68, 0x69, 0x63,
		    0x79, 0x01, 0x68, 0x64, 0xa4, 0x7b, 0x68, 0x69, 0x00);
}

/* Method (MTH4, 2) { If (LAnd (LNot (Arg0), Arg1)) { Return (One) } Return (Zero) } */
static void test_logic(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *m = aml_method(ctx, "MTH4", 2, AML_NOT_SERIALIZED);
	struct aml *i = aml_if(ctx, aml_land(ctx, aml_lnot(ctx, aml_arg(ctx, 0)), aml_arg(ctx, 1)));

	aml_append(i, aml_return(ctx, aml_int(ctx, 1)));
	aml_append(m, i);
	aml_append(m, aml_return(ctx, aml_int(ctx, 0)));
	aml_append(blk, m);
	EXPECT_BODY(ctx, blk, 0x14, 0x10, 0x4d, 0x54, 0x48, 0x34, 0x02, 0xa0, 0x07, 0x90, 0x92,
		    0x68, 0x69, 0xa4, 0x01, 0xa4, 0x00);
}

/* Device (DEV1) {} Method (MTH5) { Notify (DEV1, 0x03) } */
static void test_notify(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *m = aml_method(ctx, "MTH5", 0, AML_NOT_SERIALIZED);

	aml_append(blk, aml_device(ctx, "DEV1"));
	aml_append(m, aml_notify(ctx, aml_name(ctx, "DEV1"), aml_int(ctx, 3)));
	aml_append(blk, m);
	EXPECT_BODY(ctx, blk, 0x5b, 0x82, 0x05, 0x44, 0x45, 0x56, 0x31, 0x14, 0x0d, 0x4d, 0x54,
		    0x48, 0x35, 0x00, 0x86, 0x44, 0x45, 0x56, 0x31, 0x0a, 0x03);
}

/* Mutex (MTX0, 0) Method (MTH6) { Acquire (MTX0, 0xFFFF) Release (MTX0) } */
static void test_mutex(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *m = aml_method(ctx, "MTH6", 0, AML_NOT_SERIALIZED);

	aml_append(blk, aml_mutex(ctx, "MTX0", 0));
	aml_append(m, aml_acquire(ctx, aml_name(ctx, "MTX0"), 0xFFFF));
	aml_append(m, aml_release(ctx, aml_name(ctx, "MTX0")));
	aml_append(blk, m);
	EXPECT_BODY(ctx, blk, 0x5b, 0x01, 0x4d, 0x54, 0x58, 0x30, 0x00, 0x14, 0x14, 0x4d, 0x54,
		    0x48, 0x36, 0x00, 0x5b, 0x23, 0x4d, 0x54, 0x58, 0x30, 0xff, 0xff, 0x5b, 0x27,
		    0x4d, 0x54, 0x58, 0x30);
}

/*
 * OperationRegion (REG0, SystemMemory, 0x09020000, 0x18)
 * Field (REG0, DWordAcc, NoLock, WriteAsZeros) { FLD0, 32, Offset (0x08), FLD1, 32 }
 */
static void test_opregion_field(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx);
	struct aml *f = aml_field(ctx, "REG0", AML_DWORD_ACC, AML_NO_LOCK, AML_WRITE_AS_ZEROS);

	aml_append(blk, aml_operation_region(ctx, "REG0", AML_SYSTEM_MEMORY, 0x09020000, 0x18));
	aml_append(f, aml_field_unit(ctx, "FLD0", 32));
	aml_append(f, aml_field_reserved(ctx, 32));
	aml_append(f, aml_field_unit(ctx, "FLD1", 32));
	aml_append(blk, f);
	EXPECT_BODY(ctx, blk, 0x5b, 0x80, 0x52, 0x45, 0x47, 0x30, 0x00, 0x0c, 0x00, 0x00, 0x02,
		    0x09, 0x0a, 0x18, 0x5b, 0x81, 0x12, 0x52, 0x45, 0x47, 0x30, 0x43, 0x46, 0x4c,
		    0x44, 0x30, 0x20, 0x00, 0x20, 0x46, 0x4c, 0x44, 0x31, 0x20);
}

/*
 * OperationRegion (REG1, SystemIO, 0x0100, 0x0100)
 * Field (REG1, ByteAcc, Lock, Preserve) { FLD3, 512 }
 * Field (REG1, AnyAcc, NoLock, WriteAsOnes) { FLD4, 8 }
 */
static void test_field_flags_and_long_unit(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx);
	struct aml *f1 = aml_field(ctx, "REG1", AML_BYTE_ACC, AML_LOCK, AML_PRESERVE);
	struct aml *f2 = aml_field(ctx, "REG1", AML_ANY_ACC, AML_NO_LOCK, AML_WRITE_AS_ONES);

	aml_append(blk, aml_operation_region(ctx, "REG1", AML_SYSTEM_IO, 0x100, 0x100));
	aml_append(f1, aml_field_unit(ctx, "FLD3", 512));
	aml_append(blk, f1);
	aml_append(f2, aml_field_unit(ctx, "FLD4", 8));
	aml_append(blk, f2);
	EXPECT_BODY(ctx, blk, 0x5b, 0x80, 0x52, 0x45, 0x47, 0x31, 0x01, 0x0b, 0x00, 0x01, 0x0b,
		    0x00, 0x01, 0x5b, 0x81, 0x0c, 0x52, 0x45, 0x47, 0x31, 0x11, 0x46, 0x4c, 0x44,
		    0x33, 0x40, 0x20, 0x5b, 0x81, 0x0b, 0x52, 0x45, 0x47, 0x31, 0x20, 0x46, 0x4c,
		    0x44, 0x34, 0x08);
}

/* Method (MTH7, 2) { Return (Arg0) } Method (MTH8) { Return (MTH7 (One, 0x02)) } */
static void test_method_call(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx);
	struct aml *m7 = aml_method(ctx, "MTH7", 2, AML_NOT_SERIALIZED);
	struct aml *m8 = aml_method(ctx, "MTH8", 0, AML_NOT_SERIALIZED);
	struct aml *args[2] = { aml_int(ctx, 1), aml_int(ctx, 2) };

	aml_append(m7, aml_return(ctx, aml_arg(ctx, 0)));
	aml_append(m8, aml_return(ctx, aml_call(ctx, "MTH7", 2, args)));
	aml_append(blk, m7);
	aml_append(blk, m8);
	EXPECT_BODY(ctx, blk, 0x14, 0x08, 0x4d, 0x54, 0x48, 0x37, 0x02, 0xa4, 0x68, 0x14, 0x0e,
		    0x4d, 0x54, 0x48, 0x38, 0x00, 0xa4, 0x4d, 0x54, 0x48, 0x37, 0x01, 0x0a, 0x02);
}

/* Scope (\_SB) { Method (MTH9, 1) { Return (Arg0) } } Method (MTHA) { Return (\_SB.MTH9 (0x0F)) } */
static void test_method_call_by_path(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *sb = aml_scope(ctx, "\\_SB");
	struct aml *m9 = aml_method(ctx, "MTH9", 1, AML_NOT_SERIALIZED);
	struct aml *ma = aml_method(ctx, "MTHA", 0, AML_NOT_SERIALIZED);
	struct aml *arg = aml_int(ctx, 0x0F);

	aml_append(m9, aml_return(ctx, aml_arg(ctx, 0)));
	aml_append(sb, m9);
	aml_append(blk, sb);
	aml_append(ma, aml_return(ctx, aml_call(ctx, "\\_SB.MTH9", 1, &arg)));
	aml_append(blk, ma);
	EXPECT_BODY(ctx, blk, 0x10, 0x0f, 0x5c, 0x5f, 0x53, 0x42, 0x5f, 0x14, 0x08, 0x4d, 0x54,
		    0x48, 0x39, 0x01, 0xa4, 0x68, 0x14, 0x13, 0x4d, 0x54, 0x48, 0x41, 0x00, 0xa4,
		    0x5c, 0x2e, 0x5f, 0x53, 0x42, 0x5f, 0x4d, 0x54, 0x48, 0x39, 0x0a, 0x0f);
}

/* Method (MTHB, 7) { Store (Arg6, Local7) Store (Arg0, Local0) } */
static void test_locals_args(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *m = aml_method(ctx, "MTHB", 7, AML_NOT_SERIALIZED);

	aml_append(m, aml_store(ctx, aml_arg(ctx, 6), aml_local(ctx, 7)));
	aml_append(m, aml_store(ctx, aml_arg(ctx, 0), aml_local(ctx, 0)));
	aml_append(blk, m);
	EXPECT_BODY(ctx, blk, 0x14, 0x0c, 0x4d, 0x54, 0x48, 0x42, 0x07, 0x70, 0x6e, 0x67, 0x70,
		    0x68, 0x60);
}

/* Name paths: no ASL of their own; encodings from ACPI 6.5 section 20.2.2. */
static void test_name_strings(void **state)
{
	static const struct {
		const char *path;
		uint8_t len, b[24];
	} cases[] = {
		{ "AB", 4, { 'A', 'B', '_', '_' } },
		{ "\\", 2, { '\\', 0x00 } },
		{ "^^X1", 6, { '^', '^', 'X', '1', '_', '_' } },
		{ "\\_SB.CPUS", 10, { '\\', 0x2e, '_', 'S', 'B', '_', 'C', 'P', 'U', 'S' } },
		{ "\\_SB.CPUS.C07F", 15, { '\\', 0x2f, 3, '_', 'S', 'B', '_', 'C', 'P', 'U', 'S',
					   'C', '0', '7', 'F' } },
	};
	struct aml_ctx *ctx = *state;
	uint8_t buf[32];
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(aml_serialize(ctx, aml_name(ctx, cases[i].path), buf,
					       sizeof(buf), &len), 0);
		assert_int_equal(len, cases[i].len);
		assert_memory_equal(buf, cases[i].b, len);
	}
}

/*
 * Name (_CRS, ResourceTemplate () {
 *     Memory32Fixed (ReadWrite, 0x09000000, 0x00001000)
 *     Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) { 0x21 } })
 */
static void test_resource_template(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *crs = aml_resource_template(ctx);
	const uint32_t irq = 0x21;

	aml_append(crs, aml_memory32_fixed(ctx, 0x09000000, 0x1000, AML_READ_WRITE));
	aml_append(crs, aml_interrupt(ctx, AML_RESOURCE_CONSUMER, AML_LEVEL, AML_ACTIVE_HIGH,
				      AML_EXCLUSIVE, &irq, 1));
	aml_append(blk, aml_name_decl(ctx, "_CRS", crs));
	EXPECT_BODY(ctx, blk, 0x08, 0x5f, 0x43, 0x52, 0x53, 0x11, 0x1a, 0x0a, 0x17, 0x86, 0x09,
		    0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x10, 0x00, 0x00, 0x89, 0x06, 0x00,
		    0x01, 0x01, 0x21, 0x00, 0x00, 0x00, 0x79, 0x00);
}

/*
 * Name (RES2, ResourceTemplate () {
 *     Memory32Fixed (ReadOnly, 0x12345678, 0x100)
 *     Interrupt (ResourceConsumer, Edge, ActiveLow, Shared) { 0x40, 0x41 } })
 */
static void test_resource_flags(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx), *crs = aml_resource_template(ctx);
	const uint32_t irqs[] = { 0x40, 0x41 };

	aml_append(crs, aml_memory32_fixed(ctx, 0x12345678, 0x100, AML_READ_ONLY));
	aml_append(crs, aml_interrupt(ctx, AML_RESOURCE_CONSUMER, AML_EDGE, AML_ACTIVE_LOW,
				      AML_SHARED, irqs, 2));
	aml_append(blk, aml_name_decl(ctx, "RES2", crs));
	EXPECT_BODY(ctx, blk, 0x08, 0x52, 0x45, 0x53, 0x32, 0x11, 0x1e, 0x0a, 0x1b, 0x86, 0x09,
		    0x00, 0x00, 0x78, 0x56, 0x34, 0x12, 0x00, 0x01, 0x00, 0x00, 0x89, 0x0a, 0x00,
		    0x0f, 0x02, 0x40, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x00, 0x79, 0x00);
}

/* DefinitionBlock ("", "SSDT", 2, "VMMVMM", "VMMTABLE", 1) {}: the header fields. */
static void test_definition_block_header(void **state)
{
	struct aml_ctx *ctx = *state;
	uint8_t buf[64];
	size_t len;
	uint8_t sum = 0;

	assert_int_equal(aml_serialize(ctx, test_block(ctx), buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 36);
	assert_memory_equal(buf, "SSDT\x24\x00\x00\x00\x02", 9);
	assert_memory_equal(buf + 10, "VMMVMMVMMTABLE\x01\x00\x00\x00INTL\x25\x09\x20\x20", 26);
	for (size_t i = 0; i < len; i++)
		sum += buf[i];
	assert_int_equal(sum, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, ctx_setup, ctx_teardown)
		T(test_integers_in_package),
		T(test_integer_boundaries),
		T(test_string),
		T(test_eisaid),
		T(test_buffer),
		T(test_pkglength_two_bytes),
		T(test_pkglength_three_bytes),
		T(test_scope_device),
		T(test_method_serialized),
		T(test_if_else),
		T(test_while_break_increment),
		T(test_arithmetic),
		T(test_logic),
		T(test_notify),
		T(test_mutex),
		T(test_opregion_field),
		T(test_field_flags_and_long_unit),
		T(test_method_call),
		T(test_method_call_by_path),
		T(test_locals_args),
		T(test_name_strings),
		T(test_resource_template),
		T(test_resource_flags),
		T(test_definition_block_header),
#undef T
	};

	return cmocka_run_group_tests_name("aml_encoding", tests, NULL, NULL);
}
