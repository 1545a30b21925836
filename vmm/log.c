#include "vmm/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "vmm/vm.h"

void vm_log(const struct vm *vm, const char *fmt, ...)
{
	char msg[512], line[560];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Stamped with the VM's uptime; before a VM exists (API only) there is none. */
	uint64_t ms = vm ? vm_uptime_ms(vm) : 0;
	int n = vm ? snprintf(line, sizeof(line), "vmm: [%4llu.%03llu] %s\n", (unsigned long long)(ms / 1000),
			      (unsigned long long)(ms % 1000), msg)
		   : snprintf(line, sizeof(line), "vmm: %s\n", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {	/* cut, but still one line */
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* A VM's threads never wait for stderr: its main loop writes the ring out. */
	if (vm && vm->log)
		console_write(vm->log, (const uint8_t *)line, (size_t)n);
	else
		(void)!write(STDERR_FILENO, line, (size_t)n);	/* one write: lines do not interleave */
}
