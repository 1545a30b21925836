#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arm64/layout.h"
#include "vmm/boot.h"
#include "vmm/log.h"

uint64_t vm_uptime_ms(const struct vm *vm)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ns = (int64_t)(now.tv_sec - vm->started.tv_sec) * 1000000000 +
		     (now.tv_nsec - vm->started.tv_nsec);
	return ns > 0 ? (uint64_t)ns / 1000000 : 0;
}

/*
 * Thread names follow the guest's use of a CPU: "vcpuN" from the guest's
 * first start of CPU N (PSCI CPU_ON, or vCPU 0 at boot) after it was
 * enabled until it is ejected, "vcpuN-off" otherwise, even while the
 * hotplug controller has enabled it and the guest has not started it yet.
 * Tools that count vCPU threads by name (Kata Containers places
 * ^vcpu[0-9]+$ threads in the sandbox cgroup and waits for their number
 * after a resize) then see the CPUs the guest runs on, although every
 * possible vCPU has a thread. Derived from the vCPU table alone, renamed by
 * whoever makes the transition, so a parked thread is never woken for it.
 */
void vm_name_vcpu_locked(struct vm *vm, unsigned id)
{
	char name[16];

	if (!vm->vcpus || id >= vm->cfg.max_cpus || !vm->vcpus[id].thread_started)
		return;
	snprintf(name, sizeof(name), psci_cpu_in_use(&vm->psci.cpu[id]) ? "vcpu%u" : "vcpu%u-off", id);
	(void)pthread_setname_np(vm->vcpus[id].thread, name);
}

void vm_emit(struct vm *vm, const struct vm_event *ev)
{
	if (vm->event_fn)
		vm->event_fn(vm->event_opaque, ev);
}

static void uart_output(void *opaque, const uint8_t *buf, size_t n)
{
	struct vm *vm = opaque;
	console_write(&vm->console, buf, n);
}

static int uart_set_irq(void *opaque, bool level)
{
	struct vm *vm = opaque;
	return vm->hv->ops->irq_line(vm->hv, UART_SPI, level);
}

static int ged_set_irq(void *opaque, bool level)
{
	struct vm *vm = opaque;
	return vm->hv->ops->irq_line(vm->hv, GED_SPI, level);
}

static const struct pl011_ops uart_ops = {
	.output = uart_output,
	.set_irq = uart_set_irq,
};

static int create_vcpus(struct vm *vm, char *err, size_t errlen)
{
	unsigned n = vm->cfg.max_cpus;

	vm->vcpus = calloc(n, sizeof(*vm->vcpus));
	vm->psci.cpu = calloc(n, sizeof(*vm->psci.cpu));
	if (!vm->vcpus || !vm->psci.cpu) {
		snprintf(err, errlen, "out of memory for %u vCPUs", n);
		return -ENOMEM;
	}
	vm->psci.count = n;
	for (unsigned i = 0; i < n; i++) {
		struct vcpu *v = &vm->vcpus[i];
		v->vm = vm;
		v->id = i;
		pthread_cond_init(&v->wake, NULL);
		v->wake_ready = true;
		int r = vm->hv->ops->create_vcpu(vm->hv, i, &v->hv);
		if (r < 0) {
			snprintf(err, errlen, "cannot create vcpu%u: %s", i, strerror(-r));
			return r;
		}
		v->mpidr = arm64_mpidr_of_vcpu(i);
		uint64_t hw = 0;
		r = vm->hv->ops->vcpu_get_mpidr(v->hv, &hw);
		if (r == 0 && hw != v->mpidr) {
			snprintf(err, errlen, "vcpu%u has MPIDR 0x%llx, expected 0x%llx", i,
				 (unsigned long long)hw, (unsigned long long)v->mpidr);
			return -EINVAL;
		}
		vm->psci.cpu[i] = (struct psci_cpu){
			.mpidr = v->mpidr,
			.hp = i < vm->cfg.boot_cpus ? CPU_HP_ENABLED : CPU_HP_DISABLED,
			.power = PSCI_POWER_OFF,
		};
	}
	return 0;
}

/*
 * The vGICv3 with a redistributor for every possible vCPU, then each vCPU's
 * PMU, whose interrupt KVM only accepts once the vGIC is initialised.
 */
static int create_gic(struct vm *vm, char *err, size_t errlen)
{
	struct gic_redist_region rd[GIC_REDIST_MAX_REGIONS];
	struct hv_gic_config gic = {
		.dist_base = GIC_DIST_BASE,
		.nr_irqs = GIC_NR_IRQS,
	};
	struct hv_caps caps;
	int r;

	gic.nr_redist = layout_redist_regions(vm->cfg.max_cpus, rd);
	if (gic.nr_redist == 0 || gic.nr_redist > HV_GIC_MAX_REDIST_REGIONS) {
		snprintf(err, errlen, "no room for %u redistributors", vm->cfg.max_cpus);
		return -E2BIG;
	}
	for (unsigned i = 0; i < gic.nr_redist; i++) {
		gic.redist[i].base = rd[i].base;
		gic.redist[i].count = rd[i].count;
	}
	if ((r = vm->hv->ops->create_gic(vm->hv, &gic))) {
		snprintf(err, errlen, "cannot create the vGICv3: %s", strerror(-r));
		return r;
	}
	if ((r = vm->hv->ops->get_caps(vm->hv, &caps))) {
		snprintf(err, errlen, "cannot read the hypervisor's capabilities: %s", strerror(-r));
		return r;
	}
	for (unsigned i = 0; caps.pmu && i < vm->cfg.max_cpus; i++) {
		if ((r = vm->hv->ops->vcpu_init_pmu(vm->vcpus[i].hv, PPI_PMU))) {
			snprintf(err, errlen, "cannot give vcpu%u a PMU: %s", i, strerror(-r));
			return r;
		}
	}
	vm->pmu = caps.pmu;
	return 0;
}

static int add_devices(struct vm *vm, char *err, size_t errlen)
{
	int r;

	mmio_bus_init(&vm->bus);
	if ((r = pl011_init(&vm->uart, &uart_ops, vm)))
		goto fail;
	if ((r = ged_init(&vm->ged, ged_set_irq, vm))) {
		pl011_destroy(&vm->uart);
		goto fail;
	}
	if ((r = cpuhp_init(&vm->cpuhp, vm->cfg.max_cpus, &vm_cpuhp_ops, vm))) {
		ged_destroy(&vm->ged);
		pl011_destroy(&vm->uart);
		goto fail;
	}
	vm->devices_ready = true;
	if ((r = mmio_bus_register(&vm->bus, UART_BASE, UART_SIZE, &pl011_mmio_ops, &vm->uart, "pl011")) ||
	    (r = mmio_bus_register(&vm->bus, GED_BASE, GED_SIZE, &ged_mmio_ops, &vm->ged, "ged")) ||
	    (r = mmio_bus_register(&vm->bus, CPUHP_BASE, CPUHP_SIZE, &cpuhp_mmio_ops, &vm->cpuhp, "cpuhp"))) {
		snprintf(err, errlen, "cannot map devices: %s", strerror(-r));
		return r;
	}
	return vm_virtio_create_all(vm, err, errlen);
fail:
	snprintf(err, errlen, "cannot initialise devices: %s", strerror(-r));
	return r;
}

/*
 * Guest RAM: anonymous private memory, or with --memory shared=on a memfd
 * mapped MAP_SHARED, which a vhost-user backend maps too (it gets the fd).
 */
static int map_ram(struct vm *vm, char *err, size_t errlen)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

	if (vm->cfg.memory_shared) {
		vm->ram_fd = memfd_create("vmm-guest-ram", MFD_CLOEXEC);
		if (vm->ram_fd < 0 || ftruncate(vm->ram_fd, (off_t)vm->ram_size) < 0) {
			int r = -errno;
			snprintf(err, errlen, "cannot create %llu MiB of shared guest memory: %s",
				 (unsigned long long)(vm->ram_size >> 20), strerror(errno));
			return r;
		}
		flags = MAP_SHARED | MAP_NORESERVE;
	}
	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE, flags, vm->ram_fd, 0);
	return 0;
}

static int open_log(struct vm *vm, char *err, size_t errlen)
{
	struct console *log = calloc(1, sizeof(*log));
	if (!log) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int r = console_open_fd(log, STDERR_FILENO, err, errlen);
	if (r) {
		free(log);
		return r;
	}
	vm->log = log;
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, struct hv *hv, char *err, size_t errlen)
{
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->hv = hv;
	vm->stop_pipe[0] = vm->stop_pipe[1] = -1;
	vm->ram_fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &vm->started);
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->parked_cond, NULL);
	if (pipe2(vm->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(-r));
		return r;
	}
	if ((r = console_open(&vm->console, cfg->console, cfg->console_path, err, errlen)))
		return r;
	vm->console_ready = true;
	if ((r = open_log(vm, err, errlen)))
		return r;

	vm->ram_base = RAM_BASE;
	vm->ram_size = cfg->memory_bytes;
	if ((r = map_ram(vm, err, errlen)))
		return r;
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		snprintf(err, errlen, "cannot allocate %llu MiB of guest memory: %s",
			 (unsigned long long)(vm->ram_size >> 20), strerror(errno));
		return -ENOMEM;
	}
	/* Huge pages: far fewer stage-2 faults while the guest touches its memory. */
	(void)madvise(vm->ram, vm->ram_size, MADV_HUGEPAGE);
	if ((r = hv->ops->map_memory(hv, vm->ram_base, vm->ram, vm->ram_size))) {
		snprintf(err, errlen, "cannot map guest memory: %s", strerror(-r));
		return r;
	}
	/* Before any vCPU runs: from now on PSCI is ours, not the hypervisor's. */
	if ((r = hv->ops->forward_smccc(hv, PSCI_0_2_FN_BASE, PSCI_FN_COUNT)) ||
	    (r = hv->ops->forward_smccc(hv, PSCI_0_2_FN64_BASE, PSCI_FN_COUNT))) {
		snprintf(err, errlen, "cannot forward PSCI calls to the VMM (needs Linux 6.4+ KVM): %s",
			 strerror(-r));
		return r;
	}
	/* Every possible vCPU exists before the vGIC is initialised. */
	if ((r = create_vcpus(vm, err, errlen)))
		return r;
	if ((r = create_gic(vm, err, errlen)))
		return r;
	if ((r = add_devices(vm, err, errlen)))
		return r;
	return boot_prepare(vm, err, errlen);
}

int vm_start(struct vm *vm, char *err, size_t errlen)
{
	pthread_mutex_lock(&vm->lock);
	vm->psci.cpu[0].power = PSCI_POWER_ON_PENDING;
	vm->psci.cpu[0].started = true;
	vm->psci.cpu[0].entry = vm->boot.entry;
	vm->psci.cpu[0].context = vm->boot.dtb_gpa;
	pthread_mutex_unlock(&vm->lock);

	for (unsigned i = 0; i < vm->cfg.max_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		/* Under the lock: a CPU_ON of this vCPU names it, or this does. */
		pthread_mutex_lock(&vm->lock);
		int r = pthread_create(&v->thread, NULL, vcpu_thread_main, v);
		if (!r) {
			v->thread_started = true;
			vm_name_vcpu_locked(vm, i);
		}
		pthread_mutex_unlock(&vm->lock);
		if (r) {
			snprintf(err, errlen, "cannot start the vcpu%u thread: %s", i, strerror(r));
			vm_request_stop(vm, VM_EXIT_ERROR, "start failed");
			return -r;
		}
	}
	vm_log(vm, "started: %u of %u vCPUs enabled, %llu MiB, %s boot", vm->cfg.boot_cpus,
	       vm->cfg.max_cpus, (unsigned long long)(vm->ram_size >> 20), boot_mode_name(vm->cfg.boot_mode));
	return 0;
}

void vm_wake_vcpu(struct vm *vm, unsigned id)
{
	if (vm->vcpus && id < vm->cfg.max_cpus && vm->vcpus[id].wake_ready)
		pthread_cond_signal(&vm->vcpus[id].wake);
}

/* Resume and stop change every vCPU's state; vm->lock held. */
static void wake_all(struct vm *vm)
{
	for (unsigned i = 0; vm->vcpus && i < vm->cfg.max_cpus; i++)
		vm_wake_vcpu(vm, i);
}

void vm_request_stop(struct vm *vm, enum vm_exit_reason why, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (vm->stopping) {
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	vm->stopping = true;
	vm->exit_reason = why;
	va_start(ap, fmt);
	vsnprintf(vm->exit_message, sizeof(vm->exit_message), fmt, ap);
	va_end(ap);
	wake_all(vm);
	for (unsigned i = 0; vm->vcpus && i < vm->cfg.max_cpus; i++) {
		if (vm->vcpus[i].hv && !vm->vcpus[i].parked)
			vm->hv->ops->vcpu_kick(vm->vcpus[i].hv);
	}
	pthread_mutex_unlock(&vm->lock);
	if (vm->stop_pipe[1] >= 0)
		(void)!write(vm->stop_pipe[1], "x", 1);
}

void vm_join(struct vm *vm)
{
	for (unsigned i = 0; vm->vcpus && i < vm->cfg.max_cpus; i++) {
		if (vm->vcpus[i].thread_started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].thread_started = false;
		}
	}
}

static bool all_parked(const struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.max_cpus; i++) {
		if (vm->vcpus[i].thread_started && !vm->vcpus[i].parked)
			return false;
	}
	return true;
}

int vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->paused || vm->stopping) {
		pthread_mutex_unlock(&vm->lock);
		return -VM_ERR_INVALID_STATE;
	}
	vm->paused = true;
	for (unsigned i = 0; i < vm->cfg.max_cpus; i++) {
		if (!vm->vcpus[i].parked)
			vm->hv->ops->vcpu_kick(vm->vcpus[i].hv);
	}
	/* Returns once no vCPU executes guest code. */
	while (!all_parked(vm) && !vm->stopping)
		pthread_cond_wait(&vm->parked_cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	vm_log(vm, "paused");
	return 0;
}

int vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->paused || vm->stopping) {
		pthread_mutex_unlock(&vm->lock);
		return -VM_ERR_INVALID_STATE;
	}
	vm->paused = false;
	wake_all(vm);
	pthread_mutex_unlock(&vm->lock);
	vm_log(vm, "resumed");
	return 0;
}

void vm_destroy(struct vm *vm)
{
	vm_join(vm);
	vm_virtio_destroy_all(vm);
	for (unsigned i = 0; vm->vcpus && i < vm->cfg.max_cpus; i++) {
		if (vm->vcpus[i].hv)
			vm->hv->ops->vcpu_destroy(vm->vcpus[i].hv);
		if (vm->vcpus[i].wake_ready)
			pthread_cond_destroy(&vm->vcpus[i].wake);
	}
	if (vm->devices_ready) {
		cpuhp_destroy(&vm->cpuhp);
		ged_destroy(&vm->ged);
		pl011_destroy(&vm->uart);
		vm->devices_ready = false;
	}
	free(vm->vcpus);
	free(vm->psci.cpu);
	vm->vcpus = NULL;
	vm->psci.cpu = NULL;
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	vm->ram = NULL;
	if (vm->ram_fd >= 0)
		close(vm->ram_fd);
	vm->ram_fd = -1;
	if (vm->console_ready)
		console_close(&vm->console);
	vm->console_ready = false;
	if (vm->log) {		/* last: the lines above still go through it */
		struct console *log = vm->log;
		vm->log = NULL;
		console_close(log);
		free(log);
	}
	for (int i = 0; i < 2; i++) {
		if (vm->stop_pipe[i] >= 0)
			close(vm->stop_pipe[i]);
	}
	pthread_cond_destroy(&vm->parked_cond);
	pthread_mutex_destroy(&vm->lock);
}
