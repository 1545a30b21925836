/*
 * cloud-hypervisor's REST dialect (docs/api-rest.md): the endpoints Kata
 * Containers' clh driver calls, under /api/v1/. Every handler answers at
 * once; what the guest must do (a resize) goes on in the background.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "vmm/api/internal.h"

#define PREFIX "/api/v1/"

static void reply_json(struct http_conn *c, json_object *o)
{
	size_t len;
	const char *s = o ? json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len) : NULL;

	if (s)
		api_http_reply(c, 200, "application/json", s, len, false);
	else
		api_http_reply_error(c, 500, "out of memory");
	json_object_put(o);
}

static void reply_vm_error(struct http_conn *c, const char *what, int rc)
{
	if (rc == -VM_ERR_INVALID_STATE)
		api_http_reply_error(c, 409, "%s: not possible in the VM's current state", what);
	else if (rc == -VM_ERR_NOT_SUPPORTED || rc == -ENOTSUP)
		api_http_reply_error(c, 400, "%s: not supported", what);
	else
		api_http_reply_error(c, 500, "%s failed: %s", what,
				     rc > -VM_ERR_BASE ? strerror(-rc) : "VM error");
}

static const char *state_name(enum vmm_vm_state s)
{
	switch (s) {
	case VMM_VM_NONE: return "NotCreated";
	case VMM_VM_CREATED: return "Created";
	case VMM_VM_RUNNING: return "Running";
	case VMM_VM_PAUSED: return "Paused";
	case VMM_VM_SHUTDOWN: return "Shutdown";
	}
	return "Shutdown";
}

static const char *serial_mode(const struct vm_config *cfg)
{
	return cfg->console == CONSOLE_STDIO ? "Tty" : cfg->console == CONSOLE_FILE ? "File" : "Off";
}

static void add_str(json_object *o, const char *key, const char *v)
{
	if (v)
		json_object_object_add(o, key, json_object_new_string(v));
}

static void ping(struct http_conn *c)
{
	json_object *o = json_object_new_object();

	if (o) {
		json_object_object_add(o, "build_version", json_object_new_string("vmm-" VMM_VERSION));
		json_object_object_add(o, "version", json_object_new_string(VMM_VERSION));
		json_object_object_add(o, "pid", json_object_new_int64(getpid()));
		json_object_object_add(o, "features", json_object_new_array());
	}
	reply_json(c, o);
}

static json_object *resize_json(struct api_server *srv)
{
	struct cpu_target_status st;
	json_object *o;

	if (!srv->vmm_ops->resize_status(srv->vmm, &st) || st.target < 0)
		return NULL;
	o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "desired_vcpus", json_object_new_int(st.target));
	json_object_object_add(o, "state", json_object_new_string(cpu_target_state_name(st.state)));
	json_object_object_add(o, "cpu", st.step_cpu >= 0 ? json_object_new_int(st.step_cpu) : NULL);
	json_object_object_add(o, "reason", st.reason[0] ? json_object_new_string(st.reason) : NULL);
	return o;
}

/* cloud-hypervisor's VmInfo: config.cpus.boot_vcpus is the current count. */
static void vm_info(struct api_server *srv, struct http_conn *c)
{
	enum vmm_vm_state state = srv->vmm_ops->state(srv->vmm);
	const struct vm_config *cfg = srv->vmm_ops->config(srv->vmm);
	unsigned current = cfg ? cfg->boot_cpus : 0, online = 0;
	json_object *o, *conf, *cpus, *mem, *payload, *serial;
	struct vm_info info;

	if (!cfg) {
		api_http_reply_error(c, 409, "vm.info: no VM yet: send vm.create first");
		return;
	}
	if (state == VMM_VM_RUNNING || state == VMM_VM_PAUSED) {
		memset(&info, 0, sizeof(info));
		if (srv->ops->info(srv->vm, &info) == 0) {
			current = info.enabled_cpus;
			online = info.online_cpus;
		}
	}
	o = json_object_new_object();
	conf = json_object_new_object();
	cpus = json_object_new_object();
	mem = json_object_new_object();
	payload = json_object_new_object();
	serial = json_object_new_object();
	if (!o || !conf || !cpus || !mem || !payload || !serial) {
		json_object_put(o);
		json_object_put(conf);
		json_object_put(cpus);
		json_object_put(mem);
		json_object_put(payload);
		json_object_put(serial);
		api_http_reply_error(c, 500, "out of memory");
		return;
	}
	json_object_object_add(cpus, "boot_vcpus", json_object_new_int64(current));
	json_object_object_add(cpus, "max_vcpus", json_object_new_int64(cfg->max_cpus));
	/* No hotplug_size: memory hot-plug does not exist, so Kata does not try it. */
	json_object_object_add(mem, "size", json_object_new_uint64(cfg->memory_bytes));
	add_str(payload, "kernel", cfg->kernel);
	add_str(payload, "initramfs", cfg->initrd);
	add_str(payload, "cmdline", cfg->cmdline);
	json_object_object_add(serial, "mode", json_object_new_string(serial_mode(cfg)));
	json_object_object_add(conf, "cpus", cpus);
	json_object_object_add(conf, "memory", mem);
	json_object_object_add(conf, "payload", payload);
	json_object_object_add(conf, "serial", serial);
	json_object_object_add(o, "config", conf);
	json_object_object_add(o, "state", json_object_new_string(state_name(state)));
	json_object_object_add(o, "memory_actual_size", json_object_new_uint64(cfg->memory_bytes));
	if (state == VMM_VM_RUNNING || state == VMM_VM_PAUSED)
		json_object_object_add(o, "online_vcpus", json_object_new_int64(online));
	json_object_object_add(o, "vcpus_resize", resize_json(srv));
	reply_json(c, o);
}

static void vm_create(struct api_server *srv, struct http_conn *c, struct http_request *req)
{
	struct vm_config_owned conf;
	char err[256];
	int rc;

	if (srv->vmm_ops->state(srv->vmm) != VMM_VM_NONE) {
		api_http_reply_error(c, 409, "vm.create: a VM exists already");
		return;
	}
	rc = api_ch_config_parse(req->body ? req->body : "", req->body_len, &conf, err, sizeof(err));
	if (rc) {
		api_http_reply_error(c, 400, "vm.create: %s", err);
		return;
	}
	rc = srv->vmm_ops->create(srv->vmm, &conf, err, sizeof(err));
	if (rc)
		api_http_reply_error(c, rc == -ENOMEM ? 500 : 400, "vm.create: %s", err);
	else
		api_http_reply(c, 204, NULL, NULL, 0, false);
}

static void vm_boot(struct api_server *srv, struct http_conn *c)
{
	char err[256];
	enum vmm_vm_state state = srv->vmm_ops->state(srv->vmm);

	if (state != VMM_VM_CREATED) {
		api_http_reply_error(c, 409, "vm.boot: %s", state == VMM_VM_NONE ?
				     "no VM yet: send vm.create first" : "the VM is booted already");
		return;
	}
	if (srv->vmm_ops->boot(srv->vmm, err, sizeof(err)))
		api_http_reply_error(c, 500, "vm.boot: %s", err);
	else
		api_http_reply(c, 204, NULL, NULL, 0, false);
}

static void vm_resize(struct api_server *srv, struct http_conn *c, struct http_request *req)
{
	json_object *body = req->body ? json_tokener_parse(req->body) : NULL;
	json_object *vcpus = NULL, *ram = NULL;
	char err[256];
	int64_t n;

	if (!body || !json_object_is_type(body, json_type_object)) {
		api_http_reply_error(c, 400, "vm.resize: the body must be a JSON object");
		goto out;
	}
	json_object_object_get_ex(body, "desired_vcpus", &vcpus);
	json_object_object_get_ex(body, "desired_ram", &ram);
	if (ram && !json_object_is_type(ram, json_type_null)) {
		api_http_reply_error(c, 400, "vm.resize: desired_ram: memory hot-plug is not supported");
		goto out;
	}
	if (!vcpus || !json_object_is_type(vcpus, json_type_int)) {
		api_http_reply_error(c, 400, "vm.resize: desired_vcpus (an integer) is required");
		goto out;
	}
	if (srv->vmm_ops->state(srv->vmm) != VMM_VM_RUNNING &&
	    srv->vmm_ops->state(srv->vmm) != VMM_VM_PAUSED) {
		api_http_reply_error(c, 409, "vm.resize: the VM is not booted");
		goto out;
	}
	n = json_object_get_int64(vcpus);
	if (n < 1 || n > 4096 || srv->vmm_ops->resize(srv->vmm, (unsigned)n, err, sizeof(err)))
		api_http_reply_error(c, 400, "vm.resize: %s", n < 1 || n > 4096 ?
				     "desired_vcpus out of range" : err);
	else
		api_http_reply(c, 204, NULL, NULL, 0, false);
out:
	json_object_put(body);
}

/* "02:00:ca:fe:00:01" into six bytes. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int end = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6 || s[end] || end != 17)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return true;
}

/*
 * Kata's AddNet before vm.boot: the tap fds come as SCM_RIGHTS with the
 * request (one per queue pair); the JSON gives the MAC. The VM gets the
 * device when it boots; hot-plug after boot is refused.
 */
static void add_net(struct api_server *srv, struct http_conn *c, struct http_request *req)
{
	json_object *body = req->body ? json_tokener_parse(req->body) : NULL;
	json_object *mac = NULL, *tap = NULL;
	struct vm_net_config n;
	char err[256];
	int rc;

	memset(&n, 0, sizeof(n));
	if (srv->vmm_ops->state(srv->vmm) != VMM_VM_CREATED) {
		api_http_reply_error(c, 409, "vm.add-net: only between vm.create and vm.boot "
				     "(no network hot-plug)");
		goto out;
	}
	if (!body || !json_object_is_type(body, json_type_object)) {
		api_http_reply_error(c, 400, "vm.add-net: the body must be a JSON object");
		goto out;
	}
	json_object_object_get_ex(body, "mac", &mac);
	json_object_object_get_ex(body, "tap", &tap);
	if (mac && !json_object_is_type(mac, json_type_null)) {
		if (!json_object_is_type(mac, json_type_string) ||
		    !parse_mac(json_object_get_string(mac), n.mac)) {
			api_http_reply_error(c, 400, "vm.add-net: mac must look like 02:00:00:00:00:01");
			goto out;
		}
		n.have_mac = true;
	}
	if (req->nfds == 0 || req->nfds > VM_NET_MAX_PAIRS) {
		api_http_reply_error(c, 400, "vm.add-net: pass 1 to %u tap fds with the request "
				     "(SCM_RIGHTS)%s", VM_NET_MAX_PAIRS,
				     tap ? "; opening a tap by name is not supported" : "");
		goto out;
	}
	for (unsigned i = 0; i < req->nfds; i++) {
		n.fds[i] = req->fds[i];
		req->fds[i] = -1;	/* add_net owns them now */
	}
	n.nfds = n.pairs = req->nfds;
	rc = srv->vmm_ops->add_net(srv->vmm, &n, err, sizeof(err));
	if (rc)
		api_http_reply_error(c, rc == -ENOSPC ? 409 : 400, "vm.add-net: %s", err);
	else
		api_http_reply(c, 204, NULL, NULL, 0, false);
out:
	json_object_put(body);
}

static void remove_device(struct http_conn *c, struct http_request *req)
{
	json_object *body = req->body ? json_tokener_parse(req->body) : NULL;
	json_object *id = NULL;

	if (!body || !json_object_object_get_ex(body, "id", &id) ||
	    !json_object_is_type(id, json_type_string))
		api_http_reply_error(c, 400, "vm.remove-device: {\"id\": string} is required");
	else
		api_http_reply_error(c, 404, "vm.remove-device: no device '%.64s'",
				     json_object_get_string(id));
	json_object_put(body);
}

static void simple(struct api_server *srv, struct http_conn *c, const char *what,
		   int (*op)(void *vm))
{
	int rc;

	if (srv->vmm_ops->state(srv->vmm) < VMM_VM_RUNNING) {
		api_http_reply_error(c, 409, "%s: the VM is not booted", what);
		return;
	}
	rc = op(srv->vm);
	if (rc)
		reply_vm_error(c, what, rc);
	else
		api_http_reply(c, 204, NULL, NULL, 0, false);
}

void api_rest_handle(struct api_server *srv, struct http_conn *c, struct http_request *req)
{
	const char *ep = req->url;
	bool get = req->method == HTTP_GET, put = req->method == HTTP_PUT;

	if (strncmp(ep, PREFIX, strlen(PREFIX))) {
		api_http_reply_error(c, 404, "unknown path (endpoints are under " PREFIX ")");
		return;
	}
	ep += strlen(PREFIX);
	if (!strcmp(ep, "vmm.ping") && get) {
		ping(c);
		return;
	}
	if (!srv->vmm_ops) {
		api_http_reply_error(c, 501, "%s: not available on this server", ep);
		return;
	}
	if (!strcmp(ep, "vm.info") && get)
		vm_info(srv, c);
	else if (!strcmp(ep, "vm.create") && put)
		vm_create(srv, c, req);
	else if (!strcmp(ep, "vm.boot") && put)
		vm_boot(srv, c);
	else if (!strcmp(ep, "vm.resize") && put)
		vm_resize(srv, c, req);
	else if (!strcmp(ep, "vm.pause") && put)
		simple(srv, c, "vm.pause", srv->ops->pause);
	else if (!strcmp(ep, "vm.resume") && put)
		simple(srv, c, "vm.resume", srv->ops->resume);
	else if (!strcmp(ep, "vm.shutdown") && put)
		simple(srv, c, "vm.shutdown", srv->ops->shutdown);
	else if (!strcmp(ep, "vmm.shutdown") && put) {
		/* The reply goes out before the process ends. */
		api_http_reply(c, 204, NULL, NULL, 0, true);
		api_http_flush(c);
		srv->vmm_ops->shutdown(srv->vmm);
	} else if (!strcmp(ep, "vm.add-net") && put)
		add_net(srv, c, req);
	else if ((!strcmp(ep, "vm.add-disk") || !strcmp(ep, "vm.add-fs") ||
		  !strcmp(ep, "vm.add-pmem") || !strcmp(ep, "vm.add-device") ||
		  !strcmp(ep, "vm.add-vsock")) && put)
		api_http_reply_error(c, 400, "%s: device hot-plug is not supported", ep);
	else if (!strcmp(ep, "vm.remove-device") && put)
		remove_device(c, req);
	else if (!strcmp(ep, "vmm.ping") || !strcmp(ep, "vm.info") || !strcmp(ep, "vm.create") ||
		 !strcmp(ep, "vm.boot") || !strcmp(ep, "vm.resize") || !strcmp(ep, "vm.pause") ||
		 !strcmp(ep, "vm.resume") || !strcmp(ep, "vm.shutdown") || !strcmp(ep, "vmm.shutdown") ||
		 !strcmp(ep, "vm.add-net") || !strcmp(ep, "vm.remove-device"))
		api_http_reply_error(c, 405, "%s: wrong method", ep);
	else
		api_http_reply_error(c, 404, "%s: unknown endpoint", ep);
}
