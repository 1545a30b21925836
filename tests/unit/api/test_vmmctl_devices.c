/* vmmctl info: one line per device, the driver's stage in words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cli/vmmctl_cmd.h"

static char *info_text(const char *json)
{
	struct vmmctl_cmd cmd;
	char err[128], *text = NULL;
	size_t len = 0;
	char *argv[] = { "vmmctl", "-s", "/s", "info", NULL };
	json_object *obj = json_tokener_parse(json);
	FILE *f = open_memstream(&text, &len);

	assert_int_equal(vmmctl_parse(4, argv, &cmd, err, sizeof(err)), 0);
	assert_int_equal(vmmctl_print_result(&cmd, obj, f), 0);
	fclose(f);
	json_object_put(obj);
	return text;
}

static void test_devices(void **state)
{
	(void)state;
	char *t = info_text("{\"state\":\"running\",\"boot_mode\":\"acpi\",\"hotplug\":true,\"devices\":["
			    "{\"type\":\"virtio-rng\",\"base\":167772160,\"irq\":48,\"status\":15,"
			    "\"ioeventfd\":true,\"notifies\":12,\"vcpu_notifies\":0,\"interrupts\":11},"
			    "{\"type\":\"virtio-blk\",\"base\":167772672,\"irq\":49,\"status\":79,"
			    "\"ioeventfd\":false,\"notifies\":3,\"vcpu_notifies\":3,\"interrupts\":4}]}");
	assert_non_null(strstr(t, "devices:   2\n"));
	assert_non_null(strstr(t, "  virtio-rng  0x0a000000 irq 48  driver-ok   notifies 12 "
				  "(0 on vCPU threads, ioeventfd yes), interrupts 11\n"));
	assert_non_null(strstr(t, "  virtio-blk  0x0a000200 irq 49  needs-reset notifies 3 "
				  "(3 on vCPU threads, ioeventfd no), interrupts 4\n"));
	free(t);
	/* An older vmm without the list: no devices line at all. */
	t = info_text("{\"state\":\"running\"}");
	assert_null(strstr(t, "devices"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
