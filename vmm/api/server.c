/*
 * API server lifetime: the listening unix socket and the accept path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/listener.h>
#include "vmm/api/internal.h"

#define ACCEPT_RETRY_MS 100

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int fill_addr(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (!path[0] || strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	strcpy(addr->sun_path, path);
	return 0;
}

/* A socket file nobody listens on is a leftover of a dead VMM: replace it. */
static int remove_stale_socket(const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, rc;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	if (errno != ECONNREFUSED)
		return -errno;
	return unlink(addr->sun_path) < 0 ? -errno : 0;
}

int api_socket_check(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr;
	struct stat st;
	int rc = fill_addr(&addr, path);

	if (rc) {
		set_err(err, errlen, "--api-socket: path %s (%zu bytes; a unix socket path holds 1 to %zu): '%s'",
			path[0] ? "too long" : "empty", strlen(path), sizeof(addr.sun_path) - 1, path);
		return rc;
	}
	/* The directory must exist and take a new file. */
	char dir[sizeof(addr.sun_path)];
	const char *slash = strrchr(path, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) < 0) {
		rc = -errno;
		set_err(err, errlen, "--api-socket %s: directory %s: %s", path, dir, strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "--api-socket %s: %s is not a directory", path, dir);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		rc = -errno;
		set_err(err, errlen, "--api-socket %s: cannot create it in %s: %s", path, dir, strerror(-rc));
		return rc;
	}
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		set_err(err, errlen, "--api-socket %s: exists and is not a socket", path);
		return -EEXIST;
	}
	return 0;
}

static int listen_socket(const char *path, int *out, char *err, size_t errlen)
{
	struct sockaddr_un addr;
	int fd, rc;

	rc = fill_addr(&addr, path);
	if (rc) {
		set_err(err, errlen, "api socket path '%s' is empty or too long", path);
		return rc;
	}
	rc = remove_stale_socket(&addr);
	if (rc) {
		set_err(err, errlen, "api socket %s: %s", path,
			rc == -EEXIST ? "exists and is not a socket" :
			rc == -EADDRINUSE ? "another server is listening" : strerror(-rc));
		return rc;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = -errno;
		set_err(err, errlen, "api socket: %s", strerror(-rc));
		return rc;
	}
	/* Linux creates the file with the socket inode's mode: no window where
	 * it is reachable by others, and no process-wide umask() change. */
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		set_err(err, errlen, "api socket %s: bind: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	if (chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		set_err(err, errlen, "api socket %s: %s", path, strerror(-rc));
		unlink(path);
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

/*
 * One client too many: tell it why in a JSON-RPC error line (best effort,
 * never blocking: a fresh socket's buffer takes it), log it, close.
 */
static void refuse_client(struct api_server *srv, int fd)
{
	char line[160];
	int n = snprintf(line, sizeof(line),
			 "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":%d,"
			 "\"message\":\"too many clients: %d are connected\"}}\n",
			 API_ERR_TOO_MANY_CLIENTS, API_MAX_CLIENTS);

	(void)!send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
	vm_api_log(srv->ops, srv->vm, "api: client refused: %d clients are connected already",
		   API_MAX_CLIENTS);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	struct api_server *srv = arg;

	(void)l;
	(void)sa;
	(void)socklen;
	if (srv->nconns >= API_MAX_CLIENTS)
		refuse_client(srv, fd);
	else if (api_sniff_accept(srv, fd) < 0)
		vm_api_log(srv->ops, srv->vm, "api: out of memory, client refused");
}

static void accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_server *srv = arg;

	(void)fd;
	(void)what;
	if (evconnlistener_enable(srv->listener) < 0)
		vm_api_log(srv->ops, srv->vm, "api: cannot re-enable the listener");
}

/* Out of fds (EMFILE): pause accepting instead of spinning on a ready socket. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct api_server *srv = arg;
	const struct timeval tv = { 0, ACCEPT_RETRY_MS * 1000 };

	vm_api_log(srv->ops, srv->vm, "api: accept: %s",
		   evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	if (evconnlistener_disable(l) == 0 && evtimer_add(srv->accept_retry, &tv) < 0)
		vm_api_log(srv->ops, srv->vm, "api: cannot arm the accept retry");
}

static void server_free(struct api_server *srv)
{
	if (srv->listener)
		evconnlistener_free(srv->listener);
	if (srv->accept_retry)
		event_free(srv->accept_retry);
	api_notify_fini(srv);
	free(srv->path);
	free(srv);
}

int api_server_start(struct api_server **out, struct event_base *base, const char *path,
		     const struct vm_api_ops *ops, void *vm, char *err, size_t errlen)
{
	struct api_server *srv;
	int fd = -1, rc;

	if (!out || !base || !path || !ops) {
		set_err(err, errlen, "api: missing argument");
		return -EINVAL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		set_err(err, errlen, "api: out of memory");
		return -ENOMEM;
	}
	srv->base = base;
	srv->ops = ops;
	srv->http_timeout_ms = HTTP_REQUEST_TIMEOUT_S * 1000;
	srv->vm = vm;
	TAILQ_INIT(&srv->conns);
	TAILQ_INIT(&srv->http_conns);
	TAILQ_INIT(&srv->sniffs);
	TAILQ_INIT(&srv->waits);
	srv->path = strdup(path);
	rc = srv->path ? api_notify_init(srv) : -ENOMEM;
	if (rc) {
		set_err(err, errlen, "api: %s", strerror(-rc));
		free(srv->path);
		free(srv);
		return rc;
	}
	srv->accept_retry = evtimer_new(base, accept_retry_cb, srv);
	if (!srv->accept_retry) {
		set_err(err, errlen, "api: out of memory");
		server_free(srv);
		return -ENOMEM;
	}
	rc = listen_socket(path, &fd, err, errlen);
	if (rc) {
		server_free(srv);
		return rc;
	}
	srv->listener = evconnlistener_new(base, accept_cb, srv,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (!srv->listener) {
		set_err(err, errlen, "api: cannot listen on %s", path);
		close(fd);
		unlink(path);
		server_free(srv);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(srv->listener, accept_error_cb);
	*out = srv;
	return 0;
}

void api_server_set_vmm(struct api_server *srv, const struct vmm_ops *ops, void *vmm)
{
	srv->vmm_ops = ops;
	srv->vmm = vmm;
}

void api_server_set_verbosity(struct api_server *srv, unsigned verbosity)
{
	srv->verbosity = verbosity;
}

void api_server_stop(struct api_server *srv)
{
	struct api_conn *conn;

	if (!srv)
		return;
	/* Deliver what is queued (e.g. vm.shutdown) and what fits in the
	 * sockets now; start no new resize step meanwhile. */
	srv->stopping = true;
	api_notify_drain(srv);
	TAILQ_FOREACH(conn, &srv->conns, link)
		api_conn_flush(conn);
	while (!TAILQ_EMPTY(&srv->conns))
		api_conn_drop(TAILQ_FIRST(&srv->conns));
	api_http_drop_all(srv);
	api_sniff_drop_all(srv);
	/* Every call is detached now: aborting the waits only frees them. */
	api_wait_abort_all(srv);
	api_resize_abort(srv);
	unlink(srv->path);
	server_free(srv);
}
