/* Creating the VM's virtio devices and wiring them to the hypervisor. */
#include "vmm/virtio.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "devices/virtio/fs.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/vsock.h"
#include "vmm/log.h"
#include "vmm/vm.h"

int vm_virtio_check(const struct vm_config *cfg, char *err, size_t errlen)
{
	int r = vm_disk_check(cfg, err, errlen);
	if (r)
		return r;
	if (cfg->rng_source) {
		int fd = open(cfg->rng_source, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			int e = -errno;
			snprintf(err, errlen, "--rng: cannot read %s: %s", cfg->rng_source, strerror(errno));
			return e;
		}
		close(fd);
	}
	if ((r = vm_net_check_all(cfg, err, errlen)))
		return r;
	if (cfg->vsock.socket) {
		/* vmm creates the socket: its directory must exist, and no other kind of file be there. */
		char dir[4096];
		struct stat st;
		const char *slash = strrchr(cfg->vsock.socket, '/');
		size_t n = slash ? (size_t)(slash - cfg->vsock.socket) : 0;
		snprintf(dir, sizeof(dir), "%.*s", (int)n, slash ? cfg->vsock.socket : ".");
		if (slash && n == 0)
			strcpy(dir, "/");
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "--vsock: no directory %s for the socket", dir);
			return -ENOENT;
		}
		if (lstat(cfg->vsock.socket, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--vsock: %s exists and is not a socket", cfg->vsock.socket);
			return -EEXIST;
		}
	}
	/* A backend socket that is not there is bad input; one that does not answer is found at start-up. */
	for (unsigned i = 0; i < cfg->nfs; i++) {
		struct stat st;
		if (stat(cfg->fs[i].socket, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--fs: %s is not a unix socket (is the vhost-user backend running?)",
				 cfg->fs[i].socket);
			return -ENOENT;
		}
	}
	return 0;
}

static void log_line(void *opaque, const char *line)
{
	vm_log(opaque, "%s", line);
}

void vm_virtio_config(struct vm *vm, const struct vm_virtio_slot *s, struct virtio_mmio_config *out)
{
	*out = (struct virtio_mmio_config){
		.base = s->base,
		.spi = s->spi,
		.mem = { .host = vm->ram, .base = vm->ram_base, .size = vm->ram_size },
		.log = log_line,
		.log_opaque = vm,
	};
}

/*
 * Notifications: one ioeventfd per queue on QueueNotify with the queue
 * index as datamatch, so a kick never exits to a vCPU thread. Without
 * ioeventfd the vCPU thread's MMIO write signals the same eventfd.
 */
static void wire_notify(struct vm *vm, const struct vm_virtio_slot *s, struct virtio_mmio *v)
{
	const struct hv_ops *ops = vm->hv->ops;
	int r = ops->ioeventfd ? 0 : -ENOSYS;

	for (unsigned q = 0; r == 0 && q < v->ops->num_queues; q++)
		r = ops->ioeventfd(vm->hv, s->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q, v->notify_fd[q]);
	virtio_mmio_set_ioeventfd(v, r == 0);
	if (r)
		vm_log(vm, "%s@0x%llx: no ioeventfd (%s): queue notifications exit to vCPU threads",
		       v->ops->name, (unsigned long long)s->base, strerror(-r));
}

/*
 * The device's line (docs/virtio.md): level-triggered, an irqfd with a
 * resample fd; or edge-triggered, an irqfd without one, each signal a pulse.
 */
static int wire_irq(struct vm *vm, const struct vm_virtio_slot *s, struct virtio_mmio *v,
		    char *err, size_t errlen)
{
	const struct hv_ops *ops = vm->hv->ops;
	int resample_fd = s->edge ? -1 : v->resample_fd;
	int r = ops->irqfd ? ops->irqfd(vm->hv, s->spi, v->irq_fd, resample_fd) : -ENOSYS;

	if (r) {
		snprintf(err, errlen, "%s@0x%llx: cannot attach its interrupt (irqfd on SPI %u): %s",
			 v->ops->name, (unsigned long long)s->base, s->spi, strerror(-r));
		return r;
	}
	virtio_mmio_set_resample(v, !s->edge);
	return 0;
}

/*
 * A backend outside the VMM signals call_fd[q] when it used buffers: make
 * each one an irqfd on the (edge) SPI so completions never wake the VMM.
 * If the hypervisor refuses, the I/O thread relays them instead; an irqfd
 * already registered then also pulses the line, which costs the guest one
 * more look at its rings.
 */
static void wire_calls(struct vm *vm, const struct vm_virtio_slot *s, struct virtio_mmio *v)
{
	const struct hv_ops *ops = vm->hv->ops;
	int r = ops->irqfd && s->edge ? 0 : -ENOSYS;

	if (!v->ops->external_queues)
		return;
	for (unsigned q = 0; r == 0 && q < v->ops->num_queues; q++)
		r = ops->irqfd(vm->hv, s->spi, v->call_fd[q], -1);
	if (r == 0)
		r = virtio_mmio_set_direct_calls(v);
	if (r)
		vm_log(vm, "%s@0x%llx: backend calls relayed by its I/O thread (no irqfd: %s)",
		       v->ops->name, (unsigned long long)s->base, strerror(-r));
}

int vm_virtio_attach(struct vm *vm, const struct vm_virtio_slot *s, struct virtio_mmio *v,
		     void *dev, void (*destroy)(void *dev), char *err, size_t errlen)
{
	int r;

	if (vm->nvirtio >= VM_MAX_VIRTIO) {
		r = -ENOSPC;
		snprintf(err, errlen, "too many virtio devices (at most %u)", VM_MAX_VIRTIO);
		goto fail;
	}
	r = mmio_bus_register(&vm->bus, s->base, VIRTIO_MMIO_STRIDE, &virtio_mmio_ops, v, v->ops->name);
	if (r) {
		snprintf(err, errlen, "cannot map %s at 0x%llx: %s", v->ops->name,
			 (unsigned long long)s->base, strerror(-r));
		goto fail;
	}
	if ((r = wire_irq(vm, s, v, err, errlen)))
		goto fail;
	wire_notify(vm, s, v);
	wire_calls(vm, s, v);
	if ((r = virtio_mmio_start(v))) {
		snprintf(err, errlen, "cannot start the %s I/O thread: %s", v->ops->name, strerror(-r));
		goto fail;
	}
	vm->virtio[vm->nvirtio++] = (struct vm_virtio_dev){
		.slot = *s, .vdev = v, .dev = dev, .destroy = destroy, .name = v->ops->name,
	};
	return 0;
fail:
	/* The bus may still name the window; nothing reaches it before the VM runs, and it fails to start. */
	destroy(dev);
	return r;
}

static void rng_free(void *dev)
{
	virtio_rng_destroy(dev);
	free(dev);
}

static int add_rng(struct vm *vm, const struct vm_virtio_slot *s, char *err, size_t errlen)
{
	struct virtio_mmio_config cfg;
	struct virtio_rng *rng = calloc(1, sizeof(*rng));
	int r;

	if (!rng) {
		snprintf(err, errlen, "out of memory for virtio-rng");
		return -ENOMEM;
	}
	vm_virtio_config(vm, s, &cfg);
	if ((r = virtio_rng_init(rng, &cfg, vm->cfg.rng_source, err, errlen))) {
		free(rng);
		return r;
	}
	return vm_virtio_attach(vm, s, &rng->vdev, rng, rng_free, err, errlen);
}

/* The device's counters, one line at exit (the e2e tests and benchmarks read it). */
static void vsock_free(void *dev)
{
	struct virtio_vsock *vs = dev;
	const struct vsock_stats *st = &vs->stats;
	char line[320];

	virtio_mmio_stop(&vs->vdev);
	snprintf(line, sizeof(line),
		 "virtio-vsock@0x%llx: %llu host and %llu guest connections, %llu refused (%llu bad "
		 "CONNECT lines), %llu bytes to the guest, %llu from it, %llu resets sent, "
		 "%llu credit violations, %llu credit requests",
		 (unsigned long long)vs->vdev.cfg.base, (unsigned long long)st->host_conns,
		 (unsigned long long)st->guest_conns, (unsigned long long)st->refused,
		 (unsigned long long)st->bad_lines, (unsigned long long)st->bytes_to_guest,
		 (unsigned long long)st->bytes_from_guest, (unsigned long long)st->resets_sent,
		 (unsigned long long)st->credit_violations, (unsigned long long)st->credit_requests);
	if (vs->vdev.cfg.log)
		vs->vdev.cfg.log(vs->vdev.cfg.log_opaque, line);
	virtio_vsock_destroy(vs);
	free(vs);
}

static int add_vsock(struct vm *vm, const struct vm_virtio_slot *s, char *err, size_t errlen)
{
	struct virtio_mmio_config cfg;
	struct virtio_vsock *vs = calloc(1, sizeof(*vs));
	int r;

	if (!vs) {
		snprintf(err, errlen, "out of memory for virtio-vsock");
		return -ENOMEM;
	}
	vm_virtio_config(vm, s, &cfg);
	if ((r = virtio_vsock_init(vs, &cfg, vm->cfg.vsock.cid, vm->cfg.vsock.socket, err, errlen))) {
		free(vs);
		return r;
	}
	return vm_virtio_attach(vm, s, &vs->vdev, vs, vsock_free, err, errlen);
}

static void fs_free(void *dev)
{
	virtio_fs_destroy(dev);
	free(dev);
}

/* Start-up connects to the backend and negotiates (VIRTIO_FS_TIMEOUT_MS per exchange). */
static int add_fs(struct vm *vm, const struct vm_virtio_slot *s, char *err, size_t errlen)
{
	const struct vm_fs_config *c = &vm->cfg.fs[s->index];
	struct virtio_fs_params p = {
		.tag = c->tag, .socket = c->socket, .num_queues = c->num_queues,
		.queue_size = c->queue_size, .ram_fd = vm->ram_fd,
	};
	struct virtio_mmio_config cfg;
	struct virtio_fs *fs = calloc(1, sizeof(*fs));
	int r;

	if (!fs) {
		snprintf(err, errlen, "out of memory for virtio-fs");
		return -ENOMEM;
	}
	if (vm->ram_fd < 0) {
		free(fs);
		snprintf(err, errlen, "--fs needs --memory shared=on");
		return -EINVAL;
	}
	vm_virtio_config(vm, s, &cfg);
	if ((r = virtio_fs_init(fs, &cfg, &p, err, errlen))) {
		free(fs);
		return r;
	}
	vm_log(vm, "virtio-fs@0x%llx: tag %s, vhost-user backend %s, %u request queue(s) of %u",
	       (unsigned long long)s->base, c->tag, c->socket, c->num_queues, c->queue_size);
	return vm_virtio_attach(vm, s, &fs->vdev, fs, fs_free, err, errlen);
}

int vm_virtio_create_all(struct vm *vm, char *err, size_t errlen)
{
	struct vm_virtio_slot plan[VM_MAX_VIRTIO];
	unsigned n = vm_virtio_plan(&vm->cfg, plan);
	int r = 0;

	for (unsigned i = 0; i < n && r == 0; i++) {
		switch (plan[i].kind) {
		case VM_VIRTIO_BLK:
			r = vm_virtio_add_blk(vm, &plan[i], err, errlen);
			break;
		case VM_VIRTIO_RNG:
			r = add_rng(vm, &plan[i], err, errlen);
			break;
		case VM_VIRTIO_NET:
			r = vm_virtio_add_net(vm, &plan[i], err, errlen);
			break;
		case VM_VIRTIO_VSOCK:
			r = add_vsock(vm, &plan[i], err, errlen);
			break;
		case VM_VIRTIO_FS:
			r = add_fs(vm, &plan[i], err, errlen);
			break;
		default:
			snprintf(err, errlen, "virtio device kind %d is not supported", plan[i].kind);
			r = -ENOTSUP;
			break;
		}
	}
	return r;
}

void vm_virtio_destroy_all(struct vm *vm)
{
	/* Stop every I/O thread first: none may touch guest RAM after this. */
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		struct virtio_mmio_stats st;
		virtio_mmio_stop(vm->virtio[i].vdev);
		virtio_mmio_get_stats(vm->virtio[i].vdev, &st);
		char calls[96] = "";
		if (vm->virtio[i].vdev->ops->external_queues)
			snprintf(calls, sizeof(calls), ", %llu backend calls relayed (call irqfds %s)",
				 (unsigned long long)st.relayed_calls, st.direct_calls ? "on" : "off");
		vm_log(vm, "%s@0x%llx: %llu queue notifications on its I/O thread, %llu on vCPU threads "
		       "(ioeventfd %s), %llu interrupts, %llu resets, %llu failures%s",
		       vm->virtio[i].name, (unsigned long long)vm->virtio[i].slot.base,
		       (unsigned long long)st.notifies, (unsigned long long)st.vcpu_notifies,
		       st.ioeventfd ? "on" : "off", (unsigned long long)st.interrupts,
		       (unsigned long long)st.resets, (unsigned long long)st.failures, calls);
	}
	for (unsigned i = 0; i < vm->nvirtio; i++)
		vm->virtio[i].destroy(vm->virtio[i].dev);
	vm->nvirtio = 0;
	vm_net_close_untaken(vm);
}
