#include "devices/cpuhp.h"

#include <errno.h>
#include <string.h>

/* Under the lock: count the access, and note the selection if it is valid. */
static bool enter(struct cpuhp *hp, unsigned *cpu)
{
	pthread_mutex_lock(&hp->lock);
	hp->accesses++;
	*cpu = hp->selected;
	return hp->selected < hp->nr_cpus;
}

static uint64_t cpuhp_read(void *opaque, uint64_t offset, unsigned size)
{
	struct cpuhp *hp = opaque;
	const struct cpuhp_ops *ops = hp->ops;
	unsigned cpu;
	bool valid = enter(hp, &cpu);
	uint64_t v = 0;
	int next;

	(void)size;
	switch (offset) {
	case CPUHP_REG_SELECT:
		v = hp->selected;
		break;
	case CPUHP_REG_COUNT:
		v = hp->nr_cpus;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&hp->lock);

	if (offset == CPUHP_REG_STATUS && valid && ops && ops->status)
		v = ops->status(hp->opaque, cpu);
	if (offset == CPUHP_REG_NEXT_EVENT) {
		next = ops && ops->next_event ? ops->next_event(hp->opaque) : -1;
		if (next < 0 || (unsigned)next >= hp->nr_cpus)
			return CPUHP_NO_EVENT;
		/* Select it, so the scan reads its STATUS next without a SELECT write. */
		pthread_mutex_lock(&hp->lock);
		hp->selected = (uint32_t)next;
		pthread_mutex_unlock(&hp->lock);
		v = (uint32_t)next;
	}
	return v;
}

static void cpuhp_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct cpuhp *hp = opaque;
	const struct cpuhp_ops *ops = hp->ops;
	uint32_t v = (uint32_t)value;
	unsigned cpu;
	bool valid = enter(hp, &cpu);
	uint32_t ost_event = hp->ost_event;

	(void)size;
	switch (offset) {
	case CPUHP_REG_SELECT:
		hp->selected = v;
		break;
	case CPUHP_REG_OST_EVENT:
		hp->ost_event = v;
		break;
	default:	/* read-only registers and holes ignore writes */
		break;
	}
	pthread_mutex_unlock(&hp->lock);

	/* Outside the lock: the VMM takes its own lock and may block briefly. */
	if (!valid || !ops)
		return;
	if (offset == CPUHP_REG_COMMAND && ops->command &&
	    (v == CPUHP_CMD_CLEAR_INSERT || v == CPUHP_CMD_CLEAR_REMOVE || v == CPUHP_CMD_EJECT))
		ops->command(hp->opaque, cpu, v);
	else if (offset == CPUHP_REG_OST_STATUS && ops->ost)
		ops->ost(hp->opaque, cpu, ost_event, v);
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

uint64_t cpuhp_accesses(struct cpuhp *hp)
{
	uint64_t n;

	pthread_mutex_lock(&hp->lock);
	n = hp->accesses;
	pthread_mutex_unlock(&hp->lock);
	return n;
}
