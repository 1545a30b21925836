/*
 * Guest-side block benchmark for tests/e2e/bench_blk.py (built static for
 * aarch64 by the benchmark, run in the nested guest; busybox dd cannot do
 * random offsets and fio needs shared libraries).
 *
 *   blkbench DEVICE MODE BLOCK_SIZE SECONDS [THREADS]
 *   MODE: seqread seqwrite randread randwrite
 *
 * O_DIRECT, synchronous pread/pwrite (one request in flight per thread),
 * for SECONDS; sequential threads each own a slice of the device, random
 * ones pick aligned offsets over the whole device. Prints one line:
 *   E2E bench-MODE=<MB/s> <IOPS> <ops> <seconds>
 * and exits 1 on any I/O error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

struct job {
	int fd;
	int write, rand;
	size_t bs;
	uint64_t start, span;	/* bytes: this thread's area */
	double until;
	uint64_t ops;
	int err;
	unsigned seed;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	struct job *j = arg;
	void *buf;
	uint64_t blocks = j->span / j->bs, next = 0, x = j->seed * 2654435761u + 1;

	if (posix_memalign(&buf, 4096, j->bs)) {
		j->err = ENOMEM;
		return NULL;
	}
	memset(buf, 0x5a, j->bs);
	while (now() < j->until) {
		for (int k = 0; k < 16; k++) {	/* check the clock every 16 ops */
			uint64_t b;
			if (j->rand) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				b = x % blocks;
			} else {
				b = next++ % blocks;
			}
			off_t off = (off_t)(j->start + b * j->bs);
			ssize_t n = j->write ? pwrite(j->fd, buf, j->bs, off) : pread(j->fd, buf, j->bs, off);
			if (n != (ssize_t)j->bs) {
				j->err = n < 0 ? errno : EIO;
				free(buf);
				return NULL;
			}
			j->ops++;
		}
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: blkbench DEVICE seqread|seqwrite|randread|randwrite BS SECONDS [THREADS]\n");
		return 2;
	}
	const char *mode = argv[2];
	size_t bs = strtoul(argv[3], NULL, 0);
	double secs = atof(argv[4]);
	int threads = argc > 5 ? atoi(argv[5]) : 1;
	int write = strstr(mode, "write") != NULL, rnd = !strncmp(mode, "rand", 4);
	int fd = open(argv[1], (write ? O_RDWR : O_RDONLY) | O_DIRECT);
	uint64_t size = 0;

	if (fd >= 0 && ioctl(fd, BLKGETSIZE64, &size) < 0)
		size = (uint64_t)lseek(fd, 0, SEEK_END);	/* a regular file */
	if (fd < 0 || !size || !bs || bs % 512 || size < bs * (uint64_t)threads || threads < 1 || threads > 64) {
		perror(argv[1]);
		return 2;
	}
	struct job jobs[64];
	pthread_t tid[64];
	uint64_t slice = size / (uint64_t)threads / bs * bs;
	double t0 = now();
	for (int i = 0; i < threads; i++) {
		jobs[i] = (struct job){ .fd = fd, .write = write, .rand = rnd, .bs = bs,
					.start = rnd ? 0 : slice * (uint64_t)i, .span = rnd ? size / bs * bs : slice,
					.until = t0 + secs, .seed = (unsigned)i + 1 };
		pthread_create(&tid[i], NULL, run, &jobs[i]);
	}
	uint64_t ops = 0;
	int err = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		ops += jobs[i].ops;
		if (jobs[i].err)
			err = jobs[i].err;
	}
	double t = now() - t0;
	if (err) {
		fprintf(stderr, "blkbench %s: %s\n", mode, strerror(err));
		return 1;
	}
	printf("E2E bench-%s=%.2f %.1f %llu %.3f\n", mode, ops * (double)bs / t / 1e6, ops / t,
	       (unsigned long long)ops, t);
	return 0;
}
