#include "cli/args.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/boot.h"

unsigned cli_max_vcpus(void)
{
	return vm_config_max_vcpus();
}

void cli_usage(FILE *f)
{
	fprintf(f,
		"Usage: vmm --kernel PATH [options]\n"
		"       vmm --api-socket PATH [-v...] [--seccomp false]\n"
		"Boot an arm64 Linux guest under KVM, with ACPI vCPU hotplug. Without --kernel\n"
		"the VM is created and booted over the API (vm.create, vm.boot).\n\n"
		"  --cpus boot=N[,max=M]   vCPUs enabled at boot and possible vCPUs (max defaults\n"
		"                          to boot, at most %u); all max vCPUs exist from start-up\n"
		"  --memory [size=]SIZE[,shared=on]\n"
		"                          guest RAM, e.g. 512M or 2G (K/M/G suffixes; default 512M);\n"
		"                          shared=on: a memfd a vhost-user backend can map\n"
		"  --kernel PATH           arm64 Linux Image (uncompressed)\n"
		"  --initrd PATH           initial ramdisk\n"
		"  --cmdline STR           kernel command line: at most %zu bytes with --boot acpi\n"
		"                          (which prepends \"" BOOT_ACPI_CMDLINE_PREFIX " \"), %zu with fdt\n"
		"  --boot acpi|fdt         describe the machine with ACPI (default; needed for\n"
		"                          hotplug) or with a device tree\n"
		"  --console stdio|file=PATH|none\n"
		"                          where the guest's serial console goes (default stdio)\n"
		"  --disk path=FILE[,readonly=on][,direct=on][,num_queues=N][,queue_size=N][,serial=ID]\n"
		"                          a virtio-blk disk on a raw image or block device\n"
		"                          (repeatable, up to %u): readonly=on refuses writes,\n"
		"                          direct=on bypasses the host page cache (O_DIRECT),\n"
		"                          num_queues defaults to one per possible vCPU (at most %u),\n"
		"                          queue_size to %u; serial is what the guest reads as\n"
		"                          the disk's id (20 characters at most)\n"
		"  --api-socket PATH       serve the API on this unix socket: JSON-RPC and the\n"
		"                          cloud-hypervisor REST dialect (docs/api-rest.md)\n"
		"  -v, -vv, ...            more log lines (repeatable)\n"
		"  --seccomp false         accepted for cloud-hypervisor compatibility; vmm has\n"
		"                          no seccomp filter, so only false is accepted\n"
		"  --fs tag=TAG,socket=PATH[,num_queues=N][,queue_size=N]\n"
		"                          virtio-fs served by a vhost-user backend (virtiofsd)\n"
		"                          at PATH; needs --memory shared=on\n"
		"  --rng src=PATH|on|off   virtio-rng entropy device (default on, src=/dev/urandom)\n"
		"  --net tap=NAME|fd=N[,fd=M...][,mac=MAC][,num_queues=N]\n"
		"                          virtio-net on a tap: opened (created if needed) by name,\n"
		"                          or already-open tap fds, one per queue pair; repeatable\n"
		"  --vsock cid=N,socket=PATH\n"
		"                          virtio-vsock with guest CID N (3 or more); host programs\n"
		"                          connect to the unix socket PATH and send CONNECT <port>,\n"
		"                          guest connections to host port P go to PATH_P\n"
		"  --dump-acpi DIR         write the ACPI tables to DIR/<SIG>.dat and exit\n"
		"  -h, --help              this text\n"
		"  -V, --version           print the version\n\n"
		"Exit status: 0 guest powered off or stopped by SIGTERM/SIGINT/API shutdown,\n"
		"1 hypervisor error or guest crash, 2 bad arguments or input files,\n"
		"3 guest requested a reset (reboot is not supported).\n",
		cli_max_vcpus(), boot_cmdline_max(BOOT_MODE_ACPI), boot_cmdline_max(BOOT_MODE_FDT),
		VM_MAX_DISKS, DISK_MAX_QUEUES, DISK_DEFAULT_QUEUE_SIZE);
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t mult = 1;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		switch (*end == 0 ? 0 : (end[0] | 0x20)) {
		case 'k': mult = 1ULL << 10; break;
		case 'm': mult = 1ULL << 20; break;
		case 'g': mult = 1ULL << 30; break;
		case 't': mult = 1ULL << 40; break;
		default: return -EINVAL;
		}
		end++;
		if (*end == 'i' || *end == 'I')	/* also accept KiB, MiB, GiB */
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v > UINT64_MAX / mult)
		return -EINVAL;
	*out = v * mult;
	return 0;
}

static int parse_uint(const char *s, unsigned *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT_MAX)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int parse_cpus(const char *s, unsigned *boot, unsigned *max, char *err, size_t errlen)
{
	char buf[128];
	bool have_boot = false, have_max = false;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "--cpus: value too long");
		return -EINVAL;
	}
	strcpy(buf, s);
	if (parse_uint(buf, boot) == 0) {
		*max = *boot;
		return 0;
	}
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(err, errlen, "--cpus: expected key=value, got '%s'", tok);
			return -EINVAL;
		}
		*eq = 0;
		unsigned *dst = !strcmp(tok, "boot") ? boot : !strcmp(tok, "max") ? max : NULL;
		if (!dst) {
			snprintf(err, errlen, "--cpus: unknown key '%s' (expected boot= and max=)", tok);
			return -EINVAL;
		}
		if (parse_uint(eq + 1, dst)) {
			snprintf(err, errlen, "--cpus: %s='%s' is not a number", tok, eq + 1);
			return -EINVAL;
		}
		if (dst == boot)
			have_boot = true;
		else
			have_max = true;
	}
	if (!have_boot) {
		snprintf(err, errlen, "--cpus: boot= is required");
		return -EINVAL;
	}
	if (!have_max)
		*max = *boot;
	return 0;
}

/* --memory SIZE | size=SIZE[,shared=on|off] */
int parse_memory(const char *s, struct vm_config *cfg, char *err, size_t errlen)
{
	char buf[128];

	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "--memory: value too long");
		return -EINVAL;
	}
	strcpy(buf, s);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		const char *v = eq ? eq + 1 : tok;
		if (eq)
			*eq = 0;
		if (!eq || !strcmp(tok, "size")) {
			if (parse_size(v, &cfg->memory_bytes)) {
				snprintf(err, errlen, "--memory: '%s' is not a size (e.g. 512M, 2G)", v);
				return -EINVAL;
			}
		} else if (!strcmp(tok, "shared")) {
			if (strcmp(v, "on") && strcmp(v, "off")) {
				snprintf(err, errlen, "--memory: shared= expects on or off, got '%s'", v);
				return -EINVAL;
			}
			cfg->memory_shared = !strcmp(v, "on");
		} else {
			snprintf(err, errlen, "--memory: unknown key '%s' (expected size= and shared=)", tok);
			return -EINVAL;
		}
	}
	return 0;
}

/* --fs tag=TAG,socket=PATH[,num_queues=N][,queue_size=N] */
int parse_fs(const char *s, struct vm_config *cfg, char *err, size_t errlen)
{
	struct vm_fs_config fs = { .num_queues = 1, .queue_size = 1024 };
	char buf[256];

	if (cfg->nfs >= VM_MAX_FS) {
		snprintf(err, errlen, "--fs: at most %u devices", VM_MAX_FS);
		return -EINVAL;
	}
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "--fs: value too long");
		return -EINVAL;
	}
	strcpy(buf, s);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(err, errlen, "--fs: expected key=value, got '%s'", tok);
			return -EINVAL;
		}
		*eq = 0;
		const char *v = eq + 1;
		if (!strcmp(tok, "tag")) {
			if (!*v || strlen(v) >= sizeof(fs.tag)) {
				snprintf(err, errlen, "--fs: tag must be 1 to 36 bytes");
				return -EINVAL;
			}
			strcpy(fs.tag, v);
		} else if (!strcmp(tok, "socket")) {
			if (!*v || strlen(v) >= sizeof(fs.socket)) {
				snprintf(err, errlen, "--fs: socket path must be 1 to %zu bytes", sizeof(fs.socket) - 1);
				return -EINVAL;
			}
			strcpy(fs.socket, v);
		} else if (!strcmp(tok, "num_queues")) {
			if (parse_uint(v, &fs.num_queues) || fs.num_queues < 1 || fs.num_queues > CLI_FS_MAX_QUEUES) {
				snprintf(err, errlen, "--fs: num_queues must be 1 to %u", CLI_FS_MAX_QUEUES);
				return -EINVAL;
			}
		} else if (!strcmp(tok, "queue_size")) {
			unsigned q;
			if (parse_uint(v, &q) || q < 2 || q > 1024 || (q & (q - 1))) {
				snprintf(err, errlen, "--fs: queue_size must be a power of two from 2 to 1024");
				return -EINVAL;
			}
			fs.queue_size = q;
		} else {
			snprintf(err, errlen, "--fs: unknown key '%s' (expected tag=, socket=, num_queues=, queue_size=)", tok);
			return -EINVAL;
		}
	}
	if (!fs.tag[0] || !fs.socket[0]) {
		snprintf(err, errlen, "--fs: tag= and socket= are required");
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->nfs; i++) {
		if (!strcmp(cfg->fs[i].tag, fs.tag)) {
			snprintf(err, errlen, "--fs: tag '%s' is used twice", fs.tag);
			return -EINVAL;
		}
	}
	cfg->fs[cfg->nfs++] = fs;
	return 0;
}

static int parse_console(const char *v, struct vm_config *cfg, char *err, size_t errlen)
{
	if (!strcmp(v, "stdio")) {
		cfg->console = CONSOLE_STDIO;
	} else if (!strcmp(v, "none")) {
		cfg->console = CONSOLE_NONE;
	} else if (!strncmp(v, "file=", 5) && v[5]) {
		cfg->console = CONSOLE_FILE;
		cfg->console_path = v + 5;
	} else {
		snprintf(err, errlen, "--console: expected stdio, file=PATH or none, got '%s'", v);
		return -EINVAL;
	}
	return 0;
}

static int parse_on_off(const char *key, const char *v, bool *out, char *err, size_t errlen)
{
	if (!strcmp(v, "on") || !strcmp(v, "true")) {
		*out = true;
	} else if (!strcmp(v, "off") || !strcmp(v, "false")) {
		*out = false;
	} else {
		snprintf(err, errlen, "--disk: %s= expects on or off, got '%s'", key, v);
		return -EINVAL;
	}
	return 0;
}

/* One --disk value: "path=FILE,readonly=on,..." (the path may contain no comma). */
int parse_disk(const char *s, struct disk_config *d, char *err, size_t errlen)
{
	char buf[4096];

	memset(d, 0, sizeof(*d));
	d->queue_size = DISK_DEFAULT_QUEUE_SIZE;
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "--disk: value too long");
		return -EINVAL;
	}
	strcpy(buf, s);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(err, errlen, "--disk: expected key=value, got '%s'", tok);
			return -EINVAL;
		}
		*eq = 0;
		const char *v = eq + 1;
		int r = 0;
		if (!strcmp(tok, "path")) {
			strcpy(d->path, v);	/* fits: shorter than buf */
		} else if (!strcmp(tok, "readonly")) {
			r = parse_on_off(tok, v, &d->read_only, err, errlen);
		} else if (!strcmp(tok, "direct")) {
			r = parse_on_off(tok, v, &d->direct, err, errlen);
		} else if (!strcmp(tok, "num_queues")) {
			if (parse_uint(v, &d->num_queues) || d->num_queues < 1 || d->num_queues > DISK_MAX_QUEUES) {
				snprintf(err, errlen, "--disk: num_queues='%s' must be 1 to %u", v, DISK_MAX_QUEUES);
				r = -EINVAL;
			}
		} else if (!strcmp(tok, "queue_size")) {
			unsigned q = 0;
			if (parse_uint(v, &q) || q < 2 || q > DISK_MAX_QUEUE_SIZE || (q & (q - 1))) {
				snprintf(err, errlen, "--disk: queue_size='%s' must be a power of two from 2 to %u",
					 v, DISK_MAX_QUEUE_SIZE);
				r = -EINVAL;
			}
			d->queue_size = q;
		} else if (!strcmp(tok, "serial")) {
			if (strlen(v) >= sizeof(d->serial)) {
				snprintf(err, errlen, "--disk: serial='%s' is longer than 20 characters", v);
				r = -EINVAL;
			} else {
				strcpy(d->serial, v);
			}
		} else {
			snprintf(err, errlen, "--disk: unknown key '%s' (expected path, readonly, direct, "
				 "num_queues, queue_size, serial)", tok);
			r = -EINVAL;
		}
		if (r)
			return r;
	}
	if (!d->path[0]) {
		snprintf(err, errlen, "--disk: path= is required");
		return -EINVAL;
	}
	return 0;
}

/* The shared validation speaks of settings; here they are spelled as options. */
static int check_config(const struct cli_args *out, char *err, size_t errlen)
{
	const struct vm_config *cfg = &out->cfg;
	/* No kernel: only to dump the tables, or to wait for the API's vm.create. */
	bool need_kernel = !cfg->dump_acpi_dir && !cfg->api_socket;
	char msg[256];

	if (!cfg->kernel && !cfg->dump_acpi_dir && cfg->api_socket && out->vm_options) {
		snprintf(err, errlen, "without --kernel the VM comes from the API's vm.create: "
			 "only --api-socket, -v and --seccomp apply");
		return -EINVAL;
	}
	int rc = vm_config_check(cfg, need_kernel, msg, sizeof(msg));

	if (rc)
		snprintf(err, errlen, "--%s", msg);
	return rc;
}

static bool is_known_option(const char *name)
{
	static const char *const known[] = {
		"--cpus", "--memory", "--kernel", "--initrd", "--cmdline", "--boot",
		"--console", "--api-socket", "--dump-acpi", "--seccomp", "--disk", "--rng", "--vsock",
		"--net", "--fs",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(known); i++) {
		if (!strcmp(name, known[i]))
			return true;
	}
	return false;
}

int cli_parse(int argc, char *const argv[], struct cli_args *out, char *err, size_t errlen)
{
	struct vm_config *cfg = &out->cfg;

	memset(out, 0, sizeof(*out));
	vm_config_defaults(cfg);
	cli_rng_default(cfg);

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		char name[32];
		const char *val = NULL;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			out->help = true;
			return 0;
		}
		if (!strcmp(arg, "-V") || !strcmp(arg, "--version")) {
			out->version = true;
			return 0;
		}
		if (arg[0] == '-' && arg[1] == 'v' && arg[strspn(arg + 1, "v") + 1] == 0) {
			cfg->verbosity += (unsigned)strlen(arg + 1);
			continue;
		}
		if (strncmp(arg, "--", 2)) {
			snprintf(err, errlen, "unexpected argument '%s' (see --help)", arg);
			return -EINVAL;
		}
		const char *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
		if (len >= sizeof(name)) {
			snprintf(err, errlen, "unknown option '%s' (see --help)", arg);
			return -EINVAL;
		}
		memcpy(name, arg, len);
		name[len] = 0;
		if (!is_known_option(name)) {
			snprintf(err, errlen, "unknown option '%s' (see --help)", name);
			return -EINVAL;
		}
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			snprintf(err, errlen, "%s needs a value", name);
			return -EINVAL;
		}

		if (strcmp(name, "--api-socket") && strcmp(name, "--seccomp"))
			out->vm_options = true;
		if (!strcmp(name, "--cpus")) {
			if (parse_cpus(val, &cfg->boot_cpus, &cfg->max_cpus, err, errlen))
				return -EINVAL;
		} else if (!strcmp(name, "--memory")) {
			if (parse_memory(val, cfg, err, errlen))
				return -EINVAL;
		} else if (!strcmp(name, "--kernel")) {
			cfg->kernel = val;
		} else if (!strcmp(name, "--initrd")) {
			cfg->initrd = val;
		} else if (!strcmp(name, "--cmdline")) {
			cfg->cmdline = val;
		} else if (!strcmp(name, "--boot")) {
			if (!strcmp(val, "acpi"))
				cfg->boot_mode = BOOT_MODE_ACPI;
			else if (!strcmp(val, "fdt"))
				cfg->boot_mode = BOOT_MODE_FDT;
			else {
				snprintf(err, errlen, "--boot: expected acpi or fdt, got '%s'", val);
				return -EINVAL;
			}
		} else if (!strcmp(name, "--console")) {
			if (parse_console(val, cfg, err, errlen))
				return -EINVAL;
		} else if (!strcmp(name, "--api-socket")) {
			cfg->api_socket = val;
		} else if (!strcmp(name, "--seccomp")) {
			/* cloud-hypervisor's flag, passed by Kata: there is no filter to turn off. */
			if (strcmp(val, "false")) {
				snprintf(err, errlen, "--seccomp: vmm has no seccomp filter; only 'false' "
					 "is accepted, got '%s'", val);
				return -EINVAL;
			}
			out->seccomp_off = true;
		} else if (!strcmp(name, "--dump-acpi")) {
			cfg->dump_acpi_dir = val;
		} else if (!strcmp(name, "--disk")) {
			if (cfg->ndisks == VM_MAX_DISKS) {
				snprintf(err, errlen, "--disk: at most %u disks", VM_MAX_DISKS);
				return -EINVAL;
			}
			if (parse_disk(val, &cfg->disks[cfg->ndisks], err, errlen))
				return -EINVAL;
			cfg->ndisks++;
		} else if (!strcmp(name, "--fs")) {
			if (parse_fs(val, cfg, err, errlen))
				return -EINVAL;
		} else if (!strcmp(name, "--rng")) {
			if (parse_rng(val, cfg, err, errlen))
				return -EINVAL;
		} else if (!strcmp(name, "--net")) {
			if (parse_net(val, cfg, err, errlen))
				return -EINVAL;
		} else if (!strcmp(name, "--vsock")) {
			if (parse_vsock(val, cfg, err, errlen))
				return -EINVAL;
		} else {
			snprintf(err, errlen, "unknown option '%s' (see --help)", name);
			return -EINVAL;
		}
		if (!*val) {
			snprintf(err, errlen, "%s: empty value", name);
			return -EINVAL;
		}
	}
	return check_config(out, err, errlen);
}
