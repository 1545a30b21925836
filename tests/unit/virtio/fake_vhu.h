/*
 * A fake vhost-user backend for the unit tests: its replies are queued in
 * advance (the front end reads them in order), and the requests it got are
 * read back afterwards, with any file descriptors passed along.
 */
#ifndef TESTS_UNIT_VIRTIO_FAKE_VHU_H
#define TESTS_UNIT_VIRTIO_FAKE_VHU_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fv_msg {
	uint32_t req, flags, size;
	uint8_t payload[256];
	int fds[8];
	unsigned nfds;
};

struct fake_vhu {
	int fd;				/* the backend's end */
	uint8_t replies[4096];
	size_t rlen;
	/* Listening mode (fv_listen): a thread accepts, sends the replies, records requests. */
	int listen_fd;
	char path[108];
	pthread_t thread;
	bool serving;
	struct fv_msg msgs[64];
	unsigned nmsgs;
	int close_after;		/* close the connection after this many requests (-1: never) */
};

/* Queue a reply to req (REPLY flag set). */
void fv_reply(struct fake_vhu *f, uint32_t req, const void *payload, uint32_t len);
void fv_reply_u64(struct fake_vhu *f, uint32_t req, uint64_t v);
/* Write the queued replies to f->fd. */
void fv_flush(struct fake_vhu *f);
/* Read one request from fd; 0, or -1 at end of stream. */
int fv_read(int fd, struct fv_msg *m);
/* Listen on a fresh socket path; fv_serve() runs the thread that serves one connection. */
void fv_listen(struct fake_vhu *f);
void fv_serve(struct fake_vhu *f);
/* Wait up to ms until the thread recorded n requests; returns how many it has. */
unsigned fv_wait(struct fake_vhu *f, unsigned n, unsigned ms);
/* Wait for the serving thread (the front end closed or close_after was reached). */
void fv_join(struct fake_vhu *f);
void fv_cleanup(struct fake_vhu *f);

#endif
