/*
 * The data path of a virtio-mmio device: its I/O thread, an epoll loop over
 * the queue notify eventfds, the interrupt resample eventfd, the call
 * eventfds of an external backend (unless they are irqfds) and the fds the
 * device watches. Also the interrupt side: InterruptStatus and the irqfd.
 */
#include "devices/virtio/mmio.h"
#include "devices/virtio/mmio_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* epoll data: what became ready. */
enum { EV_STOP = 1, EV_NOTIFY, EV_RESAMPLE, EV_CALL, EV_WATCH, EV_RERUN };
#define EV_TAG(kind, idx)	((uint64_t)(kind) << 32 | (idx))

static void signal_fd(int fd)
{
	uint64_t one = 1;
	(void)!write(fd, &one, sizeof(one));	/* an eventfd write only fails on overflow */
}

static void drain_fd(int fd)
{
	uint64_t n;
	(void)!read(fd, &n, sizeof(n));
}

void vmmio_raise(struct virtio_mmio *v, uint32_t bits)
{
	uint32_t old = __atomic_fetch_or(&v->interrupt_status, bits, __ATOMIC_SEQ_CST);

	/*
	 * Still pending on a level line: it is up, or the resample after the
	 * guest's EOI raises it again. The guest reads the rings after its ACK,
	 * so it sees what was pushed before this call either way.
	 */
	if (v->resample && (old & bits) == bits)
		return;
	v->stats.interrupts++;
	signal_fd(v->irq_fd);
}

void vmmio_kick(struct virtio_mmio *v, unsigned q)
{
	signal_fd(v->notify_fd[q]);
}

void vmmio_rerun(struct virtio_mmio *v, unsigned q)
{
	uint32_t bit = 1u << q;

	if (q >= v->ops->num_queues || (v->rerun & bit))
		return;
	v->rerun |= bit;
	signal_fd(v->rerun_fd);
}

void virtio_mmio_used(struct virtio_mmio *v, unsigned q)
{
	if (q < v->ops->num_queues && !v->failed && virtq_needs_interrupt(&v->vq[q]))
		vmmio_raise(v, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_interrupt(struct virtio_mmio *v)
{
	if (!v->failed && (v->status & VIRTIO_STATUS_DRIVER_OK))
		vmmio_raise(v, VIRTIO_MMIO_INT_VRING);
}

/* The relay: an external backend used buffers on a queue and signalled its call eventfd. */
static void relay_call(struct virtio_mmio *v, unsigned q)
{
	drain_fd(v->call_fd[q]);
	pthread_mutex_lock(&v->lock);
	if (!v->failed && (v->status & VIRTIO_STATUS_DRIVER_OK))
		v->stats.relayed_calls++;
	virtio_mmio_interrupt(v);
	pthread_mutex_unlock(&v->lock);
}

int virtio_mmio_set_direct_calls(struct virtio_mmio *v)
{
	if (!v->ops->external_queues || v->thread_started)
		return -EINVAL;
	for (unsigned q = 0; q < v->ops->num_queues; q++) {
		if (epoll_ctl(v->epoll_fd, EPOLL_CTL_DEL, v->call_fd[q], NULL) < 0)
			return -errno;
	}
	pthread_mutex_lock(&v->lock);
	v->direct_calls = true;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

void virtio_mmio_set_ioeventfd(struct virtio_mmio *v, bool on)
{
	pthread_mutex_lock(&v->lock);
	v->ioeventfd = on;
	pthread_mutex_unlock(&v->lock);
}

void virtio_mmio_set_resample(struct virtio_mmio *v, bool on)
{
	pthread_mutex_lock(&v->lock);
	v->resample = on;
	pthread_mutex_unlock(&v->lock);
}

void virtio_mmio_get_stats(struct virtio_mmio *v, struct virtio_mmio_stats *out)
{
	pthread_mutex_lock(&v->lock);
	*out = v->stats;
	out->status = v->status;
	out->ioeventfd = v->ioeventfd;
	out->direct_calls = v->direct_calls;
	pthread_mutex_unlock(&v->lock);
}

/* Lock held. A notification (counted) or a rerun. */
static void serve_locked(struct virtio_mmio *v, unsigned q, bool notified)
{
	int r;

	if (!v->failed && (v->status & VIRTIO_STATUS_DRIVER_OK) && v->qreg[q].ready &&
	    v->ops->queue_notify) {
		if (notified)
			v->stats.notifies++;
		r = v->ops->queue_notify(v->opaque, q);
		if (r < 0)
			virtio_mmio_fail(v, "queue %u: %s", q,
					 v->vq[q].broken && v->vq[q].error ? v->vq[q].error : strerror(-r));
	}
}

static void serve_queue(struct virtio_mmio *v, unsigned q)
{
	drain_fd(v->notify_fd[q]);
	pthread_mutex_lock(&v->lock);
	serve_locked(v, q, true);
	pthread_mutex_unlock(&v->lock);
}

void vmmio_serve_reruns(struct virtio_mmio *v)
{
	drain_fd(v->rerun_fd);
	pthread_mutex_lock(&v->lock);
	uint32_t due = v->rerun;
	v->rerun = 0;		/* a queue served here may ask again: next pass */
	for (unsigned q = 0; q < v->ops->num_queues; q++) {
		if (due & (1u << q))
			serve_locked(v, q, false);
	}
	pthread_mutex_unlock(&v->lock);
}

/* The guest EOIed the level interrupt and KVM lowered the line: raise it again if still pending. */
static void resample(struct virtio_mmio *v)
{
	drain_fd(v->resample_fd);
	pthread_mutex_lock(&v->lock);
	if (__atomic_load_n(&v->interrupt_status, __ATOMIC_SEQ_CST))
		signal_fd(v->irq_fd);
	pthread_mutex_unlock(&v->lock);
}

static void watched(struct virtio_mmio *v, unsigned i, uint32_t events)
{
	pthread_mutex_lock(&v->lock);
	struct virtio_watch w = v->watch[i];
	if (w.fn)
		w.fn(w.opaque, w.fd, events);
	pthread_mutex_unlock(&v->lock);
}

static void *io_thread(void *arg)
{
	struct virtio_mmio *v = arg;
	struct epoll_event ev[16];

	for (;;) {
		int n = epoll_wait(v->epoll_fd, ev, ARRAY_SIZE(ev), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			vmmio_log(v, "I/O thread: epoll_wait: %s", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			uint32_t kind = (uint32_t)(ev[i].data.u64 >> 32);
			uint32_t idx = (uint32_t)ev[i].data.u64;
			switch (kind) {
			case EV_STOP: return NULL;
			case EV_NOTIFY: serve_queue(v, idx); break;
			case EV_RESAMPLE: resample(v); break;
			case EV_CALL: relay_call(v, idx); break;
			case EV_WATCH: watched(v, idx, ev[i].events); break;
			case EV_RERUN: vmmio_serve_reruns(v); break;
			}
		}
	}
}

static int epoll_add(int epfd, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event e = { .events = events, .data.u64 = tag };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

int virtio_mmio_watch(struct virtio_mmio *v, int fd, uint32_t events, virtio_fd_fn fn, void *opaque)
{
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_WATCH; i++) {
		if (v->watch[i].fn)
			continue;
		v->watch[i] = (struct virtio_watch){ .fd = fd, .fn = fn, .opaque = opaque };
		int r = epoll_add(v->epoll_fd, fd, events, EV_TAG(EV_WATCH, i));
		if (r)
			v->watch[i].fn = NULL;
		return r;
	}
	return -ENOSPC;
}

void virtio_mmio_unwatch(struct virtio_mmio *v, int fd)
{
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_WATCH; i++) {
		if (v->watch[i].fn && v->watch[i].fd == fd) {
			(void)epoll_ctl(v->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
			v->watch[i].fn = NULL;
		}
	}
}

static int new_eventfd(int *fd)
{
	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return *fd < 0 ? -errno : 0;
}

static bool ops_valid(const struct virtio_dev_ops *ops)
{
	uint16_t m = ops->queue_max;
	return ops->name && ops->num_queues >= 1 && ops->num_queues <= VIRTIO_MMIO_MAX_QUEUES &&
	       m >= 1 && m <= VIRTQ_MAX_SIZE && !(m & (m - 1)) &&
	       ops->config_size <= VIRTIO_MMIO_CONFIG_MAX;
}

int virtio_mmio_init(struct virtio_mmio *v, const struct virtio_mmio_config *cfg,
		     const struct virtio_dev_ops *ops, void *opaque)
{
	int r;

	if (!v || !cfg || !ops || !ops_valid(ops))
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->cfg = *cfg;
	v->ops = ops;
	v->opaque = opaque;
	v->irq_fd = v->resample_fd = v->epoll_fd = v->stop_fd = v->rerun_fd = -1;
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		v->notify_fd[q] = v->call_fd[q] = -1;
	r = pthread_mutex_init(&v->lock, NULL);
	if (r)
		return -r;
	v->ready = true;
	v->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (v->epoll_fd < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = new_eventfd(&v->irq_fd)) || (r = new_eventfd(&v->resample_fd)) ||
	    (r = new_eventfd(&v->stop_fd)) || (r = new_eventfd(&v->rerun_fd)) ||
	    (r = epoll_add(v->epoll_fd, v->stop_fd, EPOLLIN, EV_TAG(EV_STOP, 0))) ||
	    (r = epoll_add(v->epoll_fd, v->rerun_fd, EPOLLIN, EV_TAG(EV_RERUN, 0))) ||
	    (r = epoll_add(v->epoll_fd, v->resample_fd, EPOLLIN, EV_TAG(EV_RESAMPLE, 0))))
		goto fail;
	for (unsigned q = 0; q < ops->num_queues; q++) {
		if ((r = new_eventfd(&v->notify_fd[q])))
			goto fail;
		if (!ops->external_queues &&
		    (r = epoll_add(v->epoll_fd, v->notify_fd[q], EPOLLIN, EV_TAG(EV_NOTIFY, q))))
			goto fail;
		/* Relayed until the VMM makes them irqfds (virtio_mmio_set_direct_calls). */
		if (ops->external_queues &&
		    ((r = new_eventfd(&v->call_fd[q])) ||
		     (r = epoll_add(v->epoll_fd, v->call_fd[q], EPOLLIN, EV_TAG(EV_CALL, q)))))
			goto fail;
	}
	return 0;
fail:
	virtio_mmio_destroy(v);
	return r;
}

int virtio_mmio_start(struct virtio_mmio *v)
{
	if (v->thread_started)
		return -EALREADY;
	int r = pthread_create(&v->thread, NULL, io_thread, v);
	if (r)
		return -r;
	v->thread_started = true;
	return 0;
}

void virtio_mmio_stop(struct virtio_mmio *v)
{
	if (!v->thread_started)
		return;
	signal_fd(v->stop_fd);
	pthread_join(v->thread, NULL);
	v->thread_started = false;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void virtio_mmio_destroy(struct virtio_mmio *v)
{
	if (!v->ready)
		return;
	virtio_mmio_stop(v);
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		close_fd(&v->notify_fd[q]);
		close_fd(&v->call_fd[q]);
	}
	close_fd(&v->irq_fd);
	close_fd(&v->resample_fd);
	close_fd(&v->stop_fd);
	close_fd(&v->rerun_fd);
	close_fd(&v->epoll_fd);
	pthread_mutex_destroy(&v->lock);
	v->ready = false;
}
