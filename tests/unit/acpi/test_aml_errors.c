/*
 * AML builder error handling: the first error sticks in the context, later
 * calls are no-ops, and aml_serialize reports it; plus buffer sizing.
 */
#include "tests/unit/acpi/aml_test_util.h"

#include <errno.h>

static void test_enospc_reports_size(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx);
	uint8_t buf[64];
	size_t len = 0;

	aml_append(blk, aml_name_decl(ctx, "_HID", aml_string(ctx, "ACPI0007")));
	assert_int_equal(aml_serialize(ctx, blk, buf, 10, &len), -ENOSPC);
	assert_int_equal(len, 36 + 15);
	assert_int_equal(aml_serialize(ctx, blk, NULL, 0, &len), -ENOSPC);
	assert_int_equal(len, 36 + 15);
	assert_int_equal(aml_serialize(ctx, blk, buf, 36 + 15, &len), 0);
	/* ENOSPC is a property of the call, not a builder error. */
	assert_int_equal(aml_error(ctx), 0);
}

static void test_first_error_kept(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *blk = test_block(ctx);
	uint8_t buf[256];
	size_t len = 1;

	assert_non_null(blk);
	assert_null(aml_local(ctx, 8));			/* Local8 does not exist */
	assert_int_equal(aml_error(ctx), -EINVAL);
	/* Every later call is a no-op returning NULL, whatever else is wrong. */
	assert_null(aml_int(ctx, 1));
	assert_null(aml_method(ctx, "GOOD", 1, AML_SERIALIZED));
	assert_null(aml_definition_block(ctx, NULL));
	aml_append(blk, NULL);
	assert_int_equal(aml_error(ctx), -EINVAL);
	assert_int_equal(aml_serialize(ctx, blk, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(len, 0);
}

static void test_arena_limit_is_enomem_and_sticks(void **state)
{
	struct aml_ctx ctx;
	struct aml *blk;
	size_t len;
	uint8_t buf[64];

	(void)state;
	assert_int_equal(aml_ctx_init(&ctx, 100 << 10), 0);
	blk = test_block(&ctx);
	for (int i = 0; i < 100000 && !aml_error(&ctx); i++)
		aml_append(blk, aml_int(&ctx, i));
	assert_int_equal(aml_error(&ctx), -ENOMEM);
	assert_null(aml_local(&ctx, 99));	/* would be -EINVAL: the first error stays */
	assert_int_equal(aml_error(&ctx), -ENOMEM);
	assert_int_equal(aml_serialize(&ctx, blk, buf, sizeof(buf), &len), -ENOMEM);
	aml_ctx_destroy(&ctx);
}

static void expect_einval(struct aml *(*make)(struct aml_ctx *ctx))
{
	struct aml_ctx ctx;

	assert_int_equal(aml_ctx_init(&ctx, 0), 0);
	assert_null(make(&ctx));
	assert_int_equal(aml_error(&ctx), -EINVAL);
	aml_ctx_destroy(&ctx);
}

static struct aml *bad_name_digit(struct aml_ctx *c) { return aml_name(c, "1ABC"); }
static struct aml *bad_name_long(struct aml_ctx *c) { return aml_name(c, "ABCDE"); }
static struct aml *bad_name_lower(struct aml_ctx *c) { return aml_device(c, "cpu0"); }
static struct aml *bad_name_empty_seg(struct aml_ctx *c) { return aml_name(c, "\\_SB..X"); }
static struct aml *bad_arg(struct aml_ctx *c) { return aml_arg(c, 7); }
static struct aml *bad_method_args(struct aml_ctx *c) { return aml_method(c, "M", 8, AML_SERIALIZED); }
static struct aml *bad_eisaid(struct aml_ctx *c) { return aml_eisaid(c, "pnp0A05"); }
static struct aml *bad_eisaid_hex(struct aml_ctx *c) { return aml_eisaid(c, "PNP0G05"); }
static struct aml *bad_field_path(struct aml_ctx *c) { return aml_field_unit(c, "A.B", 8); }
static struct aml *bad_field_bits(struct aml_ctx *c) { return aml_field_unit(c, "FLD", 0); }
static struct aml *bad_mutex_level(struct aml_ctx *c) { return aml_mutex(c, "MTX", 16); }
static struct aml *bad_store_null(struct aml_ctx *c) { return aml_store(c, aml_int(c, 1), NULL); }
static struct aml *bad_irq_count(struct aml_ctx *c)
{
	const uint32_t irq = 5;

	return aml_interrupt(c, AML_RESOURCE_CONSUMER, AML_LEVEL, AML_ACTIVE_HIGH, AML_EXCLUSIVE,
			     &irq, 0);
}
static struct aml *bad_enum(struct aml_ctx *c)
{
	return aml_field(c, "REG", (enum aml_access_type)9, AML_NO_LOCK, AML_PRESERVE);
}
static struct aml *bad_table_id(struct aml_ctx *c)
{
	const struct aml_table_id id = { .signature = "TOOLONG", .oem_id = "X",
					 .oem_table_id = "Y", .creator_id = "ABCD" };

	return aml_definition_block(c, &id);
}

static void test_invalid_arguments(void **state)
{
	struct aml *(*const cases[])(struct aml_ctx *) = {
		bad_name_digit, bad_name_long, bad_name_lower, bad_name_empty_seg, bad_arg,
		bad_method_args, bad_eisaid, bad_eisaid_hex, bad_field_path, bad_field_bits,
		bad_mutex_level, bad_store_null, bad_irq_count, bad_enum, bad_table_id,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_einval(cases[i]);
}

static void test_append_twice_is_einval(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *a = aml_scope(ctx, "A"), *b = aml_scope(ctx, "B"), *x = aml_int(ctx, 5);

	aml_append(a, x);
	assert_int_equal(aml_error(ctx), 0);
	aml_append(b, x);
	assert_int_equal(aml_error(ctx), -EINVAL);
}

static void test_table_cannot_be_a_child(void **state)
{
	struct aml_ctx *ctx = *state;

	aml_append(aml_scope(ctx, "A"), test_block(ctx));
	assert_int_equal(aml_error(ctx), -EINVAL);
}

static void test_package_over_255_is_e2big(void **state)
{
	struct aml_ctx *ctx = *state;
	struct aml *pkg = aml_package(ctx);

	for (int i = 0; i < 255; i++)
		aml_append(pkg, aml_int(ctx, i));
	assert_int_equal(aml_error(ctx), 0);
	aml_append(pkg, aml_int(ctx, 255));
	assert_int_equal(aml_error(ctx), -E2BIG);
}

static void test_serialize_foreign_node(void **state)
{
	struct aml_ctx *ctx = *state, other;
	uint8_t buf[16];
	size_t len;

	assert_int_equal(aml_ctx_init(&other, 0), 0);
	assert_int_equal(aml_serialize(ctx, aml_int(&other, 7), buf, sizeof(buf), &len), -EINVAL);
	aml_ctx_destroy(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, ctx_setup, ctx_teardown)
		T(test_enospc_reports_size),
		T(test_first_error_kept),
		T(test_arena_limit_is_enomem_and_sticks),
		T(test_invalid_arguments),
		T(test_append_twice_is_einval),
		T(test_table_cannot_be_a_child),
		T(test_package_over_255_is_e2big),
		T(test_serialize_foreign_node),
#undef T
	};

	return cmocka_run_group_tests_name("aml_errors", tests, NULL, NULL);
}
