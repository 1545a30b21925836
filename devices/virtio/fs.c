/* virtio-fs: the transport's side of a vhost-user backend (see fs.h). */
#include "devices/virtio/fs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void fs_config_read(void *opaque, uint32_t off, void *buf, unsigned len)
{
	struct virtio_fs *fs = opaque;
	memcpy(buf, fs->config + off, len);
}

static void fs_config_write(void *opaque, uint32_t off, const void *buf, unsigned len)
{
	(void)opaque, (void)off, (void)buf, (void)len;	/* read-only */
}

/* The backend must support what the driver accepted (the transport's ring features). */
static bool fs_features_ok(void *opaque, uint64_t f)
{
	struct virtio_fs *fs = opaque;
	return !(f & ~fs->vu.features);
}

static uint64_t uaddr(const struct gmem *m, uint64_t gpa)
{
	return (uint64_t)(uintptr_t)m->host + (gpa - m->base);	/* validated at QueueReady */
}

static int start_ring(struct virtio_fs *fs, unsigned q)
{
	struct virtio_mmio *v = &fs->vdev;
	const struct gmem *m = &v->cfg.mem;
	typeof(v->qreg[0]) *r = &v->qreg[q];
	struct vhu_vring_addr a = {
		.index = q,
		.desc = uaddr(m, (uint64_t)r->desc_hi << 32 | r->desc_lo),
		.used = uaddr(m, (uint64_t)r->used_hi << 32 | r->used_lo),
		.avail = uaddr(m, (uint64_t)r->avail_hi << 32 | r->avail_lo),
	};
	int e;

	if ((e = vhu_set_vring(&fs->vu, VHU_SET_VRING_NUM, q, r->num)) ||
	    (e = vhu_set_vring(&fs->vu, VHU_SET_VRING_BASE, q, 0)) ||
	    (e = vhu_set_vring_addr(&fs->vu, &a)) ||
	    (e = vhu_set_vring_fd(&fs->vu, VHU_SET_VRING_CALL, q, v->call_fd[q])) ||
	    (e = vhu_set_vring_fd(&fs->vu, VHU_SET_VRING_KICK, q, v->notify_fd[q])))
		return e;
	fs->started[q] = true;
	/* With protocol features rings start disabled (vhost-user.rst, "Ring states"). */
	if (fs->vu.features & (1ULL << VHU_F_PROTOCOL_FEATURES))
		return vhu_set_vring(&fs->vu, VHU_SET_VRING_ENABLE, q, 1);
	return 0;
}

/* DRIVER_OK (vCPU thread, lock held): hand memory and rings to the backend. */
static int fs_activate(void *opaque)
{
	struct virtio_fs *fs = opaque;
	struct virtio_mmio *v = &fs->vdev;
	struct vhu_region rg = {
		.gpa = v->cfg.mem.base, .size = v->cfg.mem.size,
		.uaddr = (uint64_t)(uintptr_t)v->cfg.mem.host, .fd = fs->ram_fd,
	};
	uint64_t f = virtio_mmio_features(v) | (fs->vu.features & (1ULL << VHU_F_PROTOCOL_FEATURES));
	int e;

	if (fs->dead)
		return -ECONNRESET;
	if ((e = vhu_set_features(&fs->vu, f)) || (e = vhu_set_mem_table(&fs->vu, &rg, 1)))
		return e;
	for (unsigned q = 0; q < fs->ops.num_queues; q++) {
		if (v->qreg[q].ready && (e = start_ring(fs, q)))
			return e;
	}
	return 0;
}

static void fs_log(struct virtio_fs *fs, const char *fmt, ...)
{
	const struct virtio_mmio_config *c = &fs->vdev.cfg;
	char line[256];
	int n = snprintf(line, sizeof(line), "virtio-fs@0x%llx: ", (unsigned long long)c->base);
	va_list ap;

	if (!c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	c->log(c->log_opaque, line);
}

/* Reset (lock held): stop every ring the backend serves. */
static void fs_reset(void *opaque)
{
	struct virtio_fs *fs = opaque;

	for (unsigned q = 0; q < fs->ops.num_queues; q++) {
		uint32_t base;
		if (!fs->started[q])
			continue;
		fs->started[q] = false;
		int e = fs->dead ? 0 : vhu_get_vring_base(&fs->vu, q, &base);
		if (e)
			fs_log(fs, "queue %u: GET_VRING_BASE: %s", q, strerror(-e));
	}
}

/* The backend closed its socket: the device fails, the VM goes on. */
static void on_hup(void *opaque, int fd, uint32_t events)
{
	struct virtio_fs *fs = opaque;

	(void)events;
	virtio_mmio_unwatch(&fs->vdev, fd);
	fs->dead = true;
	virtio_mmio_fail(&fs->vdev, "vhost-user backend %s closed the connection", fs->socket);
}

static void init_err(struct virtio_fs *fs, char *err, size_t errlen, const char *what, int e)
{
	snprintf(err, errlen, "virtio-fs: vhost-user backend %s: %s: %s", fs->socket, what, strerror(-e));
}

int virtio_fs_init(struct virtio_fs *fs, const struct virtio_mmio_config *cfg,
		   const struct virtio_fs_params *p, char *err, size_t errlen)
{
	uint32_t nreq = p->num_queues;
	int e;

	memset(fs, 0, sizeof(*fs));
	fs->ram_fd = p->ram_fd;
	snprintf(fs->socket, sizeof(fs->socket), "%s", p->socket);
	strncpy((char *)fs->config, p->tag, VIRTIO_FS_TAG_LEN);	/* not NUL-terminated when 36 bytes */
	memcpy(fs->config + VIRTIO_FS_TAG_LEN, &nreq, 4);
	fs->ops = (struct virtio_dev_ops){
		.name = "virtio-fs", .device_id = VIRTIO_ID_FS, .num_queues = 1 + nreq,
		.queue_max = (uint16_t)p->queue_size, .config_size = VIRTIO_FS_CONFIG_SIZE,
		.external_queues = true, .config_read = fs_config_read,
		.config_write = fs_config_write, .features_ok = fs_features_ok,
		.activate = fs_activate, .reset = fs_reset,
	};

	if ((e = vhu_connect(&fs->vu, p->socket, VIRTIO_FS_TIMEOUT_MS))) {
		init_err(fs, err, errlen, "cannot connect", e);
		return e;
	}
	if ((e = vhu_handshake(&fs->vu))) {
		init_err(fs, err, errlen, "handshake failed", e);
		vhu_close(&fs->vu);
		return e;
	}
	if (!(fs->vu.features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		init_err(fs, err, errlen, "no VIRTIO_F_VERSION_1", -EPROTO);
		vhu_close(&fs->vu);
		return -EPROTO;
	}
	if (fs->vu.queue_num && fs->vu.queue_num < 1 + nreq) {
		snprintf(err, errlen, "virtio-fs: vhost-user backend %s serves %u queues, %u needed",
			 fs->socket, fs->vu.queue_num, 1 + nreq);
		vhu_close(&fs->vu);
		return -EINVAL;
	}
	if ((e = virtio_mmio_init(&fs->vdev, cfg, &fs->ops, fs))) {
		init_err(fs, err, errlen, "transport", e);
		vhu_close(&fs->vu);
		return e;
	}
	if ((e = virtio_mmio_watch(&fs->vdev, fs->vu.fd, EPOLLRDHUP, on_hup, fs))) {
		init_err(fs, err, errlen, "watching the socket", e);
		virtio_fs_destroy(fs);
	}
	return e;
}

void virtio_fs_destroy(struct virtio_fs *fs)
{
	virtio_mmio_destroy(&fs->vdev);
	vhu_close(&fs->vu);
}
