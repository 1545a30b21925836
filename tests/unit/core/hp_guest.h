/*
 * A guest for the hotplug tests, on its own thread: it plays the AML and the
 * kernel from vCPU 0 of a testvm. It polls the GED, takes every event from
 * NEXT_EVENT, brings inserted CPUs up with CPU_ON, and offlines (CPU_OFF on
 * the CPU itself) and ejects removed ones, as Linux does. It reports _OST
 * success for each insert and each eject, so API waits complete.
 */
#ifndef TESTS_UNIT_CORE_HP_GUEST_H
#define TESTS_UNIT_CORE_HP_GUEST_H

#include <pthread.h>
#include <stdbool.h>
#include "testvm.h"

struct hp_guest {
	struct testvm *t;
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;
	char error[256];	/* the first thing that went wrong, "" if none */
};

void hp_guest_start(struct hp_guest *g, struct testvm *t);
/* Stop and join; returns false (g->error says why) if anything went wrong. */
bool hp_guest_stop(struct hp_guest *g);
/* Record a failure (from any thread) and stop the guest. */
void hp_guest_fail(struct hp_guest *g, const char *what, unsigned cpu, long v);
bool hp_guest_stopped(struct hp_guest *g);
/* Wait until no vCPU has an event pending (the guest took them all). */
bool hp_guest_settle(struct hp_guest *g, unsigned timeout_ms);

#endif
