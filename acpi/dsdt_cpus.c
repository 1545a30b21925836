/*
 * DSDT: \_SB.CPUS, the processor container, one ACPI0007 device per
 * possible vCPU, and the methods that drive the CPU hotplug register block
 * (include/hotplug_regs.h). The block shows one CPU at a time through its selector,
 * so every select-then-access sequence holds the CMTX mutex.
 *
 * The ASL this produces is in docs/acpi.md.
 */
#include "acpi/dsdt.h"

#include <stdio.h>

#define CPUS_PATH "\\_SB.CPUS."

static void cpu_name(char out[5], uint32_t uid)
{
	snprintf(out, 5, "C%03X", (unsigned)(uid & 0xFFF));
}

/* Acquire (CMTX, 0xFFFF); CSEL = sel */
static void lock_and_select(struct aml_ctx *ctx, struct aml *m, struct aml *sel)
{
	aml_append(m, aml_acquire(ctx, aml_name(ctx, "CMTX"), 0xFFFF));
	aml_append(m, aml_store(ctx, sel, aml_name(ctx, "CSEL")));
}

static void unlock(struct aml_ctx *ctx, struct aml *m)
{
	aml_append(m, aml_release(ctx, aml_name(ctx, "CMTX")));
}

/* (Local1 & bit) as a predicate */
static struct aml *local_has(struct aml_ctx *ctx, unsigned local, uint32_t bit)
{
	return aml_and(ctx, aml_local(ctx, local), aml_int(ctx, bit), NULL);
}

/* CSTA (uid): the _STA value of a CPU. Never 0: arm64 needs every CPU Present. */
static struct aml *method_csta(struct aml_ctx *ctx)
{
	struct aml *m = aml_method(ctx, "CSTA", 1, AML_SERIALIZED);
	struct aml *on;

	lock_and_select(ctx, m, aml_arg(ctx, 0));
	aml_append(m, aml_store(ctx, aml_name(ctx, "CSTS"), aml_local(ctx, 0)));
	unlock(ctx, m);
	on = aml_if(ctx, local_has(ctx, 0, CPUHP_STATUS_ENABLED));
	aml_append(on, aml_return(ctx, aml_int(ctx, DSDT_STA_PRESENT_ENABLED)));
	aml_append(m, on);
	aml_append(m, aml_return(ctx, aml_int(ctx, DSDT_STA_PRESENT_DISABLED)));
	return m;
}

/* CEJ0 (uid): the VMM clears Enabled during this write, before _STA is re-read. */
static struct aml *method_cej0(struct aml_ctx *ctx)
{
	struct aml *m = aml_method(ctx, "CEJ0", 1, AML_SERIALIZED);

	lock_and_select(ctx, m, aml_arg(ctx, 0));
	aml_append(m, aml_store(ctx, aml_int(ctx, CPUHP_CMD_EJECT), aml_name(ctx, "CCMD")));
	unlock(ctx, m);
	return m;
}

/* COST (uid, event, status): writing the status reports the pair to the VMM. */
static struct aml *method_cost(struct aml_ctx *ctx)
{
	struct aml *m = aml_method(ctx, "COST", 3, AML_SERIALIZED);

	lock_and_select(ctx, m, aml_arg(ctx, 0));
	aml_append(m, aml_store(ctx, aml_arg(ctx, 1), aml_name(ctx, "COEV")));
	aml_append(m, aml_store(ctx, aml_arg(ctx, 2), aml_name(ctx, "COSS")));
	unlock(ctx, m);
	return m;
}

/* CNOT (uid, code): Notify needs a static name, so one If per CPU. */
static struct aml *method_cnot(struct aml_ctx *ctx, const struct acpi_platform *p)
{
	struct aml *m = aml_method(ctx, "CNOT", 2, AML_NOT_SERIALIZED);
	char name[5];

	for (unsigned i = 0; i < p->nr_cpus; i++) {
		struct aml *hit = aml_if(ctx, aml_lequal(ctx, aml_arg(ctx, 0),
							 aml_int(ctx, p->cpus[i].uid)));

		cpu_name(name, p->cpus[i].uid);
		aml_append(hit, aml_notify(ctx, aml_name(ctx, name), aml_arg(ctx, 1)));
		aml_append(m, hit);
	}
	return m;
}

/*
 * CSCN: take the pending insert/remove events one at a time from NEXT_EVENT
 * (which selects the CPU), acknowledge each and notify the OS: Bus Check
 * on the CPU for an insert (it then reads _STA and registers the CPU),
 * Eject Request for a remove (it offlines the CPU and calls _EJ0). Not a
 * Device Check: Linux answers that by re-enumerating the parent, i.e.
 * evaluating _STA of every possible CPU, which would make a hot-add cost
 * exits per possible CPU again; a Bus Check re-enumerates from the CPU. A scan costs a few MMIO
 * exits per event, not per possible CPU. At most one round per possible CPU:
 * events raised meanwhile raise the GED again. Notifications are queued by
 * the OS, so sending them outside the lock only keeps the locked section short.
 */
static struct aml *method_cscn(struct aml_ctx *ctx, const struct acpi_platform *p)
{
	struct aml *m = aml_method(ctx, "CSCN", 0, AML_SERIALIZED);
	struct aml *loop, *cond, *call[2];
	uint32_t end = 0;

	for (unsigned i = 0; i < p->nr_cpus; i++)
		if (p->cpus[i].uid + 1 > end)
			end = p->cpus[i].uid + 1;

	aml_append(m, aml_store(ctx, aml_int(ctx, 0), aml_local(ctx, 2)));
	loop = aml_while(ctx, aml_lless(ctx, aml_local(ctx, 2), aml_int(ctx, end)));
	aml_append(loop, aml_acquire(ctx, aml_name(ctx, "CMTX"), 0xFFFF));
	aml_append(loop, aml_store(ctx, aml_name(ctx, "CNXT"), aml_local(ctx, 0)));
	cond = aml_if(ctx, aml_lequal(ctx, aml_local(ctx, 0), aml_int(ctx, CPUHP_NO_EVENT)));
	unlock(ctx, cond);
	aml_append(cond, aml_break(ctx));
	aml_append(loop, cond);
	aml_append(loop, aml_store(ctx, aml_name(ctx, "CSTS"), aml_local(ctx, 1)));

	cond = aml_if(ctx, local_has(ctx, 1, CPUHP_STATUS_INSERT));
	aml_append(cond, aml_store(ctx, aml_int(ctx, CPUHP_CMD_CLEAR_INSERT),
				   aml_name(ctx, "CCMD")));
	aml_append(loop, cond);
	cond = aml_if(ctx, local_has(ctx, 1, CPUHP_STATUS_REMOVE));
	aml_append(cond, aml_store(ctx, aml_int(ctx, CPUHP_CMD_CLEAR_REMOVE),
				   aml_name(ctx, "CCMD")));
	aml_append(loop, cond);
	unlock(ctx, loop);

	cond = aml_if(ctx, local_has(ctx, 1, CPUHP_STATUS_INSERT));
	call[0] = aml_local(ctx, 0);
	call[1] = aml_int(ctx, DSDT_NOTIFY_BUS_CHECK);
	aml_append(cond, aml_call(ctx, "CNOT", 2, call));
	aml_append(loop, cond);
	cond = aml_if(ctx, local_has(ctx, 1, CPUHP_STATUS_REMOVE));
	call[0] = aml_local(ctx, 0);
	call[1] = aml_int(ctx, DSDT_NOTIFY_EJECT_REQUEST);
	aml_append(cond, aml_call(ctx, "CNOT", 2, call));
	aml_append(loop, cond);

	aml_append(loop, aml_increment(ctx, aml_local(ctx, 2)));
	aml_append(m, loop);
	return m;
}

/* Device (Cnnn): the ACPI0007 processor device of one vCPU. */
static struct aml *cpu_device(struct aml_ctx *ctx, const struct acpi_cpu *c)
{
	struct aml *dev, *m, *args[3];
	char name[5];

	cpu_name(name, c->uid);
	dev = aml_device(ctx, name);
	aml_append(dev, aml_name_decl(ctx, "_HID", aml_string(ctx, "ACPI0007")));
	/* Must equal the GICC ACPI Processor UID, which is how Linux pairs them. */
	aml_append(dev, aml_name_decl(ctx, "_UID", aml_int(ctx, c->uid)));

	m = aml_method(ctx, "_STA", 0, AML_NOT_SERIALIZED);
	args[0] = aml_int(ctx, c->uid);
	aml_append(m, aml_return(ctx, aml_call(ctx, CPUS_PATH "CSTA", 1, args)));
	aml_append(dev, m);

	/* The boot CPU cannot be removed; without _EJ0 the OS never offers it. */
	if (c->uid != 0) {
		m = aml_method(ctx, "_EJ0", 1, AML_NOT_SERIALIZED);
		args[0] = aml_int(ctx, c->uid);
		aml_append(m, aml_call(ctx, CPUS_PATH "CEJ0", 1, args));
		aml_append(dev, m);
	}

	m = aml_method(ctx, "_OST", 3, AML_NOT_SERIALIZED);
	args[0] = aml_int(ctx, c->uid);
	args[1] = aml_arg(ctx, 0);
	args[2] = aml_arg(ctx, 1);
	aml_append(m, aml_call(ctx, CPUS_PATH "COST", 3, args));
	aml_append(dev, m);
	return dev;
}

struct aml *dsdt_cpus(struct aml_ctx *ctx, const struct acpi_platform *p)
{
	struct aml *dev = aml_device(ctx, "CPUS");
	struct aml *f;

	aml_append(dev, aml_name_decl(ctx, "_HID", aml_string(ctx, "ACPI0010")));
	aml_append(dev, aml_name_decl(ctx, "_CID", aml_eisaid(ctx, "PNP0A05")));

	aml_append(dev, aml_operation_region(ctx, "CPRG", AML_SYSTEM_MEMORY, p->cpuhp_base,
					     DSDT_CPUHP_REGION_LEN));
	/* The device decodes 32-bit accesses; WriteAsZeros never reads back. */
	f = aml_field(ctx, "CPRG", AML_DWORD_ACC, AML_NO_LOCK, AML_WRITE_AS_ZEROS);
	aml_append(f, aml_field_unit(ctx, "CSEL", 32));	/* SELECT */
	aml_append(f, aml_field_unit(ctx, "CSTS", 32));	/* STATUS */
	aml_append(f, aml_field_unit(ctx, "CCMD", 32));	/* COMMAND */
	aml_append(f, aml_field_unit(ctx, "COEV", 32));	/* OST_EVENT */
	aml_append(f, aml_field_unit(ctx, "COSS", 32));	/* OST_STATUS */
	aml_append(f, aml_field_reserved(ctx, 32));	/* COUNT: the AML has no use for it */
	aml_append(f, aml_field_unit(ctx, "CNXT", 32));	/* NEXT_EVENT */
	aml_append(dev, f);
	aml_append(dev, aml_mutex(ctx, "CMTX", 0));

	aml_append(dev, method_csta(ctx));
	aml_append(dev, method_cej0(ctx));
	aml_append(dev, method_cost(ctx));
	aml_append(dev, method_cnot(ctx, p));
	aml_append(dev, method_cscn(ctx, p));
	for (unsigned i = 0; i < p->nr_cpus; i++)
		aml_append(dev, cpu_device(ctx, &p->cpus[i]));
	return dev;
}
