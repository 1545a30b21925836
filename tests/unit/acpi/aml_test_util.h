/* Shared by the AML unit tests: a context per test and a table comparer. */
#ifndef TESTS_UNIT_ACPI_AML_TEST_UTIL_H
#define TESTS_UNIT_ACPI_AML_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "acpi/aml.h"

static inline int ctx_setup(void **state)
{
	struct aml_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx || aml_ctx_init(ctx, 0))
		return -1;
	*state = ctx;
	return 0;
}

static inline int ctx_teardown(void **state)
{
	aml_ctx_destroy(*state);
	free(*state);
	return 0;
}

/* The table iasl makes from DefinitionBlock ("", "SSDT", 2, "VMMVMM", "VMMTABLE", 1). */
static inline struct aml *test_block(struct aml_ctx *ctx)
{
	const struct aml_table_id id = {
		.signature = "SSDT", .revision = 2, .oem_id = "VMMVMM",
		.oem_table_id = "VMMTABLE", .oem_revision = 1,
		.creator_id = "INTL", .creator_revision = 0x20200925,
	};

	return aml_definition_block(ctx, &id);
}

/* Serialize block and compare what follows the 36-byte header with want. */
static inline void expect_body(struct aml_ctx *ctx, struct aml *block, const uint8_t *want,
			       size_t n)
{
	const size_t cap = 36 + n + 64;
	uint8_t *buf = malloc(cap), sum = 0;
	size_t len = 0;

	assert_non_null(buf);
	assert_int_equal(aml_serialize(ctx, block, buf, cap, &len), 0);
	assert_int_equal(len, 36 + n);
	assert_memory_equal(buf + 36, want, n);
	for (size_t i = 0; i < len; i++)
		sum += buf[i];
	assert_int_equal(sum, 0);
	free(buf);
}

#define EXPECT_BODY(ctx, block, ...)                                             \
	do {                                                                     \
		static const uint8_t want_[] = { __VA_ARGS__ };                  \
		expect_body((ctx), (block), want_, sizeof(want_));               \
	} while (0)

#endif
