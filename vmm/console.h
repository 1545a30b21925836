/*
 * Where the guest's serial output goes. vCPU threads only append to a
 * bounded ring (console_write never blocks and never touches the file);
 * the main loop writes it out with non-blocking writes (console_drain). If
 * nobody reads the output fast enough, the oldest bytes are dropped and
 * counted. Output is line-buffered so that a guest line reaches the terminal
 * in one write and does not mix with the VMM's own log lines; a partial line
 * (a prompt) goes out once the guest has been quiet for CONSOLE_IDLE_MS.
 * When the log shares the console's output, a log line waits for the guest
 * to finish a partial line, at most CONSOLE_LOG_HOLD_MS; then the line is
 * ended for it, so a log line always starts a line of its own.
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
#define CONSOLE_LOG_HOLD_MS 500	/* how long the log waits for a guest's partial line */
#define CONSOLE_BUF_SIZE (64 * 1024)
#define CONSOLE_CLOSE_WAIT_MS 1000	/* at exit, how long a slow reader may hold us */

struct console {
	int fd;			/* -1: output dropped; non-blocking unless a regular file */
	bool owned;
	int kick[2];		/* readable when a line waits: the main loop drains */
	pthread_mutex_t lock;	/* everything below */
	bool kicked;
	uint64_t rd, wr;	/* ring positions, counted from the start: len = wr - rd */
	uint64_t last_write_ms;	/* CLOCK_MONOTONIC */
	uint64_t dropped, dropped_seen;
	bool line_open;		/* the last byte written out was not a newline */
	uint64_t line_open_ms;	/* since when (CLOCK_MONOTONIC) */
	uint8_t buf[CONSOLE_BUF_SIZE];
	uint8_t out[CONSOLE_BUF_SIZE];	/* the drainer's copy, written without the lock */
};

int console_open(struct console *c, enum console_kind kind, const char *path,
		 char *err, size_t errlen) WUR;
/* The same ring in front of an fd of ours, e.g. stderr for vmm's own log. */
int console_open_fd(struct console *c, int fd, char *err, size_t errlen) WUR;
/* Any thread: queue guest output. Never blocks; drops the oldest bytes when full. */
void console_write(struct console *c, const uint8_t *data, size_t n);
/* The fd the main loop watches to call console_drain() when a line waits (-1: none). */
int console_kick_fd(const struct console *c);
/*
 * Main loop: write complete lines (and a partial one once the guest has been
 * quiet for CONSOLE_IDLE_MS, or everything with force) as far as the output
 * takes them without waiting. True when bytes are left because the output
 * is full: call again once console->fd is writable.
 */
bool console_drain(struct console *c, bool force);
/* Write out everything the output takes now, partial lines included. */
void console_flush(struct console *c);
/* Both write to the same file (pipe, terminal, socket or regular file). */
bool console_same_output(const struct console *a, const struct console *b);
/* True while a partial line (no newline yet) has been out for less than max_ms. */
bool console_line_held(struct console *c, unsigned max_ms);
/* Main loop: end a partial line with a newline, so what comes next starts a line. */
void console_end_line(struct console *c);
/* Bytes dropped since the last call (for the log), and in total. */
uint64_t console_take_dropped(struct console *c, uint64_t *total);
/* Write out everything, waiting at most wait_ms for a slow reader; drop the rest. */
void console_settle(struct console *c, unsigned wait_ms);
/* console_settle(CONSOLE_CLOSE_WAIT_MS), then close. */
void console_close(struct console *c);

#endif
