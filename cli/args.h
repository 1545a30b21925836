/* Command-line parsing for vmm: pure, so it is unit-tested. */
#ifndef CLI_ARGS_H
#define CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "compiler.h"
#include "vmm/config.h"

struct cli_args {
	struct vm_config cfg;
	bool help;
	bool version;
	bool seccomp_off;	/* --seccomp false: accepted, nothing to turn off */
	bool vm_options;	/* an option describing the VM was given */
};

/* Exit status for bad arguments or unusable input files. */
#define CLI_EXIT_USAGE 2

/* 0, or -EINVAL with a one-line reason in err. */
int cli_parse(int argc, char *const argv[], struct cli_args *out, char *err, size_t errlen) WUR;
/* "512M", "1G", "65536": bytes. -EINVAL on a malformed or overflowing size. */
int parse_size(const char *s, uint64_t *out) WUR;
/* "boot=2,max=4" or "2". */
int parse_cpus(const char *s, unsigned *boot, unsigned *max, char *err, size_t errlen) WUR;
/* "path=disk.img,readonly=on,...": one --disk. */
int parse_disk(const char *s, struct disk_config *d, char *err, size_t errlen) WUR;
/* --rng src=PATH|on|off (cli/args_rng.c); the default is on, from /dev/urandom. */
/* Request queues of one --fs device (each has a call eventfd on the device's I/O thread). */
#define CLI_FS_MAX_QUEUES 6
int parse_memory(const char *v, struct vm_config *cfg, char *err, size_t errlen) WUR;
int parse_fs(const char *v, struct vm_config *cfg, char *err, size_t errlen) WUR;
int parse_rng(const char *v, struct vm_config *cfg, char *err, size_t errlen) WUR;
void cli_rng_default(struct vm_config *cfg);
/* --net tap=NAME|fd=N[,fd=M...][,mac=MAC][,num_queues=N] (cli/args_net.c); repeatable. */
int parse_net(const char *v, struct vm_config *cfg, char *err, size_t errlen) WUR;
/* --vsock cid=N,socket=PATH (cli/args_vsock.c): a virtio-vsock device, hybrid vsock on PATH. */
int parse_vsock(const char *v, struct vm_config *cfg, char *err, size_t errlen) WUR;
/* The largest max= the machine layout allows. */
unsigned cli_max_vcpus(void);
void cli_usage(FILE *f);

#endif
