/* What the user asked for: filled by the command line or the API, read by the VM. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

enum boot_mode { BOOT_MODE_ACPI, BOOT_MODE_FDT };
enum console_kind { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_NONE };

#define VM_MAX_NET 4
#define VM_NET_MAX_PAIRS 7		/* VIRTIO_NET_MAX_PAIRS */
#define VM_NET_NAME_MAX 16		/* IFNAMSIZ */

/* One --net: a tap opened by name, or tap fds handed over already open. */
struct vm_net_config {
	char tap[VM_NET_NAME_MAX];	/* tap=NAME; "" with fd= */
	int fds[VM_NET_MAX_PAIRS];	/* fd=N, one per queue pair */
	unsigned nfds;
	unsigned pairs;			/* queue pairs: num_queues / 2, or the fd count */
	uint8_t mac[6];
	bool have_mac;			/* false: a random locally administered address */
};

#define VM_MAX_FS 4

/* --fs: a virtio-fs device served by a vhost-user backend. */
struct vm_fs_config {
	char tag[37];			/* 1..36 bytes */
	char socket[108];		/* the backend's unix socket */
	unsigned num_queues;		/* request queues (besides hiprio) */
	unsigned queue_size;
};

/* --disk: a virtio-blk device on a raw image or a block device. */
struct disk_config {
	char path[4096];	/* empty: unset */
	bool read_only;
	bool direct;		/* O_DIRECT: bypass the host page cache */
	unsigned num_queues;	/* 0: one per possible vCPU, at most DISK_MAX_QUEUES */
	unsigned queue_size;	/* descriptors per queue, a power of two */
	char serial[21];	/* GET_ID answer (20 bytes at most); empty: none */
};

#define VM_MAX_DISKS 8
#define DISK_MAX_QUEUES 16
#define DISK_DEFAULT_QUEUE_SIZE 256
#define DISK_MAX_QUEUE_SIZE 1024

struct vm_config {
	unsigned boot_cpus;
	unsigned max_cpus;
	uint64_t memory_bytes;
	bool memory_shared;		/* guest RAM is a memfd, MAP_SHARED (vhost-user) */
	const char *kernel;
	const char *initrd;		/* NULL: none */
	const char *cmdline;		/* NULL: the default for the boot mode */
	enum boot_mode boot_mode;
	enum console_kind console;
	const char *console_path;	/* CONSOLE_FILE */
	const char *api_socket;		/* NULL: no API */
	const char *dump_acpi_dir;	/* NULL: run the guest */
	unsigned verbosity;		/* -v count: more log lines */
	struct disk_config disks[VM_MAX_DISKS];
	unsigned ndisks;
	const char *rng_source;		/* virtio-rng entropy source; NULL: no virtio-rng */
	unsigned nr_net;
	struct vm_net_config net[VM_MAX_NET];	/* virtio-net devices, in --net order */
	struct {
		uint64_t cid;		/* the guest's CID (3 .. 0xfffffffe) */
		const char *socket;	/* hybrid vsock unix socket; NULL: no virtio-vsock */
	} vsock;
	struct vm_fs_config fs[VM_MAX_FS];
	unsigned nfs;
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
