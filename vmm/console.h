/*
 * Where the guest's serial output goes. Output is line-buffered so that a
 * guest line reaches the terminal in one write, not one write per byte; the
 * main loop flushes a partial line (a prompt) after CONSOLE_FLUSH_MS.
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "vmm/config.h"

#define CONSOLE_FLUSH_MS 20

struct console {
	int fd;			/* -1: output dropped */
	bool owned;
	pthread_mutex_t lock;
	size_t len;
	uint8_t buf[1024];
};

int console_open(struct console *c, enum console_kind kind, const char *path,
		 char *err, size_t errlen) WUR;
void console_write(struct console *c, const uint8_t *data, size_t n);
void console_flush(struct console *c);
void console_close(struct console *c);

#endif
