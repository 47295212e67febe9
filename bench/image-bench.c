/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image-bench: what an image costs against a raw copy of the same stream
 * (bench/transport runs it; bench/RESULTS.md has figures).
 *
 *   image-bench [-m MIB] [-r ROUNDS] [-o ROW,...] DIR
 *
 * A libxl stream of MIB MiB of patterned pages (tests/common/streamgen)
 * is written into DIR, ROUNDS times over, each row in turn:
 *   raw          write(2) of the stream into a file and fsync, as xl save
 *   direct       an image whose stream is written into the writer's own
 *                fd (as libxl does), read back, digested, committed
 *   direct-sha   the same with a SHA-256 trailer (save --sha256)
 *   copied       the stream through mig_image_writer_write() in 64 KiB
 *                pieces (what compressed and split images still do)
 *   read         read(2) of the raw file, as xl restore reads it
 *   verify       mig_image_verify() of the direct row's image
 *   verify-sha   the same of direct-sha's
 * A writing row's file from the round before is removed, and the file
 * system synced, before the row is timed.
 * It prints each row's best MB/s (stream bytes) and its ratio to raw (or
 * to read, for the reading rows), the median over the rounds of that
 * ratio within each round (the rows of one round share the machine's
 * load of the moment: on a busy machine the ratio to trust), and the
 * least CPU time (user + system of this process, its threads included)
 * it took per GiB: the machine's load moves the first, hardly the last.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mig/image.h"
#include "streamgen.h"

#define CONFIG	"{\"c_info\": {\"type\": \"pv\", \"name\": \"bench\"}}"
#define PIECE	65536
#define BATCH	(4U << 20)	/* libxc's largest write: 1024 pages */

enum { R_RAW, R_DIRECT, R_DIRECT_SHA, R_COPIED, R_READ, R_VERIFY,
	R_VERIFY_SHA, R_N };
static const char *const names[R_N] = { "raw", "direct", "direct-sha",
	"copied", "read", "verify", "verify-sha" };

static struct sg_buf	stream;
static double		*took[R_N];	/* seconds, per round */
/* Of the direct row's time, what stream_done took once the stream was
 * written (the read-back left when libxl returns), least and most. */
static double		 tail_min = 1e30, tail_max;
static char		path[R_N][4096];

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int
by_value(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median over the rounds of row's time against ref's, in the same
 * round. */
static double
round_ratio(int row, int ref, long rounds)
{
	double	*q = calloc((size_t)rounds, sizeof(*q)), m;
	long	 r;

	if (q == NULL)
		return 0;
	for (r = 0; r < rounds; r++)
		q[r] = took[ref][r] / took[row][r];
	qsort(q, (size_t)rounds, sizeof(*q), by_value);
	m = rounds % 2 ? q[rounds / 2] :
	    (q[rounds / 2 - 1] + q[rounds / 2]) / 2;
	free(q);
	return m;
}

static void
die(const char *what, const struct mig_err *err)
{
	fprintf(stderr, "image-bench: %s: %s\n", what,
	    err != NULL ? err->msg : strerror(errno));
	exit(1);
}

/* The stream into fd in libxc's batches, as libxl-save-helper writes. */
static int
stream_out(int fd)
{
	size_t	off, n;

	for (off = 0; off < stream.len; off += n) {
		n = stream.len - off < BATCH ? stream.len - off : BATCH;
		if (sg_fd_write(&fd, stream.p + off, n) == -1)
			return -1;
	}
	return 0;
}

static void
raw_write(const char *p)
{
	int	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd == -1 || stream_out(fd) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1)
		die(p, NULL);
}

static void
raw_read(const char *p)
{
	static uint8_t	buf[1 << 20];
	ssize_t		n;
	int		fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		die(p, NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n == -1)
		die(p, NULL);
	close(fd);
}

static void
image_write(const char *p, enum mig_image_digest digest, int direct)
{
	struct mig_image_opts	 o = { .digest = digest };
	struct mig_image_writer	*w;
	struct mig_err		 err;
	uint64_t		 bytes;
	size_t			 off, n;
	double			 t;
	int			 fd;

	if ((w = mig_image_writer_open(p, CONFIG, strlen(CONFIG), &o,
	    &err)) == NULL)
		die(p, &err);
	if (direct) {
		if ((fd = mig_image_writer_stream_fd(w)) == -1)
			die("no stream fd", NULL);
		if (stream_out(fd) == -1)
			die(p, NULL);
		t = now();
		if (mig_image_writer_stream_done(w, &bytes, &err) == -1)
			die(p, &err);
		if (digest == MIG_IMAGE_DIGEST_DEFAULT) {
			t = now() - t;
			tail_min = t < tail_min ? t : tail_min;
			tail_max = t > tail_max ? t : tail_max;
		}
	} else
		for (off = 0; off < stream.len; off += n) {
			n = stream.len - off < PIECE ? stream.len - off : PIECE;
			if (mig_image_writer_write(w, stream.p + off, n,
			    &err) == -1)
				die(p, &err);
		}
	if (mig_image_writer_commit(w, &err) == -1)
		die(p, &err);
}

static void
image_verify(const char *p)
{
	struct mig_err	err;

	if (mig_image_verify(p, NULL, MIG_IMAGE_REQUIRE_TRAILER, NULL,
	    &err) == -1)
		die(p, &err);
}

static void
run(int row)
{
	switch (row) {
	case R_RAW:
		raw_write(path[R_RAW]);
		break;
	case R_DIRECT:
		image_write(path[R_DIRECT], MIG_IMAGE_DIGEST_DEFAULT, 1);
		break;
	case R_DIRECT_SHA:
		image_write(path[R_DIRECT_SHA], MIG_IMAGE_DIGEST_SHA256, 1);
		break;
	case R_COPIED:
		image_write(path[R_COPIED], MIG_IMAGE_DIGEST_DEFAULT, 0);
		break;
	case R_READ:
		raw_read(path[R_RAW]);
		break;
	case R_VERIFY:
		image_verify(path[R_DIRECT]);
		break;
	case R_VERIFY_SHA:
		image_verify(path[R_DIRECT_SHA]);
		break;
	}
}

int
main(int argc, char **argv)
{
	struct sg_opts	 so = { .no_xl_header = true, .config = CONFIG,
	    .config_len = sizeof(CONFIG) };
	struct sg	 g;
	double		 best[R_N], bcpu[R_N], t, c0;
	uint64_t	*pfns;
	size_t		 npages, i;
	long		 mib = 512, rounds = 3, r;
	int		 c, row, ref, on[R_N];
	char		 ratio[32];
	const char	*only = NULL;

	while ((c = getopt(argc, argv, "m:o:r:")) != -1) {
		switch (c) {
		case 'o':
			only = optarg;
			break;
		case 'm':
			mib = strtol(optarg, NULL, 10);
			break;
		case 'r':
			rounds = strtol(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 1 || mib < 1 || mib > 65536 || rounds < 1)
		goto usage;
	for (row = 0; row < R_N; row++) {
		snprintf(path[row], sizeof(path[row]), "%s/image-bench.%s",
		    argv[optind], names[row]);
		best[row] = bcpu[row] = 1e30;
		if ((took[row] = calloc((size_t)rounds, sizeof(double))) ==
		    NULL)
			die("out of memory", NULL);
		on[row] = only == NULL || strstr(only, names[row]) != NULL;
	}
	npages = (size_t)mib * 256;
	if ((pfns = calloc(npages, sizeof(*pfns))) == NULL)
		die("out of memory", NULL);
	for (i = 0; i < npages; i++)
		pfns[i] = i;
	so.p2m_size = npages;
	/* Batches of 1024 pages, as libxc writes them. */
	if (sg_begin(&g, &so, sg_buf_write, &stream) == -1)
		die("stream", NULL);
	for (i = 0; i < npages; i += 1024)
		if (sg_pages(&g, pfns + i, npages - i < 1024 ? npages - i :
		    1024, sg_pattern_page, NULL) == -1)
			die("stream", NULL);
	if (sg_end(&g) == -1)
		die("stream", NULL);
	free(pfns);
	for (r = 0; r < rounds; r++)
		for (row = 0; row < R_N; row++) {
			if (!on[row])
				continue;
			/* Freeing the last round's file is the file system's
			 * work, not this row's: with online discard (ext4's
			 * "discard") the next journal commit waits for it, and
			 * that commit would be whichever row's fsync came next. */
			if (row < R_READ) {
				unlink(path[row]);
				sync();
			}
			c0 = cpu();
			t = now();
			run(row);
			t = now() - t;
			c0 = cpu() - c0;
			took[row][r] = t;
			if (t < best[row])
				best[row] = t;
			if (c0 < bcpu[row])
				bcpu[row] = c0;
		}
	printf("| row | MB/s | x raw / read | per round | CPU-s/GiB |\n"
	    "|---|---:|---:|---:|---:|\n");
	for (row = 0; row < R_N; row++) {
		if (!on[row])
			continue;
		/* The ratio only when its reference row ran too. */
		ref = row >= R_READ ? R_READ : R_RAW;
		if (on[ref])
			snprintf(ratio, sizeof(ratio), "%.2f | %.2f",
			    best[ref] / best[row],
			    round_ratio(row, ref, rounds));
		else
			snprintf(ratio, sizeof(ratio), "- | -");
		printf("| %s | %.0f | %s | %.2f |\n", names[row],
		    (double)stream.len / best[row] / 1e6, ratio,
		    bcpu[row] * (double)(1U << 30) / (double)stream.len);
	}
	printf("\n%zu MiB of stream, best of %ld interleaved rounds\n",
	    stream.len >> 20, rounds);
	if (on[R_DIRECT])
		printf("direct: the read-back left once the stream was "
		    "written: %.1f-%.1f ms\n", tail_min * 1e3, tail_max * 1e3);
	/* Each round's times: on a busy machine, which rounds the load hit. */
	for (row = 0; row < R_N; row++) {
		if (!on[row])
			continue;
		printf("%s, ms per round:", names[row]);
		for (r = 0; r < rounds; r++)
			printf(" %.0f", took[row][r] * 1e3);
		printf("\n");
	}
	for (row = 0; row < R_N; row++) {
		if (row != R_READ)
			unlink(path[row]);
		free(took[row]);
	}
	sg_buf_free(&stream);
	return 0;
 usage:
	fprintf(stderr, "usage: image-bench [-m MIB] [-r ROUNDS] [-o ROW,...] "
	    "DIR\n");
	return 2;
}
