#include "testvm.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/arm64/psci.h"

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void write_kernel(const char *path, uint64_t image_size, bool bad_magic)
{
	uint8_t img[4096];

	for (unsigned i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7 + 3);
	memset(img, 0, 64);
	put_le64(img + 8, TEST_TEXT_OFFSET);
	put_le64(img + 16, image_size);
	put_le64(img + 24, 0xa);	/* little-endian, 4K pages */
	memcpy(img + 56, bad_magic ? "ARM\x65" : "ARM\x64", 4);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, sizeof(img), f), sizeof(img));
	assert_int_equal(fclose(f), 0);
}

static void on_event(void *opaque, const struct vm_event *ev)
{
	struct testvm *t = opaque;

	pthread_mutex_lock(&t->ev_lock);
	if (t->nevents < sizeof(t->events) / sizeof(t->events[0]))
		t->events[t->nevents++] = *ev;
	pthread_mutex_unlock(&t->ev_lock);
}

int testvm_create(struct testvm *t, const struct testvm_opts *o)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->ev_lock, NULL);
	snprintf(t->dir, sizeof(t->dir), "/tmp/vmm-test-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->kernel, sizeof(t->kernel), "%s/Image", t->dir);
	snprintf(t->console, sizeof(t->console), "%s/console.log", t->dir);
	write_kernel(t->kernel, o->image_size ? o->image_size : TEST_IMAGE_SIZE, o->bad_magic);

	t->cfg = (struct vm_config){
		.boot_cpus = o->boot,
		.max_cpus = o->max,
		.memory_bytes = o->memory ? o->memory : 64ULL << 20,
		.kernel = t->kernel,
		.cmdline = o->cmdline,
		.boot_mode = o->mode,
		.console = o->console_file || o->console_path ? CONSOLE_FILE : CONSOLE_NONE,
		.console_path = o->console_path ? o->console_path : o->console_file ? t->console : NULL,
		.rng_source = o->rng,
		.memory_shared = o->memory_shared,
	};
	if (o->fs_socket) {
		t->cfg.nfs = 1;
		t->cfg.fs[0] = (struct vm_fs_config){ .tag = "share", .num_queues = 1, .queue_size = 1024 };
		snprintf(t->cfg.fs[0].socket, sizeof(t->cfg.fs[0].socket), "%s", o->fs_socket);
	}
	for (unsigned i = 0; i < o->ndisks && i < VM_MAX_DISKS; i++)
		t->cfg.disks[t->cfg.ndisks++] = o->disks[i];
	t->fh = fake_hv_new(o->max + 2);	/* the VM must not create more than max */
	assert_non_null(t->fh);
	if (o->fail_err)
		fake_hv_fail(t->fh, o->fail_op, o->fail_err);
	if (o->no_pmu)
		fake_hv_set_pmu(t->fh, false);
	t->vm = calloc(1, sizeof(*t->vm));
	assert_non_null(t->vm);
	int r = vm_create(t->vm, &t->cfg, fake_hv_hv(t->fh), t->err, sizeof(t->err));
	if (r == 0) {
		t->vm->event_fn = on_event;
		t->vm->event_opaque = t;
	}
	return r;
}

void testvm_start(struct testvm *t)
{
	if (vm_start(t->vm, t->err, sizeof(t->err)))
		fail_msg("vm_start: %s", t->err);
}

void testvm_finish(struct testvm *t)
{
	if (t->vm) {
		vm_request_stop(t->vm, VM_EXIT_POWEROFF, "test finished");
		vm_destroy(t->vm);
		free(t->vm);
		t->vm = NULL;
	}
	fake_hv_free(t->fh);
	t->fh = NULL;
	unlink(t->kernel);
	unlink(t->console);
	rmdir(t->dir);
	pthread_mutex_destroy(&t->ev_lock);
}

bool testvm_wait_stopped(struct testvm *t, unsigned timeout_ms)
{
	struct pollfd p = { .fd = t->vm->stop_pipe[0], .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, (int)timeout_ms);
	while (r < 0 && errno == EINTR);
	return r == 1;
}

struct cpu_info testvm_cpu(struct testvm *t, unsigned id)
{
	struct cpu_info list[64];

	memset(list, 0, sizeof(list));
	int n = vm_api_ops.cpu_list(t->vm, list, 64);
	assert_int_equal(n, (int)t->cfg.max_cpus);
	assert_true(id < (unsigned)n);
	assert_int_equal(list[id].id, id);
	return list[id];
}

unsigned long testvm_wakeups(struct testvm *t, unsigned id)
{
	pthread_mutex_lock(&t->vm->lock);
	unsigned long n = t->vm->vcpus[id].wakeups;
	pthread_mutex_unlock(&t->vm->lock);
	return n;
}

bool testvm_wait_parked(struct testvm *t, unsigned id)
{
	for (int i = 0; i < TMO; i++) {
		pthread_mutex_lock(&t->vm->lock);
		bool parked = t->vm->vcpus[id].parked;
		pthread_mutex_unlock(&t->vm->lock);
		if (parked)
			return true;
		usleep(1000);
	}
	return false;
}

bool testvm_wait_online(struct testvm *t, unsigned id, bool online, unsigned timeout_ms)
{
	for (unsigned waited = 0; waited <= timeout_ms; waited++) {
		if (testvm_cpu(t, id).online == online)
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

unsigned testvm_events(struct testvm *t, enum vm_event_kind kind, unsigned cpu)
{
	unsigned n = 0;

	pthread_mutex_lock(&t->ev_lock);
	for (unsigned i = 0; i < t->nevents; i++)
		n += t->events[i].kind == kind && t->events[i].cpu == cpu;
	pthread_mutex_unlock(&t->ev_lock);
	return n;
}

bool testvm_wait_events(struct testvm *t, enum vm_event_kind kind, unsigned cpu, unsigned n,
			unsigned timeout_ms)
{
	for (unsigned waited = 0; waited <= timeout_ms; waited++) {
		if (testvm_events(t, kind, cpu) >= n)
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

size_t testvm_console(struct testvm *t, char *buf, size_t cap)
{
	/* What the main loop's flush timer would have written by now. */
	console_flush(&t->vm->console);
	int fd = open(t->console, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = 0;
	return (size_t)n;
}

/* ---- checked shorthands for the VM tests ---- */

const struct testvm_opts acpi_2_4 = { .boot = 2, .max = 4, .mode = BOOT_MODE_ACPI };

void create_ok(struct testvm *t, const struct testvm_opts *o)
{
	if (testvm_create(t, o))
		fail_msg("vm_create: %s", t->err);
}

/* Start and wait until vCPU 0 runs the guest (blocks for its first exit). */
void start_ok(struct testvm *t)
{
	testvm_start(t);
	assert_true(fake_hv_wait_resets(t->fh, 0, 1, TMO));
	assert_true(fake_hv_wait_idle(t->fh, 0, TMO));
}

int64_t psci(struct testvm *t, unsigned vcpu, uint32_t func, uint64_t a1, uint64_t a2, uint64_t a3)
{
	int64_t r = fake_hv_call(t->fh, vcpu, func, a1, a2, a3, TMO);
	if (r == INT64_MIN || r == INT64_MIN + 1)
		fail_msg("vcpu%u: hypercall 0x%x was not answered", vcpu, func);
	return r;
}

uint64_t mmio_read(struct testvm *t, unsigned vcpu, uint64_t addr, unsigned len)
{
	bool ok;
	uint64_t v = fake_hv_mmio_read(t->fh, vcpu, addr, len, TMO, &ok);
	if (!ok)
		fail_msg("vcpu%u: MMIO read of 0x%llx not answered (or junk above len)", vcpu,
			 (unsigned long long)addr);
	return v;
}

/* MMIO writes, then wait until the vCPU asks for more (all were handled). */
void mmio_write(struct testvm *t, unsigned vcpu, uint64_t addr, unsigned len, uint64_t v)
{
	unsigned n = fake_hv_answer_count(t->fh, vcpu);
	fake_hv_push_mmio_write(t->fh, vcpu, addr, len, v);
	assert_true(fake_hv_wait_answers(t->fh, vcpu, n + 1, TMO));
}

uint32_t guest_eject(struct testvm *t, unsigned vcpu, unsigned id)
{
	mmio_write(t, vcpu, CPUHP_BASE + CPUHP_REG_SELECT, 4, id);
	mmio_write(t, vcpu, CPUHP_BASE + CPUHP_REG_COMMAND, 4, CPUHP_CMD_EJECT);
	return (uint32_t)mmio_read(t, vcpu, CPUHP_BASE + CPUHP_REG_STATUS, 4);
}

void guest_ost(struct testvm *t, unsigned vcpu, unsigned id, uint32_t event, uint32_t status)
{
	mmio_write(t, vcpu, CPUHP_BASE + CPUHP_REG_SELECT, 4, id);
	mmio_write(t, vcpu, CPUHP_BASE + CPUHP_REG_OST_EVENT, 4, event);
	mmio_write(t, vcpu, CPUHP_BASE + CPUHP_REG_OST_STATUS, 4, status);
}

/* Guest-side CPU_ON of vCPU id (SMC64), as Linux issues it. */
int64_t cpu_on(struct testvm *t, unsigned caller, unsigned id, uint64_t entry, uint64_t ctx)
{
	return psci(t, caller, PSCI_FN64_CPU_ON, arm64_mpidr_of_vcpu(id), entry, ctx);
}
