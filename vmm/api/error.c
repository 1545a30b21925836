/*
 * JSON-RPC error objects, and the mapping of the VM's -VM_ERR_* codes to
 * application codes -32000 - VM_ERR_INDEX(VM_ERR_*) (docs/api.md has the table).
 */
#include <string.h>
#include "vmm/api/internal.h"

static const char *const vm_error_text[] = {
	[VM_ERR_INDEX(VM_ERR_NO_SUCH_CPU)] = "no such CPU",
	[VM_ERR_INDEX(VM_ERR_BOOT_CPU)] = "the boot CPU cannot be removed",
	[VM_ERR_INDEX(VM_ERR_ALREADY_ENABLED)] = "CPU already enabled",
	[VM_ERR_INDEX(VM_ERR_NOT_ENABLED)] = "CPU not enabled",
	[VM_ERR_INDEX(VM_ERR_BUSY)] = "a hotplug operation on this CPU is in progress",
	[VM_ERR_INDEX(VM_ERR_NO_FREE_CPU)] = "no CPU is free: every possible CPU is enabled or still being removed",
	[VM_ERR_INDEX(VM_ERR_NOT_SUPPORTED)] = "CPU hotplug is not supported in device-tree boot mode",
	[VM_ERR_INDEX(VM_ERR_INVALID_STATE)] = "operation not valid in the VM's current state",
	[VM_ERR_INDEX(VM_ERR_TIMEOUT)] = "the guest did not complete the operation in time",
};

json_object *api_error_new(int code, const char *msg, json_object *data)
{
	json_object *err = json_object_new_object();

	if (!err) {
		json_object_put(data);
		return NULL;
	}
	json_object_object_add(err, "code", json_object_new_int(code));
	json_object_object_add(err, "message", json_object_new_string(msg));
	if (data)
		json_object_object_add(err, "data", data);
	return err;
}

json_object *api_error_from_vm(int rc, json_object *data)
{
	int index = VM_ERR_INDEX(-rc);

	if (index > 0 && (size_t)index < ARRAY_SIZE(vm_error_text) && vm_error_text[index])
		return api_error_new(API_ERR_BASE - index, vm_error_text[index], data);
	/* Not a VM_ERR_*: a plain -errno from the VM is an internal error. */
	return api_error_new(RPC_INTERNAL_ERROR, rc < 0 ? strerror(-rc) : "internal error", data);
}
