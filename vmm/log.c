#include "vmm/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "vmm/vm.h"

void vm_log(const struct vm *vm, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	uint64_t ms = vm ? vm_uptime_ms(vm) : 0;
	/* One write per line so concurrent vCPU threads do not interleave. */
	fprintf(stderr, "vmm: [%4llu.%03llu] %s\n", (unsigned long long)(ms / 1000),
		(unsigned long long)(ms % 1000), line);
}
