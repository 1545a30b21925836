/*
 * The one validation of a VM configuration, whoever filled it: the command
 * line (cli/args.c) or the API's vm.create. Messages name the setting
 * ("cpus: ...", "memory: ..."); the caller adds its own spelling.
 */
#include "vmm/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "arch/arm64/layout.h"
#include "devices/cpuhp.h"
#include "vmm/boot.h"
#include "vmm/vmm_api.h"

unsigned vm_config_max_vcpus(void)
{
	return LAYOUT_MAX_VCPUS < CPUHP_MAX_CPUS ? LAYOUT_MAX_VCPUS : CPUHP_MAX_CPUS;
}

void vm_config_defaults(struct vm_config *cfg)
{
	*cfg = (struct vm_config){
		.boot_cpus = 1,
		.max_cpus = 1,
		.memory_bytes = VM_DEFAULT_MEMORY,
		.boot_mode = BOOT_MODE_ACPI,
		.console = CONSOLE_STDIO,
	};
}

int vm_config_check(const struct vm_config *cfg, bool need_kernel, char *err, size_t errlen)
{
	if (cfg->boot_cpus == 0) {
		snprintf(err, errlen, "cpus: boot must be at least 1");
		return -EINVAL;
	}
	if (cfg->boot_cpus > cfg->max_cpus) {
		snprintf(err, errlen, "cpus: boot (%u) is larger than max (%u)", cfg->boot_cpus,
			 cfg->max_cpus);
		return -EINVAL;
	}
	if (cfg->max_cpus > vm_config_max_vcpus()) {
		snprintf(err, errlen, "cpus: max (%u) is beyond the limit of %u vCPUs", cfg->max_cpus,
			 vm_config_max_vcpus());
		return -EINVAL;
	}
	if (cfg->memory_bytes < VM_MIN_MEMORY || cfg->memory_bytes > VM_MAX_MEMORY ||
	    cfg->memory_bytes % (2ULL << 20)) {
		snprintf(err, errlen, "memory: must be a multiple of 2M between 64M and 1T");
		return -EINVAL;
	}
	if (need_kernel && (!cfg->kernel || !cfg->kernel[0])) {
		snprintf(err, errlen, "kernel is required");
		return -EINVAL;
	}
	if (cfg->cmdline && strlen(cfg->cmdline) > boot_cmdline_max(cfg->boot_mode)) {
		snprintf(err, errlen, "cmdline: %zu bytes, longer than the %zu a %s boot allows "
			 "(Linux arm64 COMMAND_LINE_SIZE is %u)", strlen(cfg->cmdline),
			 boot_cmdline_max(cfg->boot_mode), boot_mode_name(cfg->boot_mode), BOOT_CMDLINE_SIZE);
		return -E2BIG;
	}
	if (cfg->nfs && !cfg->memory_shared) {
		snprintf(err, errlen, "fs needs guest memory a backend can map: --memory shared=on (memory.shared in vm.create)");
		return -EINVAL;
	}
	if (cfg->console == CONSOLE_FILE && (!cfg->console_path || !cfg->console_path[0])) {
		snprintf(err, errlen, "console: file needs a path");
		return -EINVAL;
	}
	return 0;
}

void vm_config_owned_free(struct vm_config_owned *c)
{
	free(c->kernel);
	free(c->initrd);
	free(c->cmdline);
	free(c->console_path);
	free(c->rng_source);
	free(c->vsock_socket);
	c->kernel = c->initrd = c->cmdline = c->console_path = c->rng_source = c->vsock_socket = NULL;
	c->cfg.kernel = c->cfg.initrd = c->cfg.cmdline = c->cfg.console_path = NULL;
	c->cfg.rng_source = NULL;
	c->cfg.vsock.socket = NULL;
}
