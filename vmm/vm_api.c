#include "vmm/vm_api.h"

#include <stdarg.h>
#include <stdio.h>

void vm_api_log(const struct vm_api_ops *ops, void *vm, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (ops && ops->log)
		ops->log(vm, line);
	else
		fprintf(stderr, "vmm: %s\n", line);
}
