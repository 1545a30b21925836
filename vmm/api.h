/*
 * JSON-RPC 2.0 API server on a unix stream socket (docs/api.md).
 * Runs on the VM's libevent loop; never blocks on the guest. The functions
 * below run on the loop thread (or while the loop is not running), except
 * api_server_notify. Needs evthread_use_pthreads() before the event base is
 * created, and SIGPIPE ignored (a client may vanish while we write to it).
 */
#ifndef VMM_API_H
#define VMM_API_H

#include <stddef.h>
#include "compiler.h"
#include "vmm/vm_api.h"

struct event_base;
struct api_server;

#define API_MAX_REQUEST_BYTES (64 * 1024)

/*
 * Create the socket at path (mode 0600; an existing stale socket file is
 * replaced, any other existing file is an error) and serve it on base.
 * On failure writes a one-line reason into err.
 */
int api_server_start(struct api_server **out, struct event_base *base, const char *path,
		     const struct vm_api_ops *ops, void *vm, char *err, size_t errlen) WUR;
/*
 * Before anything is created: could api_server_start() create a socket at
 * path? (length fits sun_path, the directory exists and is writable, no
 * other kind of file is there). 0, or -errno with a one-line reason.
 */
int api_socket_check(const char *path, char *err, size_t errlen) WUR;
/* Report a VM event; safe from any thread until api_server_stop; NULL srv: no-op. */
void api_server_notify(struct api_server *srv, const struct vm_event *ev);
/* Close every connection, remove the socket file, free. */
void api_server_stop(struct api_server *srv);

#endif
