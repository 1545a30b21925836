#include "vmm/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * An fd for fd's file that never blocks a write. Regular files do not wait
 * for a reader. A pipe or terminal is reopened (a new open file description,
 * so stdout stays blocking for whoever shares it); a socket, which cannot be
 * reopened, is made non-blocking in place.
 */
static int nonblocking(int fd, bool *owned)
{
	struct stat st;
	char path[32];

	*owned = false;
	if (fstat(fd, &st) < 0)
		return errno == EBADF ? -1 : -errno;	/* closed stdout: output dropped */
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (nfd >= 0) {
		*owned = true;
		return nfd;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return fd;
}

/* The ring and its kick pipe around an output fd (-1: dropped, < -1: -errno). */
static int open_ring(struct console *c, int fd, bool owned, const char *what, char *err, size_t errlen)
{
	int r;

	if (fd < -1) {
		snprintf(err, errlen, "cannot open console %s: %s", what, strerror(-fd));
		return fd;
	}
	c->fd = fd;
	c->owned = owned;
	if (pipe2(c->kick, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		snprintf(err, errlen, "console: pipe: %s", strerror(errno));
		if (owned)
			close(fd);
		return r;
	}
	pthread_mutex_init(&c->lock, NULL);
	return 0;
}

int console_open(struct console *c, enum console_kind kind, const char *path, char *err, size_t errlen)
{
	bool owned = false;
	int fd = -1;

	memset(c, 0, sizeof(*c));
	c->fd = c->kick[0] = c->kick[1] = -1;
	if (kind == CONSOLE_STDIO) {
		fd = nonblocking(STDOUT_FILENO, &owned);
	} else if (kind == CONSOLE_FILE) {
		/* O_NONBLOCK: a FIFO nobody reads must not hold up start-up either. */
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0644);
		if (fd < 0)
			fd = -errno;
		owned = fd >= 0;
	}
	return open_ring(c, fd, owned, kind == CONSOLE_FILE ? path : "stdout", err, errlen);
}

int console_open_fd(struct console *c, int fd, char *err, size_t errlen)
{
	bool owned = false;

	memset(c, 0, sizeof(*c));
	c->fd = c->kick[0] = c->kick[1] = -1;
	int out = nonblocking(fd, &owned);
	char what[24];
	snprintf(what, sizeof(what), "fd %d", fd);
	return open_ring(c, out, owned, what, err, errlen);
}

int console_kick_fd(const struct console *c)
{
	return c->kick[0];
}

void console_write(struct console *c, const uint8_t *data, size_t n)
{
	bool kick = false;

	if (n == 0)
		return;
	pthread_mutex_lock(&c->lock);
	c->last_write_ms = now_ms();
	if (n > CONSOLE_BUF_SIZE) {	/* only the newest CONSOLE_BUF_SIZE bytes can be kept */
		c->dropped += n - CONSOLE_BUF_SIZE;
		data += n - CONSOLE_BUF_SIZE;
		n = CONSOLE_BUF_SIZE;
	}
	uint64_t room = CONSOLE_BUF_SIZE - (c->wr - c->rd);
	if (n > room) {		/* drop the oldest */
		c->dropped += n - room;
		c->rd += n - room;
	}
	for (size_t done = 0; done < n;) {
		size_t at = (size_t)(c->wr % CONSOLE_BUF_SIZE), k = CONSOLE_BUF_SIZE - at;
		if (k > n - done)
			k = n - done;
		memcpy(c->buf + at, data + done, k);
		c->wr += k;
		done += k;
	}
	/* Wake the loop once per batch: for a complete line, or a ring half full. */
	if (!c->kicked && (memchr(data, '\n', n) || c->wr - c->rd >= CONSOLE_BUF_SIZE / 2)) {
		c->kicked = true;
		kick = true;
	}
	pthread_mutex_unlock(&c->lock);
	if (kick)
		(void)!write(c->kick[1], "k", 1);	/* a full pipe already holds a kick */
}

/* How many bytes from rd may go out now; lock held. */
static size_t ready_locked(const struct console *c, bool force)
{
	uint64_t len = c->wr - c->rd;

	if (force || len >= CONSOLE_BUF_SIZE / 2 || now_ms() - c->last_write_ms >= CONSOLE_IDLE_MS)
		return (size_t)len;
	for (uint64_t end = c->wr; end > c->rd; end--) {	/* up to the last newline */
		if (c->buf[(end - 1) % CONSOLE_BUF_SIZE] == '\n')
			return (size_t)(end - c->rd);
	}
	return 0;
}

bool console_drain(struct console *c, bool force)
{
	char sink[64];

	while (read(c->kick[0], sink, sizeof(sink)) > 0)
		;
	for (;;) {
		pthread_mutex_lock(&c->lock);
		c->kicked = false;
		uint64_t start = c->rd;
		size_t n = ready_locked(c, force);
		for (size_t done = 0; done < n;) {
			size_t at = (size_t)((start + done) % CONSOLE_BUF_SIZE), k = CONSOLE_BUF_SIZE - at;
			if (k > n - done)
				k = n - done;
			memcpy(c->out + done, c->buf + at, k);
			done += k;
		}
		pthread_mutex_unlock(&c->lock);
		if (n == 0)
			return false;

		/* Outside the lock: vCPUs keep appending while we write. */
		ssize_t w = c->fd >= 0 ? write(c->fd, c->out, n) : (ssize_t)n;
		if (w < 0 && errno == EINTR)
			continue;
		bool full = w < 0 && errno == EAGAIN;
		pthread_mutex_lock(&c->lock);
		if (w < 0 && !full) {		/* a closed console must not stop the guest */
			c->dropped += n;
			w = (ssize_t)n;
		}
		/* Bytes dropped meanwhile moved rd already: only advance. */
		if (w > 0 && start + (uint64_t)w > c->rd)
			c->rd = start + (uint64_t)w;
		if (w > 0) {
			bool open = c->out[w - 1] != '\n';
			if (open && !c->line_open)
				c->line_open_ms = now_ms();
			c->line_open = open;
		}
		pthread_mutex_unlock(&c->lock);
		if (full || (size_t)w < n)
			return true;
	}
}

bool console_same_output(const struct console *a, const struct console *b)
{
	struct stat sa, sb;

	if (a->fd < 0 || b->fd < 0 || fstat(a->fd, &sa) < 0 || fstat(b->fd, &sb) < 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

bool console_line_held(struct console *c, unsigned max_ms)
{
	pthread_mutex_lock(&c->lock);
	bool held = c->line_open && now_ms() - c->line_open_ms < max_ms;
	pthread_mutex_unlock(&c->lock);
	return held;
}

void console_end_line(struct console *c)
{
	pthread_mutex_lock(&c->lock);
	bool open = c->line_open;
	pthread_mutex_unlock(&c->lock);
	if (!open || c->fd < 0 || write(c->fd, "\n", 1) != 1)
		return;		/* full: the log line waits for the next pass */
	pthread_mutex_lock(&c->lock);
	c->line_open = false;
	pthread_mutex_unlock(&c->lock);
}

void console_flush(struct console *c)
{
	(void)console_drain(c, true);
}

uint64_t console_take_dropped(struct console *c, uint64_t *total)
{
	pthread_mutex_lock(&c->lock);
	uint64_t n = c->dropped - c->dropped_seen;
	c->dropped_seen = c->dropped;
	if (total)
		*total = c->dropped;
	pthread_mutex_unlock(&c->lock);
	return n;
}

void console_settle(struct console *c, unsigned wait_ms)
{
	uint64_t deadline = now_ms() + wait_ms;

	while (console_drain(c, true) && c->fd >= 0) {
		uint64_t now = now_ms();
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0)
			break;
	}
	pthread_mutex_lock(&c->lock);
	c->dropped += c->wr - c->rd;
	c->rd = c->wr;
	pthread_mutex_unlock(&c->lock);
}

void console_close(struct console *c)
{
	console_settle(c, CONSOLE_CLOSE_WAIT_MS);
	if (c->owned)
		close(c->fd);
	c->fd = -1;
	close(c->kick[0]);
	close(c->kick[1]);
	pthread_mutex_destroy(&c->lock);
}
