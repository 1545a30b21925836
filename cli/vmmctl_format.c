/* vmmctl's human-readable output; --json prints the raw JSON instead. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "cli/vmmctl_cmd.h"

static const char *str(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return "?";
	return json_object_get_string(v);
}

static int64_t num(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) ? json_object_get_int64(v) : -1;
}

static uint64_t unum(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) ? json_object_get_uint64(v) : 0;
}

static const char *yes_no(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) && json_object_get_boolean(v) ? "yes" : "no";
}

/* Virtio status register: the furthest stage the driver reached. */
static const char *virtio_stage(int64_t st)
{
	if (st & 64)
		return "needs-reset";
	if (st & 128)
		return "failed";
	if (st & 4)
		return "driver-ok";
	if (st & 8)
		return "features-ok";
	if (st & 3)
		return "probing";
	return "reset";
}

static void print_devices(json_object *r, FILE *out)
{
	json_object *devs;
	size_t n;

	if (!json_object_object_get_ex(r, "devices", &devs) || !json_object_is_type(devs, json_type_array))
		return;
	n = json_object_array_length(devs);
	fprintf(out, "devices:   %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(devs, i);
		fprintf(out, "  %-11s 0x%08" PRIx64 " irq %-3" PRId64 " %-11s notifies %" PRIu64
			" (%" PRIu64 " on vCPU threads, ioeventfd %s), interrupts %" PRIu64 "\n",
			str(d, "type"), unum(d, "base"), num(d, "irq"), virtio_stage(num(d, "status")),
			unum(d, "notifies"), unum(d, "vcpu_notifies"), yes_no(d, "ioeventfd"),
			unum(d, "interrupts"));
	}
}

static void print_info(json_object *r, FILE *out)
{
	uint64_t up = unum(r, "uptime_ms");

	fprintf(out, "state:     %s\n", str(r, "state"));
	fprintf(out, "boot mode: %s (cpu hotplug %s)\n", str(r, "boot_mode"),
		strcmp(yes_no(r, "hotplug"), "yes") == 0 ? "supported" : "not supported");
	fprintf(out, "cpus:      %" PRId64 " enabled, %" PRId64 " online, %" PRId64
		" at boot, %" PRId64 " max\n", num(r, "enabled_cpus"), num(r, "online_cpus"),
		num(r, "boot_cpus"), num(r, "max_cpus"));
	fprintf(out, "memory:    %" PRIu64 " MiB\n", unum(r, "memory_bytes") >> 20);
	fprintf(out, "uptime:    %" PRIu64 ".%03" PRIu64 " s\n", up / 1000, up % 1000);
	print_devices(r, out);
}

static void print_cpu_list(json_object *r, FILE *out)
{
	size_t i, n = json_object_is_type(r, json_type_array) ? json_object_array_length(r) : 0;

	fprintf(out, "%-4s %-18s %-8s %-7s %s\n", "ID", "MPIDR", "ENABLED", "ONLINE", "PENDING");
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(r, i);

		fprintf(out, "%-4" PRId64 " 0x%-16" PRIx64 " %-8s %-7s %s\n", num(c, "id"),
			unum(c, "mpidr"), yes_no(c, "enabled"), yes_no(c, "online"),
			str(c, "pending"));
	}
}

int vmmctl_print_result(const struct vmmctl_cmd *cmd, json_object *result, FILE *out)
{
	if (cmd->json || cmd->op == VMMCTL_CALL) {
		fprintf(out, "%s\n", json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN));
		return ferror(out) ? -EIO : 0;
	}
	switch (cmd->op) {
	case VMMCTL_INFO: print_info(result, out); break;
	case VMMCTL_CPU_LIST: print_cpu_list(result, out); break;
	case VMMCTL_CPU_ADD:
		fprintf(out, "cpu %" PRId64 " %s\n", num(result, "id"),
			cmd->no_wait ? "enabled (not waiting for the guest)" : "added");
		break;
	case VMMCTL_CPU_REMOVE:
		fprintf(out, "cpu %" PRId64 " %s\n", num(result, "id"),
			cmd->no_wait ? "removal requested" : "removed");
		break;
	case VMMCTL_CPU_RESIZE:
		fprintf(out, "cpus: %" PRId64 " -> %" PRId64 "\n", num(result, "old"),
			num(result, "new"));
		break;
	case VMMCTL_PAUSE: fputs("paused\n", out); break;
	case VMMCTL_RESUME: fputs("resumed\n", out); break;
	case VMMCTL_SHUTDOWN: fputs("shutdown requested\n", out); break;
	case VMMCTL_EVENTS: break;	/* the subscription itself prints nothing */
	case VMMCTL_CALL:
	case VMMCTL_SEND: break;	/* printed raw above / by the caller */
	}
	return ferror(out) ? -EIO : 0;
}

int vmmctl_print_event(const struct vmmctl_cmd *cmd, json_object *msg, FILE *out)
{
	json_object *params = NULL;

	if (cmd->json) {
		fprintf(out, "%s\n", json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
	} else {
		json_object_object_get_ex(msg, "params", &params);
		fputs(str(msg, "method"), out);
		if (params && json_object_object_get_ex(params, "id", NULL))
			fprintf(out, " id=%" PRId64, num(params, "id"));
		if (params && json_object_object_get_ex(params, "event", NULL))
			fprintf(out, " event=0x%" PRIx64 " status=0x%" PRIx64,
				num(params, "event"), num(params, "status"));
		fputc('\n', out);
	}
	fflush(out);	/* a line per event, even into a pipe */
	return ferror(out) ? -EIO : 0;
}

void vmmctl_print_error(json_object *error, FILE *out)
{
	json_object *data = NULL;

	fprintf(out, "vmmctl: %s\n", str(error, "message"));
	if (json_object_object_get_ex(error, "data", &data) && data)
		fprintf(out, "vmmctl: error %" PRId64 ", data: %s\n", num(error, "code"),
			json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN));
}
