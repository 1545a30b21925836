/* What the user asked for: filled by the command line or the API, read by the VM. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

enum boot_mode { BOOT_MODE_ACPI, BOOT_MODE_FDT };
enum console_kind { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_NONE };

struct vm_config {
	unsigned boot_cpus;
	unsigned max_cpus;
	uint64_t memory_bytes;
	const char *kernel;
	const char *initrd;		/* NULL: none */
	const char *cmdline;		/* NULL: the default for the boot mode */
	enum boot_mode boot_mode;
	enum console_kind console;
	const char *console_path;	/* CONSOLE_FILE */
	const char *api_socket;		/* NULL: no API */
	const char *dump_acpi_dir;	/* NULL: run the guest */
	unsigned verbosity;		/* -v count: more log lines */
};

#define VM_DEFAULT_MEMORY (512ULL << 20)
#define VM_MIN_MEMORY (64ULL << 20)
#define VM_MAX_MEMORY (1ULL << 40)

/* The largest max vCPU count the machine layout allows. */
unsigned vm_config_max_vcpus(void);
void vm_config_defaults(struct vm_config *cfg);
/*
 * 0, or -EINVAL with a one-line reason naming the setting ("cpus: ...").
 * need_kernel: the configuration must be bootable (an API-only start is not).
 */
int vm_config_check(const struct vm_config *cfg, bool need_kernel, char *err, size_t errlen) WUR;

static inline const char *boot_mode_name(enum boot_mode m)
{
	return m == BOOT_MODE_FDT ? "fdt" : "acpi";
}

#endif
