#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "fake_vm.h"

static void notify(struct fake_vm *vm, enum vm_event_kind kind, unsigned cpu, unsigned event,
		   unsigned status)
{
	struct vm_event ev = { kind, cpu, event, status };

	api_server_notify(vm->srv, &ev);
}

static int take_forced(struct fake_vm *vm)
{
	int e = vm->force_err;

	vm->force_err = 0;
	return e ? -e : 0;
}

static int fake_info(void *opaque, struct vm_info *out)
{
	struct fake_vm *vm = opaque;
	unsigned i;

	pthread_mutex_lock(&vm->lock);
	vm->infos++;
	memset(out, 0, sizeof(*out));
	out->state = vm->state;
	out->boot_cpus = 1;
	out->max_cpus = vm->max_cpus;
	for (i = 0; i < vm->max_cpus; i++) {
		out->enabled_cpus += vm->enabled[i];
		out->online_cpus += vm->online[i];
	}
	out->memory_bytes = 1ull << 30;
	out->uptime_ms = 1234;
	out->boot_mode = vm->fdt_mode ? "fdt" : "acpi";
	out->hotplug_supported = !vm->fdt_mode;
	out->ndevices = vm->ndevices;
	memcpy(out->devices, vm->devices, sizeof(vm->devices));
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/* vm->lock held. */
static void fill_info(struct fake_vm *vm, unsigned i, struct cpu_info *out)
{
	out->id = i;
	out->mpidr = i == 0 ? 0x80000000ull : 0x80000000ull | i;
	out->enabled = vm->enabled[i];
	out->online = vm->online[i];
	out->pending = vm->pending[i];
	out->state = !vm->enabled[i] ? "disabled" :
		     vm->pending[i] == CPU_PENDING_INSERT ? "insert-pending" :
		     vm->pending[i] == CPU_PENDING_REMOVE ? "remove-requested" : "enabled";
}

static int fake_cpu_list(void *opaque, struct cpu_info *out, unsigned cap)
{
	struct fake_vm *vm = opaque;
	unsigned i;

	pthread_mutex_lock(&vm->lock);
	vm->lists++;
	for (i = 0; i < vm->max_cpus && i < cap; i++)
		fill_info(vm, i, &out[i]);
	pthread_mutex_unlock(&vm->lock);
	return vm->max_cpus;
}

static int fake_cpu_get(void *opaque, unsigned id, struct cpu_info *out)
{
	struct fake_vm *vm = opaque;

	if (id >= vm->max_cpus)
		return -VM_ERR_NO_SUCH_CPU;
	pthread_mutex_lock(&vm->lock);
	fill_info(vm, id, out);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static void *guest_add(void *arg);
static void *guest_remove(void *arg);

static void spawn_guest(struct fake_vm *vm, unsigned cpu, void *(*fn)(void *))
{
	struct fake_guest_job *job;

	if (vm->guest != FAKE_GUEST_AUTO || vm->nthreads >= FAKE_MAX_GUEST_THREADS)
		return;
	job = &vm->jobs[vm->nthreads];
	job->vm = vm;
	job->cpu = cpu;
	if (pthread_create(&vm->threads[vm->nthreads], NULL, fn, job) == 0)
		vm->nthreads++;
}

static int fake_cpu_add(void *opaque, int id)
{
	struct fake_vm *vm = opaque;
	int rc;

	pthread_mutex_lock(&vm->lock);
	vm->adds++;
	rc = take_forced(vm);
	if (!rc && vm->fdt_mode)
		rc = -VM_ERR_NOT_SUPPORTED;
	if (!rc && id < 0) {
		for (id = 0; id < (int)vm->max_cpus && vm->enabled[id]; id++)
			;
		if (id == (int)vm->max_cpus)
			rc = -VM_ERR_NO_FREE_CPU;
	}
	if (!rc && id >= (int)vm->max_cpus)
		rc = -VM_ERR_NO_SUCH_CPU;
	if (!rc && id == vm->fail_add_cpu)
		rc = -VM_ERR_BUSY;
	if (!rc && vm->pending[id] != CPU_PENDING_NONE)
		rc = -VM_ERR_BUSY;
	if (!rc && vm->enabled[id])
		rc = -VM_ERR_ALREADY_ENABLED;
	if (!rc) {
		vm->enabled[id] = true;
		vm->pending[id] = CPU_PENDING_INSERT;
		if (vm->op_count < 64)
			vm->op_log[vm->op_count++] = id;
		spawn_guest(vm, id, guest_add);
	}
	pthread_mutex_unlock(&vm->lock);
	if (rc)
		return rc;
	notify(vm, VM_EVENT_CPU_ENABLED, id, 0, 0);
	return id;
}

static int fake_cpu_remove(void *opaque, unsigned id)
{
	struct fake_vm *vm = opaque;
	int rc;

	pthread_mutex_lock(&vm->lock);
	vm->removes++;
	rc = take_forced(vm);
	if (!rc && vm->fdt_mode)
		rc = -VM_ERR_NOT_SUPPORTED;
	if (!rc && id >= vm->max_cpus)
		rc = -VM_ERR_NO_SUCH_CPU;
	if (!rc && id == 0)
		rc = -VM_ERR_BOOT_CPU;
	if (!rc && vm->pending[id] != CPU_PENDING_NONE)
		rc = -VM_ERR_BUSY;
	if (!rc && !vm->enabled[id])
		rc = -VM_ERR_NOT_ENABLED;
	if (!rc) {
		vm->pending[id] = CPU_PENDING_REMOVE;
		if (vm->op_count < 64)
			vm->op_log[vm->op_count++] = -(int)id - 100;
		spawn_guest(vm, id, guest_remove);
	}
	pthread_mutex_unlock(&vm->lock);
	return rc;
}

static int fake_cpu_remove_cancel(void *opaque, unsigned id, struct cpu_info *out)
{
	struct fake_vm *vm = opaque;
	int rc = -VM_ERR_INVALID_STATE;

	if (id >= vm->max_cpus)
		return -VM_ERR_NO_SUCH_CPU;
	pthread_mutex_lock(&vm->lock);
	vm->cancels++;
	vm->last_cancel = id;
	if (vm->pending[id] == CPU_PENDING_REMOVE) {
		vm->pending[id] = CPU_PENDING_NONE;
		rc = 0;
	} else if (!vm->enabled[id]) {
		rc = -VM_ERR_NOT_ENABLED;	/* the guest ejected it already */
	}
	if (out)
		fill_info(vm, id, out);
	pthread_mutex_unlock(&vm->lock);
	return rc;
}

static int run_state_op(struct fake_vm *vm, int *counter, enum vm_run_state from,
			enum vm_run_state to)
{
	int rc;

	pthread_mutex_lock(&vm->lock);
	(*counter)++;
	rc = take_forced(vm);
	if (!rc && vm->state != from)
		rc = -VM_ERR_INVALID_STATE;
	if (!rc)
		vm->state = to;
	pthread_mutex_unlock(&vm->lock);
	return rc;
}

static int fake_pause(void *opaque)
{
	struct fake_vm *vm = opaque;

	return run_state_op(vm, &vm->pauses, VM_STATE_RUNNING, VM_STATE_PAUSED);
}

static int fake_resume(void *opaque)
{
	struct fake_vm *vm = opaque;

	return run_state_op(vm, &vm->resumes, VM_STATE_PAUSED, VM_STATE_RUNNING);
}

static int fake_shutdown(void *opaque)
{
	struct fake_vm *vm = opaque;
	int rc;

	pthread_mutex_lock(&vm->lock);
	vm->shutdowns++;
	rc = take_forced(vm);
	if (!rc)
		vm->state = VM_STATE_SHUTTING_DOWN;
	pthread_mutex_unlock(&vm->lock);
	return rc;
}

static void fake_log(void *opaque, const char *line)
{
	struct fake_vm *vm = opaque;

	pthread_mutex_lock(&vm->lock);
	snprintf(vm->last_log, sizeof(vm->last_log), "%s", line);
	vm->logs++;
	pthread_mutex_unlock(&vm->lock);
}

const struct vm_api_ops fake_vm_ops = {
	.info = fake_info,
	.cpu_list = fake_cpu_list,
	.cpu_get = fake_cpu_get,
	.cpu_add = fake_cpu_add,
	.cpu_remove = fake_cpu_remove,
	.cpu_remove_cancel = fake_cpu_remove_cancel,
	.pause = fake_pause,
	.resume = fake_resume,
	.shutdown = fake_shutdown,
	.log = fake_log,
};

void fake_guest_online(struct fake_vm *vm, unsigned cpu)
{
	pthread_mutex_lock(&vm->lock);
	vm->pending[cpu] = CPU_PENDING_NONE;
	vm->online[cpu] = true;
	pthread_mutex_unlock(&vm->lock);
	notify(vm, VM_EVENT_CPU_ONLINE, cpu, 0, 0);
}

void fake_guest_ost(struct fake_vm *vm, unsigned cpu, unsigned event, unsigned status)
{
	notify(vm, VM_EVENT_CPU_OST, cpu, event, status);
}

void fake_guest_eject(struct fake_vm *vm, unsigned cpu)
{
	pthread_mutex_lock(&vm->lock);
	vm->online[cpu] = false;
	vm->enabled[cpu] = false;
	vm->pending[cpu] = CPU_PENDING_NONE;
	pthread_mutex_unlock(&vm->lock);
	notify(vm, VM_EVENT_CPU_OFFLINE, cpu, 0, 0);
	notify(vm, VM_EVENT_CPU_DISABLED, cpu, 0, 0);
}

static void *guest_add(void *arg)
{
	struct fake_guest_job *job = arg;

	usleep(job->vm->delay_ms * 1000);
	pthread_mutex_lock(&job->vm->lock);
	job->vm->pending[job->cpu] = CPU_PENDING_NONE;
	pthread_mutex_unlock(&job->vm->lock);
	fake_guest_ost(job->vm, job->cpu, 1, 0);
	fake_guest_online(job->vm, job->cpu);
	return NULL;
}

static void *guest_remove(void *arg)
{
	struct fake_guest_job *job = arg;

	usleep(job->vm->delay_ms * 1000);
	fake_guest_eject(job->vm, job->cpu);
	return NULL;
}

void fake_vm_init(struct fake_vm *vm, unsigned max_cpus, unsigned boot_cpus)
{
	unsigned i;

	memset(vm, 0, sizeof(*vm));
	pthread_mutex_init(&vm->lock, NULL);
	vm->max_cpus = max_cpus;
	vm->fail_add_cpu = -1;
	for (i = 0; i < boot_cpus; i++)
		vm->enabled[i] = vm->online[i] = true;
}

void fake_vm_fini(struct fake_vm *vm)
{
	int i, n;

	pthread_mutex_lock(&vm->lock);
	n = vm->nthreads;
	pthread_mutex_unlock(&vm->lock);
	for (i = 0; i < n; i++)
		pthread_join(vm->threads[i], NULL);
}

int fake_get(struct fake_vm *vm, const int *field)
{
	int v;

	pthread_mutex_lock(&vm->lock);
	v = *field;
	pthread_mutex_unlock(&vm->lock);
	return v;
}
