/* virtio-rng end to end on a fake guest memory: driver, transport, I/O thread, source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/virtio/rng.h"
#include "tguest.h"

#define QSIZE VIRTIO_RNG_QUEUE_SIZE
#define RAM (4u << 20)
#define TMO 5000
#define ST_OK (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | \
	       VIRTIO_STATUS_DRIVER_OK)

struct fx {
	struct tguest g;
	struct virtio_rng rng;
	char dir[64], path[128];
	int writer;		/* FIFO tests: the host side feeding the source */
	char last_log[256];
};

static void log_line(void *opaque, const char *line)
{
	struct fx *f = opaque;
	snprintf(f->last_log, sizeof(f->last_log), "%s", line);
}

static void start(struct fx *f, const char *src)
{
	char err[256];
	struct virtio_mmio_config cfg = {
		.base = 0x0a000000, .spi = 16, .mem = f->g.mem, .log = log_line, .log_opaque = f,
	};
	if (virtio_rng_init(&f->rng, &cfg, src, err, sizeof(err)))
		fail_msg("virtio_rng_init: %s", err);
	assert_int_equal(virtio_mmio_start(&f->rng.vdev), 0);
	assert_int_equal(tg_mmio_bringup(&f->rng.vdev, &f->g, VIRTIO_MMIO_TRANSPORT_FEATURES), ST_OK);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	tg_init(&f->g, RAM, QSIZE);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vmm-rng-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/src", f->dir);
	f->writer = -1;
	f->rng.src_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	virtio_rng_destroy(&f->rng);
	if (f->writer >= 0)
		close(f->writer);
	unlink(f->path);
	rmdir(f->dir);
	tg_free(&f->g);
	free(f);
	return 0;
}

static void kick(struct fx *f)
{
	tg_wr(&f->rng.vdev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_urandom_fills_buffers(void **state)
{
	struct fx *f = *state;
	uint64_t a = tg_alloc(&f->g, 64), b = tg_alloc(&f->g, 32), big = tg_alloc(&f->g, 128 << 10);
	uint32_t id, len;

	start(f, "/dev/urandom");
	tg_desc(&f->g, 0, a, 64, VIRTQ_DESC_F_WRITE, 0);
	tg_desc(&f->g, 1, b, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);	/* two pieces */
	tg_desc(&f->g, 2, b + 16, 16, VIRTQ_DESC_F_WRITE, 0);
	tg_desc(&f->g, 3, big, 128 << 10, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&f->g, 0);
	tg_publish(&f->g, 1);
	tg_publish(&f->g, 3);
	kick(f);
	assert_true(tg_wait_fd(f->rng.vdev.irq_fd, TMO) > 0);
	for (int i = 0; i < TMO && tg_used_idx(&f->g) != 3; i++)
		usleep(1000);
	assert_true(tg_used(&f->g, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 64);
	assert_true(tg_used(&f->g, &id, &len));
	assert_int_equal(id, 1);
	assert_int_equal(len, 32);
	assert_true(tg_used(&f->g, &id, &len));
	assert_int_equal(id, 3);
	assert_int_equal(len, VIRTIO_RNG_MAX_FILL);	/* one request is bounded work */
	assert_false(all_zero(tg_host(&f->g, a), 64));
	assert_false(all_zero(tg_host(&f->g, b + 16), 16));
	assert_false(all_zero(tg_host(&f->g, big), VIRTIO_RNG_MAX_FILL));
	assert_true(all_zero((uint8_t *)tg_host(&f->g, big) + VIRTIO_RNG_MAX_FILL, 4096));
}

static void test_readable_only_chain_gets_nothing(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	start(f, "/dev/urandom");
	tg_desc(&f->g, 5, tg_alloc(&f->g, 8), 8, 0, 0);
	tg_publish(&f->g, 5);
	kick(f);
	assert_true(tg_wait_fd(f->rng.vdev.irq_fd, TMO) > 0);
	assert_true(tg_used(&f->g, &id, &len));
	assert_int_equal(id, 5);
	assert_int_equal(len, 0);
}

/* A source with nothing to give: the request waits, the source fd is watched. */
static void test_source_not_ready_waits(void **state)
{
	struct fx *f = *state;
	uint64_t buf = tg_alloc(&f->g, 32);
	uint32_t id, len;

	assert_int_equal(mkfifo(f->path, 0600), 0);
	f->writer = open(f->path, O_RDWR | O_NONBLOCK);	/* a writer exists: reads say EAGAIN */
	assert_true(f->writer >= 0);
	start(f, f->path);
	tg_desc(&f->g, 0, buf, 32, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&f->g, 0);
	kick(f);
	assert_int_equal(tg_wait_fd(f->rng.vdev.irq_fd, 100), 0);
	assert_false(tg_used(&f->g, &id, &len));
	assert_int_equal(write(f->writer, "0123456789", 10), 10);
	assert_true(tg_wait_fd(f->rng.vdev.irq_fd, TMO) > 0);
	assert_true(tg_used(&f->g, &id, &len));
	assert_int_equal(len, 10);
	assert_memory_equal(tg_host(&f->g, buf), "0123456789", 10);
	assert_false(tg_rd(&f->rng.vdev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_exhausted_source_fails_device(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	close(open(f->path, O_WRONLY | O_CREAT, 0600));	/* empty regular file */
	start(f, f->path);
	tg_desc(&f->g, 0, tg_alloc(&f->g, 32), 32, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&f->g, 0);
	kick(f);
	assert_true(tg_wait_fd(f->rng.vdev.irq_fd, TMO) > 0);
	assert_true(tg_rd(&f->rng.vdev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_non_null(strstr(f->last_log, "entropy source is exhausted"));
	assert_false(tg_used(&f->g, &id, &len));
}

static void test_buffer_outside_ram_fails_device(void **state)
{
	struct fx *f = *state;
	start(f, "/dev/urandom");
	tg_desc(&f->g, 0, TG_RAM_BASE + RAM - 16, 4096, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&f->g, 0);
	kick(f);
	assert_true(tg_wait_fd(f->rng.vdev.irq_fd, TMO) > 0);
	assert_true(tg_rd(&f->rng.vdev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_non_null(strstr(f->last_log, "descriptor buffer is outside guest RAM"));
}

static void test_missing_source(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct virtio_mmio_config cfg = { .mem = f->g.mem };
	assert_int_equal(virtio_rng_init(&f->rng, &cfg, "/nonexistent/rng", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/rng"));
	f->rng.src_fd = -1;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_urandom_fills_buffers),
		T(test_readable_only_chain_gets_nothing),
		T(test_source_not_ready_waits),
		T(test_exhausted_source_fails_device),
		T(test_buffer_outside_ram_fails_device),
		T(test_missing_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
