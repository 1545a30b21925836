#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "cli/vmmctl_client.h"

int vmmctl_connect(struct vmmctl_conn *c, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int rc = -errno;

		close(c->fd);
		c->fd = -1;
		return rc;
	}
	return 0;
}

void vmmctl_close(struct vmmctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int vmmctl_send_raw(struct vmmctl_conn *c, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

int vmmctl_send(struct vmmctl_conn *c, json_object *msg)
{
	size_t len;
	const char *s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
	char *line = malloc(len + 1);
	int rc;

	if (!s || !line) {
		free(line);
		return -ENOMEM;
	}
	memcpy(line, s, len);
	line[len++] = '\n';
	rc = vmmctl_send_raw(c, line, len);
	free(line);
	return rc;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Takes the first complete line out of the buffer, if there is one. */
static int take_line(struct vmmctl_conn *c, json_object **out)
{
	char *nl = memchr(c->buf, '\n', c->len);
	size_t n;

	if (!nl)
		return -EAGAIN;
	*nl = 0;
	*out = json_tokener_parse(c->buf);
	n = (size_t)(nl - c->buf) + 1;
	memmove(c->buf, nl + 1, c->len - n);
	c->len -= n;
	return *out ? 0 : -EBADMSG;
}

int vmmctl_recv(struct vmmctl_conn *c, int timeout_ms, json_object **out)
{
	long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int rc;

	for (;;) {
		rc = c->len ? take_line(c, out) : -EAGAIN;
		if (rc != -EAGAIN)
			return rc;
		if (c->len + 4096 > c->cap) {
			char *bigger;

			if (c->cap >= VMMCTL_MAX_LINE)
				return -EMSGSIZE;
			bigger = realloc(c->buf, c->cap ? 2 * c->cap : 65536);
			if (!bigger)
				return -ENOMEM;
			c->buf = bigger;
			c->cap = c->cap ? 2 * c->cap : 65536;
		}
		rc = poll(&p, 1, deadline < 0 ? -1 : (int)(deadline > now_ms() ? deadline - now_ms() : 0));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		c->len += (size_t)n;
	}
}
