/* The vhost-user front end: messages on a unix socket, each with a timeout. */
#include "devices/virtio/vhost_user.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Payloads are little-endian; so are the hosts the VMM runs on (x86-64, arm64). */

size_t vhu_encode(uint8_t *buf, uint32_t req, uint32_t flags, const void *payload, uint32_t len)
{
	uint32_t hdr[3] = { req, flags | VHU_VERSION, len };

	memcpy(buf, hdr, sizeof(hdr));
	if (len)
		memcpy(buf + VHU_HDR_SIZE, payload, len);
	return VHU_HDR_SIZE + len;
}

int vhu_parse_reply(const uint8_t *buf, size_t len, uint32_t req, void *out, size_t want)
{
	uint32_t hdr[3];

	if (len < VHU_HDR_SIZE)
		return -EPROTO;
	memcpy(hdr, buf, sizeof(hdr));
	if (hdr[0] != req || (hdr[1] & 3u) != VHU_VERSION || !(hdr[1] & VHU_FLAG_REPLY))
		return -EPROTO;
	if (hdr[2] != want || len - VHU_HDR_SIZE != want)
		return -EPROTO;
	if (want)
		memcpy(out, buf + VHU_HDR_SIZE, want);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events until the deadline. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		if (left <= 0)
			return -ETIMEDOUT;
		int n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		if (p.revents & events)
			return 0;
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			return -ECONNRESET;
	}
}

static int read_full(struct vhost_user *vu, uint8_t *buf, size_t n, int64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		int r = wait_fd(vu->fd, POLLIN, deadline);
		if (r)
			return r;
		ssize_t k = recv(vu->fd, buf + got, n - got, MSG_DONTWAIT);
		if (k == 0)
			return -ECONNRESET;
		if (k < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)k;
	}
	return 0;
}

static int send_msg(struct vhost_user *vu, uint32_t req, uint32_t flags, const void *payload,
		    uint32_t len, const int *fds, unsigned nfds)
{
	uint8_t buf[VHU_HDR_SIZE + VHU_MAX_PAYLOAD];
	union {
		char b[CMSG_SPACE(sizeof(int) * VHU_MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int r;

	if (vu->fd < 0)
		return -ENOTCONN;
	if (len > VHU_MAX_PAYLOAD || nfds > VHU_MAX_REGIONS)
		return -EINVAL;
	iov = (struct iovec){ .iov_base = buf, .iov_len = vhu_encode(buf, req, flags, payload, len) };
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	if ((r = wait_fd(vu->fd, POLLOUT, now_ms() + vu->timeout_ms)))
		return r;
	ssize_t k = sendmsg(vu->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (k < 0)
		return errno == EPIPE ? -ECONNRESET : -errno;
	return (size_t)k == iov.iov_len ? 0 : -EIO;	/* a short send on a unix stream socket: give up */
}

static int recv_reply(struct vhost_user *vu, uint32_t req, void *out, size_t want)
{
	uint8_t buf[VHU_HDR_SIZE + VHU_MAX_PAYLOAD];
	int64_t deadline = now_ms() + vu->timeout_ms;
	uint32_t size;
	int r;

	if ((r = read_full(vu, buf, VHU_HDR_SIZE, deadline)))
		return r;
	memcpy(&size, buf + 8, sizeof(size));
	if (size > VHU_MAX_PAYLOAD)
		return -EPROTO;
	if ((r = read_full(vu, buf + VHU_HDR_SIZE, size, deadline)))
		return r;
	return vhu_parse_reply(buf, VHU_HDR_SIZE + size, req, out, want);
}

/* One request; with out, its reply; without, the ACK when REPLY_ACK was negotiated. */
static int request(struct vhost_user *vu, uint32_t req, const void *payload, uint32_t len,
		   const int *fds, unsigned nfds, void *out, size_t want)
{
	bool ack = !out && (vu->protocol_features & (1ULL << VHU_PROTOCOL_F_REPLY_ACK));
	uint64_t status = 0;
	int r = send_msg(vu, req, ack ? VHU_FLAG_NEED_REPLY : 0, payload, len, fds, nfds);

	if (r)
		return r;
	if (out)
		return recv_reply(vu, req, out, want);
	if (ack && (r = recv_reply(vu, req, &status, sizeof(status))))
		return r;
	return status ? -EIO : 0;
}

int vhu_connect(struct vhost_user *vu, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	*vu = (struct vhost_user){ .fd = -1, .timeout_ms = timeout_ms };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	vu->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vu->fd < 0)
		return -errno;
	if (connect(vu->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		vhu_close(vu);
		return r;
	}
	return 0;
}

void vhu_close(struct vhost_user *vu)
{
	if (vu->fd >= 0)
		close(vu->fd);
	vu->fd = -1;
}

int vhu_handshake(struct vhost_user *vu)
{
	uint64_t theirs = 0, ours;
	uint64_t qn = 0;
	int r;

	if ((r = request(vu, VHU_GET_FEATURES, NULL, 0, NULL, 0, &vu->features, 8)))
		return r;
	if (vu->features & (1ULL << VHU_F_PROTOCOL_FEATURES)) {
		if ((r = request(vu, VHU_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0, &theirs, 8)))
			return r;
		ours = theirs & VHU_PROTOCOL_WANTED;
		/* Sent before REPLY_ACK is in force: no ACK for this one. */
		if ((r = request(vu, VHU_SET_PROTOCOL_FEATURES, &ours, 8, NULL, 0, NULL, 0)))
			return r;
		vu->protocol_features = ours;
		if ((ours & (1ULL << VHU_PROTOCOL_F_MQ)) &&
		    (r = request(vu, VHU_GET_QUEUE_NUM, NULL, 0, NULL, 0, &qn, 8)))
			return r;
		vu->queue_num = qn > UINT32_MAX ? UINT32_MAX : (uint32_t)qn;
	}
	return request(vu, VHU_SET_OWNER, NULL, 0, NULL, 0, NULL, 0);
}

int vhu_set_features(struct vhost_user *vu, uint64_t features)
{
	return request(vu, VHU_SET_FEATURES, &features, 8, NULL, 0, NULL, 0);
}

int vhu_set_mem_table(struct vhost_user *vu, const struct vhu_region *rg, unsigned n)
{
	uint8_t p[8 + VHU_MAX_REGIONS * 32];
	int fds[VHU_MAX_REGIONS];
	uint32_t hdr[2] = { n, 0 };

	if (n == 0 || n > VHU_MAX_REGIONS)
		return -EINVAL;
	memcpy(p, hdr, 8);
	for (unsigned i = 0; i < n; i++) {
		uint64_t d[4] = { rg[i].gpa, rg[i].size, rg[i].uaddr, rg[i].mmap_offset };
		memcpy(p + 8 + 32 * i, d, 32);
		fds[i] = rg[i].fd;
	}
	return request(vu, VHU_SET_MEM_TABLE, p, 8 + 32 * n, fds, n, NULL, 0);
}

int vhu_set_vring(struct vhost_user *vu, enum vhu_request req, uint32_t index, uint32_t num)
{
	uint32_t st[2] = { index, num };
	return request(vu, req, st, 8, NULL, 0, NULL, 0);
}

int vhu_set_vring_addr(struct vhost_user *vu, const struct vhu_vring_addr *a)
{
	uint8_t p[40];
	uint32_t h[2] = { a->index, a->flags };
	uint64_t d[4] = { a->desc, a->used, a->avail, a->log };

	memcpy(p, h, 8);
	memcpy(p + 8, d, 32);
	return request(vu, VHU_SET_VRING_ADDR, p, sizeof(p), NULL, 0, NULL, 0);
}

int vhu_set_vring_fd(struct vhost_user *vu, enum vhu_request req, uint32_t index, int fd)
{
	uint64_t v = (index & 0xffu) | (fd < 0 ? VHU_VRING_NOFD : 0);
	return request(vu, req, &v, 8, fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1, NULL, 0);
}

int vhu_get_vring_base(struct vhost_user *vu, uint32_t index, uint32_t *base)
{
	uint32_t st[2] = { index, 0 }, rep[2];
	int r = request(vu, VHU_GET_VRING_BASE, st, 8, NULL, 0, rep, 8);

	if (r)
		return r;
	if (rep[0] != index)
		return -EPROTO;
	*base = rep[1];
	return 0;
}
