#include "devices/ged.h"

#include <errno.h>
#include <string.h>

/*
 * set_irq runs with the lock held: a raise racing with the guest's read must
 * reach the interrupt controller in the same order as the state changes, or
 * the line could be left low with events pending (or high with none).
 */
static void drive_line(struct ged *ged, bool level, int *err)
{
	int ret;

	if (level == ged->level)
		return;
	ret = ged->set_irq(ged->irq_opaque, level);
	if (ret == 0)
		ged->level = level;	/* on failure the next change retries */
	else if (err)
		*err = ret;
}

static uint64_t ged_read(void *opaque, uint64_t offset, unsigned size)
{
	struct ged *ged = opaque;
	uint32_t events;

	(void)size;
	if (offset != GED_REG_EVENT)
		return 0;
	pthread_mutex_lock(&ged->lock);
	events = ged->pending;
	ged->pending = 0;
	drive_line(ged, false, NULL);	/* an MMIO read has nowhere to report */
	pthread_mutex_unlock(&ged->lock);
	return events;
}

static void ged_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	/* The event register is read-only; nothing else is decoded. */
	(void)opaque;
	(void)offset;
	(void)value;
	(void)size;
}

const struct mmio_ops ged_mmio_ops = {
	.read = ged_read,
	.write = ged_write,
};

int ged_init(struct ged *ged, ged_set_irq_fn set_irq, void *irq_opaque)
{
	int ret;

	if (!ged || !set_irq)
		return -EINVAL;
	memset(ged, 0, sizeof(*ged));
	ret = pthread_mutex_init(&ged->lock, NULL);
	if (ret)
		return -ret;
	ged->set_irq = set_irq;
	ged->irq_opaque = irq_opaque;
	return 0;
}

void ged_destroy(struct ged *ged)
{
	pthread_mutex_destroy(&ged->lock);
}

int ged_raise(struct ged *ged, uint32_t events)
{
	int err = 0;

	if (events == 0)
		return -EINVAL;
	pthread_mutex_lock(&ged->lock);
	ged->pending |= events;
	drive_line(ged, true, &err);
	pthread_mutex_unlock(&ged->lock);
	return err;
}
