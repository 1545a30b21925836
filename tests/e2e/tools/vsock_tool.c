/*
 * vsock-tool: both ends of the e2e vsock tests, one static binary packed
 * into the outer guest (hybrid vsock over vmm's unix socket) and the nested
 * guest (AF_VSOCK).
 *
 *   cid                      print the local CID (the device's guest_cid)
 *   vlisten PORT             AF_VSOCK echo server (a process per connection)
 *   vwait PORT               accept one AF_VSOCK connection, read what it sends until EOF,
 *                            send that back and print it (so the sender's vconnect or
 *                            hconnect exits 0 only if the whole message arrived)
 *   vconnect CID PORT MSG    AF_VSOCK client: send MSG, shut down writing, print the reply
 *   vbench PORT              AF_VSOCK benchmark server: "send N\n" -> N MiB to the peer;
 *                            "recv N\n" -> read N MiB, answer "done\n"
 *   ulisten PATH             unix echo server (what a guest reaches at PATH_<port>)
 *   hconnect PATH PORT MSG   hybrid vsock client: CONNECT PORT, OK, then as vconnect;
 *                            a refused connection prints "refused ms=<ms>" and exits 1
 *   hmulti PATH PORT N       N hybrid connections open at once, each echoing its own message
 *   vpipe CID PORT           AF_VSOCK client: stdin to the peer (then shut down writing) while
 *                            the peer's bytes go to stdout, until the peer closes
 *   hpipe PATH PORT          the same through a hybrid connection
 *   hbench PATH PORT send|recv MB   throughput against vbench, printed as "mbps=<MB/s>"
 *                            (send: host to guest, recv: guest to host)
 *   vbenchc CID PORT send|recv MB   the same over AF_VSOCK (a host with vhost-vsock)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define MiB (1u << 20)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "vsock-tool: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read until EOF (or cap bytes); returns the count. */
static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

static int vsock_listen(unsigned port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)
		die("vsock listen");
	return fd;
}

static int unix_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)
		die("unix listen");
	return fd;
}

static void echo(int fd)
{
	char buf[65536];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		if (write_all(fd, buf, (size_t)r))
			break;
	close(fd);
}

/* Serve each connection in a child: fn(fd). */
static int serve(int l, void (*fn)(int))
{
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		if (fork() == 0) {
			close(l);
			fn(c);
			_exit(0);
		}
		close(c);
	}
}

static void bench_server(int fd)
{
	char line[32] = "", *buf = malloc(MiB);
	unsigned n = 0;
	size_t i = 0;

	while (i < sizeof(line) - 1 && read(fd, line + i, 1) == 1 && line[i] != '\n')
		i++;
	if (sscanf(line, "send %u", &n) == 1) {
		memset(buf, 'v', MiB);
		for (unsigned k = 0; k < n; k++)
			if (write_all(fd, buf, MiB))
				break;
	} else if (sscanf(line, "recv %u", &n) == 1) {
		size_t want = (size_t)n * MiB, got = 0;
		ssize_t r;
		while (got < want && (r = read(fd, buf, MiB)) > 0)
			got += (size_t)r;
		(void)!write(fd, "done\n", 5);
	}
	close(fd);
}

static int vsock_connect(unsigned cid, unsigned port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("vsock connect");
	return fd;
}

/*
 * vpipe's connect: the kernel's 2 s handshake limit, raised to 20 s, as a
 * nested guest under a full load may take longer to run its own vsock
 * workers; a handshake over 2 s is reported on stderr.
 */
static int vsock_connect_patient(unsigned cid, unsigned port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	struct timeval tv = { .tv_sec = 20 };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	double t0 = now();

	if (fd < 0 || setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("vsock connect");
	if (now() - t0 > 2)
		fprintf(stderr, "vsock-tool: slow vsock connect: %.1f s\n", now() - t0);
	return fd;
}

/* Send msg, half-close, print what comes back: 0 when it is msg again. */
static int echo_check(int fd, const char *msg)
{
	char buf[4096];

	if (write_all(fd, msg, strlen(msg)))
		die("write");
	shutdown(fd, SHUT_WR);
	size_t n = read_all(fd, buf, sizeof(buf) - 1);
	buf[n] = 0;
	printf("%s\n", buf);
	if (!strcmp(buf, msg))
		return 0;
	fprintf(stderr, "vsock-tool: the peer answered \"%s\", not \"%s\"\n", buf, msg);
	return 1;
}

static int vconnect(unsigned cid, unsigned port, const char *msg)
{
	return echo_check(vsock_connect(cid, port), msg);
}

/* Connect to PATH and ask for PORT; the fd once "OK" came, else -1 with *ms the time taken. */
static int hybrid(const char *path, unsigned port, double *ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[64];
	size_t i = 0;
	double t0 = now();
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("unix connect");
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write_all(fd, line, (size_t)n))
		die("write");
	/* One byte at a time: nothing after the line is ours to take. */
	while (i < sizeof(line) - 1 && read(fd, line + i, 1) == 1 && line[i] != '\n')
		i++;
	line[i] = 0;
	*ms = (now() - t0) * 1000;
	if (strncmp(line, "OK ", 3)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int hconnect(const char *path, unsigned port, const char *msg)
{
	double ms;
	int fd = hybrid(path, port, &ms);

	if (fd < 0) {
		printf("refused ms=%.0f\n", ms);
		return 1;
	}
	return echo_check(fd, msg);
}

/*
 * stdin to fd, then SHUT_WR, while fd goes to stdout until EOF. Two
 * processes, so neither direction waits on the other: an echo peer that
 * blocks writing back never stalls our sending. Exit status 0 when both
 * directions ended cleanly.
 */
static int pipe_through(int fd)
{
	char *buf = malloc(65536);
	int status = 0;
	ssize_t r;
	pid_t pid;

	if (fd < 0 || !buf)
		die("connect");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		while ((r = read(0, buf, 65536)) > 0)
			if (write_all(fd, buf, (size_t)r))
				_exit(1);
		_exit(r < 0 || shutdown(fd, SHUT_WR) ? 1 : 0);
	}
	while ((r = read(fd, buf, 65536)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0 && write_all(1, buf, (size_t)r))
			break;
	if (r != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int hmulti(const char *path, unsigned port, unsigned n)
{
	int fd[64];
	unsigned ok = 0;
	double ms;

	if (n > 64)
		n = 64;
	for (unsigned i = 0; i < n; i++)
		if ((fd[i] = hybrid(path, port, &ms)) < 0)
			die("hybrid connect");
	/* Every connection is open now; talk on all of them, then read the answers. */
	for (unsigned i = 0; i < n; i++) {
		char msg[32];
		snprintf(msg, sizeof(msg), "conn-%u", i);
		if (write_all(fd[i], msg, strlen(msg)))
			die("write");
		shutdown(fd[i], SHUT_WR);
	}
	for (unsigned i = 0; i < n; i++) {
		char msg[32], buf[64];
		snprintf(msg, sizeof(msg), "conn-%u", i);
		size_t r = read_all(fd[i], buf, sizeof(buf) - 1);
		buf[r] = 0;
		ok += !strcmp(buf, msg);
		close(fd[i]);
	}
	printf("ok=%u\n", ok);
	return ok == n ? 0 : 1;
}

static int bench(int fd, const char *mode, unsigned mb)
{
	char *buf = malloc(MiB), line[32];
	size_t bytes = 0;

	if (fd < 0 || !buf)
		die("connect");
	int n = snprintf(line, sizeof(line), "%s %u\n", strcmp(mode, "send") ? "send" : "recv", mb);
	double t0 = now();
	if (write_all(fd, line, (size_t)n))
		die("write");
	if (!strcmp(mode, "recv")) {		/* guest -> host */
		ssize_t r;
		while ((r = read(fd, buf, MiB)) > 0)
			bytes += (size_t)r;
	} else {				/* host -> guest */
		memset(buf, 'h', MiB);
		for (unsigned k = 0; k < mb; k++, bytes += MiB)
			if (write_all(fd, buf, MiB))
				die("write");
		if (read_all(fd, line, 5) != 5)
			die("no answer");
	}
	double s = now() - t0;
	printf("mbps=%.1f bytes=%zu secs=%.3f\n", (double)bytes / MiB / s, bytes, s);
	return bytes == (size_t)mb * MiB ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "cid") && argc == 2) {
		unsigned cid = 0;
		int fd = open("/dev/vsock", O_RDONLY);
		if (fd < 0 || ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0)
			die("/dev/vsock");
		printf("%u\n", cid);
		return 0;
	}
	if (!strcmp(cmd, "vlisten") && argc == 3)
		return serve(vsock_listen((unsigned)atoi(argv[2])), echo);
	if (!strcmp(cmd, "vbench") && argc == 3)
		return serve(vsock_listen((unsigned)atoi(argv[2])), bench_server);
	if (!strcmp(cmd, "ulisten") && argc == 3)
		return serve(unix_listen(argv[2]), echo);
	if (!strcmp(cmd, "vwait") && argc == 3) {
		char buf[256];
		int c = accept(vsock_listen((unsigned)atoi(argv[2])), NULL, NULL);
		size_t n = c < 0 ? 0 : read_all(c, buf, sizeof(buf) - 1);
		buf[n] = 0;
		/* The sender may not wait for the answer: its write error is not ours. */
		if (c >= 0 && write_all(c, buf, n) == 0)
			shutdown(c, SHUT_WR);
		printf("%s\n", buf);
		return c < 0;
	}
	if (!strcmp(cmd, "vconnect") && argc == 5)
		return vconnect((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]), argv[4]);
	if (!strcmp(cmd, "hconnect") && argc == 5)
		return hconnect(argv[2], (unsigned)atoi(argv[3]), argv[4]);
	if (!strcmp(cmd, "hmulti") && argc == 5)
		return hmulti(argv[2], (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
	if (!strcmp(cmd, "vpipe") && argc == 4)
		return pipe_through(vsock_connect_patient((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3])));
	if (!strcmp(cmd, "hpipe") && argc == 4) {
		double ms;
		return pipe_through(hybrid(argv[2], (unsigned)atoi(argv[3]), &ms));
	}
	if (!strcmp(cmd, "hbench") && argc == 6) {
		double ms;
		return bench(hybrid(argv[2], (unsigned)atoi(argv[3]), &ms), argv[4], (unsigned)atoi(argv[5]));
	}
	if (!strcmp(cmd, "vbenchc") && argc == 6)
		return bench(vsock_connect((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3])), argv[4],
			     (unsigned)atoi(argv[5]));
	fprintf(stderr, "usage: vsock-tool cid|vlisten|vwait|vconnect|vbench|ulisten|hconnect|hmulti|vpipe|hpipe|hbench|vbenchc ...\n");
	return 2;
}
