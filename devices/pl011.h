/*
 * ARM PrimeCell PL011 UART (r1p5), behind struct mmio_ops. Output is instant:
 * the TX FIFO is always empty, every DR write reaches the output callback and
 * raises TXIS. Input comes from pl011_receive() into a 32-byte RX FIFO.
 * Thread-safe: vCPU threads (MMIO) and the main thread (input) may race.
 */
#ifndef DEVICES_PL011_H
#define DEVICES_PL011_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "devices/bus.h"

#define PL011_MMIO_SIZE		0x1000

#define PL011_REG_DR		0x000
#define PL011_REG_RSR_ECR	0x004
#define PL011_REG_FR		0x018
#define PL011_REG_ILPR		0x020
#define PL011_REG_IBRD		0x024
#define PL011_REG_FBRD		0x028
#define PL011_REG_LCR_H		0x02c
#define PL011_REG_CR		0x030
#define PL011_REG_IFLS		0x034
#define PL011_REG_IMSC		0x038
#define PL011_REG_RIS		0x03c
#define PL011_REG_MIS		0x040
#define PL011_REG_ICR		0x044
#define PL011_REG_DMACR		0x048
#define PL011_REG_PERIPH_ID0	0xfe0	/* PeriphID0..3 then CellID0..3, one byte each */

#define PL011_FR_BUSY		(1u << 3)
#define PL011_FR_RXFE		(1u << 4)
#define PL011_FR_TXFF		(1u << 5)
#define PL011_FR_RXFF		(1u << 6)
#define PL011_FR_TXFE		(1u << 7)

#define PL011_LCR_H_FEN		(1u << 4)

#define PL011_CR_UARTEN		(1u << 0)
#define PL011_CR_LBE		(1u << 7)
#define PL011_CR_TXE		(1u << 8)
#define PL011_CR_RXE		(1u << 9)

/* Interrupt bits, shared by IMSC, RIS, MIS and ICR. */
#define PL011_INT_RX		(1u << 4)
#define PL011_INT_TX		(1u << 5)
#define PL011_INT_RT		(1u << 6)
#define PL011_INT_ALL		0x7ffu

#define PL011_FIFO_DEPTH	32

struct pl011_ops {
	/* Bytes the guest transmitted. */
	void (*output)(void *opaque, const uint8_t *buf, size_t n);
	/*
	 * Drive the interrupt line (true = asserted), called only on a change.
	 * On failure the level is not recorded, so the next change retries.
	 */
	int (*set_irq)(void *opaque, bool level);
	/*
	 * Optional: the RX FIFO has room again after pl011_receive() took fewer
	 * bytes than offered. Just a wake-up: call pl011_receive() later.
	 */
	void (*rx_ready)(void *opaque);
};

struct pl011 {
	pthread_mutex_t lock;
	const struct pl011_ops *ops;
	void *opaque;

	uint8_t rx_fifo[PL011_FIFO_DEPTH];
	unsigned rx_head, rx_count;
	bool rx_blocked;	/* a receive was refused for lack of room */

	uint32_t ilpr, ibrd, fbrd, lcr_h, cr, ifls, imsc, ris, dmacr;
	bool level;		/* last level set_irq accepted */
};

extern const struct mmio_ops pl011_mmio_ops;

/*
 * output and set_irq are required, rx_ready optional. output and set_irq run
 * with the UART lock held (keeps bytes and line levels in order), so they must
 * not call back into this UART; rx_ready runs without it.
 */
int pl011_init(struct pl011 *uart, const struct pl011_ops *ops, void *opaque) WUR;
void pl011_destroy(struct pl011 *uart);
/* Queue received bytes; returns how many fit in the RX FIFO (0..n). */
size_t pl011_receive(struct pl011 *uart, const uint8_t *buf, size_t n);

#endif
