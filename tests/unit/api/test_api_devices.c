/* vm.info's device list, over the socket, and as vmmctl info prints it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

#define H(state) ((struct harness *)*(state))

static void test_no_devices(void **state)
{
	int fd = client_connect(H(state)->path);
	json_object *r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.info\"}");
	json_object *devs = jget(resp_result(r), "devices");

	assert_non_null(devs);
	assert_true(json_object_is_type(devs, json_type_array));
	assert_int_equal(json_object_array_length(devs), 0);
	json_object_put(r);
	close(fd);
}

static void test_rng_listed(void **state)
{
	struct fake_vm *vm = &H(state)->vm;
	pthread_mutex_lock(&vm->lock);
	vm->ndevices = 2;
	vm->devices[0] = (struct vm_device_info){
		.type = "virtio-blk", .base = 0x0a000000, .irq = 48, .status = 15, .ioeventfd = true,
		.notifies = 300, .vcpu_notifies = 0, .interrupts = 290,
	};
	vm->devices[1] = (struct vm_device_info){
		.type = "virtio-rng", .base = 0x0a000200, .irq = 49, .status = 0x4f,
		.notifies = 7, .vcpu_notifies = 7, .interrupts = 8,
	};
	pthread_mutex_unlock(&vm->lock);

	int fd = client_connect(H(state)->path);
	json_object *r = client_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.info\"}");
	json_object *devs = jget(resp_result(r), "devices");
	assert_int_equal(json_object_array_length(devs), 2);
	json_object *d = json_object_array_get_idx(devs, 1);
	assert_string_equal(json_object_get_string(jget(d, "type")), "virtio-rng");
	assert_int_equal(json_object_get_int64(jget(d, "base")), 0x0a000200);
	assert_int_equal(json_object_get_int(jget(d, "irq")), 49);
	assert_int_equal(json_object_get_int(jget(d, "status")), 0x4f);
	assert_false(json_object_get_boolean(jget(d, "ioeventfd")));
	assert_int_equal(json_object_get_int64(jget(d, "notifies")), 7);
	assert_int_equal(json_object_get_int64(jget(d, "vcpu_notifies")), 7);
	assert_int_equal(json_object_get_int64(jget(d, "interrupts")), 8);
	assert_true(json_object_get_boolean(jget(json_object_array_get_idx(devs, 0), "ioeventfd")));
	json_object_put(r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_devices, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_rng_listed, harness_setup, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
