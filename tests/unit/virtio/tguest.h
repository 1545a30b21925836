/*
 * A minimal virtio driver for host unit tests (and the fuzz target): guest
 * RAM is a heap buffer at guest physical RAM_BASE; the helpers lay out a
 * split queue in it the way Linux's virtio_ring does, publish chains, read
 * the used ring, and drive a virtio-mmio device's registers.
 */
#ifndef TESTS_UNIT_VIRTIO_TGUEST_H
#define TESTS_UNIT_VIRTIO_TGUEST_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/virtio/gmem.h"
#include "devices/virtio/mmio.h"
#include "devices/virtio/virtq.h"

#define TG_RAM_BASE	0x40000000ULL

struct tguest {
	struct gmem mem;
	uint16_t size;
	uint64_t desc, avail, used;	/* ring addresses */
	uint16_t avail_idx;		/* next avail idx the driver publishes */
	uint16_t used_seen;		/* used entries consumed */
	uint64_t heap;			/* bump allocator for buffers */
};

/* ram bytes of guest memory (zeroed), a queue of `size` entries laid out at the start. */
void tg_init(struct tguest *g, uint64_t ram, uint16_t size);
void tg_free(struct tguest *g);
/* Zero the rings and start the driver's indexes again (after a device reset). */
void tg_reset_rings(struct tguest *g);
/* Host pointer of a guest address (must be inside RAM). */
void *tg_host(struct tguest *g, uint64_t gpa);
/* A fresh, 16-byte aligned guest buffer. */
uint64_t tg_alloc(struct tguest *g, uint64_t len);
void tg_desc(struct tguest *g, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
/* Put head in the avail ring and advance avail->idx. */
void tg_publish(struct tguest *g, uint16_t head);
/* Set avail->idx directly (to test a lying driver). */
void tg_set_avail_idx(struct tguest *g, uint16_t idx);
void tg_set_avail_flags(struct tguest *g, uint16_t flags);
void tg_set_used_event(struct tguest *g, uint16_t ev);
uint16_t tg_avail_event(struct tguest *g);
uint16_t tg_used_flags(struct tguest *g);
uint16_t tg_used_idx(struct tguest *g);
/* The next used element, if the device returned one. */
bool tg_used(struct tguest *g, uint32_t *id, uint32_t *len);
/* Start both rings' indexes at idx (to test wrap-around). */
void tg_start_at(struct tguest *g, struct virtq *q, uint16_t idx);

/* ---- virtio-mmio register helpers ---- */
uint32_t tg_rd(struct virtio_mmio *v, uint64_t off);
void tg_wr(struct virtio_mmio *v, uint64_t off, uint32_t val);
/*
 * The Linux probe sequence: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK,
 * queue 0 set up on g's rings, DRIVER_OK. Returns the status read back.
 */
uint32_t tg_mmio_bringup(struct virtio_mmio *v, struct tguest *g, uint64_t features);
/* Wait up to ms for the eventfd to be signalled; returns its count (0 on timeout). */
uint64_t tg_wait_fd(int fd, unsigned ms);

#endif
