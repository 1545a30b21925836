#include "devices/pl011.h"

#include <errno.h>
#include <string.h>

/* Reset values from the PL011 TRM: TX and RX enabled, FIFO triggers at 1/2. */
#define CR_RESET	(PL011_CR_TXE | PL011_CR_RXE)
#define IFLS_RESET	0x12

/*
 * PeriphID0..3 (part 0x011, designer ARM 0x41, revision 3 = r1p5, whose FIFOs
 * are 32 deep: Linux sizes its FIFO from the revision) and the PrimeCell
 * CellID 0xB105F00D. Linux's AMBA bus reads them in device-tree mode.
 */
static const uint8_t id_regs[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

/* With the FIFO disabled (LCR_H.FEN clear) it is a one-byte holding register. */
static unsigned rx_depth(const struct pl011 *uart)
{
	return (uart->lcr_h & PL011_LCR_H_FEN) ? PL011_FIFO_DEPTH : 1;
}

/* IFLS.RXIFLSEL: 1/8, 1/4, 1/2, 3/4 or 7/8 of the FIFO. */
static unsigned rx_trigger(const struct pl011 *uart)
{
	static const unsigned eighths[8] = { 1, 2, 4, 6, 7, 7, 7, 7 };

	if (!(uart->lcr_h & PL011_LCR_H_FEN))
		return 1;
	return PL011_FIFO_DEPTH * eighths[(uart->ifls >> 3) & 7] / 8;
}

/* Line level = any unmasked raw interrupt; only changes go out. */
static void update_irq(struct pl011 *uart)
{
	bool level = (uart->ris & uart->imsc) != 0;

	if (level != uart->level && uart->ops->set_irq(uart->opaque, level) == 0)
		uart->level = level;
}

static unsigned rx_push(struct pl011 *uart, const uint8_t *buf, size_t n)
{
	unsigned depth = rx_depth(uart), taken = 0;

	while (taken < n && uart->rx_count < depth) {
		unsigned tail = (uart->rx_head + uart->rx_count) % PL011_FIFO_DEPTH;
		uart->rx_fifo[tail] = buf[taken++];
		uart->rx_count++;
	}
	if (taken) {
		if (uart->rx_count >= rx_trigger(uart))
			uart->ris |= PL011_INT_RX;
		/* No more data follows within this call, so the timeout fires now. */
		uart->ris |= PL011_INT_RT;
	}
	return taken;
}

/* Returns true when a refused receive can now be retried. */
static bool rx_room_again(struct pl011 *uart)
{
	if (!uart->rx_blocked || uart->rx_count >= rx_depth(uart))
		return false;
	uart->rx_blocked = false;
	return true;
}

static uint32_t rx_pop(struct pl011 *uart)
{
	uint32_t c;

	if (uart->rx_count == 0)
		return 0;
	c = uart->rx_fifo[uart->rx_head];
	uart->rx_head = (uart->rx_head + 1) % PL011_FIFO_DEPTH;
	uart->rx_count--;
	if (uart->rx_count < rx_trigger(uart))
		uart->ris &= ~PL011_INT_RX;
	if (uart->rx_count == 0)
		uart->ris &= ~PL011_INT_RT;
	return c;
}

static void rx_flush(struct pl011 *uart)
{
	uart->rx_head = uart->rx_count = 0;
	uart->ris &= ~(PL011_INT_RX | PL011_INT_RT);
}

static uint32_t flags(const struct pl011 *uart)
{
	uint32_t fr = PL011_FR_TXFE;	/* output is instant: TXFF and BUSY never set */

	if (uart->rx_count == 0)
		fr |= PL011_FR_RXFE;
	if (uart->rx_count >= rx_depth(uart))
		fr |= PL011_FR_RXFF;
	return fr;
}

static uint64_t pl011_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pl011 *uart = opaque;
	uint64_t v = 0;
	bool notify = false;

	(void)size;
	if (offset >= PL011_REG_PERIPH_ID0 && offset < PL011_MMIO_SIZE)
		return (offset & 3) ? 0 : id_regs[(offset - PL011_REG_PERIPH_ID0) / 4];

	pthread_mutex_lock(&uart->lock);
	switch (offset) {
	case PL011_REG_DR:
		v = rx_pop(uart);	/* error bits 8..11 always clear */
		notify = rx_room_again(uart);
		update_irq(uart);
		break;
	case PL011_REG_RSR_ECR: v = 0; break;	/* no framing/parity/break/overrun */
	case PL011_REG_FR:	v = flags(uart); break;
	case PL011_REG_ILPR:	v = uart->ilpr; break;
	case PL011_REG_IBRD:	v = uart->ibrd; break;
	case PL011_REG_FBRD:	v = uart->fbrd; break;
	case PL011_REG_LCR_H:	v = uart->lcr_h; break;
	case PL011_REG_CR:	v = uart->cr; break;
	case PL011_REG_IFLS:	v = uart->ifls; break;
	case PL011_REG_IMSC:	v = uart->imsc; break;
	case PL011_REG_RIS:	v = uart->ris; break;
	case PL011_REG_MIS:	v = uart->ris & uart->imsc; break;
	case PL011_REG_DMACR:	v = uart->dmacr; break;
	default:		v = 0; break;	/* ICR is write-only; holes read as zero */
	}
	pthread_mutex_unlock(&uart->lock);
	if (notify && uart->ops->rx_ready)
		uart->ops->rx_ready(uart->opaque);
	return v;
}

static void write_dr(struct pl011 *uart, uint8_t c)
{
	/* Loopback routes TX to RX inside the UART; nothing leaves on TXD. */
	if (uart->cr & PL011_CR_LBE)
		(void)rx_push(uart, &c, 1);
	else
		uart->ops->output(uart->opaque, &c, 1);
	/* The byte left the (always empty) TX FIFO at once: TX level reached. */
	uart->ris |= PL011_INT_TX;
}

static void write_lcr_h(struct pl011 *uart, uint32_t v)
{
	/* Switching FIFO mode changes the RX depth; start empty, as QEMU does. */
	if ((uart->lcr_h ^ v) & PL011_LCR_H_FEN)
		rx_flush(uart);
	uart->lcr_h = v;
}

static void pl011_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pl011 *uart = opaque;
	uint32_t v = (uint32_t)value;
	bool notify = false;

	(void)size;
	pthread_mutex_lock(&uart->lock);
	switch (offset) {
	case PL011_REG_DR:	write_dr(uart, (uint8_t)v); break;
	case PL011_REG_RSR_ECR:	break;	/* clears error flags, which are never set */
	case PL011_REG_ILPR:	uart->ilpr = v & 0xff; break;
	case PL011_REG_IBRD:	uart->ibrd = v & 0xffff; break;
	case PL011_REG_FBRD:	uart->fbrd = v & 0x3f; break;
	case PL011_REG_LCR_H:	write_lcr_h(uart, v & 0xff); break;
	case PL011_REG_CR:	uart->cr = v & 0xffff; break;
	case PL011_REG_IFLS:	uart->ifls = v & 0x3f; break;
	case PL011_REG_IMSC:	uart->imsc = v & PL011_INT_ALL; break;
	case PL011_REG_ICR:	uart->ris &= ~(v & PL011_INT_ALL); break;
	case PL011_REG_DMACR:	uart->dmacr = v & 0x7; break;
	default:		break;	/* FR, RIS, MIS, IDs are read-only */
	}
	notify = rx_room_again(uart);
	update_irq(uart);
	pthread_mutex_unlock(&uart->lock);
	if (notify && uart->ops->rx_ready)
		uart->ops->rx_ready(uart->opaque);
}

const struct mmio_ops pl011_mmio_ops = {
	.read = pl011_read,
	.write = pl011_write,
};

int pl011_init(struct pl011 *uart, const struct pl011_ops *ops, void *opaque)
{
	int ret;

	if (!uart || !ops || !ops->output || !ops->set_irq)
		return -EINVAL;
	memset(uart, 0, sizeof(*uart));
	ret = pthread_mutex_init(&uart->lock, NULL);
	if (ret)
		return -ret;
	uart->ops = ops;
	uart->opaque = opaque;
	uart->cr = CR_RESET;
	uart->ifls = IFLS_RESET;
	return 0;
}

void pl011_destroy(struct pl011 *uart)
{
	pthread_mutex_destroy(&uart->lock);
}

size_t pl011_receive(struct pl011 *uart, const uint8_t *buf, size_t n)
{
	size_t taken;

	pthread_mutex_lock(&uart->lock);
	taken = rx_push(uart, buf, n);
	if (taken < n)
		uart->rx_blocked = true;
	update_irq(uart);
	pthread_mutex_unlock(&uart->lock);
	return taken;
}
