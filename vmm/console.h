/*
 * Where the guest's serial output goes. Output is line-buffered so that a
 * guest line reaches the terminal in one write, not one write per byte, and
 * does not mix with the VMM's own log lines. The main loop writes out a
 * partial line (a prompt) once the guest has been quiet for CONSOLE_IDLE_MS.
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "vmm/config.h"

#define CONSOLE_POLL_MS 50
#define CONSOLE_IDLE_MS 150

struct console {
	int fd;			/* -1: output dropped */
	bool owned;
	pthread_mutex_t lock;
	size_t len;
	uint64_t last_write_ms;	/* CLOCK_MONOTONIC */
	uint8_t buf[1024];
};

int console_open(struct console *c, enum console_kind kind, const char *path,
		 char *err, size_t errlen) WUR;
void console_write(struct console *c, const uint8_t *data, size_t n);
void console_flush(struct console *c);
/* Write out a partial line the guest has not added to for CONSOLE_IDLE_MS. */
void console_flush_idle(struct console *c);
void console_close(struct console *c);

#endif
