/*
 * vmm's command line: the input split on NUL bytes is argv[1..]. A parse
 * either fails with a message or yields a configuration within the limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "vmm/boot.h"

#define MAX_ARGS 64

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant: %s\n", #c); __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	char *argv[MAX_ARGS + 2];
	int argc = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[argc++] = "vmm";
	for (size_t at = 0; at <= size && argc <= MAX_ARGS; at += strlen(buf + at) + 1)
		argv[argc++] = buf + at;
	argv[argc] = NULL;

	struct cli_args args;
	char err[512] = "";
	if (cli_parse(argc, argv, &args, err, sizeof(err))) {
		CHECK(err[0] && strlen(err) < sizeof(err));
	} else if (!args.help && !args.version) {
		const struct vm_config *c = &args.cfg;
		CHECK(c->boot_cpus >= 1 && c->boot_cpus <= c->max_cpus && c->max_cpus <= cli_max_vcpus());
		CHECK(c->memory_bytes >= VM_MIN_MEMORY && c->memory_bytes <= VM_MAX_MEMORY);
		CHECK(c->kernel || c->dump_acpi_dir);
		CHECK(!c->cmdline || strlen(c->cmdline) <= boot_cmdline_max(c->boot_mode));
	}
	free(buf);
	return 0;
}
