/* vmm: parse, check, create the VM, run it; the only place that decides the exit status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/layout.h"
#include "cli/args.h"
#include "hv.h"
#include "vmm/api/api.h"
#include "vmm/boot.h"
#include "vmm/run.h"
#include "vmm/vm.h"

int main(int argc, char **argv)
{
	struct cli_args args;
	char err[512] = "";

	if (cli_parse(argc, argv, &args, err, sizeof(err))) {
		fprintf(stderr, "vmm: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	if (args.help) {
		cli_usage(stdout);
		return 0;
	}
	if (args.version) {
		printf("vmm %s\n", VMM_VERSION);
		return 0;
	}
	if (args.cfg.dump_acpi_dir) {
		if (boot_dump_acpi(&args.cfg, args.cfg.dump_acpi_dir, err, sizeof(err))) {
			fprintf(stderr, "vmm: %s\n", err);
			return 1;
		}
		return 0;
	}
	/* An API client may disconnect while we write to it: that must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (args.seccomp_off)
		fprintf(stderr, "vmm: note: --seccomp false: vmm installs no seccomp filter\n");
	if (args.cfg.api_socket && api_socket_check(args.cfg.api_socket, err, sizeof(err))) {
		fprintf(stderr, "vmm: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	if (!args.cfg.kernel) {
		/* The VM comes from the API's vm.create and vm.boot. */
		int status = vmm_serve(args.cfg.api_socket, args.cfg.verbosity, hv_kvm_open, err,
				       sizeof(err));
		if (status < 0) {
			fprintf(stderr, "vmm: %s\n", err);
			return 1;
		}
		return status;
	}
	if (boot_check_files(&args.cfg, err, sizeof(err)) ||
	    vm_virtio_check(&args.cfg, err, sizeof(err))) {
		fprintf(stderr, "vmm: %s\n", err);
		return CLI_EXIT_USAGE;
	}

	struct hv *hv;
	struct hv_vm_params vp = { .ipa_bits = layout_ipa_bits(args.cfg.memory_bytes) };
	int r = hv_kvm_open(&hv, &vp, err, sizeof(err));
	if (r == -ERANGE) {
		/* Too much RAM for this host's guest physical address space. */
		fprintf(stderr, "vmm: --memory: %llu MiB of RAM at 0x%llx does not fit: %s, "
			"room for at most %llu MiB\n",
			(unsigned long long)(args.cfg.memory_bytes >> 20), (unsigned long long)RAM_BASE,
			err, (unsigned long long)(layout_max_ram(vp.ipa_limit) >> 20));
		return CLI_EXIT_USAGE;
	}
	if (r) {
		fprintf(stderr, "vmm: %s\n", err);
		return 1;
	}
	struct hv_caps caps;
	if (hv->ops->get_caps(hv, &caps) == 0 && args.cfg.max_cpus > caps.max_vcpus) {
		fprintf(stderr, "vmm: --cpus: max (%u) is beyond KVM's limit of %u vCPUs\n",
			args.cfg.max_cpus, caps.max_vcpus);
		hv->ops->destroy(hv);
		return CLI_EXIT_USAGE;
	}

	struct vm *vm = calloc(1, sizeof(*vm));
	int status = 1;
	err[0] = 0;
	if (!vm)
		snprintf(err, sizeof(err), "out of memory");
	else if (vm_create(vm, &args.cfg, hv, err, sizeof(err)) == 0 &&
		 (status = vm_run(vm, err, sizeof(err))) >= 0)
		err[0] = 0;
	if (vm)
		vm_destroy(vm);		/* writes out the VM's log first */
	free(vm);
	if (err[0]) {
		fprintf(stderr, "vmm: %s\n", err);
		status = 1;
	}
	hv->ops->destroy(hv);
	return status;
}
