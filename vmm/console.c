#include "vmm/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int console_open(struct console *c, enum console_kind kind, const char *path, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->fd = -1;
	if (kind == CONSOLE_STDIO) {
		c->fd = STDOUT_FILENO;
	} else if (kind == CONSOLE_FILE) {
		c->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->fd < 0) {
			int e = -errno;
			snprintf(err, errlen, "cannot open console file %s: %s", path, strerror(errno));
			pthread_mutex_destroy(&c->lock);
			return e;
		}
		c->owned = true;
	}
	return 0;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0 && fd >= 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* a closed console must not stop the guest */
		p += w;
		n -= (size_t)w;
	}
}

static void flush_locked(struct console *c, size_t n)
{
	write_all(c->fd, c->buf, n);
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void console_write(struct console *c, const uint8_t *data, size_t n)
{
	pthread_mutex_lock(&c->lock);
	c->last_write_ms = now_ms();
	while (n > 0) {
		size_t take = sizeof(c->buf) - c->len;
		if (take > n)
			take = n;
		memcpy(c->buf + c->len, data, take);
		c->len += take;
		data += take;
		n -= take;
		if (c->len == sizeof(c->buf)) {
			flush_locked(c, c->len);
			continue;
		}
		/* Write out every complete line, keep the partial one. */
		uint8_t *nl = memrchr(c->buf, '\n', c->len);
		if (nl)
			flush_locked(c, (size_t)(nl - c->buf) + 1);
	}
	pthread_mutex_unlock(&c->lock);
}

void console_flush(struct console *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->len)
		flush_locked(c, c->len);
	pthread_mutex_unlock(&c->lock);
}

void console_flush_idle(struct console *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->len && now_ms() - c->last_write_ms >= CONSOLE_IDLE_MS)
		flush_locked(c, c->len);
	pthread_mutex_unlock(&c->lock);
}

void console_close(struct console *c)
{
	console_flush(c);
	if (c->owned)
		close(c->fd);
	c->fd = -1;
	pthread_mutex_destroy(&c->lock);
}
