/* Guest RAM: private anonymous memory, or a memfd a vhost-user backend can map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "testvm.h"

static void test_private_by_default(void **state)
{
	struct testvm t;
	(void)state;
	assert_int_equal(testvm_create(&t, &(struct testvm_opts){ .boot = 1, .max = 1 }), 0);
	assert_int_equal(t.vm->ram_fd, -1);
	testvm_finish(&t);
}

static void test_shared_is_a_memfd(void **state)
{
	struct testvm t;
	struct stat st;
	uint8_t b = 0;
	(void)state;
	assert_int_equal(testvm_create(&t, &(struct testvm_opts){ .boot = 1, .max = 1,
		.memory = 128ULL << 20, .memory_shared = true }), 0);
	assert_true(t.vm->ram_fd >= 0);
	assert_int_equal(fstat(t.vm->ram_fd, &st), 0);
	assert_true((uint64_t)st.st_size == 128ULL << 20);
	/* What the guest writes is what another mapping of the fd sees. */
	t.vm->ram[(64 << 20) + 3] = 0xa5;
	assert_int_equal(pread(t.vm->ram_fd, &b, 1, (64 << 20) + 3), 1);
	assert_int_equal(b, 0xa5);
	testvm_finish(&t);
}

/* --fs with no backend listening: vm_create fails and says which socket. */
static void test_fs_without_backend(void **state)
{
	struct testvm t;
	(void)state;
	assert_true(testvm_create(&t, &(struct testvm_opts){ .boot = 1, .max = 1,
		.memory_shared = true, .fs_socket = "/nonexistent/vfs.sock" }) < 0);
	assert_non_null(strstr(t.err, "/nonexistent/vfs.sock"));
	assert_non_null(strstr(t.err, "cannot connect"));
	testvm_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_by_default),
		cmocka_unit_test(test_shared_is_a_memfd),
		cmocka_unit_test(test_fs_without_backend),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
