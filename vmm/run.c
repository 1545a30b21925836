#include "vmm/run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "vmm/api/api.h"
#include "vmm/host.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define CONSOLE_RETRY_MS 10

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct run_ctx *rc = arg;
	char buf[16];
	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	event_base_loopbreak(rc->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct run_ctx *rc = arg;
	(void)what;
	host_request_exit(rc, sig == SIGTERM ? "stopped by SIGTERM" : "stopped by SIGINT");
}

/* Hand pending input to the UART; true when all of it went in. */
static bool feed_uart(struct run_ctx *rc)
{
	size_t n = pl011_receive(&rc->vm->uart, rc->pending, rc->npending);
	memmove(rc->pending, rc->pending + n, rc->npending - n);
	rc->npending -= n;
	return rc->npending == 0;
}

static void on_console_retry(evutil_socket_t fd, short what, void *arg)
{
	struct run_ctx *rc = arg;
	(void)fd;
	(void)what;
	struct timeval tv = { 0, CONSOLE_RETRY_MS * 1000 };
	if (feed_uart(rc))
		event_add(rc->ev_stdin, NULL);
	else
		event_add(rc->ev_retry, &tv);
}

static void on_stdin(evutil_socket_t fd, short what, void *arg)
{
	struct run_ctx *rc = arg;
	(void)what;
	ssize_t n = read(fd, rc->pending, sizeof(rc->pending));
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		event_del(rc->ev_stdin);	/* end of input: the guest keeps running */
		return;
	}
	rc->npending = (size_t)n;
	if (!feed_uart(rc)) {
		struct timeval tv = { 0, CONSOLE_RETRY_MS * 1000 };
		event_del(rc->ev_stdin);
		event_add(rc->ev_retry, &tv);
	}
}

#define DROP_LOG_EVERY_MS 1000

/* Say so when guest output or log lines were lost, at most once a second. */
static void log_drops(struct run_ctx *rc, bool final)
{
	uint64_t now = vm_uptime_ms(rc->vm), total, lost;

	if (!final && rc->drop_logged_ms && now - rc->drop_logged_ms < DROP_LOG_EVERY_MS)
		return;
	uint64_t n = console_take_dropped(&rc->vm->console, &total);
	if (n) {
		vm_log(rc->vm, "console: %llu bytes of guest output dropped (%llu in total): "
		       "the console output is not read fast enough", (unsigned long long)n,
		       (unsigned long long)total);
		rc->drop_logged_ms = now ? now : 1;
	}
	n = rc->vm->log ? console_take_dropped(rc->vm->log, &lost) : 0;
	if (n) {
		vm_log(rc->vm, "log: %llu bytes of vmm's log dropped (%llu in total): stderr is not read "
		       "fast enough", (unsigned long long)n, (unsigned long long)lost);
		rc->drop_logged_ms = now ? now : 1;
	}
}

/* Write out what a ring holds, never waiting; watch its fd when it is full. */
static void drain(struct console *c, struct event *ready)
{
	if (console_drain(c, false) && ready && !event_pending(ready, EV_WRITE, NULL))
		event_add(ready, NULL);
}

/*
 * On a shared output, a log line must not land inside a guest line: it waits
 * while the guest's partial line is out, up to CONSOLE_LOG_HOLD_MS (the flush
 * timer comes back), then the guest's line is ended for it.
 */
static bool log_may_go(struct run_ctx *rc)
{
	if (!rc->log_shares_console)
		return true;
	if (console_line_held(&rc->vm->console, CONSOLE_LOG_HOLD_MS))
		return false;
	console_end_line(&rc->vm->console);	/* a partial line held long enough, if any */
	return true;
}

/* Kick, timer or writable: write out the console and the log. */
static void on_console_out(evutil_socket_t fd, short what, void *arg)
{
	struct run_ctx *rc = arg;
	(void)fd;
	(void)what;
	drain(&rc->vm->console, rc->ev_out_ready);
	if (rc->vm->log && log_may_go(rc))
		drain(rc->vm->log, rc->ev_log_ready);
	log_drops(rc, false);
}

/* Only pipes, terminals and sockets can be full; a regular file cannot be polled. */
static struct event *writable_event(struct run_ctx *rc, int fd)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || S_ISREG(st.st_mode))
		return NULL;
	return event_new(rc->base, fd, EV_WRITE, on_console_out, rc);
}

static void forward_event(void *opaque, const struct vm_event *ev)
{
	struct run_ctx *rc = opaque;
	if (rc->api)
		api_server_notify(rc->api, ev);
}

static void free_events(struct run_ctx *rc)
{
	struct event *evs[] = { rc->ev_stop, rc->ev_term, rc->ev_int, rc->ev_stdin, rc->ev_retry,
				rc->ev_flush, rc->ev_out_kick, rc->ev_out_ready, rc->ev_log_kick,
				rc->ev_log_ready };
	for (unsigned i = 0; i < ARRAY_SIZE(evs); i++) {
		if (evs[i])
			event_free(evs[i]);
	}
}

static bool stdin_pollable(void)
{
	struct stat st;
	if (fstat(STDIN_FILENO, &st) < 0)
		return false;
	return isatty(STDIN_FILENO) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
}

/* The loop without a VM: signals and the API. */
static int setup(struct run_ctx *rc, const char *api_socket, unsigned verbosity, char *err,
		 size_t errlen)
{
	if (evthread_use_pthreads() < 0) {
		snprintf(err, errlen, "libevent has no thread support");
		return -ENOSYS;
	}
	rc->base = event_base_new();
	if (!rc->base) {
		snprintf(err, errlen, "cannot create the event loop");
		return -ENOMEM;
	}
	rc->ev_term = evsignal_new(rc->base, SIGTERM, on_signal, rc);
	rc->ev_int = evsignal_new(rc->base, SIGINT, on_signal, rc);
	if (!rc->ev_term || !rc->ev_int ||
	    event_add(rc->ev_term, NULL) || event_add(rc->ev_int, NULL)) {
		snprintf(err, errlen, "cannot set up the event loop");
		return -ENOMEM;
	}
	if (api_socket) {
		int r = api_server_start(&rc->api, rc->base, api_socket, &host_vm_api_ops, rc,
					 err, errlen);
		if (r)
			return r;
		api_server_set_vmm(rc->api, &host_vmm_ops, rc);
		api_server_set_verbosity(rc->api, verbosity);
		vm_log(NULL, "API listening on %s", api_socket);
	}
	return 0;
}

int run_attach_vm(struct run_ctx *rc, struct vm *vm, char *err, size_t errlen)
{
	struct timeval flush_every = { 0, CONSOLE_POLL_MS * 1000 };
	int r;

	rc->vm = vm;
	rc->ev_stop = event_new(rc->base, vm->stop_pipe[0], EV_READ | EV_PERSIST, on_stop, rc);
	rc->ev_flush = event_new(rc->base, -1, EV_PERSIST, on_console_out, rc);
	rc->ev_out_kick = event_new(rc->base, console_kick_fd(&vm->console), EV_READ | EV_PERSIST,
				    on_console_out, rc);
	if (vm->log)
		rc->ev_log_kick = event_new(rc->base, console_kick_fd(vm->log), EV_READ | EV_PERSIST,
					    on_console_out, rc);
	if (!rc->ev_stop || !rc->ev_flush || !rc->ev_out_kick || (vm->log && !rc->ev_log_kick) ||
	    event_add(rc->ev_stop, NULL) || event_add(rc->ev_flush, &flush_every) ||
	    event_add(rc->ev_out_kick, NULL) || (rc->ev_log_kick && event_add(rc->ev_log_kick, NULL)) ||
	    cpu_target_new(&rc->target, rc->base, &vm_api_ops, vm)) {
		snprintf(err, errlen, "cannot set up the event loop");
		vm_request_stop(vm, VM_EXIT_ERROR, "%s", err);
		return -ENOMEM;
	}
	rc->ev_out_ready = writable_event(rc, vm->console.fd);
	if (vm->log) {
		rc->ev_log_ready = writable_event(rc, vm->log->fd);
		rc->log_shares_console = console_same_output(&vm->console, vm->log);
	}
	if (vm->cfg.console == CONSOLE_STDIO) {
		rc->ev_stdin = event_new(rc->base, STDIN_FILENO, EV_READ | EV_PERSIST, on_stdin, rc);
		rc->ev_retry = evtimer_new(rc->base, on_console_retry, rc);
		/* Files and /dev/null cannot be polled: then the guest gets no input. */
		if (rc->ev_stdin && (!stdin_pollable() || event_add(rc->ev_stdin, NULL))) {
			event_free(rc->ev_stdin);
			rc->ev_stdin = NULL;
		}
	}
	vm->event_fn = forward_event;
	vm->event_opaque = rc;
	r = vm_start(vm, err, errlen);
	if (r)
		vm_request_stop(vm, VM_EXIT_ERROR, "%s", err);
	return r;
}

/* After the loop: join the VM, tell subscribers, close the API; the exit status. */
static int finish(struct run_ctx *rc, int r)
{
	struct vm *vm = rc->vm;
	int status = 0;

	if (vm) {
		vm_join(vm);
		console_settle(&vm->console, CONSOLE_CLOSE_WAIT_MS);
		log_drops(rc, true);
		if (vm->log) {
			if (rc->log_shares_console)
				console_end_line(&vm->console);
			console_settle(vm->log, CONSOLE_CLOSE_WAIT_MS);
		}
	}
	if (rc->api) {
		api_server_notify(rc->api, &(struct vm_event){ .kind = VM_EVENT_VM_SHUTDOWN });
		/* Let the notification reach subscribers before the sockets close. */
		event_base_loop(rc->base, EVLOOP_NONBLOCK);
	}
	if (vm)
		vm->event_fn = NULL;
	if (rc->api)
		api_server_stop(rc->api);
	free_events(rc);
	cpu_target_free(rc->target);
	rc->target = NULL;
	if (rc->base)
		event_base_free(rc->base);
	if (r)
		return r;
	if (!vm)
		return 0;

	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		vm_log(vm, "%s (peak RSS %ld MiB, guest RAM included)", vm->exit_message, ru.ru_maxrss / 1024);
	else
		vm_log(vm, "%s", vm->exit_message);
	switch (vm->exit_reason) {
	case VM_EXIT_POWEROFF: status = 0; break;
	case VM_EXIT_RESET: status = VM_STATUS_RESET; break;
	default: status = 1; break;
	}
	return status;
}

int vm_run(struct vm *vm, char *err, size_t errlen)
{
	struct run_ctx rc = { 0 };
	int r;

	r = setup(&rc, vm->cfg.api_socket, vm->cfg.verbosity, err, errlen);
	if (r == 0)
		r = run_attach_vm(&rc, vm, err, errlen);
	else
		vm_request_stop(vm, VM_EXIT_ERROR, "%s", err);
	rc.vm = vm;
	if (r == 0)
		event_base_dispatch(rc.base);
	return finish(&rc, r);
}

int vmm_serve(const char *api_socket, unsigned verbosity,
	      int (*hv_open)(struct hv **, struct hv_vm_params *, char *, unsigned), char *err, size_t errlen)
{
	struct run_ctx rc = { .hv_open = hv_open };
	int r = setup(&rc, api_socket, verbosity, err, errlen);

	if (r == 0)
		event_base_dispatch(rc.base);
	r = finish(&rc, r);
	host_fini(&rc);
	return r;
}
