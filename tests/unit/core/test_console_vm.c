/*
 * A guest that floods its console, or vmm's own log, while nobody reads the
 * output: vCPUs never wait for the reader, so pause and SIGTERM complete,
 * and the log says how much was dropped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/arm64/layout.h"
#include "devices/cpuhp.h"
#include "devices/pl011.h"
#include "testvm.h"
#include "vmm/run.h"

#define GUEST_BYTES (CONSOLE_BUF_SIZE + 16 * 1024)	/* more than ring and pipe hold */

static uint64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * With stderr on err_fd (vmm's log: taken when the VM is created): create
 * the VM, run guest_fn(arg) on a thread while vm_run serves it, then finish
 * (which writes out the rest of the log) and give stderr back. vm_run's
 * status; *stopped_ms: when vm_run returned.
 */
static int run_vm(struct testvm *t, const struct testvm_opts *o, int err_fd,
		  void *(*guest_fn)(void *), void *arg, uint64_t *stopped_ms)
{
	pthread_t th;
	int saved = dup(STDERR_FILENO);

	assert_true(saved >= 0);
	fflush(stderr);
	dup2(err_fd, STDERR_FILENO);
	create_ok(t, o);
	assert_int_equal(pthread_create(&th, NULL, guest_fn, arg), 0);
	int status = vm_run(t->vm, t->err, sizeof(t->err));
	if (stopped_ms)
		*stopped_ms = ms_now();
	pthread_join(th, NULL);
	testvm_finish(t);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	return status;
}

struct guest {
	struct testvm *t;
	bool wrote_all;
	const char *failed;
	uint64_t pause_ms, stop_ms;
};

static void guest(struct guest *g)
{
	struct fake_hv *fh = g->t->fh;

	if (!fake_hv_wait_idle(fh, 0, TMO)) {
		g->failed = "vCPU 0 never ran";
		return;
	}
	/* Lines of 64 through the UART's data register, 32 exits at a time. */
	unsigned n = 0;	/* nothing was scripted before */
	for (unsigned i = 0; i < GUEST_BYTES; i += 32) {
		for (unsigned j = 0; j < 32; j++)
			fake_hv_push_mmio_write(fh, 0, UART_BASE + PL011_REG_DR, 4,
						(i + j) % 64 == 63 ? '\n' : 'a' + (i + j) / 64 % 26);
		n += 32;
		if (!fake_hv_wait_consumed(fh, 0, n, TMO) || !fake_hv_wait_idle(fh, 0, TMO)) {
			g->failed = "the vCPU is stuck in a console write";
			return;
		}
	}
	g->wrote_all = true;

	uint64_t t0 = ms_now();
	if (vm_pause(g->t->vm) == 0) {
		g->pause_ms = ms_now() - t0;
		if (vm_resume(g->t->vm))
			g->failed = "resume failed";
	} else {
		g->failed = "pause failed";
	}
}

static void *guest_main(void *arg)
{
	struct guest *g = arg;

	guest(g);
	g->stop_ms = ms_now();
	kill(getpid(), SIGTERM);
	return NULL;
}

static void test_flood_unread_console(void **state)
{
	struct testvm t;
	char path[64], logpath[] = "/tmp/vmm-console-log-XXXXXX";
	int p[2];
	uint64_t stopped;
	(void)state;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_true(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	struct testvm_opts o = { .boot = 1, .max = 2, .mode = BOOT_MODE_ACPI, .console_path = path };

	/* The VMM's log into a file. */
	int logfd = mkstemp(logpath);
	assert_true(logfd >= 0);
	struct guest g = { .t = &t };
	int status = run_vm(&t, &o, logfd, guest_main, &g, &stopped);

	if (g.failed)
		fail_msg("guest: %s", g.failed);
	assert_int_equal(status, 0);
	assert_true(g.wrote_all);
	assert_true(g.pause_ms < 1000);
	/* Stop: at most CONSOLE_CLOSE_WAIT_MS for the reader that never comes. */
	assert_true(stopped - g.stop_ms < CONSOLE_CLOSE_WAIT_MS + 2000);

	char log[8192];
	ssize_t n = pread(logfd, log, sizeof(log) - 1, 0);
	assert_true(n > 0);
	log[n] = 0;
	assert_non_null(strstr(log, "bytes of guest output dropped"));
	close(logfd);
	unlink(logpath);
	close(p[0]);
	close(p[1]);
}

#define OST_WRITES 3000		/* ~90 bytes of log each: far more than ring and pipe hold */

struct log_guest {
	struct testvm *t;
	int rd;			/* the stderr pipe's read end, read only once the flood is over */
	const char *failed;
	uint64_t flood_ms;
	char seen[256 * 1024];
	size_t nseen;
};

static void read_some(struct log_guest *g, unsigned ms)
{
	for (uint64_t end = ms_now() + ms; ms_now() < end;) {
		ssize_t n = read(g->rd, g->seen + g->nseen, sizeof(g->seen) - 1 - g->nseen);
		if (n > 0)
			g->nseen += (size_t)n;
		else
			usleep(5000);
	}
	g->seen[g->nseen] = 0;
}

static void *log_guest_main(void *arg)
{
	struct log_guest *g = arg;
	struct fake_hv *fh = g->t->fh;

	if (!fake_hv_wait_idle(fh, 0, TMO)) {
		g->failed = "vCPU 0 never ran";
		goto out;
	}
	/* Every _OST the guest reports is a log line, made on the vCPU thread. */
	uint64_t t0 = ms_now();
	for (unsigned i = 0; i < OST_WRITES; i += 50) {
		for (unsigned j = 0; j < 50; j++)
			fake_hv_push_mmio_write(fh, 0, CPUHP_BASE + CPUHP_REG_OST_STATUS, 4, i + j);
		if (!fake_hv_wait_consumed(fh, 0, i + 50, TMO) || !fake_hv_wait_idle(fh, 0, TMO)) {
			g->failed = "the vCPU is stuck in a log write";
			goto out;
		}
	}
	g->flood_ms = ms_now() - t0;
	/* Now a reader comes: the main loop says what was lost and goes on. */
	read_some(g, 1500);
out:
	kill(getpid(), SIGTERM);
	return NULL;
}

static void test_flood_unread_log(void **state)
{
	struct testvm t;
	int p[2];
	(void)state;

	/* stderr blocks when full, as a terminal or pipe nobody reads does. */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	assert_true(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
	struct testvm_opts o = { .boot = 1, .max = 2, .mode = BOOT_MODE_ACPI };
	struct log_guest *g = calloc(1, sizeof(*g));
	assert_non_null(g);
	g->t = &t;
	g->rd = p[0];
	int status = run_vm(&t, &o, p[1], log_guest_main, g, NULL);
	read_some(g, 100);

	if (g->failed)
		fail_msg("guest: %s", g->failed);
	assert_int_equal(status, 0);
	assert_true(g->flood_ms < 3000);
	assert_non_null(strstr(g->seen, "bytes of vmm's log dropped"));
	assert_non_null(strstr(g->seen, "_OST event"));
	assert_non_null(strstr(g->seen, "stopped by SIGTERM"));	/* the last line, once read */
	free(g);
	close(p[0]);
	close(p[1]);
}

/*
 * The guest's console and vmm's log on one pipe (a terminal, or the serial
 * line of a machine around us): a log line made while the guest's partial
 * line is out must not land inside it.
 */
struct splice_guest {
	struct testvm *t;
	const char *failed;
	unsigned pushed;
};

static bool push(struct splice_guest *g, uint64_t addr, uint64_t val)
{
	fake_hv_push_mmio_write(g->t->fh, 0, addr, 4, val);
	g->pushed++;
	return fake_hv_wait_consumed(g->t->fh, 0, g->pushed, TMO) && fake_hv_wait_idle(g->t->fh, 0, TMO);
}

static bool say(struct splice_guest *g, const char *text)
{
	for (; *text; text++)
		if (!push(g, UART_BASE + PL011_REG_DR, (uint8_t)*text))
			return false;
	return true;
}

/* What the guest does, in order: UART text, or an _OST write (a log line), then a pause. */
static const struct splice_step {
	const char *text;
	uint32_t ost;
	unsigned pause_ms;
} splice_steps[] = {
	/* A line the guest stalls in: its start goes out once the guest is idle. */
	{ "E2E step0=0/0", 0, CONSOLE_IDLE_MS + 3 * CONSOLE_POLL_MS },
	/* A log line now, then the rest of the guest's line. */
	{ NULL, 1, 4 * CONSOLE_POLL_MS },
	{ "\n", 0, 0 },
	/* A prompt that never ends: the log waits for it only so long. */
	{ "login: ", 0, CONSOLE_IDLE_MS + 3 * CONSOLE_POLL_MS },
	{ NULL, 2, CONSOLE_LOG_HOLD_MS + 4 * CONSOLE_POLL_MS },
};

static void *splice_guest_main(void *arg)
{
	struct splice_guest *g = arg;

	if (!fake_hv_wait_idle(g->t->fh, 0, TMO))
		g->failed = "vCPU 0 never ran";
	for (size_t i = 0; !g->failed && i < sizeof(splice_steps) / sizeof(splice_steps[0]); i++) {
		const struct splice_step *st = &splice_steps[i];

		if (st->text ? !say(g, st->text) : !push(g, CPUHP_BASE + CPUHP_REG_OST_STATUS, st->ost))
			g->failed = st->text ? "UART write stuck" : "_OST write stuck";
		usleep(st->pause_ms * 1000);
	}
	kill(getpid(), SIGTERM);
	return NULL;
}

static void test_log_never_splices_guest_line(void **state)
{
	struct testvm t;
	char path[64], out[16384];
	int p[2];
	(void)state;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	struct testvm_opts o = { .boot = 1, .max = 2, .mode = BOOT_MODE_ACPI, .console_path = path };
	struct splice_guest g = { .t = &t };
	int status = run_vm(&t, &o, p[1], splice_guest_main, &g, NULL);
	ssize_t n = read(p[0], out, sizeof(out) - 1);
	assert_true(n > 0);
	out[n] = 0;
	close(p[0]);
	close(p[1]);

	if (g.failed)
		fail_msg("guest: %s", g.failed);
	assert_int_equal(status, 0);
	/* The guest's line is whole, and the log line made inside it comes after it. */
	char *line = strstr(out, "E2E step0=0/0");
	if (!line || line[13] != '\n')
		fail_msg("the guest's line was split:\n%s", out);
	char *ost1 = strstr(out, "_OST event 0x0 status 0x1");
	assert_non_null(ost1);
	assert_true(ost1 > line);
	/* The prompt held the second log line only so long: it was ended for it. */
	char *prompt = strstr(out, "login: ");
	char *ost2 = strstr(out, "_OST event 0x0 status 0x2");
	assert_non_null(prompt);
	assert_non_null(ost2);
	if (strncmp(prompt, "login: \nvmm: [", 14) != 0)
		fail_msg("a log line did not start a line of its own:\n%s", out);
	assert_true(ost2 > prompt);
	/* Every vmm line starts a line. */
	for (char *v = strstr(out, "vmm: ["); v; v = strstr(v + 1, "vmm: ["))
		if (v != out && v[-1] != '\n')
			fail_msg("a log line starts inside another line:\n%s", out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_unread_console),
		cmocka_unit_test(test_flood_unread_log),
		cmocka_unit_test(test_log_never_splices_guest_line),
	};
	return cmocka_run_group_tests_name("core_console_vm", tests, NULL, NULL);
}
