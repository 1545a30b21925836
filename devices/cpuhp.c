#include "devices/cpuhp.h"

#include <errno.h>
#include <string.h>

/* What a register access decided to report once the lock is dropped. */
struct cpuhp_callback {
	enum { CB_NONE, CB_EJECTED, CB_OST } kind;
	unsigned cpu;
	uint32_t event, status;
};

static bool selected_valid(const struct cpuhp *hp)
{
	return hp->selected < hp->nr_cpus;
}

static uint64_t cpuhp_read(void *opaque, uint64_t offset, unsigned size)
{
	struct cpuhp *hp = opaque;
	uint64_t v = 0;

	(void)size;
	pthread_mutex_lock(&hp->lock);
	switch (offset) {
	case CPUHP_REG_SELECT:
		v = hp->selected;
		break;
	case CPUHP_REG_STATUS:
		v = selected_valid(hp) ? hp->state[hp->selected] : 0;
		break;
	case CPUHP_REG_COUNT:
		v = hp->nr_cpus;
		break;
	default:	/* write-only registers and holes read as zero */
		break;
	}
	pthread_mutex_unlock(&hp->lock);
	return v;
}

static void run_command(struct cpuhp *hp, uint32_t cmd, struct cpuhp_callback *cb)
{
	uint8_t *st = &hp->state[hp->selected];

	switch (cmd) {
	case CPUHP_CMD_CLEAR_INSERT:
		*st &= ~CPUHP_STATUS_INSERT;
		break;
	case CPUHP_CMD_CLEAR_REMOVE:
		*st &= ~CPUHP_STATUS_REMOVE;
		break;
	case CPUHP_CMD_EJECT:
		/*
		 * Cleared before the callback so that _STA right after _EJ0
		 * reads the CPU as gone. A repeated _EJ0 is not reported twice.
		 */
		if (*st & CPUHP_STATUS_ENABLED)
			*cb = (struct cpuhp_callback){ .kind = CB_EJECTED, .cpu = hp->selected };
		*st &= ~(CPUHP_STATUS_ENABLED | CPUHP_STATUS_REMOVE);
		break;
	default:	/* unknown commands are ignored */
		break;
	}
}

static void cpuhp_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct cpuhp *hp = opaque;
	uint32_t v = (uint32_t)value;
	struct cpuhp_callback cb = { .kind = CB_NONE };

	(void)size;
	pthread_mutex_lock(&hp->lock);
	switch (offset) {
	case CPUHP_REG_SELECT:
		hp->selected = v;
		break;
	case CPUHP_REG_COMMAND:
		if (selected_valid(hp))
			run_command(hp, v, &cb);
		break;
	case CPUHP_REG_OST_EVENT:
		hp->ost_event = v;
		break;
	case CPUHP_REG_OST_STATUS:
		if (selected_valid(hp))
			cb = (struct cpuhp_callback){ .kind = CB_OST, .cpu = hp->selected,
						      .event = hp->ost_event, .status = v };
		break;
	default:	/* read-only registers and holes ignore writes */
		break;
	}
	pthread_mutex_unlock(&hp->lock);

	/* Outside the lock: the VMM may call back in (cpuhp_status) or block. */
	if (!hp->ops)
		return;
	if (cb.kind == CB_EJECTED && hp->ops->ejected)
		hp->ops->ejected(hp->opaque, cb.cpu);
	else if (cb.kind == CB_OST && hp->ops->ost)
		hp->ops->ost(hp->opaque, cb.cpu, cb.event, cb.status);
}

const struct mmio_ops cpuhp_mmio_ops = {
	.read = cpuhp_read,
	.write = cpuhp_write,
};

int cpuhp_init(struct cpuhp *hp, unsigned nr_cpus, const struct cpuhp_ops *ops, void *opaque)
{
	int ret;

	if (!hp || nr_cpus == 0 || nr_cpus > CPUHP_MAX_CPUS)
		return -EINVAL;
	memset(hp, 0, sizeof(*hp));
	ret = pthread_mutex_init(&hp->lock, NULL);
	if (ret)
		return -ret;
	hp->nr_cpus = nr_cpus;
	hp->ops = ops;
	hp->opaque = opaque;
	return 0;
}

void cpuhp_destroy(struct cpuhp *hp)
{
	pthread_mutex_destroy(&hp->lock);
}

uint32_t cpuhp_status(struct cpuhp *hp, unsigned cpu)
{
	uint32_t st;

	if (cpu >= hp->nr_cpus)
		return 0;
	pthread_mutex_lock(&hp->lock);
	st = hp->state[cpu];
	pthread_mutex_unlock(&hp->lock);
	return st;
}

int cpuhp_set_boot_enabled(struct cpuhp *hp, unsigned cpu)
{
	if (cpu >= hp->nr_cpus)
		return -EINVAL;
	pthread_mutex_lock(&hp->lock);
	hp->state[cpu] |= CPUHP_STATUS_ENABLED;
	pthread_mutex_unlock(&hp->lock);
	return 0;
}

int cpuhp_insert(struct cpuhp *hp, unsigned cpu)
{
	int ret = 0;

	if (cpu >= hp->nr_cpus)
		return -EINVAL;
	pthread_mutex_lock(&hp->lock);
	if (hp->state[cpu] & CPUHP_STATUS_ENABLED)
		ret = -EALREADY;
	else
		hp->state[cpu] |= CPUHP_STATUS_ENABLED | CPUHP_STATUS_INSERT;
	pthread_mutex_unlock(&hp->lock);
	return ret;
}

int cpuhp_request_remove(struct cpuhp *hp, unsigned cpu)
{
	int ret = 0;

	if (cpu >= hp->nr_cpus)
		return -EINVAL;
	pthread_mutex_lock(&hp->lock);
	if (!(hp->state[cpu] & CPUHP_STATUS_ENABLED))
		ret = -ENODEV;
	else
		hp->state[cpu] |= CPUHP_STATUS_REMOVE;
	pthread_mutex_unlock(&hp->lock);
	return ret;
}

void cpuhp_cancel_remove(struct cpuhp *hp, unsigned cpu)
{
	if (cpu >= hp->nr_cpus)
		return;
	pthread_mutex_lock(&hp->lock);
	hp->state[cpu] &= ~CPUHP_STATUS_REMOVE;
	pthread_mutex_unlock(&hp->lock);
}
