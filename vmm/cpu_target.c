#include "vmm/cpu_target.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/event.h>


#define MAX_POSSIBLE 512

enum step_kind { STEP_NONE, STEP_ADD, STEP_REMOVE };

struct cpu_target {
	const struct vm_api_ops *ops;
	void *vm;
	struct event *tick;
	struct cpu_target_status st;
	enum step_kind step;
	uint64_t step_started_ms;
	uint64_t pending_since_ms;	/* another hotplug event waits for the guest: since when */
	int add_ack_ms, remove_ms;
	struct cpu_info cpus[MAX_POSSIBLE];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *cpu_target_state_name(enum cpu_target_state s)
{
	switch (s) {
	case CPU_TARGET_IDLE: return "idle";
	case CPU_TARGET_CONVERGING: return "converging";
	case CPU_TARGET_STALLED: return "stalled";
	}
	return "unknown";
}

static void arm(struct cpu_target *t)
{
	const struct timeval tv = { 0, CPU_TARGET_TICK_MS * 1000 };

	if (evtimer_add(t->tick, &tv) < 0)
		vm_api_log(t->ops, t->vm, "resize: cannot arm the timer");
}

static void stall(struct cpu_target *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void stall(struct cpu_target *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->st.reason, sizeof(t->st.reason), fmt, ap);
	va_end(ap);
	t->st.state = CPU_TARGET_STALLED;
	t->st.step_cpu = -1;
	t->step = STEP_NONE;
	vm_api_log(t->ops, t->vm, "resize to %d vCPUs stalled: %s", t->st.target, t->st.reason);
}

/* Is the step in flight finished? May stall the target (remove refused). */
static bool step_finished(struct cpu_target *t, int n)
{
	unsigned cpu = (unsigned)t->st.step_cpu;
	uint64_t waited = now_ms() - t->step_started_ms;

	if (t->step == STEP_NONE)
		return true;
	if ((int)cpu >= n)
		return true;
	if (t->step == STEP_ADD)
		return true;	/* enabled at once; tick() waits for the guest to take the event */
	if (!t->cpus[cpu].enabled)
		return true;	/* the guest ejected it */
	if (waited < (uint64_t)t->remove_ms)
		return false;
	/* The guest may have ejected it just now: then the step is done. */
	if (t->ops->cpu_remove_cancel(t->vm, cpu, NULL) == -VM_ERR_NOT_ENABLED)
		return true;
	stall(t, "the guest did not offline and eject vcpu%u within %d ms; it stays enabled",
	      cpu, t->remove_ms);
	return false;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct cpu_target *t = arg;
	int n, enabled = 0, lowest_free = -1, highest = -1, rc;

	(void)fd;
	(void)what;
	if (t->st.state != CPU_TARGET_CONVERGING)
		return;
	n = t->ops->cpu_list(t->vm, t->cpus, MAX_POSSIBLE);
	if (n < 0) {
		stall(t, "cannot list the vCPUs: %s", strerror(-n));
		return;
	}
	if (n > MAX_POSSIBLE)
		n = MAX_POSSIBLE;
	if (!step_finished(t, n)) {
		if (t->st.state == CPU_TARGET_CONVERGING)
			arm(t);
		return;
	}
	t->step = STEP_NONE;
	t->st.step_cpu = -1;
	int pending_cpu = -1;

	for (int i = 0; i < n; i++) {
		enabled += t->cpus[i].enabled;
		/* pending covers an insert the guest has not taken yet (insert-pending). */
		if (t->cpus[i].pending != CPU_PENDING_NONE && pending_cpu < 0)
			pending_cpu = i;
		if (!t->cpus[i].enabled && lowest_free < 0)
			lowest_free = i;
		if (t->cpus[i].enabled && i != 0)
			highest = i;
	}
	if (enabled == t->st.target) {
		t->st.state = CPU_TARGET_IDLE;
		vm_api_log(t->ops, t->vm, "resize: %d vCPUs reached", enabled);
		return;
	}
	if (pending_cpu >= 0) {
		/* An earlier event the guest has not taken yet (another client's,
		 * or an insert the guest never scanned): wait, and say so. */
		uint64_t now = now_ms();

		if (!t->pending_since_ms)
			t->pending_since_ms = now;
		if (now - t->pending_since_ms >= (uint64_t)t->add_ack_ms)
			snprintf(t->st.reason, sizeof(t->st.reason), t->cpus[pending_cpu].enabled ?
				 "waiting for the guest to take the hotplug event of vcpu%d" :
				 "waiting for the guest to report the eject of vcpu%d (_OST)",
				 pending_cpu);
		arm(t);
		return;
	}
	t->pending_since_ms = 0;
	t->st.reason[0] = 0;
	if (enabled < t->st.target) {
		rc = t->ops->cpu_add(t->vm, lowest_free);
		t->step = STEP_ADD;
		t->st.step_cpu = lowest_free;
	} else {
		rc = t->ops->cpu_remove(t->vm, (unsigned)highest);
		t->step = STEP_REMOVE;
		t->st.step_cpu = highest;
	}
	if (rc < 0) {
		stall(t, "%s vcpu%d failed (error %d)", t->step == STEP_ADD ? "adding" : "removing",
		      t->st.step_cpu, rc);
		return;
	}
	t->step_started_ms = now_ms();
	arm(t);
}

int cpu_target_new(struct cpu_target **out, struct event_base *base, const struct vm_api_ops *ops,
		   void *vm)
{
	struct cpu_target *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->tick = evtimer_new(base, tick, t);
	if (!t->tick) {
		free(t);
		return -ENOMEM;
	}
	t->ops = ops;
	t->vm = vm;
	t->st.target = -1;
	t->st.step_cpu = -1;
	t->add_ack_ms = CPU_TARGET_ADD_ACK_MS;
	t->remove_ms = CPU_TARGET_REMOVE_MS;
	*out = t;
	return 0;
}

void cpu_target_free(struct cpu_target *t)
{
	if (!t)
		return;
	event_free(t->tick);
	free(t);
}

void cpu_target_set_timeouts(struct cpu_target *t, int add_ack_ms, int remove_ms)
{
	t->add_ack_ms = add_ack_ms;
	t->remove_ms = remove_ms;
}

int cpu_target_set(struct cpu_target *t, unsigned n)
{
	struct vm_info info;
	int rc = t->ops->info(t->vm, &info);

	if (rc < 0)
		return rc;
	if (n < 1 || n > info.max_cpus)
		return -EINVAL;
	if (!info.hotplug_supported && n != info.enabled_cpus)
		return -ENOTSUP;
	t->st.target = (int)n;
	t->st.reason[0] = 0;
	if (t->st.state != CPU_TARGET_CONVERGING) {
		/* A step the last target left behind is finished or cancelled. */
		t->st.state = CPU_TARGET_CONVERGING;
		t->step = STEP_NONE;
		t->st.step_cpu = -1;
	}
	event_active(t->tick, EV_TIMEOUT, 0);
	return 0;
}

void cpu_target_status(const struct cpu_target *t, struct cpu_target_status *out)
{
	*out = t->st;
}
