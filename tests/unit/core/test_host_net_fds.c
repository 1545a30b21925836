/*
 * Who closes the tap fds vm.add-net stored (vmm/host.c, on the fake
 * hypervisor): vmm ending before vm.boot closes them; a vm.boot that
 * fails closes each of them exactly once, wherever it fails (before the
 * VM, while creating it before the net device, at the net device itself,
 * after it); and vm.add-net closes what it refuses. "Exactly once" is
 * checked by reopening: the next fds take the closed numbers, and must
 * survive what vmm does afterwards. The tap cases run in a network
 * namespace of their own, skipped where that is not possible (not root,
 * a container).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <event2/event.h>

#include "fake_hv.h"
#include "vmm/host.h"

#define TAP "vmmfd0"

/* How the next hv_open behaves. */
static struct {
	int error;		/* hv_open fails with it */
	unsigned max_vcpus;	/* what get_caps reports */
	enum fake_op fail_op;	/* this backend call fails with -ENOMEM */
	bool fail;
} next_hv;

static bool have_netns;

static int fake_open(struct hv **out, struct hv_vm_params *vp, char *err, unsigned errlen)
{
	struct fake_hv *fh;

	(void)vp;
	if (next_hv.error) {
		snprintf(err, errlen, "no hypervisor here");
		return next_hv.error;
	}
	fh = fake_hv_new(next_hv.max_vcpus);
	if (!fh)
		return -ENOMEM;
	if (next_hv.fail)
		fake_hv_fail(fh, next_hv.fail_op, -ENOMEM);
	*out = fake_hv_hv(fh);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&next_hv, 0, sizeof(next_hv));
	next_hv.max_vcpus = 8;
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	have_netns = access("/dev/net/tun", R_OK | W_OK) == 0 && unshare(CLONE_NEWNET) == 0;
	return 0;
}

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* After vm.create: a configuration with no devices but the ones the test adds. */
static void created(struct run_ctx *rc)
{
	memset(rc, 0, sizeof(*rc));
	vm_config_defaults(&rc->created.cfg);
	rc->created.kernel = strdup("/nonexistent/Image");
	rc->created.cfg.kernel = rc->created.kernel;
	rc->created.cfg.console = CONSOLE_NONE;
	rc->have_config = true;
	rc->hv_open = fake_open;
}

/* Two devices, as vm.add-net stored them: two pipe fds, then one. */
static void add_pipes(struct run_ctx *rc, int fds[3])
{
	int p[2], q[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	close(q[1]);
	fds[0] = p[0], fds[1] = p[1], fds[2] = q[0];
	rc->created.cfg.net[0] = (struct vm_net_config){ .fds = { p[0], p[1] }, .nfds = 2, .pairs = 2 };
	rc->created.cfg.net[1] = (struct vm_net_config){ .fds = { q[0] }, .nfds = 1, .pairs = 1 };
	rc->created.cfg.nr_net = 2;
}

/*
 * vm.boot failed: every stored fd is closed now, the VM is still "Created"
 * without the devices, and vmm's exit closes none of the fds that took their
 * numbers since.
 */
static void boot_fails_and_closes(struct run_ctx *rc, const int *fds, unsigned n, unsigned before)
{
	char err[256] = "";
	int again[8][2];

	assert_int_not_equal(host_vmm_ops.boot(rc, err, sizeof(err)), 0);
	assert_true(err[0]);
	for (unsigned i = 0; i < n; i++)
		assert_false(is_open(fds[i]));
	assert_int_equal(open_fds(), before);
	assert_int_equal(host_vmm_ops.state(rc), VMM_VM_CREATED);
	assert_int_equal(rc->created.cfg.nr_net, 0);

	for (unsigned i = 0; i < n; i++)
		assert_int_equal(pipe(again[i]), 0);
	host_fini(rc);
	for (unsigned i = 0; i < n; i++) {
		assert_true(is_open(again[i][0]));
		assert_true(is_open(again[i][1]));
		close(again[i][0]);
		close(again[i][1]);
	}
	assert_int_equal(open_fds(), before);
}

/* Two devices of pipe fds stored, then vm.boot fails as next_hv (and max_cpus, if set) make it. */
static void pipes_then_boot_fails(unsigned max_cpus)
{
	struct run_ctx rc;
	unsigned before = open_fds();
	int fds[3];

	created(&rc);
	if (max_cpus)
		rc.created.cfg.max_cpus = max_cpus;
	add_pipes(&rc, fds);
	boot_fails_and_closes(&rc, fds, 3, before);
}

/* No hypervisor (no /dev/kvm): nothing of the VM exists. */
static void test_no_hypervisor(void **state)
{
	(void)state;
	next_hv.error = -ENOENT;
	pipes_then_boot_fails(0);
}

/* More vCPUs than the hypervisor has: refused before the VM. */
static void test_over_the_vcpu_limit(void **state)
{
	(void)state;
	next_hv.max_vcpus = 2;
	pipes_then_boot_fails(4);
}

/* Guest memory the hypervisor cannot map: vm_create stops before any device. */
static void test_memory_cannot_be_mapped(void **state)
{
	(void)state;
	next_hv.fail = true;
	next_hv.fail_op = FAKE_OP_MAP_MEMORY;
	pipes_then_boot_fails(0);
}

/* The vGIC fails: vCPUs exist, devices do not yet. */
static void test_gic_fails(void **state)
{
	(void)state;
	next_hv.fail = true;
	next_hv.fail_op = FAKE_OP_CREATE_GIC;
	pipes_then_boot_fails(0);
}

/*
 * The first net device fails on its own fds (a pipe takes no vnet header):
 * those are closed by the device's set-up, the second device's, never
 * reached, by the VM's teardown.
 */
static void test_net_device_fails(void **state)
{
	(void)state;
	pipes_then_boot_fails(0);
}

/* vmm.shutdown before vm.boot: the loop ends, and the taps are closed with it. */
static void test_shutdown_before_boot_closes_taps(void **state)
{
	struct run_ctx rc;
	int fds[3];

	(void)state;
	created(&rc);
	add_pipes(&rc, fds);
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

/* vm.add-net closes what it refuses: before vm.create, not a tap, one device too many. */
static void test_add_net_refused(void **state)
{
	struct vm_net_config n = { .nfds = 2, .pairs = 2 };
	struct run_ctx rc;
	unsigned before = open_fds();
	char err[256];
	int p[2];

	(void)state;
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(pipe(p), 0);
	n.fds[0] = p[0], n.fds[1] = p[1];
	assert_int_equal(host_vmm_ops.add_net(&rc, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not created"));
	assert_int_equal(open_fds(), before);

	created(&rc);
	assert_int_equal(pipe(p), 0);
	n.fds[0] = p[0], n.fds[1] = p[1];
	assert_int_equal(host_vmm_ops.add_net(&rc, &n, err, sizeof(err)), -ENOTTY);
	assert_non_null(strstr(err, "not a tap"));
	assert_int_equal(open_fds(), before);
	assert_int_equal(rc.created.cfg.nr_net, 0);

	rc.created.cfg.nr_net = VM_MAX_NET;	/* full (no fds of its own) */
	assert_int_equal(pipe(p), 0);
	n.fds[0] = p[0], n.fds[1] = p[1];
	assert_int_equal(host_vmm_ops.add_net(&rc, &n, err, sizeof(err)), -ENOSPC);
	assert_int_equal(open_fds(), before);
	rc.created.cfg.nr_net = 0;
	host_fini(&rc);
	assert_int_equal(open_fds(), before);
}

/* ------------------------------------------------------- on a real tap */

/* One queue of a new (non-persistent) tap: the interface lives while a queue is open. */
static int tap_queue(const char *name, bool multi_queue)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
					  (multi_queue ? IFF_MULTI_QUEUE : 0) };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	return fd;
}

/* vm.add-net of two queues of the tap, as the REST handler passes them. */
static void add_tap(struct run_ctx *rc, int fds[2])
{
	struct vm_net_config n = { .nfds = 2, .pairs = 2 };
	unsigned devices = rc->created.cfg.nr_net;
	char err[256];

	fds[0] = tap_queue(TAP, true);
	fds[1] = tap_queue(TAP, true);
	n.fds[0] = fds[0], n.fds[1] = fds[1];
	assert_int_equal(host_vmm_ops.add_net(rc, &n, err, sizeof(err)), 0);
	assert_int_equal(rc->created.cfg.nr_net, devices + 1);
	assert_true(if_nametoindex(TAP) > 0);
}

/* Before the device (memory cannot be mapped): the tap goes away with vm.boot's failure. */
static void test_tap_closed_when_boot_fails_before_device(void **state)
{
	struct run_ctx rc;
	unsigned before = open_fds();
	int fds[2];

	(void)state;
	if (!have_netns)
		skip();
	created(&rc);
	add_tap(&rc, fds);
	next_hv.fail = true;
	next_hv.fail_op = FAKE_OP_MAP_MEMORY;
	boot_fails_and_closes(&rc, fds, 2, before);
	assert_int_equal(if_nametoindex(TAP), 0);
}

/* After the device (the kernel is not one): the device closes the tap. */
static void test_tap_closed_when_kernel_cannot_be_loaded(void **state)
{
	char path[] = "/tmp/vmm-test-Image-XXXXXX";
	struct run_ctx rc;
	unsigned before = open_fds();
	int fds[2], k = mkstemp(path);

	(void)state;
	assert_true(k >= 0);
	assert_int_equal(write(k, "not a kernel", 12), 12);
	close(k);
	if (!have_netns) {
		unlink(path);
		skip();
	}
	created(&rc);
	free(rc.created.kernel);
	rc.created.kernel = strdup(path);
	rc.created.cfg.kernel = rc.created.kernel;
	add_tap(&rc, fds);
	boot_fails_and_closes(&rc, fds, 2, before);
	assert_int_equal(if_nametoindex(TAP), 0);
	unlink(path);
}

/* A second vm.add-net after a failed vm.boot is a device of its own, closed at exit. */
static void test_add_net_again_after_failed_boot(void **state)
{
	struct run_ctx rc;
	unsigned before = open_fds();
	char err[256];
	int fds[2], more[2];

	(void)state;
	if (!have_netns)
		skip();
	created(&rc);
	add_tap(&rc, fds);
	next_hv.error = -ENOENT;
	assert_int_equal(host_vmm_ops.boot(&rc, err, sizeof(err)), -ENOENT);
	assert_int_equal(if_nametoindex(TAP), 0);
	add_tap(&rc, fds);
	add_tap(&rc, more);	/* the same tap again: a second device with its own fds */
	host_fini(&rc);
	assert_int_equal(if_nametoindex(TAP), 0);
	assert_int_equal(open_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_shutdown_before_boot_closes_taps, setup),
		cmocka_unit_test_setup(test_fini_without_config, setup),
		cmocka_unit_test_setup(test_no_hypervisor, setup),
		cmocka_unit_test_setup(test_over_the_vcpu_limit, setup),
		cmocka_unit_test_setup(test_memory_cannot_be_mapped, setup),
		cmocka_unit_test_setup(test_gic_fails, setup),
		cmocka_unit_test_setup(test_net_device_fails, setup),
		cmocka_unit_test_setup(test_add_net_refused, setup),
		cmocka_unit_test_setup(test_tap_closed_when_boot_fails_before_device, setup),
		cmocka_unit_test_setup(test_tap_closed_when_kernel_cannot_be_loaded, setup),
		cmocka_unit_test_setup(test_add_net_again_after_failed_boot, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
