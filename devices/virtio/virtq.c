#include "devices/virtio/virtq.h"

#include <errno.h>
#include <string.h>

/*
 * Ring fields live in guest memory and change under our feet: read each one
 * once with an atomic access, and order the accesses as virtio 2.7.7/2.7.13
 * require: read avail->idx before the entries it covers; write used entries
 * before used->idx; and between publishing our side's index or flag and
 * reading the driver's, a store-load barrier. That last one comes from
 * making both accesses sequentially consistent (on arm64 an STLR followed by
 * an LDAR, which are never reordered) rather than from a fence, which
 * ThreadSanitizer cannot model.
 */
static inline uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static inline void store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

#define AVAIL_FLAGS(q)		(&(q)->avail[0])
#define AVAIL_IDX(q)		(&(q)->avail[1])
#define AVAIL_RING(q, i)	(&(q)->avail[2 + (i)])
#define USED_EVENT(q)		(&(q)->avail[2 + (q)->size])
#define USED_FLAGS(q)		(&(q)->used[0])
#define USED_IDX(q)		(&(q)->used[1])
#define AVAIL_EVENT(q)		(&(q)->used[2 + 4 * (q)->size])

static struct virtq_used_elem *used_elem(struct virtq *q, uint16_t i)
{
	return (struct virtq_used_elem *)(void *)&q->used[2 + 4 * i];
}

static int fail(struct virtq *q, int err, const char *why)
{
	q->broken = true;
	q->error = why;
	return err;
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

static void *area(struct virtq *q, uint64_t gpa, uint64_t len, uint64_t align,
		  const char *misaligned, const char *outside, int *err)
{
	void *p;

	if (*err)
		return NULL;
	if (gpa & (align - 1)) {
		*err = fail(q, -EINVAL, misaligned);
		return NULL;
	}
	p = gmem_ptr(q->mem, gpa, len);
	if (!p)
		*err = fail(q, -EFAULT, outside);
	return p;
}

int virtq_setup(struct virtq *q, const struct gmem *mem, uint16_t size,
		uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		bool event_idx, bool indirect)
{
	int err = 0;

	virtq_reset(q);
	q->mem = mem;
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return fail(q, -EINVAL, "queue size is not a power of two between 1 and 1024");
	q->size = size;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->desc_gpa = desc_gpa;
	q->avail_gpa = avail_gpa;
	q->used_gpa = used_gpa;
	q->desc = area(q, desc_gpa, VIRTQ_DESC_BYTES(size), 16,
		       "descriptor table is not 16-byte aligned",
		       "descriptor table is outside guest RAM", &err);
	q->avail = area(q, avail_gpa, VIRTQ_AVAIL_BYTES(size), 2,
			"available ring is not 2-byte aligned",
			"available ring is outside guest RAM", &err);
	q->used = area(q, used_gpa, VIRTQ_USED_BYTES(size), 4,
		       "used ring is not 4-byte aligned",
		       "used ring is outside guest RAM", &err);
	if (err) {
		q->size = 0;
		return err;
	}
	return 0;
}

/* Ask the driver to notify again (or not); ordered before the next read of avail->idx. */
static void set_notify(struct virtq *q, bool on)
{
	if (q->event_idx) {
		if (on)
			store16(AVAIL_EVENT(q), q->last_avail);
	} else if (on == q->notify_off) {
		store16(USED_FLAGS(q), on ? 0 : VIRTQ_USED_F_NO_NOTIFY);
	}
	q->notify_off = !on;
}

/* How many buffers the driver has made available beyond last_avail; -1 if it claims too many. */
static int pending(struct virtq *q)
{
	uint16_t n = (uint16_t)(load16(AVAIL_IDX(q)) - q->last_avail);
	return n > q->size ? -1 : n;
}

bool virtq_has_avail(struct virtq *q)
{
	return q->size && !q->broken && pending(q) != 0;
}

struct walk {
	struct virtq *q;
	struct virtq_chain *c;
	bool seen_write;
};

/* Turn one validated descriptor into an iovec. */
static int add_buffer(struct walk *w, const struct virtq_desc *d)
{
	struct virtq_chain *c = w->c;
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	void *p;

	if (!write && w->seen_write)
		return fail(w->q, -EINVAL, "device-readable descriptor after a device-writable one");
	w->seen_write |= write;
	p = gmem_ptr(w->q->mem, d->addr, d->len);
	if (!p)
		return fail(w->q, -EFAULT, "descriptor buffer is outside guest RAM");
	if (c->n_out + c->n_in >= c->cap)
		return fail(w->q, -ENOBUFS, "descriptor chain has more buffers than the device accepts");
	c->iov[c->n_out + c->n_in] = (struct iovec){ .iov_base = p, .iov_len = d->len };
	if (write) {
		c->n_in++;
		c->in_bytes += d->len;
	} else {
		c->n_out++;
		c->out_bytes += d->len;
	}
	return 0;
}

/* Walk an indirect table of n entries at host pointer t. */
static int walk_indirect(struct walk *w, const struct virtq_desc *t, uint32_t n)
{
	uint32_t i = 0;

	for (uint32_t visited = 0;; visited++) {
		struct virtq_desc d;
		int r;

		if (visited >= n)
			return fail(w->q, -ELOOP, "indirect descriptor chain loops");
		memcpy(&d, &t[i], sizeof(d));	/* one read of guest memory */
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return fail(w->q, -EINVAL, "indirect descriptor inside an indirect table");
		if ((r = add_buffer(w, &d)))
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return fail(w->q, -EINVAL, "indirect descriptor next is out of range");
		i = d.next;
	}
}

static int walk_indirect_head(struct walk *w, const struct virtq_desc *d)
{
	const struct virtq_desc *t;

	if (!w->q->indirect)
		return fail(w->q, -EINVAL, "indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC");
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return fail(w->q, -EINVAL, "indirect descriptor with NEXT set");
	if (d->len == 0 || d->len % sizeof(struct virtq_desc))
		return fail(w->q, -EINVAL, "indirect table length is zero or not a multiple of 16");
	if (d->addr & (sizeof(struct virtq_desc) - 1))
		return fail(w->q, -EINVAL, "indirect table is not 16-byte aligned");
	t = gmem_ptr(w->q->mem, d->addr, d->len);
	if (!t)
		return fail(w->q, -EFAULT, "indirect table is outside guest RAM");
	return walk_indirect(w, t, d->len / sizeof(struct virtq_desc));
}

static int walk_chain(struct walk *w, uint16_t head)
{
	struct virtq *q = w->q;
	uint16_t i = head;

	for (unsigned visited = 0;; visited++) {
		struct virtq_desc d;
		int r;

		if (visited >= q->size)
			return fail(q, -ELOOP, "descriptor chain loops or is longer than the queue");
		memcpy(&d, &q->desc[i], sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (visited != 0)
				return fail(q, -EINVAL, "indirect descriptor not at the head of a chain");
			return walk_indirect_head(w, &d);
		}
		if ((r = add_buffer(w, &d)))
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= q->size)
			return fail(q, -EINVAL, "descriptor next is out of range");
		i = d.next;
	}
}

static int pop(struct virtq *q, struct virtq_chain *c, bool rearm)
{
	int n;
	uint16_t head;

	if (q->broken)
		return -EIO;
	if (!q->size)
		return 0;
	n = pending(q);
	if (n == 0) {
		if (!rearm)
			return 0;
		/* Empty: ask for a notification, then look once more (the driver may have raced us). */
		set_notify(q, true);
		n = pending(q);
		if (n == 0)
			return 0;
	}
	if (n < 0)
		return fail(q, -EINVAL, "driver made more buffers available than the queue holds");
	if (!q->notify_off)
		set_notify(q, false);

	head = load16(AVAIL_RING(q, q->last_avail & (q->size - 1)));
	if (head >= q->size)
		return fail(q, -EINVAL, "available ring names a descriptor out of range");
	c->head = head;
	c->n_out = c->n_in = 0;
	c->out_bytes = c->in_bytes = 0;
	struct walk w = { .q = q, .c = c };
	int r = walk_chain(&w, head);
	if (r)
		return r;
	q->last_avail++;
	return 1;
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	return pop(q, c, true);
}

int virtq_pop_held(struct virtq *q, struct virtq_chain *c)
{
	return pop(q, c, false);
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e;

	if (q->broken)
		return -EIO;
	if (!q->size || head >= q->size)
		return -EINVAL;
	e = used_elem(q, q->used_idx & (q->size - 1));
	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	q->used_idx++;
	store16(USED_IDX(q), q->used_idx);	/* after the element, before reading used_event */
	return 0;
}

bool virtq_needs_interrupt(struct virtq *q)
{
	uint16_t old, now, ev;
	bool valid;

	if (!q->size || q->broken)
		return false;
	/* Our used->idx store (virtq_push) is ordered before these reads of the driver's wish. */
	if (!q->event_idx)
		return !(load16(AVAIL_FLAGS(q)) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	old = q->signalled_used;
	now = q->used_idx;
	valid = q->signalled_valid;
	q->signalled_used = now;
	q->signalled_valid = true;
	if (!valid)
		return true;
	ev = load16(USED_EVENT(q));
	/* Interrupt when used_event lies in [old, now): virtio 2.7.10 vring_need_event. */
	return (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
}

static uint64_t copy_iov(const struct iovec *iov, unsigned n, uint64_t offset,
			 void *buf, uint64_t len, bool to_iov)
{
	uint64_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		uint64_t l = iov[i].iov_len;
		if (offset >= l) {
			offset -= l;
			continue;
		}
		uint64_t chunk = l - offset;
		if (chunk > len - done)
			chunk = len - done;
		uint8_t *g = (uint8_t *)iov[i].iov_base + offset;
		if (to_iov)
			memcpy(g, (const uint8_t *)buf + done, chunk);
		else
			memcpy((uint8_t *)buf + done, g, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}

uint64_t virtq_chain_read(const struct virtq_chain *c, uint64_t offset, void *buf, uint64_t len)
{
	return copy_iov(c->iov, c->n_out, offset, buf, len, false);
}

uint64_t virtq_chain_write(const struct virtq_chain *c, uint64_t offset, const void *buf, uint64_t len)
{
	return copy_iov(c->iov + c->n_out, c->n_in, offset, (void *)buf, len, true);
}
