/* vmmctl: argument parsing, the request it sends, and its output. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cli/vmmctl_cmd.h"

static int parse(struct vmmctl_cmd *cmd, const char *line)
{
	char *copy = strdup(line), *argv[16], *tok, *save = NULL;
	char err[256];
	int argc = 0, rc;

	argv[argc++] = "vmmctl";
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	rc = vmmctl_parse(argc, argv, cmd, err, sizeof(err));
	if (rc)
		assert_true(strlen(err) > 0);
	free(copy);	/* cmd->socket pointed into copy: tests only read the op */
	cmd->socket = rc ? NULL : "set";
	return rc;
}

static void test_parse_commands(void **state)
{
	struct vmmctl_cmd cmd;

	(void)state;
	assert_int_equal(parse(&cmd, "--socket /s info"), 0);
	assert_int_equal(cmd.op, VMMCTL_INFO);
	assert_false(cmd.json);
	assert_int_equal(parse(&cmd, "-s /s --json cpu list"), 0);
	assert_int_equal(cmd.op, VMMCTL_CPU_LIST);
	assert_true(cmd.json);
	assert_int_equal(parse(&cmd, "-s /s cpu add"), 0);
	assert_int_equal(cmd.op, VMMCTL_CPU_ADD);
	assert_int_equal(cmd.id, -1);
	assert_int_equal(parse(&cmd, "-s /s --timeout 500 cpu add 3"), 0);
	assert_int_equal(cmd.id, 3);
	assert_int_equal(cmd.timeout_ms, 500);
	assert_int_equal(parse(&cmd, "-s /s cpu remove 2"), 0);
	assert_int_equal(cmd.op, VMMCTL_CPU_REMOVE);
	assert_int_equal(cmd.id, 2);
	assert_int_equal(parse(&cmd, "-s /s cpu resize 4"), 0);
	assert_int_equal(cmd.count, 4);
	assert_int_equal(parse(&cmd, "-s /s pause"), 0);
	assert_int_equal(cmd.op, VMMCTL_PAUSE);
	assert_int_equal(parse(&cmd, "-s /s resume"), 0);
	assert_int_equal(parse(&cmd, "-s /s shutdown"), 0);
	assert_int_equal(parse(&cmd, "-s /s events"), 0);
	assert_int_equal(cmd.op, VMMCTL_EVENTS);
	assert_int_equal(parse(&cmd, "-s /s cpu list --json"), 0);
	assert_int_equal(cmd.op, VMMCTL_CPU_LIST);
	assert_true(cmd.json);
	assert_int_equal(parse(&cmd, "--help"), 0);
	assert_true(cmd.help);
	assert_int_equal(parse(&cmd, "--version"), 0);
	assert_true(cmd.version);
}

static void test_parse_errors(void **state)
{
	static const char *const bad[] = {
		"info",				/* no socket */
		"-s /s",			/* no command */
		"-s /s frobnicate",
		"-s /s cpu",
		"-s /s cpu explode",
		"-s /s cpu remove",
		"-s /s cpu remove -1",
		"-s /s cpu remove x",
		"-s /s cpu remove 1 2",
		"-s /s cpu add 99999999999",
		"-s /s cpu resize 0",
		"-s /s cpu resize",
		"-s /s info extra",
		"-s /s --timeout 0 info",
		"-s /s --timeout abc info",
		"-s /s --bogus info",
		"-s",
	};
	struct vmmctl_cmd cmd;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(&cmd, bad[i]) == 0)
			fail_msg("accepted: %s", bad[i]);
}

static void expect_request(const char *line, const char *want)
{
	struct vmmctl_cmd cmd;
	json_object *req;

	assert_int_equal(parse(&cmd, line), 0);
	req = vmmctl_request(&cmd, 1);
	assert_string_equal(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), want);
	json_object_put(req);
}

static void test_requests(void **state)
{
	(void)state;
	expect_request("-s /s info", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.info\",\"params\":{}}");
	expect_request("-s /s cpu add",
		       "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cpu.add\",\"params\":{}}");
	expect_request("-s /s -t 300 --no-wait cpu add 2",
		       "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cpu.add\",\"params\":"
		       "{\"id\":2,\"wait\":false,\"timeout_ms\":300}}");
	expect_request("-s /s cpu remove 3",
		       "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cpu.remove\",\"params\":{\"id\":3}}");
	expect_request("-s /s cpu resize 2",
		       "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cpu.resize\",\"params\":{\"count\":2}}");
	expect_request("-s /s events",
		       "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.subscribe\",\"params\":{}}");
}

/* No command but the event stream waits forever; cpu resize: a step's worth more than needed. */
static void test_reply_deadlines(void **state)
{
	static const char *const lines[] = {
		"-s /s info", "-s /s cpu list", "-s /s cpu add", "-s /s cpu remove 1", "-s /s pause",
		"-s /s resume", "-s /s shutdown", "-s /s events", "-s /s cpu resize 3",
		"-s /s -t 1 cpu resize 3",
	};
	struct vmmctl_cmd cmd;

	(void)state;
	for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(parse(&cmd, lines[i]), 0);
		assert_true(vmmctl_reply_deadline_ms(&cmd) > 0);
	}
	assert_int_equal(parse(&cmd, "-s /s cpu resize 4"), 0);
	assert_int_equal(cmd.resize_steps, -1);		/* unknown: count steps */
	assert_int_equal(vmmctl_reply_deadline_ms(&cmd), 5 * 10000 + VMMCTL_GUEST_MARGIN_MS);
	cmd.resize_steps = 1;					/* from vm.info */
	assert_int_equal(vmmctl_reply_deadline_ms(&cmd), 2 * 10000 + VMMCTL_GUEST_MARGIN_MS);
	assert_int_equal(parse(&cmd, "-s /s -t 600000 cpu resize 100000"), 0);
	assert_int_equal(vmmctl_reply_deadline_ms(&cmd), 2147483647);	/* no overflow */
}

/* call and send keep pointers into argv: build argv that outlives the parse. */
static void test_call_and_send(void **state)
{
	char *call[] = { "vmmctl", "-s", "/s", "call", "cpu.add", "{\"id\": 3, \"wait\": false}", NULL };
	char *bare[] = { "vmmctl", "-s", "/s", "call", "vm.info", NULL };
	char *bad[] = { "vmmctl", "-s", "/s", "call", "cpu.add", "{\"id\":", NULL };
	char *send[] = { "vmmctl", "-s", "/s", "send", "{not json", NULL };
	struct vmmctl_cmd cmd;
	char err[256];
	json_object *req;

	(void)state;
	assert_int_equal(vmmctl_parse(6, call, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.op, VMMCTL_CALL);
	req = vmmctl_request(&cmd, 1);
	assert_string_equal(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
			    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cpu.add\","
			    "\"params\":{\"id\":3,\"wait\":false}}");
	json_object_put(req);

	assert_int_equal(vmmctl_parse(5, bare, &cmd, err, sizeof(err)), 0);
	req = vmmctl_request(&cmd, 7);
	assert_string_equal(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
			    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"vm.info\"}");
	json_object_put(req);

	assert_int_equal(vmmctl_parse(6, bad, &cmd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not JSON"));

	assert_int_equal(vmmctl_parse(5, send, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd.op, VMMCTL_SEND);
	assert_string_equal(cmd.line, "{not json");
}

/* Runs a printer into a string. */
static char *capture(const char *line, const char *json, bool event)
{
	struct vmmctl_cmd cmd;
	json_object *obj = json_tokener_parse(json);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_int_equal(parse(&cmd, line), 0);
	if (event)
		assert_int_equal(vmmctl_print_event(&cmd, obj, f), 0);
	else
		assert_int_equal(vmmctl_print_result(&cmd, obj, f), 0);
	fclose(f);
	json_object_put(obj);
	return text;
}

static void expect_output(const char *line, const char *json, bool event, const char *want)
{
	char *text = capture(line, json, event);

	assert_string_equal(text, want);
	free(text);
}

static void test_output(void **state)
{
	char *text;

	(void)state;
	expect_output("-s /s cpu list",
		      "[{\"id\":0,\"mpidr\":2147483648,\"enabled\":true,\"online\":true,\"pending\":\"none\"},"
		      "{\"id\":1,\"mpidr\":2147483649,\"enabled\":false,\"online\":false,\"pending\":\"insert\"}]",
		      false,
		      "ID   MPIDR              ENABLED  ONLINE  PENDING\n"
		      "0    0x80000000         yes      yes     none\n"
		      "1    0x80000001         no       no      insert\n");
	expect_output("-s /s --json cpu add", "{\"id\":2}", false, "{\"id\":2}\n");
	expect_output("-s /s cpu add", "{\"id\":2}", false, "cpu 2 added\n");
	expect_output("-s /s cpu remove 2", "{\"id\":2}", false, "cpu 2 removed\n");
	expect_output("-s /s cpu resize 4", "{\"old\":1,\"new\":4}", false, "cpus: 1 -> 4\n");
	expect_output("-s /s pause", "{}", false, "paused\n");
	expect_output("-s /s events",
		      "{\"jsonrpc\":\"2.0\",\"method\":\"cpu.ost\",\"params\":{\"id\":1,\"event\":1,\"status\":0}}",
		      true, "cpu.ost id=1 event=0x1 status=0x0\n");
	expect_output("-s /s events", "{\"jsonrpc\":\"2.0\",\"method\":\"vm.shutdown\",\"params\":{}}",
		      true, "vm.shutdown\n");
	expect_output("-s /s --json events",
		      "{\"jsonrpc\":\"2.0\",\"method\":\"cpu.online\",\"params\":{\"id\":3}}", true,
		      "{\"jsonrpc\":\"2.0\",\"method\":\"cpu.online\",\"params\":{\"id\":3}}\n");
	text = capture("-s /s info",
		       "{\"state\":\"running\",\"boot_cpus\":1,\"max_cpus\":4,\"enabled_cpus\":2,"
		       "\"online_cpus\":2,\"memory_bytes\":536870912,\"uptime_ms\":1500,"
		       "\"boot_mode\":\"acpi\",\"hotplug\":true}", false);
	assert_non_null(strstr(text, "state:     running\n"));
	assert_non_null(strstr(text, "2 enabled, 2 online, 1 at boot, 4 max"));
	assert_non_null(strstr(text, "512 MiB"));
	assert_non_null(strstr(text, "1.500 s"));
	free(text);
}

static void test_error_output(void **state)
{
	json_object *e = json_tokener_parse("{\"code\":-32009,\"message\":\"too slow\",\"data\":{\"id\":2}}");
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	vmmctl_print_error(e, f);
	fclose(f);
	assert_string_equal(text, "vmmctl: too slow\nvmmctl: error -32009, data: {\"id\":2}\n");
	free(text);
	json_object_put(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_commands),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_reply_deadlines),
		cmocka_unit_test(test_call_and_send),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_error_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
