/* The vhost-user front end against a fake backend on a socketpair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/virtio/virtio.h"
#include "devices/virtio/vhost_user.h"
#include "fake_vhu.h"

struct fx {
	struct vhost_user vu;
	struct fake_vhu fv;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	f->vu = (struct vhost_user){ .fd = sv[0], .timeout_ms = 200 };
	f->fv.fd = sv[1];
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	vhu_close(&f->vu);
	fv_cleanup(&f->fv);
	free(f);
	return 0;
}

static uint64_t u64_of(const struct fv_msg *m)
{
	uint64_t v;
	memcpy(&v, m->payload, 8);
	return v;
}

#define FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | (1ULL << VHU_F_PROTOCOL_FEATURES))

static void test_handshake_negotiates(void **state)
{
	struct fx *f = *state;
	struct fv_msg m;
	uint64_t theirs = (1ULL << VHU_PROTOCOL_F_MQ) | (1ULL << VHU_PROTOCOL_F_REPLY_ACK) |
			  (1ULL << VHU_PROTOCOL_F_CONFIG) | (1ULL << 1);

	fv_reply_u64(&f->fv, VHU_GET_FEATURES, FEATURES);
	fv_reply_u64(&f->fv, VHU_GET_PROTOCOL_FEATURES, theirs);
	fv_reply_u64(&f->fv, VHU_GET_QUEUE_NUM, 2);
	fv_reply_u64(&f->fv, VHU_SET_OWNER, 0);		/* the ACK */
	fv_flush(&f->fv);
	assert_int_equal(vhu_handshake(&f->vu), 0);
	assert_true(f->vu.features == FEATURES);
	assert_true(f->vu.protocol_features == VHU_PROTOCOL_WANTED);
	assert_int_equal(f->vu.queue_num, 2);

	const uint32_t want[] = { VHU_GET_FEATURES, VHU_GET_PROTOCOL_FEATURES,
				  VHU_SET_PROTOCOL_FEATURES, VHU_GET_QUEUE_NUM, VHU_SET_OWNER };
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(fv_read(f->fv.fd, &m), 0);
		assert_int_equal(m.req, want[i]);
		assert_int_equal(m.flags & 3, VHU_VERSION);
		if (m.req == VHU_SET_PROTOCOL_FEATURES) {
			assert_int_equal(m.size, 8);
			assert_true(u64_of(&m) == VHU_PROTOCOL_WANTED);	/* ours & theirs only */
			assert_false(m.flags & VHU_FLAG_NEED_REPLY);
		}
		if (m.req == VHU_SET_OWNER)
			assert_true(m.flags & VHU_FLAG_NEED_REPLY);	/* REPLY_ACK in force */
	}
}

/* Without VHOST_USER_F_PROTOCOL_FEATURES: no protocol messages, no ACKs. */
static void test_handshake_without_protocol_features(void **state)
{
	struct fx *f = *state;
	struct fv_msg m;

	fv_reply_u64(&f->fv, VHU_GET_FEATURES, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	fv_flush(&f->fv);
	assert_int_equal(vhu_handshake(&f->vu), 0);
	assert_true(f->vu.protocol_features == 0);
	assert_int_equal(fv_read(f->fv.fd, &m), 0);
	assert_int_equal(m.req, VHU_GET_FEATURES);
	assert_int_equal(fv_read(f->fv.fd, &m), 0);
	assert_int_equal(m.req, VHU_SET_OWNER);
	assert_false(m.flags & VHU_FLAG_NEED_REPLY);
}

/* SET_MEM_TABLE carries the region and its fd: the backend maps the same memory. */
static void test_mem_table_passes_fd(void **state)
{
	struct fx *f = *state;
	struct fv_msg m;
	size_t size = 1 << 20;
	int mfd = memfd_create("t", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, (off_t)size), 0);
	uint8_t *ours = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	assert_true(ours != MAP_FAILED);
	struct vhu_region rg = { .gpa = 0x40000000, .size = size, .uaddr = (uintptr_t)ours, .fd = mfd };

	assert_int_equal(vhu_set_mem_table(&f->vu, &rg, 1), 0);	/* no REPLY_ACK: no wait */
	assert_int_equal(fv_read(f->fv.fd, &m), 0);
	assert_int_equal(m.req, VHU_SET_MEM_TABLE);
	assert_int_equal(m.size, 8 + 32);
	assert_int_equal(m.nfds, 1);
	uint32_t n;
	uint64_t d[4];
	memcpy(&n, m.payload, 4);
	memcpy(d, m.payload + 8, 32);
	assert_int_equal(n, 1);
	assert_true(d[0] == 0x40000000 && d[1] == size && d[2] == (uintptr_t)ours && d[3] == 0);
	uint8_t *theirs = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fds[0], 0);
	assert_true(theirs != MAP_FAILED);
	theirs[4096] = 0x5a;
	assert_int_equal(ours[4096], 0x5a);
	munmap(theirs, size);
	munmap(ours, size);
	close(m.fds[0]);
	close(mfd);
	assert_int_equal(vhu_set_mem_table(&f->vu, &rg, 0), -EINVAL);
	assert_int_equal(vhu_set_mem_table(&f->vu, &rg, VHU_MAX_REGIONS + 1), -EINVAL);
}

static void test_vring_messages(void **state)
{
	struct fx *f = *state;
	struct fv_msg m;
	struct vhu_vring_addr a = { .index = 1, .desc = 0x1000, .used = 0x3000, .avail = 0x2000 };
	uint32_t st[2] = { 1, 77 }, base = 0;

	assert_int_equal(vhu_set_vring(&f->vu, VHU_SET_VRING_NUM, 1, 256), 0);
	assert_int_equal(vhu_set_vring_addr(&f->vu, &a), 0);
	assert_int_equal(vhu_set_vring_fd(&f->vu, VHU_SET_VRING_KICK, 1, f->fv.fd), 0);
	assert_int_equal(vhu_set_vring_fd(&f->vu, VHU_SET_VRING_CALL, 1, -1), 0);
	fv_reply(&f->fv, VHU_GET_VRING_BASE, st, 8);
	fv_flush(&f->fv);
	assert_int_equal(vhu_get_vring_base(&f->vu, 1, &base), 0);
	assert_int_equal(base, 77);

	assert_int_equal(fv_read(f->fv.fd, &m), 0);
	assert_int_equal(m.req, VHU_SET_VRING_NUM);
	memcpy(st, m.payload, 8);
	assert_true(st[0] == 1 && st[1] == 256);
	assert_int_equal(fv_read(f->fv.fd, &m), 0);
	assert_int_equal(m.req, VHU_SET_VRING_ADDR);
	assert_int_equal(m.size, 40);
	uint64_t d[4];
	memcpy(d, m.payload + 8, 32);
	assert_true(d[0] == 0x1000 && d[1] == 0x3000 && d[2] == 0x2000 && d[3] == 0);	/* desc, used, avail, log */
	assert_int_equal(fv_read(f->fv.fd, &m), 0);
	assert_int_equal(m.req, VHU_SET_VRING_KICK);
	assert_int_equal(m.nfds, 1);
	assert_true(u64_of(&m) == 1);
	close(m.fds[0]);
	assert_int_equal(fv_read(f->fv.fd, &m), 0);
	assert_int_equal(m.req, VHU_SET_VRING_CALL);
	assert_int_equal(m.nfds, 0);
	assert_true(u64_of(&m) == (1 | VHU_VRING_NOFD));
	assert_int_equal(fv_read(f->fv.fd, &m), 0);
	assert_int_equal(m.req, VHU_GET_VRING_BASE);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The backend answers GET_FEATURES, then dies: an error at once, not a hang. */
static void test_backend_dies_mid_handshake(void **state)
{
	struct fx *f = *state;
	struct timespec t0;

	fv_reply_u64(&f->fv, VHU_GET_FEATURES, FEATURES);
	fv_flush(&f->fv);
	shutdown(f->fv.fd, SHUT_WR);
	f->vu.timeout_ms = 3000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vhu_handshake(&f->vu), -ECONNRESET);
	assert_true(elapsed_ms(&t0) < 2000);	/* at once, not after the timeout */
}

/* A backend that never answers: the timeout, then an error. */
static void test_silent_backend_times_out(void **state)
{
	struct fx *f = *state;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vhu_handshake(&f->vu), -ETIMEDOUT);
	long ms = elapsed_ms(&t0);
	assert_true(ms >= 190 && ms < 2000);
}

/* Replies that do not match the request are refused. */
static void test_bad_replies(void **state)
{
	struct fx *f = *state;
	uint8_t buf[64];
	uint64_t v = 1, out;

	size_t n = vhu_encode(buf, VHU_GET_FEATURES, VHU_FLAG_REPLY, &v, 8);
	assert_int_equal(vhu_parse_reply(buf, n, VHU_GET_FEATURES, &out, 8), 0);
	assert_true(out == 1);
	assert_int_equal(vhu_parse_reply(buf, n, VHU_GET_PROTOCOL_FEATURES, &out, 8), -EPROTO);
	assert_int_equal(vhu_parse_reply(buf, n - 1, VHU_GET_FEATURES, &out, 8), -EPROTO);
	assert_int_equal(vhu_parse_reply(buf, n, VHU_GET_FEATURES, &out, 4), -EPROTO);
	assert_int_equal(vhu_parse_reply(buf, 5, VHU_GET_FEATURES, &out, 8), -EPROTO);
	n = vhu_encode(buf, VHU_GET_FEATURES, 0, &v, 8);		/* not flagged as a reply */
	assert_int_equal(vhu_parse_reply(buf, n, VHU_GET_FEATURES, &out, 8), -EPROTO);
	buf[4] = VHU_FLAG_REPLY | 2;					/* wrong version */
	assert_int_equal(vhu_parse_reply(buf, n, VHU_GET_FEATURES, &out, 8), -EPROTO);

	/* On the wire: the wrong request, then a size beyond any message. */
	fv_reply_u64(&f->fv, VHU_GET_QUEUE_NUM, 1);
	fv_flush(&f->fv);
	assert_int_equal(vhu_handshake(&f->vu), -EPROTO);
	uint32_t hdr[3] = { VHU_GET_FEATURES, VHU_VERSION | VHU_FLAG_REPLY, 1u << 20 };
	assert_int_equal(write(f->fv.fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_int_equal(vhu_handshake(&f->vu), -EPROTO);
}

/* With REPLY_ACK a non-zero ACK is an error. */
static void test_nack(void **state)
{
	struct fx *f = *state;

	f->vu.protocol_features = 1ULL << VHU_PROTOCOL_F_REPLY_ACK;
	fv_reply_u64(&f->fv, VHU_SET_FEATURES, 1);
	fv_reply_u64(&f->fv, VHU_SET_FEATURES, 0);
	fv_flush(&f->fv);
	assert_int_equal(vhu_set_features(&f->vu, 1), -EIO);
	assert_int_equal(vhu_set_features(&f->vu, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_negotiates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_without_protocol_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_table_passes_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vring_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backend_dies_mid_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_backend_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nack, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
