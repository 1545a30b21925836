/*
 * cloud-hypervisor's VmConfig (the vm.create body) into struct vm_config.
 * Mapped: cpus.boot_vcpus/max_vcpus, memory.size, payload.kernel/initramfs/
 * cmdline, serial.mode, rng.src (virtio-rng; /dev/urandom when absent, as
 * cloud-hypervisor does), disks[] (virtio-blk: path, readonly, direct,
 * num_queues, queue_size, serial or else id), fs[] (virtio-fs with a
 * vhost-user backend: tag, socket, num_queues, queue_size) and
 * memory.shared (guest RAM a backend can map). Accepted and ignored:
 * settings that only tune or describe (topology, hotplug_method/size, thp,
 * mergeable, prefault, num_pci_segments, pci_segment, landlock_enable).
 * vsock (cid, socket) becomes the virtio-vsock device with its hybrid vsock
 * socket. Refused with a reason: what the guest would miss or what would
 * behave differently (devices vmm does not have, huge-page memory,
 * confidential computing, firmware payloads).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "devices/virtio/fs.h"
#include "devices/virtio/vsock.h"
#include "vmm/api/internal.h"

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_is_type(v, json_type_null) ? NULL : v;
}

static bool is_true(json_object *o, const char *key)
{
	json_object *v = member(o, key);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* A non-negative integer member; absent leaves *out. */
static int get_u64(json_object *o, const char *key, uint64_t *out, char *err, size_t errlen,
		   const char *where)
{
	json_object *v = member(o, key);

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
		snprintf(err, errlen, "%s.%s must be a non-negative integer", where, key);
		return -EINVAL;
	}
	errno = 0;
	*out = json_object_get_uint64(v);
	return 0;
}

static int get_str(json_object *o, const char *key, char **out, char *err, size_t errlen,
		   const char *where)
{
	json_object *v = member(o, key);

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "%s.%s must be a string", where, key);
		return -EINVAL;
	}
	free(*out);
	*out = strdup(json_object_get_string(v));
	return *out ? 0 : -ENOMEM;
}

static int refuse(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -ENOTSUP;
}

static int map_cpus(json_object *cpus, struct vm_config *cfg, char *err, size_t errlen)
{
	uint64_t boot = 1, max = 0;

	if (!cpus)
		return 0;
	if (get_u64(cpus, "boot_vcpus", &boot, err, errlen, "cpus") ||
	    get_u64(cpus, "max_vcpus", &max, err, errlen, "cpus"))
		return -EINVAL;
	if (is_true(cpus, "kvm_hyperv"))
		return refuse(err, errlen, "cpus.kvm_hyperv: Hyper-V enlightenments do not exist on arm64");
	if (boot > 4096 || max > 4096) {
		snprintf(err, errlen, "cpus: boot_vcpus and max_vcpus are limited to %u",
			 vm_config_max_vcpus());
		return -EINVAL;
	}
	cfg->boot_cpus = (unsigned)boot;
	cfg->max_cpus = max ? (unsigned)max : (unsigned)boot;
	return 0;
}

static int map_memory(json_object *mem, struct vm_config *cfg, char *err, size_t errlen)
{
	if (!mem)
		return 0;
	if (get_u64(mem, "size", &cfg->memory_bytes, err, errlen, "memory"))
		return -EINVAL;
	cfg->memory_shared = is_true(mem, "shared");	/* --memory shared=on */
	if (is_true(mem, "hugepages"))
		return refuse(err, errlen, "memory.hugepages: huge-page backed memory is not supported");
	if (member(mem, "zones"))
		return refuse(err, errlen, "memory.zones: memory zones are not supported");
	return 0;
}

static int map_serial(json_object *serial, struct vm_config_owned *c, char *err, size_t errlen)
{
	json_object *mode = member(serial, "mode");
	const char *m = mode && json_object_is_type(mode, json_type_string) ?
			json_object_get_string(mode) : "Null";

	if (!strcmp(m, "Off") || !strcmp(m, "Null")) {
		c->cfg.console = CONSOLE_NONE;
	} else if (!strcmp(m, "Tty")) {
		c->cfg.console = CONSOLE_STDIO;
	} else if (!strcmp(m, "File")) {
		if (get_str(serial, "file", &c->console_path, err, errlen, "serial"))
			return -EINVAL;
		c->cfg.console = CONSOLE_FILE;
	} else {
		snprintf(err, errlen, "serial.mode '%s' is not supported (Off, Null, Tty or File)", m);
		return -ENOTSUP;
	}
	return 0;
}

static int map_rng(json_object *rng, struct vm_config_owned *c, char *err, size_t errlen)
{
	c->rng_source = strdup("/dev/urandom");
	if (!c->rng_source)
		return -ENOMEM;
	if (get_str(rng, "src", &c->rng_source, err, errlen, "rng"))
		return -EINVAL;
	c->cfg.rng_source = c->rng_source;
	return 0;
}

static int map_vsock(json_object *vsock, struct vm_config_owned *c, char *err, size_t errlen)
{
	uint64_t cid = 0;

	if (!vsock)
		return 0;
	if (get_u64(vsock, "cid", &cid, err, errlen, "vsock") ||
	    get_str(vsock, "socket", &c->vsock_socket, err, errlen, "vsock"))
		return -EINVAL;
	/* 0-2 are the hypervisor, local and host; 0xffffffff is VMADDR_CID_ANY. */
	if (cid < 3 || cid > 0xfffffffeULL) {
		snprintf(err, errlen, "vsock.cid must be from 3 to 4294967294");
		return -EINVAL;
	}
	if (!c->vsock_socket || !c->vsock_socket[0] || strlen(c->vsock_socket) >= VSOCK_PATH_MAX) {
		snprintf(err, errlen, "vsock.socket: a unix socket path shorter than %zu bytes is "
			 "required", (size_t)VSOCK_PATH_MAX);
		return -EINVAL;
	}
	c->cfg.vsock.cid = cid;
	c->cfg.vsock.socket = c->vsock_socket;
	return 0;
}

static int get_flag(json_object *o, const char *key, bool *out, char *err, size_t errlen,
		    const char *where)
{
	json_object *v = member(o, key);

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean)) {
		snprintf(err, errlen, "%s.%s must be true or false", where, key);
		return -EINVAL;
	}
	*out = json_object_get_boolean(v);
	return 0;
}

/* One DiskConfig: the same limits as --disk. */
static int map_disk(json_object *o, struct disk_config *d, char *err, size_t errlen)
{
	json_object *path = member(o, "path"), *serial = member(o, "serial");
	uint64_t nq = 0, qs = DISK_DEFAULT_QUEUE_SIZE;

	if (!serial)
		serial = member(o, "id");
	memset(d, 0, sizeof(*d));
	if (!json_object_is_type(o, json_type_object))
		return snprintf(err, errlen, "disks[]: each disk must be an object"), -EINVAL;
	if (is_true(o, "vhost_user") || member(o, "vhost_socket"))
		return refuse(err, errlen, "disks[]: vhost-user disks are not supported");
	if (!path || !json_object_is_type(path, json_type_string) ||
	    !json_object_get_string_len(path) ||
	    (size_t)json_object_get_string_len(path) >= sizeof(d->path))
		return snprintf(err, errlen, "disks[].path: a file path is required"), -EINVAL;
	strcpy(d->path, json_object_get_string(path));
	if (get_flag(o, "readonly", &d->read_only, err, errlen, "disks[]") ||
	    get_flag(o, "direct", &d->direct, err, errlen, "disks[]") ||
	    get_u64(o, "num_queues", &nq, err, errlen, "disks[]") ||
	    get_u64(o, "queue_size", &qs, err, errlen, "disks[]"))
		return -EINVAL;
	if (nq > DISK_MAX_QUEUES) {
		snprintf(err, errlen, "disks[].num_queues: at most %u", DISK_MAX_QUEUES);
		return -EINVAL;
	}
	if (qs < 2 || qs > DISK_MAX_QUEUE_SIZE || (qs & (qs - 1))) {
		snprintf(err, errlen, "disks[].queue_size: a power of two from 2 to %u",
			 DISK_MAX_QUEUE_SIZE);
		return -EINVAL;
	}
	d->num_queues = (unsigned)nq;
	d->queue_size = (unsigned)qs;
	if (serial && (!json_object_is_type(serial, json_type_string) ||
		       (size_t)json_object_get_string_len(serial) >= sizeof(d->serial))) {
		snprintf(err, errlen, "disks[].serial: a string of at most %zu characters",
			 sizeof(d->serial) - 1);
		return -EINVAL;
	}
	if (serial)
		strcpy(d->serial, json_object_get_string(serial));
	return 0;
}

static int map_disks(json_object *disks, struct vm_config *cfg, char *err, size_t errlen)
{
	size_t n;

	if (!disks)
		return 0;
	if (!json_object_is_type(disks, json_type_array))
		return snprintf(err, errlen, "disks must be an array"), -EINVAL;
	n = json_object_array_length(disks);
	if (n > VM_MAX_DISKS) {
		snprintf(err, errlen, "disks: at most %u disks", VM_MAX_DISKS);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = map_disk(json_object_array_get_idx(disks, i), &cfg->disks[i], err, errlen);
		if (rc)
			return rc;
	}
	cfg->ndisks = (unsigned)n;
	return 0;
}

/* One FsConfig: the same limits as --fs. */
static int map_one_fs(json_object *o, struct vm_fs_config *f, char *err, size_t errlen)
{
	json_object *tag = member(o, "tag"), *sock = member(o, "socket");
	uint64_t nq = 1, qs = 1024;

	memset(f, 0, sizeof(*f));
	if (!json_object_is_type(o, json_type_object))
		return snprintf(err, errlen, "fs[]: each entry must be an object"), -EINVAL;
	if (!tag || !json_object_is_type(tag, json_type_string) || !json_object_get_string_len(tag) ||
	    (size_t)json_object_get_string_len(tag) >= sizeof(f->tag))
		return snprintf(err, errlen, "fs[].tag: 1 to %zu bytes", sizeof(f->tag) - 1), -EINVAL;
	if (!sock || !json_object_is_type(sock, json_type_string) ||
	    !json_object_get_string_len(sock) ||
	    (size_t)json_object_get_string_len(sock) >= sizeof(f->socket))
		return snprintf(err, errlen, "fs[].socket: a unix socket path of 1 to %zu bytes",
				sizeof(f->socket) - 1), -EINVAL;
	if (get_u64(o, "num_queues", &nq, err, errlen, "fs[]") ||
	    get_u64(o, "queue_size", &qs, err, errlen, "fs[]"))
		return -EINVAL;
	if (nq < 1 || nq > VIRTIO_FS_MAX_REQUEST_QUEUES)
		return snprintf(err, errlen, "fs[].num_queues: 1 to %u", VIRTIO_FS_MAX_REQUEST_QUEUES),
		       -EINVAL;
	if (qs < 2 || qs > 1024 || (qs & (qs - 1)))
		return snprintf(err, errlen, "fs[].queue_size: a power of two from 2 to 1024"), -EINVAL;
	strcpy(f->tag, json_object_get_string(tag));
	strcpy(f->socket, json_object_get_string(sock));
	f->num_queues = (unsigned)nq;
	f->queue_size = (unsigned)qs;
	return 0;
}

static int map_fs(json_object *fs, struct vm_config *cfg, char *err, size_t errlen)
{
	size_t n;

	if (!fs)
		return 0;
	if (!json_object_is_type(fs, json_type_array))
		return snprintf(err, errlen, "fs must be an array"), -EINVAL;
	n = json_object_array_length(fs);
	if (n > VM_MAX_FS)
		return snprintf(err, errlen, "fs: at most %u devices", VM_MAX_FS), -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int rc = map_one_fs(json_object_array_get_idx(fs, i), &cfg->fs[i], err, errlen);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(cfg->fs[j].tag, cfg->fs[i].tag))
				return snprintf(err, errlen, "fs[].tag '%s' is used twice",
						cfg->fs[i].tag), -EINVAL;
		}
	}
	cfg->nfs = (unsigned)n;
	return 0;
}

/* Devices and features vmm does not have: refused when actually asked for. */
static int check_unsupported(json_object *root, char *err, size_t errlen)
{
	static const char *const lists[] = { "net", "pmem", "devices",
		"user_devices", "vdpa", "sgx_epc", "numa", "preserved_fds" };
	static const char *const objects[] = { "balloon", "tpm", "rate_limit_groups" };
	static const char *const flags[] = { "iommu", "pvpanic", "watchdog" };
	json_object *console = member(root, "console"), *platform = member(root, "platform");
	json_object *payload = member(root, "payload"), *mode = member(console, "mode");
	char text[160];

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		json_object *v = member(root, lists[i]);

		if (v && (!json_object_is_type(v, json_type_array) || json_object_array_length(v))) {
			snprintf(text, sizeof(text), "%s: not supported by vmm", lists[i]);
			return refuse(err, errlen, text);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(objects); i++) {
		if (member(root, objects[i])) {
			snprintf(text, sizeof(text), "%s: not supported by vmm", objects[i]);
			return refuse(err, errlen, text);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		if (is_true(root, flags[i])) {
			snprintf(text, sizeof(text), "%s: not supported by vmm", flags[i]);
			return refuse(err, errlen, text);
		}
	}
	if (mode && (!json_object_is_type(mode, json_type_string) ||
		     (strcmp(json_object_get_string(mode), "Off") &&
		      strcmp(json_object_get_string(mode), "Null"))))
		return refuse(err, errlen, "console: vmm has no virtio-console; use serial "
			      "(console.mode must be Off or Null)");
	if (is_true(platform, "sev_snp") || is_true(platform, "tdx"))
		return refuse(err, errlen, "platform: confidential guests (sev_snp, tdx) are not "
			      "supported");
	if (member(payload, "firmware") || member(payload, "igvm"))
		return refuse(err, errlen, "payload: only a Linux kernel is supported (no firmware)");
	return 0;
}

int api_ch_config_parse(const char *json, size_t len, struct vm_config_owned *out,
			char *err, size_t errlen)
{
	json_tokener *tok = json_tokener_new();
	json_object *root = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL;
	json_object *payload;
	int rc;

	memset(out, 0, sizeof(*out));
	vm_config_defaults(&out->cfg);
	if (!tok || len > INT32_MAX || !root || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "the body is not a JSON object");
		rc = -EINVAL;
		goto out;
	}
	for (size_t i = json_tokener_get_parse_end(tok); root && i < len; i++) {
		if (json[i] != ' ' && json[i] != '\n' && json[i] != '\r' && json[i] != '\t') {
			snprintf(err, errlen, "trailing bytes after the JSON object");
			rc = -EINVAL;
			goto out;
		}
	}
	payload = member(root, "payload");
	rc = check_unsupported(root, err, errlen);
	if (!rc)
		rc = map_cpus(member(root, "cpus"), &out->cfg, err, errlen);
	if (!rc)
		rc = map_memory(member(root, "memory"), &out->cfg, err, errlen);
	if (!rc)
		rc = map_rng(member(root, "rng"), out, err, errlen);
	if (!rc)
		rc = map_vsock(member(root, "vsock"), out, err, errlen);
	if (!rc)
		rc = map_disks(member(root, "disks"), &out->cfg, err, errlen);
	if (!rc)
		rc = map_fs(member(root, "fs"), &out->cfg, err, errlen);
	if (!rc)
		rc = map_serial(member(root, "serial"), out, err, errlen);
	if (!rc && !payload) {
		snprintf(err, errlen, "payload.kernel is required");
		rc = -EINVAL;
	}
	if (!rc && (get_str(payload, "kernel", &out->kernel, err, errlen, "payload") ||
		    get_str(payload, "initramfs", &out->initrd, err, errlen, "payload") ||
		    get_str(payload, "cmdline", &out->cmdline, err, errlen, "payload")))
		rc = -EINVAL;
	if (!rc) {
		out->cfg.kernel = out->kernel;
		out->cfg.initrd = out->initrd;
		out->cfg.cmdline = out->cmdline;
		out->cfg.console_path = out->console_path;
		rc = vm_config_check(&out->cfg, true, err, errlen);
	}
out:
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	if (rc)
		vm_config_owned_free(out);
	return rc;
}
