/* One-line log messages on stderr, stamped with the time since VM start (no stamp without a VM). */
#ifndef VMM_LOG_H
#define VMM_LOG_H

struct vm;

void vm_log(const struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
