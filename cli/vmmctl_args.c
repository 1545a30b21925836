/* vmmctl's command line and the JSON-RPC request it becomes. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "cli/vmmctl_cmd.h"

static const struct {
	const char *word1, *word2;
	enum vmmctl_op op;
	int min_args, max_args;		/* after the command words */
	const char *method;
} commands[] = {
	{ "info", NULL, VMMCTL_INFO, 0, 0, "vm.info" },
	{ "cpu", "list", VMMCTL_CPU_LIST, 0, 0, "cpu.list" },
	{ "cpu", "add", VMMCTL_CPU_ADD, 0, 1, "cpu.add" },
	{ "cpu", "remove", VMMCTL_CPU_REMOVE, 1, 1, "cpu.remove" },
	{ "cpu", "resize", VMMCTL_CPU_RESIZE, 1, 1, "cpu.resize" },
	{ "pause", NULL, VMMCTL_PAUSE, 0, 0, "vm.pause" },
	{ "resume", NULL, VMMCTL_RESUME, 0, 0, "vm.resume" },
	{ "shutdown", NULL, VMMCTL_SHUTDOWN, 0, 0, "vm.shutdown" },
	{ "events", NULL, VMMCTL_EVENTS, 0, 0, "events.subscribe" },
	{ "call", NULL, VMMCTL_CALL, 1, 2, NULL },
	{ "send", NULL, VMMCTL_SEND, 1, 1, NULL },
};

void vmmctl_usage(FILE *f)
{
	fputs("usage: vmmctl --socket PATH [--json] [--timeout MS] [--no-wait] COMMAND\n"
	      "\n"
	      "commands:\n"
	      "  info              show the VM's state and CPU counts\n"
	      "  cpu list          list every possible vCPU\n"
	      "  cpu add [ID]      enable a vCPU (default: the lowest disabled one)\n"
	      "  cpu remove ID     ask the guest to eject a vCPU\n"
	      "  cpu resize N      add or remove vCPUs until N are enabled\n"
	      "  pause | resume    stop / restart every vCPU\n"
	      "  shutdown          power the VM off\n"
	      "  events            print hotplug events until the VM goes away\n"
	      "  call METHOD [JSON] send any request, e.g. call cpu.add '{\"id\":3}';\n"
	      "                    prints the raw result\n"
	      "  send LINE         send LINE as it is and print the raw reply (debugging)\n"
	      "\n"
	      "options:\n"
	      "  -s, --socket PATH the VMM's API socket\n"
	      "  -j, --json        print the raw JSON result\n"
	      "  -t, --timeout MS  how long the guest may take per CPU (cpu add/remove/resize;\n"
	      "                    default 10000), or how long to wait for any other reply;\n"
	      "                    cpu resize gives up after (CPUs to change + 1) times that\n"
	      "  -n, --no-wait     cpu add/remove: answer once requested, not once done\n"
	      "  -h, --help        this text\n"
	      "  -V, --version     print the version\n"
	      "\n"
	      "exit status: 0 ok, 1 the VMM reported an error, 2 usage, 3 cannot connect\n", f);
}

/* A decimal integer in 0..max, nothing else. */
static int parse_uint(const char *s, long max, int *out)
{
	char *end;
	long v;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_command(int argc, char *argv[], struct vmmctl_cmd *cmd, char *err,
			 size_t errlen)
{
	size_t i;
	int words, nargs;

	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[0], commands[i].word1) != 0)
			continue;
		if (commands[i].word2 && (argc < 2 || strcmp(argv[1], commands[i].word2) != 0))
			continue;
		words = commands[i].word2 ? 2 : 1;
		nargs = argc - words;
		if (nargs < commands[i].min_args || nargs > commands[i].max_args) {
			snprintf(err, errlen, "%s%s%s: wrong number of arguments", commands[i].word1,
				 words == 2 ? " " : "", words == 2 ? commands[i].word2 : "");
			return -EINVAL;
		}
		cmd->op = commands[i].op;
		if (cmd->op == VMMCTL_SEND) {
			cmd->line = argv[words];
			return 0;
		}
		if (cmd->op == VMMCTL_CALL) {
			cmd->method = argv[words];
			cmd->params = nargs > 1 ? argv[words + 1] : NULL;
			json_object *p = cmd->params ? json_tokener_parse(cmd->params) : NULL;
			bool bad = cmd->params && !p;
			json_object_put(p);
			if (bad) {
				snprintf(err, errlen, "call: params '%s' are not JSON", cmd->params);
				return -EINVAL;
			}
			return 0;
		}
		if (nargs == 0)
			return 0;
		if (cmd->op == VMMCTL_CPU_RESIZE) {
			if (parse_uint(argv[words], INT_MAX, &cmd->count) || cmd->count < 1) {
				snprintf(err, errlen, "cpu resize: '%s' is not a CPU count", argv[words]);
				return -EINVAL;
			}
		} else if (parse_uint(argv[words], INT_MAX, &cmd->id)) {
			snprintf(err, errlen, "'%s' is not a CPU id", argv[words]);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown command '%s%s%s'", argv[0], argc > 1 ? " " : "",
		 argc > 1 ? argv[1] : "");
	return -EINVAL;
}

int vmmctl_parse(int argc, char *argv[], struct vmmctl_cmd *cmd, char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(cmd, 0, sizeof(*cmd));
	cmd->timeout_ms = -1;
	cmd->resize_steps = -1;
	cmd->id = -1;
	optind = 0;	/* full getopt reset: parse may run more than once (tests) */
	opterr = 0;
	/* Options may follow the command too ("cpu list --json"). */
	while ((c = getopt_long(argc, argv, "s:jt:nhV", opts, NULL)) != -1) {
		switch (c) {
		case 's': cmd->socket = optarg; break;
		case 'j': cmd->json = true; break;
		case 'n': cmd->no_wait = true; break;
		case 'h': cmd->help = true; break;
		case 'V': cmd->version = true; break;
		case 't':
			if (parse_uint(optarg, 600000, &cmd->timeout_ms) || cmd->timeout_ms < 1) {
				snprintf(err, errlen, "--timeout: '%s' is not 1..600000 ms", optarg);
				return -EINVAL;
			}
			break;
		default:
			snprintf(err, errlen, "unknown or incomplete option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (cmd->help || cmd->version)
		return 0;
	if (!cmd->socket) {
		snprintf(err, errlen, "--socket PATH is required");
		return -EINVAL;
	}
	if (optind >= argc) {
		snprintf(err, errlen, "no command given");
		return -EINVAL;
	}
	return parse_command(argc - optind, argv + optind, cmd, err, errlen);
}

static const char *method_of(enum vmmctl_op op)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].op == op)
			return commands[i].method;
	return NULL;
}

json_object *vmmctl_request(const struct vmmctl_cmd *cmd, int id)
{
	json_object *req = json_object_new_object(), *params = json_object_new_object();
	bool cpu_op = cmd->op == VMMCTL_CPU_ADD || cmd->op == VMMCTL_CPU_REMOVE;

	if (!req || !params) {
		json_object_put(req);
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(req, "id", json_object_new_int(id));
	if (cmd->op == VMMCTL_CALL) {
		json_object_object_add(req, "method", json_object_new_string(cmd->method));
		json_object_put(params);
		if (cmd->params)
			json_object_object_add(req, "params", json_tokener_parse(cmd->params));
		return req;
	}
	json_object_object_add(req, "method", json_object_new_string(method_of(cmd->op)));
	if (cpu_op && cmd->id >= 0)
		json_object_object_add(params, "id", json_object_new_int(cmd->id));
	if (cpu_op && cmd->no_wait)
		json_object_object_add(params, "wait", json_object_new_boolean(false));
	if (cmd->op == VMMCTL_CPU_RESIZE)
		json_object_object_add(params, "count", json_object_new_int(cmd->count));
	if ((cpu_op || cmd->op == VMMCTL_CPU_RESIZE) && cmd->timeout_ms > 0)
		json_object_object_add(params, "timeout_ms", json_object_new_int(cmd->timeout_ms));
	json_object_object_add(req, "params", params);
	return req;
}

int vmmctl_reply_deadline_ms(const struct vmmctl_cmd *cmd)
{
	int guest = cmd->timeout_ms > 0 ? cmd->timeout_ms : 10000;

	switch (cmd->op) {
	case VMMCTL_CPU_ADD:
	case VMMCTL_CPU_REMOVE:
		return cmd->no_wait ? VMMCTL_REPLY_MS : guest + VMMCTL_GUEST_MARGIN_MS;
	case VMMCTL_CPU_RESIZE: {
		/* The server bounds each step by the guest timeout. */
		long steps = cmd->resize_steps >= 0 ? cmd->resize_steps : cmd->count;
		long ms = (steps + 1) * guest + VMMCTL_GUEST_MARGIN_MS;
		return ms > INT_MAX ? INT_MAX : (int)ms;
	}
	default:
		return cmd->timeout_ms > 0 ? cmd->timeout_ms : VMMCTL_REPLY_MS;
	}
}
