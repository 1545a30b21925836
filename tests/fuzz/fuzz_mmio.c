/*
 * Guest MMIO on the PL011, the GED and the CPU hotplug block through the
 * bus, interleaved with what the host side does (console input, GED events,
 * a CPU's hotplug state changed behind the block: a minimal VMM answers the
 * block's ops).
 * The input is a list of 12-byte operations:
 *   byte 0     bits 0-1 target (PL011, GED, hotplug block, anywhere),
 *              bit 2 write, bits 3-4 size (1, 2, 4, 8), bit 5 host action
 *   bytes 1-3  offset from the device's base (24 bits: beyond the window too)
 *   bytes 4-11 value (little-endian)
 * After each operation every interrupt line the devices drive must match
 * their state, and a NEXT_EVENT read names a CPU with an event (or none).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arch/arm64/layout.h"
#include "devices/bus.h"
#include "devices/cpuhp.h"
#include "devices/ged.h"
#include "devices/pl011.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant: %s\n", #c); __builtin_trap(); } } while (0)

struct machine {
	struct mmio_bus bus;
	struct pl011 uart;
	struct ged ged;
	struct cpuhp hp;
	bool uart_line, ged_line;
	size_t out_bytes;
	unsigned nr_cpus, ejects, osts;
	uint8_t status[CPUHP_MAX_CPUS];	/* the VMM's view behind the block: STATUS bits */
};

static void uart_output(void *opaque, const uint8_t *buf, size_t n)
{
	struct machine *m = opaque;
	(void)buf;
	m->out_bytes += n;
}

static int uart_irq(void *opaque, bool level)
{
	struct machine *m = opaque;
	CHECK(level != m->uart_line);	/* only changes are reported */
	m->uart_line = level;
	return 0;
}

static int ged_irq(void *opaque, bool level)
{
	struct machine *m = opaque;
	CHECK(level != m->ged_line);
	m->ged_line = level;
	return 0;
}

/* A minimal VMM behind the hotplug block: per-CPU STATUS bits. */
static uint32_t hp_status(void *opaque, unsigned cpu)
{
	struct machine *m = opaque;
	CHECK(cpu < m->nr_cpus);
	return m->status[cpu];
}

static void hp_command(void *opaque, unsigned cpu, uint32_t cmd)
{
	struct machine *m = opaque;
	CHECK(cpu < m->nr_cpus);
	CHECK(cmd == CPUHP_CMD_CLEAR_INSERT || cmd == CPUHP_CMD_CLEAR_REMOVE || cmd == CPUHP_CMD_EJECT);
	if (cmd == CPUHP_CMD_CLEAR_INSERT)
		m->status[cpu] &= ~CPUHP_STATUS_INSERT;
	else if (cmd == CPUHP_CMD_CLEAR_REMOVE)
		m->status[cpu] &= ~CPUHP_STATUS_REMOVE;
	else if (cpu != 0 && (m->status[cpu] & CPUHP_STATUS_ENABLED)) {
		m->status[cpu] = 0;
		m->ejects++;
	}
}

static int hp_next_event(void *opaque)
{
	struct machine *m = opaque;
	for (unsigned i = 0; i < m->nr_cpus; i++)
		if (m->status[i] & (CPUHP_STATUS_INSERT | CPUHP_STATUS_REMOVE))
			return (int)i;
	return -1;
}

static void ost(void *opaque, unsigned cpu, uint32_t event, uint32_t status)
{
	struct machine *m = opaque;
	(void)event;
	(void)status;
	CHECK(cpu < m->nr_cpus);
	m->osts++;
}

static const struct pl011_ops uart_ops = { .output = uart_output, .set_irq = uart_irq };
static const struct cpuhp_ops hp_ops = {
	.status = hp_status, .command = hp_command, .next_event = hp_next_event, .ost = ost,
};

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	while (n--)
		v = v << 8 | p[n];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t bases[] = { UART_BASE, GED_BASE, CPUHP_BASE, 0 };
	struct machine m;

	memset(&m, 0, sizeof(m));
	m.nr_cpus = 1 + (size ? data[0] % CPUHP_MAX_CPUS : 0);
	mmio_bus_init(&m.bus);
	if (pl011_init(&m.uart, &uart_ops, &m) || ged_init(&m.ged, ged_irq, &m) ||
	    cpuhp_init(&m.hp, m.nr_cpus, &hp_ops, &m) ||
	    mmio_bus_register(&m.bus, UART_BASE, UART_SIZE, &pl011_mmio_ops, &m.uart, "pl011") ||
	    mmio_bus_register(&m.bus, GED_BASE, GED_SIZE, &ged_mmio_ops, &m.ged, "ged") ||
	    mmio_bus_register(&m.bus, CPUHP_BASE, CPUHP_SIZE, &cpuhp_mmio_ops, &m.hp, "cpuhp"))
		__builtin_trap();
	m.status[0] = CPUHP_STATUS_ENABLED;

	for (size_t at = 1; at + 12 <= size; at += 12) {
		const uint8_t *op = data + at;
		unsigned target = op[0] & 3, len = 1u << ((op[0] >> 3) & 3);
		bool write = op[0] & 4;
		uint64_t addr = bases[target] + le(op + 1, 3), value = le(op + 4, 8), got;

		if (target == 3)
			addr = value;	/* anywhere in the address space */
		if (op[0] & 0x20) {
			if (target == 1) {
				(void)ged_raise(&m.ged, (uint32_t)value);
			} else if (target == 2) {
				/* The VMM changes a CPU's state behind the block. */
				m.status[value % m.nr_cpus] = op[1] & 7;
				m.status[0] |= CPUHP_STATUS_ENABLED;
			} else {
				size_t n = op[1] % 9;
				size_t took = pl011_receive(&m.uart, op + 4, n);
				CHECK(took <= n);
			}
		} else if (write) {
			(void)mmio_bus_write(&m.bus, addr, len, value);
		} else {
			bool mapped = mmio_bus_read(&m.bus, addr, len, &got);
			CHECK(len == 8 || got < (1ULL << (8 * len)));
			CHECK(mapped || got == (len == 8 ? ~0ULL : (1ULL << (8 * len)) - 1));
			/* NEXT_EVENT names (and selects) a CPU with an event, or none. */
			if (addr == CPUHP_BASE + CPUHP_REG_NEXT_EVENT && len >= 4 && got != CPUHP_NO_EVENT)
				CHECK(got < m.nr_cpus && m.hp.selected == got &&
				      (m.status[got] & (CPUHP_STATUS_INSERT | CPUHP_STATUS_REMOVE)));
		}
		CHECK(m.uart_line == ((m.uart.ris & m.uart.imsc) != 0));
		CHECK(m.uart.rx_count <= PL011_FIFO_DEPTH);
		CHECK(m.ged_line == (m.ged.pending != 0));
	}
	cpuhp_destroy(&m.hp);
	ged_destroy(&m.ged);
	pl011_destroy(&m.uart);
	return 0;
}
