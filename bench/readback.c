/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * readback: what it costs to look at every byte of a file in the page
 * cache, by read(2) into a buffer (the copy a save's read-back makes,
 * libmig/image_follow.c) against mapping it (what a digest without that
 * copy would have to pay instead: a page table entry per 4 KiB page).
 *
 *   readback [-m MIB] [-r ROUNDS] FILE
 *
 * FILE (created, then removed) is filled with MIB MiB (default 128) of
 * pseudo-random bytes, which stay in the page cache; then, ROUNDS times
 * (default 5), each row in turn:
 *   read      pread(2) of 1 MiB pieces into one buffer
 *   mmap      mmap(2) of the file, one byte read per page, munmap
 *   populate  the same with MAP_POPULATE (the entries made up front)
 * It prints each row's time per round in ms and, per round, mmap/read
 * and populate/read.  On hardware mapping is the cheaper; in a Xen PV
 * dom0 every page table update is the hypervisor's to check, which is
 * what the lab's bench-readback scenario measures (bench/RESULTS.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PIECE	(1U << 20)
#define PAGE	4096U

enum { R_READ, R_MMAP, R_POPULATE, R_N };
static const char *const names[R_N] = { "read", "mmap", "populate" };

/* What the rows read, kept so the compiler cannot drop the reads. */
static volatile uint64_t	seen;

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
fill(int fd, uint8_t *buf, size_t len)
{
	uint64_t	x = 0x9e3779b97f4a7c15ULL;
	size_t		off, i;

	for (off = 0; off < len; off += PIECE) {
		for (i = 0; i < PIECE; i += sizeof(x)) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(buf + i, &x, sizeof(x));
		}
		if (write(fd, buf, PIECE) != (ssize_t)PIECE)
			return -1;
	}
	return 0;
}

static int
row_read(int fd, uint8_t *buf, size_t len)
{
	size_t	off;
	ssize_t	n;

	for (off = 0; off < len; off += (size_t)n) {
		n = pread(fd, buf, PIECE, (off_t)off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			return -1;
		seen += buf[n - 1];
	}
	return 0;
}

static int
row_map(int fd, size_t len, int flags)
{
	const uint8_t	*p;
	size_t		 off;

	p = mmap(NULL, len, PROT_READ, MAP_SHARED | flags, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	(void)madvise((void *)p, len, MADV_SEQUENTIAL);
	for (off = 0; off < len; off += PAGE)
		seen += p[off];
	return munmap((void *)p, len);
}

static void
usage(void)
{
	fprintf(stderr, "usage: readback [-m MIB] [-r ROUNDS] FILE\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	unsigned long	 mib = 128, rounds = 5, r;
	double		 t, ms[R_N];
	uint8_t		*buf;
	size_t		 len;
	char		*end;
	int		 c, fd, row, rc = 0;

	while ((c = getopt(argc, argv, "m:r:")) != -1) {
		errno = 0;
		switch (c) {
		case 'm':
			mib = strtoul(optarg, &end, 10);
			break;
		case 'r':
			rounds = strtoul(optarg, &end, 10);
			break;
		default:
			usage();
		}
		if (errno != 0 || *end != '\0' || end == optarg ||
		    mib == 0 || mib > 65536 || rounds == 0 || rounds > 100) {
			fprintf(stderr, "readback: -%c %s: want 1..65536 MiB "
			    "and 1..100 rounds\n", c, optarg);
			return 2;
		}
	}
	if (argc - optind != 1)
		usage();
	len = (size_t)mib << 20;
	if ((buf = malloc(PIECE)) == NULL) {
		fprintf(stderr, "readback: out of memory\n");
		return 1;
	}
	fd = open(argv[optind], O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		fprintf(stderr, "readback: %s: %s\n", argv[optind],
		    strerror(errno));
		free(buf);
		return 1;
	}
	if (fill(fd, buf, len) == -1) {
		fprintf(stderr, "readback: %s: writing: %s\n", argv[optind],
		    strerror(errno));
		rc = 1;
		goto out;
	}
	printf("%lu MiB from the page cache, ms per row\n", mib);
	printf("round %10s %10s %10s %12s %12s\n", names[R_READ],
	    names[R_MMAP], names[R_POPULATE], "mmap/read", "populate/read");
	for (r = 1; r <= rounds; r++) {
		for (row = 0; row < R_N; row++) {
			t = now_ms();
			if ((row == R_READ ? row_read(fd, buf, len) :
			    row_map(fd, len, row == R_POPULATE ?
			    MAP_POPULATE : 0)) == -1) {
				fprintf(stderr, "readback: %s: row %s: %s\n",
				    argv[optind], names[row], strerror(errno));
				rc = 1;
				goto out;
			}
			ms[row] = now_ms() - t;
		}
		printf("%5lu %10.1f %10.1f %10.1f %12.2f %12.2f\n", r,
		    ms[R_READ], ms[R_MMAP], ms[R_POPULATE],
		    ms[R_MMAP] / ms[R_READ], ms[R_POPULATE] / ms[R_READ]);
		fflush(stdout);
	}
out:
	(void)unlink(argv[optind]);
	close(fd);
	free(buf);
	return rc;
}
