/* PL011: register file, TX/RX interrupt behaviour the Linux driver relies on. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "devices/pl011.h"

struct host {
	struct pl011 uart;
	uint8_t out[4096];
	size_t out_len;
	bool level;
	unsigned irq_calls, rx_ready_calls;
	int irq_error;		/* returned by set_irq when non-zero */
};

static void host_output(void *opaque, const uint8_t *buf, size_t n)
{
	struct host *h = opaque;

	memcpy(h->out + h->out_len, buf, n);
	h->out_len += n;
}

static int host_set_irq(void *opaque, bool level)
{
	struct host *h = opaque;

	h->irq_calls++;
	if (h->irq_error)
		return h->irq_error;
	assert_true(level != h->level);	/* only changes are driven */
	h->level = level;
	return 0;
}

static void host_rx_ready(void *opaque)
{
	struct host *h = opaque;

	h->rx_ready_calls++;
}

static const struct pl011_ops host_ops = {
	.output = host_output, .set_irq = host_set_irq, .rx_ready = host_rx_ready,
};

static uint32_t rd(struct host *h, uint64_t off)
{
	return (uint32_t)pl011_mmio_ops.read(&h->uart, off, 4);
}

static void wr(struct host *h, uint64_t off, uint32_t v)
{
	pl011_mmio_ops.write(&h->uart, off, v, 4);
}

static int setup(void **state)
{
	struct host *h = calloc(1, sizeof(*h));

	if (!h || pl011_init(&h->uart, &host_ops, h))
		return -1;
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct host *h = *state;

	pl011_destroy(&h->uart);
	free(h);
	return 0;
}

static void test_init_rejects_missing_callbacks(void **state)
{
	struct pl011 u;
	const struct pl011_ops no_irq = { .output = host_output };
	const struct pl011_ops no_out = { .set_irq = host_set_irq };

	(void)state;
	assert_int_equal(pl011_init(&u, NULL, NULL), -EINVAL);
	assert_int_equal(pl011_init(&u, &no_irq, NULL), -EINVAL);
	assert_int_equal(pl011_init(&u, &no_out, NULL), -EINVAL);
}

static void test_reset_values(void **state)
{
	struct host *h = *state;

	assert_int_equal(rd(h, PL011_REG_FR), PL011_FR_TXFE | PL011_FR_RXFE);
	assert_int_equal(rd(h, PL011_REG_CR), PL011_CR_TXE | PL011_CR_RXE);
	assert_int_equal(rd(h, PL011_REG_IFLS), 0x12);
	assert_int_equal(rd(h, PL011_REG_IMSC), 0);
	assert_int_equal(rd(h, PL011_REG_RIS), 0);
	assert_int_equal(rd(h, PL011_REG_MIS), 0);
	assert_int_equal(rd(h, PL011_REG_LCR_H), 0);
	assert_int_equal(rd(h, PL011_REG_RSR_ECR), 0);
	assert_int_equal(rd(h, PL011_REG_DR), 0);	/* empty FIFO */
	assert_int_equal(h->irq_calls, 0);
}

static void test_register_file(void **state)
{
	struct host *h = *state;
	static const struct { uint64_t off; uint32_t mask; } regs[] = {
		{ PL011_REG_ILPR, 0xff }, { PL011_REG_IBRD, 0xffff }, { PL011_REG_FBRD, 0x3f },
		{ PL011_REG_LCR_H, 0xff }, { PL011_REG_CR, 0xffff }, { PL011_REG_IFLS, 0x3f },
		{ PL011_REG_DMACR, 0x7 },
	};

	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		wr(h, regs[i].off, 0xffffffff);
		assert_int_equal(rd(h, regs[i].off), regs[i].mask);
		wr(h, regs[i].off, 0x5);
		assert_int_equal(rd(h, regs[i].off), 0x5);
	}
	/* Read-only registers ignore writes. */
	wr(h, PL011_REG_FR, 0);
	wr(h, PL011_REG_RIS, 0x7ff);
	assert_int_equal(rd(h, PL011_REG_RIS), 0);
	assert_int_equal(rd(h, PL011_REG_FR) & PL011_FR_TXFE, PL011_FR_TXFE);
}

static void test_id_registers(void **state)
{
	struct host *h = *state;
	uint32_t periph = 0, cell = 0;

	for (unsigned i = 0; i < 4; i++) {
		periph |= rd(h, 0xfe0 + 4 * i) << (8 * i);
		cell |= rd(h, 0xff0 + 4 * i) << (8 * i);
	}
	/* Linux matches PL011 as id 0x00041011 under mask 0x000fffff. */
	assert_int_equal(periph & 0x000fffff, 0x00041011);
	assert_int_equal(cell, 0xb105f00d);
	/* Revision 3 (r1p5): Linux then assumes the 32-byte FIFO we model. */
	assert_int_equal((periph >> 20) & 0xf, 3);
}

static void test_tx_output_and_txis(void **state)
{
	struct host *h = *state;

	wr(h, PL011_REG_DR, 'h');
	wr(h, PL011_REG_DR, 'i');
	assert_int_equal(h->out_len, 2);
	assert_memory_equal(h->out, "hi", 2);
	assert_int_equal(rd(h, PL011_REG_RIS), PL011_INT_TX);
	assert_int_equal(rd(h, PL011_REG_MIS), 0);
	/* Masked: the line never moved. */
	assert_false(h->level);
	assert_int_equal(h->irq_calls, 0);
	/* TX FIFO is never full and never busy. */
	assert_int_equal(rd(h, PL011_REG_FR) & (PL011_FR_TXFF | PL011_FR_BUSY), 0);
}

/*
 * The sequence amba-pl011 runs: write bytes with TXIM clear, unmask TXIM when
 * more remains, keep writing from the interrupt, mask TXIM when done.
 */
static void test_tx_interrupt_level_sequence(void **state)
{
	struct host *h = *state;

	wr(h, PL011_REG_DR, 'a');
	wr(h, PL011_REG_IMSC, PL011_INT_TX);
	assert_true(h->level);
	assert_int_equal(h->irq_calls, 1);
	assert_int_equal(rd(h, PL011_REG_MIS), PL011_INT_TX);

	/* More bytes keep it asserted; no redundant callbacks. */
	wr(h, PL011_REG_DR, 'b');
	wr(h, PL011_REG_DR, 'c');
	assert_true(h->level);
	assert_int_equal(h->irq_calls, 1);

	/* ICR clears TXIS and drops the line; the next byte raises it again. */
	wr(h, PL011_REG_ICR, PL011_INT_TX);
	assert_false(h->level);
	assert_int_equal(rd(h, PL011_REG_RIS), 0);
	wr(h, PL011_REG_DR, 'd');
	assert_true(h->level);
	assert_int_equal(h->irq_calls, 3);

	/* stop_tx: masking drops the line while RIS stays set. */
	wr(h, PL011_REG_IMSC, 0);
	assert_false(h->level);
	assert_int_equal(rd(h, PL011_REG_RIS), PL011_INT_TX);
	assert_int_equal(rd(h, PL011_REG_MIS), 0);
	assert_int_equal(h->irq_calls, 4);
	assert_memory_equal(h->out, "abcd", 4);
}

static void test_icr_only_clears_given_bits(void **state)
{
	struct host *h = *state;
	const uint8_t c = 'z';

	wr(h, PL011_REG_DR, 'a');
	assert_int_equal(pl011_receive(&h->uart, &c, 1), 1);
	assert_int_equal(rd(h, PL011_REG_RIS), PL011_INT_TX | PL011_INT_RX | PL011_INT_RT);
	wr(h, PL011_REG_ICR, PL011_INT_RX | PL011_INT_RT);
	assert_int_equal(rd(h, PL011_REG_RIS), PL011_INT_TX);
	wr(h, PL011_REG_ICR, PL011_INT_ALL);
	assert_int_equal(rd(h, PL011_REG_RIS), 0);
	assert_int_equal(rd(h, PL011_REG_ICR), 0);	/* write-only */
}

/* FIFO disabled (reset): a one-byte holding register. */
static void test_rx_holding_register(void **state)
{
	struct host *h = *state;

	wr(h, PL011_REG_IMSC, PL011_INT_RX | PL011_INT_RT);
	assert_int_equal(pl011_receive(&h->uart, (const uint8_t *)"abc", 3), 1);
	assert_int_equal(rd(h, PL011_REG_FR), PL011_FR_TXFE | PL011_FR_RXFF);
	assert_int_equal(rd(h, PL011_REG_RIS), PL011_INT_RX | PL011_INT_RT);
	assert_true(h->level);
	assert_int_equal(h->rx_ready_calls, 0);

	assert_int_equal(rd(h, PL011_REG_DR), 'a');
	assert_int_equal(rd(h, PL011_REG_FR), PL011_FR_TXFE | PL011_FR_RXFE);
	assert_int_equal(rd(h, PL011_REG_RIS), 0);
	assert_false(h->level);
	assert_int_equal(h->rx_ready_calls, 1);	/* the refused bytes can come now */

	assert_int_equal(pl011_receive(&h->uart, (const uint8_t *)"bc", 2), 1);
	assert_int_equal(rd(h, PL011_REG_DR), 'b');
	assert_int_equal(h->rx_ready_calls, 2);
}

static void test_rx_fifo_trigger_levels(void **state)
{
	struct host *h = *state;
	uint8_t in[40];

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)('0' + i);
	wr(h, PL011_REG_LCR_H, PL011_LCR_H_FEN | 0x60);	/* 8N1, FIFO on */
	wr(h, PL011_REG_IMSC, PL011_INT_RX);

	/* Below the 1/2 trigger (16 of 32): only the receive timeout. */
	assert_int_equal(pl011_receive(&h->uart, in, 3), 3);
	assert_int_equal(rd(h, PL011_REG_RIS), PL011_INT_RT);
	assert_false(h->level);
	wr(h, PL011_REG_IMSC, PL011_INT_RX | PL011_INT_RT);
	assert_true(h->level);

	/* Fill to the brim: the rest is refused. */
	assert_int_equal(pl011_receive(&h->uart, in + 3, 37), 29);
	assert_int_equal(rd(h, PL011_REG_RIS), PL011_INT_RX | PL011_INT_RT);
	assert_int_equal(rd(h, PL011_REG_FR) & (PL011_FR_RXFF | PL011_FR_RXFE), PL011_FR_RXFF);

	/* Draining below the trigger clears RXIS, emptying clears RTIS. */
	for (unsigned i = 0; i < 17; i++)
		assert_int_equal(rd(h, PL011_REG_DR), in[i]);
	assert_int_equal(h->rx_ready_calls, 1);
	assert_int_equal(rd(h, PL011_REG_RIS), PL011_INT_RT);
	assert_true(h->level);
	for (unsigned i = 17; i < 32; i++)
		assert_int_equal(rd(h, PL011_REG_DR), in[i]);
	assert_int_equal(rd(h, PL011_REG_RIS), 0);
	assert_false(h->level);
	assert_int_equal(rd(h, PL011_REG_FR) & PL011_FR_RXFE, PL011_FR_RXFE);
	assert_int_equal(h->rx_ready_calls, 1);
}

static void test_rx_trigger_from_ifls(void **state)
{
	struct host *h = *state;
	uint8_t in[8] = "abcdefgh";

	wr(h, PL011_REG_LCR_H, PL011_LCR_H_FEN);
	wr(h, PL011_REG_IFLS, 0);	/* RX 1/8 = 4 bytes */
	assert_int_equal(pl011_receive(&h->uart, in, 3), 3);
	assert_int_equal(rd(h, PL011_REG_RIS) & PL011_INT_RX, 0);
	assert_int_equal(pl011_receive(&h->uart, in + 3, 1), 1);
	assert_int_equal(rd(h, PL011_REG_RIS) & PL011_INT_RX, PL011_INT_RX);
}

static void test_fen_change_flushes_rx(void **state)
{
	struct host *h = *state;

	assert_int_equal(pl011_receive(&h->uart, (const uint8_t *)"xy", 2), 1);
	wr(h, PL011_REG_LCR_H, PL011_LCR_H_FEN);
	assert_int_equal(rd(h, PL011_REG_FR) & PL011_FR_RXFE, PL011_FR_RXFE);
	assert_int_equal(rd(h, PL011_REG_RIS), 0);
	assert_int_equal(h->rx_ready_calls, 1);
}

static void test_loopback(void **state)
{
	struct host *h = *state;

	wr(h, PL011_REG_LCR_H, PL011_LCR_H_FEN);
	wr(h, PL011_REG_CR, PL011_CR_UARTEN | PL011_CR_TXE | PL011_CR_RXE | PL011_CR_LBE);
	wr(h, PL011_REG_DR, 'L');
	wr(h, PL011_REG_DR, 'B');
	assert_int_equal(h->out_len, 0);
	assert_int_equal(rd(h, PL011_REG_RIS), PL011_INT_TX | PL011_INT_RT);
	assert_int_equal(rd(h, PL011_REG_DR), 'L');
	assert_int_equal(rd(h, PL011_REG_DR), 'B');
	assert_int_equal(rd(h, PL011_REG_FR) & PL011_FR_RXFE, PL011_FR_RXFE);

	wr(h, PL011_REG_CR, PL011_CR_UARTEN | PL011_CR_TXE | PL011_CR_RXE);
	wr(h, PL011_REG_DR, 'o');
	assert_int_equal(h->out_len, 1);
	assert_int_equal(h->out[0], 'o');
}

static void test_irq_failure_retried(void **state)
{
	struct host *h = *state;

	wr(h, PL011_REG_DR, 'a');
	h->irq_error = -EIO;
	wr(h, PL011_REG_IMSC, PL011_INT_TX);
	assert_false(h->level);
	h->irq_error = 0;
	wr(h, PL011_REG_DR, 'b');	/* any later update drives it again */
	assert_true(h->level);
	assert_int_equal(h->irq_calls, 2);
}

static void test_two_instances(void **state)
{
	struct host *a = *state, *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	assert_int_equal(pl011_init(&b->uart, &host_ops, b), 0);
	wr(a, PL011_REG_IMSC, PL011_INT_TX);
	wr(a, PL011_REG_DR, 'A');
	assert_int_equal(pl011_receive(&b->uart, (const uint8_t *)"B", 1), 1);
	assert_true(a->level);
	assert_false(b->level);
	assert_int_equal(b->out_len, 0);
	assert_int_equal(rd(a, PL011_REG_FR) & PL011_FR_RXFE, PL011_FR_RXFE);
	assert_int_equal(rd(b, PL011_REG_DR), 'B');
	assert_int_equal(rd(b, PL011_REG_IMSC), 0);
	pl011_destroy(&b->uart);
	free(b);
}

#define WRITERS 4
#define BYTES_EACH 1000

static void *writer(void *arg)
{
	struct host *h = arg;

	for (unsigned i = 0; i < BYTES_EACH; i++)
		wr(h, PL011_REG_DR, 'w');
	return NULL;
}

/* vCPU threads writing at once lose no byte (the sink is not itself locked). */
static void test_concurrent_writers(void **state)
{
	struct host *h = *state;
	pthread_t t[WRITERS];

	for (unsigned i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, h), 0);
	for (unsigned i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(h->out_len, WRITERS * BYTES_EACH);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_missing_callbacks),
		T(test_reset_values),
		T(test_register_file),
		T(test_id_registers),
		T(test_tx_output_and_txis),
		T(test_tx_interrupt_level_sequence),
		T(test_icr_only_clears_given_bits),
		T(test_rx_holding_register),
		T(test_rx_fifo_trigger_levels),
		T(test_rx_trigger_from_ifls),
		T(test_fen_change_flushes_rx),
		T(test_loopback),
		T(test_irq_failure_retried),
		T(test_two_instances),
		T(test_concurrent_writers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
