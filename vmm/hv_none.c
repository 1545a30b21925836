/* Hosts without arm64 KVM: the VMM still parses arguments and dumps tables. */
#include <errno.h>
#include <stdio.h>

#include "hv.h"

int hv_kvm_open(struct hv **out, struct hv_vm_params *vp, char *err, unsigned errlen)
{
	(void)vp;
	*out = NULL;
	snprintf(err, errlen, "arm64 KVM is not available on this host (this vmm was built for %s)",
		 HOST_ARCH_NAME);
	return -ENODEV;
}
