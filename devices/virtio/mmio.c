/* virtio-mmio version 2 registers: the configuration path, on vCPU threads. */
#include "devices/virtio/mmio.h"
#include "devices/virtio/mmio_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static uint64_t offered(const struct virtio_mmio *v)
{
	return v->ops->features | VIRTIO_MMIO_TRANSPORT_FEATURES;
}

uint64_t virtio_mmio_features(const struct virtio_mmio *v)
{
	return v->driver_features;
}

bool virtio_mmio_running(const struct virtio_mmio *v)
{
	return !v->failed && (v->status & VIRTIO_STATUS_DRIVER_OK);
}

struct virtq *virtio_mmio_queue(struct virtio_mmio *v, unsigned q)
{
	return q < v->ops->num_queues ? &v->vq[q] : NULL;
}

void vmmio_log(struct virtio_mmio *v, const char *fmt, ...)
{
	char line[256];
	int n;
	va_list ap;

	if (!v->cfg.log)
		return;
	n = snprintf(line, sizeof(line), "%s@0x%llx: ", v->ops->name, (unsigned long long)v->cfg.base);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	v->cfg.log(v->cfg.log_opaque, line);
}

void virtio_mmio_fail(struct virtio_mmio *v, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (v->failed)
		return;		/* one line per failure, not per access */
	v->failed = true;
	v->status |= VIRTIO_STATUS_NEEDS_RESET;
	v->stats.failures++;
	vmmio_log(v, "%s; device needs reset", why);
	vmmio_raise(v, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio *v)
{
	v->config_generation++;
	if (v->status & VIRTIO_STATUS_DRIVER_OK)
		vmmio_raise(v, VIRTIO_MMIO_INT_CONFIG);
}

/*
 * Lock held. The status register; with direct calls a backend's completion
 * interrupts the guest without the VMM knowing, so InterruptStatus reports
 * VRING while the driver runs the device (Linux's vm_interrupt looks at the
 * rings only when it is set). Kept as its own atomic bit so that the guest's
 * InterruptStatus read never takes the lock.
 */
static void set_status(struct virtio_mmio *v, uint32_t status)
{
	bool vring = v->direct_calls && (status & VIRTIO_STATUS_DRIVER_OK);

	v->status = status;
	__atomic_store_n(&v->running_status, vring ? VIRTIO_MMIO_INT_VRING : 0, __ATOMIC_SEQ_CST);
}

/* Back to the power-on state (status 0 or a QueueReset of every queue). */
static void device_reset(struct virtio_mmio *v)
{
	if (v->ops->reset)
		v->ops->reset(v->opaque);
	set_status(v, 0);
	v->dev_features_sel = v->drv_features_sel = 0;
	v->driver_features = 0;
	v->queue_sel = 0;
	__atomic_store_n(&v->interrupt_status, 0, __ATOMIC_SEQ_CST);
	v->failed = false;
	v->rerun = 0;
	memset(v->qreg, 0, sizeof(v->qreg));
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		virtq_reset(&v->vq[q]);
	v->stats.resets++;
}

static bool features_acceptable(struct virtio_mmio *v)
{
	uint64_t f = v->driver_features;

	if (f & ~offered(v))
		return false;
	if (!(f & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
		return false;	/* no legacy interface */
	return !v->ops->features_ok || v->ops->features_ok(v->opaque, f);
}

static void write_status(struct virtio_mmio *v, uint32_t value)
{
	uint32_t old = v->status & ~VIRTIO_STATUS_NEEDS_RESET;
	uint32_t set;

	value &= ~VIRTIO_STATUS_NEEDS_RESET;	/* the device's bit, not the driver's */
	if (value == 0) {
		device_reset(v);
		return;
	}
	if (v->failed) {
		set_status(v, (v->status & VIRTIO_STATUS_NEEDS_RESET) | value);
		return;
	}
	if (old & ~value) {
		virtio_mmio_fail(v, "driver cleared status bits (0x%x -> 0x%x)", old, value);
		return;
	}
	set = value & ~old;
	if (set & VIRTIO_STATUS_FEATURES_OK) {
		if (!(value & VIRTIO_STATUS_DRIVER) || !(value & VIRTIO_STATUS_ACKNOWLEDGE)) {
			virtio_mmio_fail(v, "FEATURES_OK before ACKNOWLEDGE and DRIVER");
			return;
		}
		if (!features_acceptable(v)) {
			/* Refused: the bit stays clear, as the driver checks (virtio 3.1.1). */
			vmmio_log(v, "refusing driver features 0x%llx (offered 0x%llx)",
				  (unsigned long long)v->driver_features,
				  (unsigned long long)offered(v));
			value &= ~VIRTIO_STATUS_FEATURES_OK;
		}
	}
	if (set & VIRTIO_STATUS_DRIVER_OK) {
		if (!(value & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_mmio_fail(v, "DRIVER_OK without FEATURES_OK");
			return;
		}
	}
	set_status(v, value);
	if (set & VIRTIO_STATUS_DRIVER_OK) {
		int r = v->ops->activate ? v->ops->activate(v->opaque) : 0;
		if (r < 0) {
			virtio_mmio_fail(v, "cannot activate: %s", strerror(-r));
			return;
		}
		/* Buffers made available before DRIVER_OK: serve them now. */
		for (unsigned q = 0; q < v->ops->num_queues; q++) {
			if (v->qreg[q].ready)
				vmmio_kick(v, q);
		}
	}
}

static void queue_ready(struct virtio_mmio *v, unsigned q, uint32_t value)
{
	typeof(v->qreg[0]) *r = &v->qreg[q];
	uint64_t f = v->driver_features;
	int err;

	if (!value) {
		r->ready = false;
		virtq_reset(&v->vq[q]);
		return;
	}
	if (r->ready)
		return;
	if (!(v->status & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_mmio_fail(v, "queue %u made ready before FEATURES_OK", q);
		return;
	}
	if (r->num > v->ops->queue_max) {
		virtio_mmio_fail(v, "queue %u size %u is above the maximum %u", q, r->num,
				 v->ops->queue_max);
		return;
	}
	err = virtq_setup(&v->vq[q], &v->cfg.mem, (uint16_t)r->num,
			  (uint64_t)r->desc_hi << 32 | r->desc_lo,
			  (uint64_t)r->avail_hi << 32 | r->avail_lo,
			  (uint64_t)r->used_hi << 32 | r->used_lo,
			  f & VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX),
			  f & VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC));
	if (err) {
		virtio_mmio_fail(v, "queue %u: %s", q, v->vq[q].error);
		virtq_reset(&v->vq[q]);
		return;
	}
	r->ready = true;
}

/* The queue registers may change only while the queue is not ready. */
static void write_queue_reg(struct virtio_mmio *v, uint64_t off, uint32_t value)
{
	unsigned q = v->queue_sel;
	typeof(v->qreg[0]) *r;

	if (q >= v->ops->num_queues)
		return;		/* no such queue: QueueNumMax read 0, nothing to configure */
	r = &v->qreg[q];
	if (off == VIRTIO_MMIO_QUEUE_READY) {
		queue_ready(v, q, value);
		return;
	}
	if (r->ready) {
		virtio_mmio_fail(v, "queue %u register 0x%03llx written while the queue is ready", q,
				 (unsigned long long)off);
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM: r->num = value; break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: r->desc_lo = value; break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: r->desc_hi = value; break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW: r->avail_lo = value; break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: r->avail_hi = value; break;
	case VIRTIO_MMIO_QUEUE_USED_LOW: r->used_lo = value; break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH: r->used_hi = value; break;
	}
}

static void write_driver_features(struct virtio_mmio *v, uint32_t value)
{
	unsigned shift;

	if (v->status & VIRTIO_STATUS_FEATURES_OK) {
		virtio_mmio_fail(v, "driver features written after FEATURES_OK");
		return;
	}
	if (v->drv_features_sel > 1)
		return;		/* only 64 feature bits exist */
	shift = 32 * v->drv_features_sel;
	v->driver_features = (v->driver_features & ~(0xffffffffULL << shift)) |
			     (uint64_t)value << shift;
}

static void notify_from_vcpu(struct virtio_mmio *v, uint32_t q)
{
	if (q >= v->ops->num_queues)
		return;
	v->stats.vcpu_notifies++;
	vmmio_kick(v, q);	/* the I/O thread serves it: no data path here */
}

static uint32_t read_reg(struct virtio_mmio *v, uint64_t off)
{
	unsigned q = v->queue_sel;
	bool have_q = q < v->ops->num_queues;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return 2;
	case VIRTIO_MMIO_DEVICE_ID: return v->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return v->dev_features_sel > 1 ? 0 :
		       (uint32_t)(offered(v) >> (32 * v->dev_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return have_q ? v->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY: return have_q && v->qreg[q].ready;
	case VIRTIO_MMIO_STATUS: return v->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff;	/* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION: return v->config_generation;
	default: return 0;	/* write-only or reserved */
	}
}

static void write_reg(struct virtio_mmio *v, uint64_t off, uint32_t value)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: v->dev_features_sel = value; break;
	case VIRTIO_MMIO_DRIVER_FEATURES: write_driver_features(v, value); break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: v->drv_features_sel = value; break;
	case VIRTIO_MMIO_QUEUE_SEL: v->queue_sel = value; break;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (!v->failed)
			write_queue_reg(v, off, value);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY: notify_from_vcpu(v, value); break;
	case VIRTIO_MMIO_STATUS: write_status(v, value); break;
	default: break;		/* read-only, SHM_SEL, QueueReset (not offered), reserved */
	}
}

/*
 * The interrupt handshake (InterruptStatus, InterruptACK) does not take the
 * lock: the I/O thread holds it while it moves a batch of data, and the
 * guest's interrupt handler must not wait for that batch to end.
 */
static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_mmio *v = opaque;
	uint64_t value = 0;

	if (off == VIRTIO_MMIO_INTERRUPT_STATUS)
		return size == 4 ? __atomic_load_n(&v->interrupt_status, __ATOMIC_SEQ_CST) |
				   __atomic_load_n(&v->running_status, __ATOMIC_SEQ_CST) : 0;
	pthread_mutex_lock(&v->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;
		if (size <= 8 && c < v->ops->config_size && size <= v->ops->config_size - c &&
		    v->ops->config_read)
			v->ops->config_read(v->opaque, (uint32_t)c, &value, size);
	} else if (size == 4 && !(off & 3)) {
		value = read_reg(v, off);
	}
	pthread_mutex_unlock(&v->lock);
	return value;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
	struct virtio_mmio *v = opaque;

	if (off == VIRTIO_MMIO_INTERRUPT_ACK) {
		if (size == 4)
			__atomic_and_fetch(&v->interrupt_status, ~(uint32_t)value, __ATOMIC_SEQ_CST);
		return;
	}
	pthread_mutex_lock(&v->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;
		if (size <= 8 && c < v->ops->config_size && size <= v->ops->config_size - c &&
		    v->ops->config_write && !v->failed)
			v->ops->config_write(v->opaque, (uint32_t)c, &value, size);
	} else if (size == 4 && !(off & 3)) {
		write_reg(v, off, (uint32_t)value);
	}
	pthread_mutex_unlock(&v->lock);
}

const struct mmio_ops virtio_mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
};
