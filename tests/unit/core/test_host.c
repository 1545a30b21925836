/*
 * The API-created VM's life cycle (vmm/host.c): tap fds that vm.add-net
 * stored in the created configuration are closed when vmm ends before
 * vm.boot handed them to a VM.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "vmm/host.h"

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

/* What vm.create + vm.add-net (two queue pairs' fds, then one more device) leave. */
static void created_with_net(struct run_ctx *rc, int fds[3])
{
	int p[2], q[2];

	memset(rc, 0, sizeof(*rc));
	vm_config_defaults(&rc->created.cfg);
	rc->created.kernel = strdup("/k/Image");
	rc->created.cfg.kernel = rc->created.kernel;
	rc->have_config = true;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	close(q[1]);
	fds[0] = p[0], fds[1] = p[1], fds[2] = q[0];
	rc->created.cfg.net[0] = (struct vm_net_config){ .fds = { p[0], p[1] }, .nfds = 2, .pairs = 2 };
	rc->created.cfg.net[1] = (struct vm_net_config){ .fds = { q[0] }, .nfds = 1, .pairs = 1 };
	rc->created.cfg.nr_net = 2;
}

/* vmm.shutdown before vm.boot: the loop ends, and the taps are closed with it. */
static void test_shutdown_before_boot_closes_taps(void **state)
{
	struct run_ctx rc;
	int fds[3];

	(void)state;
	created_with_net(&rc, fds);
	rc.base = event_base_new();
	assert_non_null(rc.base);
	host_vmm_ops.shutdown(&rc);
	assert_int_equal(host_vmm_ops.state(&rc), VMM_VM_SHUTDOWN);
	for (int i = 0; i < 3; i++)
		assert_true(is_open(fds[i]));
	host_fini(&rc);
	for (int i = 0; i < 3; i++)
		assert_false(is_open(fds[i]));
	assert_false(rc.have_config);
	event_base_free(rc.base);
}

/* A VM that never got a config has nothing to close, and fini twice is harmless. */
static void test_fini_without_config(void **state)
{
	struct run_ctx rc;
	int p[2];

	(void)state;
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(pipe(p), 0);
	host_fini(&rc);
	host_fini(&rc);
	assert_true(is_open(p[0]));
	assert_true(is_open(p[1]));
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shutdown_before_boot_closes_taps),
		cmocka_unit_test(test_fini_without_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
