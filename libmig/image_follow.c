/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Following the stream libxl writes into a direct save's file.
 *
 * Why the bytes read while libxl is still writing are the image's: libxl
 * (and libxc under it, in libxl-save-helper) writes the stream strictly
 * in order with write(2) and never seeks -- the same code writes into a
 * pipe or a socket for a migration -- so a byte below the file's size
 * is final once it is there.  A read(2) returns the page cache's bytes
 * up to the size the kernel had when it looked, and the kernel extends
 * the size only after the bytes below it are copied in.  The writer
 * checks, once libxl has returned, that the file position is its end
 * (nothing written elsewhere) and hands that end here; the pass then
 * reads exactly up to it.  So the bytes parsed and digested are the
 * file's bytes, whatever the timing; the timing decides only how much
 * of the pass is left when libxl returns.
 *
 * The follower sleeps when it has caught up (1 ms, doubling to 32 ms
 * while nothing comes: at most a few dozen wake-ups a second on a slow
 * save) and is woken at once when the end is known.  Its signals are
 * blocked: they stay the caller's (libxl's SIGCHLD handling, relocd's).
 * A process that may run on one CPU only (a dom0 with one vCPU, or
 * pinned to one) starts no follower: there it could not overlap libxl,
 * only take turns with it, so the whole pass is made after libxl.
 * The pass copies with pread(2), never maps the file: in a PV dom0 every
 * page table entry of a mapping is written through Xen, which costs
 * more than the copy (doc/architecture.md; bench/readback measures it).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "image_file.h"
#include "image_fmt.h"
#include "image_follow.h"

#define END_UNKNOWN	UINT64_MAX
#define WAIT_MIN_MS	1
#define WAIT_MAX_MS	32

struct img_follow {
	int			 fd;
	const char		*path;		/* the writer's, for messages */
	long			 fs_type;
	struct mig_stream	*parser;
	struct img_digest	*digest;
	uint64_t		 start;
	uint64_t		 off;		/* the next byte to read */
	bool			 thread;	/* tid runs follow() */
	pthread_t		 tid;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	/* Under mu: */
	uint64_t		 end;		/* END_UNKNOWN while libxl writes */
	bool			 stop;
	/* The pass's own, read by others only after it stopped: */
	bool			 failed;
	struct mig_err		 err;
	uint8_t			*buf;
};

/* Nothing new in the file: waits a while, or less if the end comes. */
static void
wait_more(struct img_follow *f, unsigned ms)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->mu);
	if (f->end == END_UNKNOWN && !f->stop)
		(void)pthread_cond_timedwait(&f->cv, &f->mu, &ts);
	pthread_mutex_unlock(&f->mu);
}

/* One step: 1 read, 0 waited, -1 finished (f->failed says how). */
static int
step(struct img_follow *f, unsigned *wait_ms)
{
	struct mig_err	perr;
	uint64_t	end;
	size_t		want = IMG_CHUNK_SIZE;
	ssize_t		n;
	bool		stop;

	pthread_mutex_lock(&f->mu);
	end = f->end;
	stop = f->stop;
	pthread_mutex_unlock(&f->mu);
	if (stop || f->off == end)
		return -1;
	if (end - f->off < want)
		want = (size_t)(end - f->off);
	n = pread(f->fd, f->buf, want, (off_t)f->off);
	if (n == -1 && errno == EINTR)
		return 1;
	if (n == -1) {
		img_io_err(&f->err, f->fs_type, "image %s: reading the stream "
		    "back", f->path);
		f->failed = true;
		return -1;
	}
	if (n == 0 && end != END_UNKNOWN) {
		/* Shorter than when libxl returned: not ours any more. */
		mig_seterr(&f->err, MIG_E_TRUNC, "image %s: the file shrank "
		    "while the stream was read back", f->path);
		f->failed = true;
		return -1;
	}
	if (n == 0) {
		wait_more(f, *wait_ms);
		if (*wait_ms < WAIT_MAX_MS)
			*wait_ms *= 2;
		return 0;
	}
	*wait_ms = WAIT_MIN_MS;
	if (mig_stream_feed(f->parser, f->buf, (size_t)n, &perr) == -1) {
		mig_seterr(&f->err, perr.code, "image %s: %s", f->path,
		    perr.msg);
		f->failed = true;
		return -1;
	}
	if (img_digest_update(f->digest, f->buf, (size_t)n, &f->err) == -1) {
		f->failed = true;
		return -1;
	}
	f->off += (uint64_t)n;
	return 1;
}

static void *
follow(void *arg)
{
	struct img_follow	*f = arg;
	unsigned		 wait_ms = WAIT_MIN_MS;

	while (step(f, &wait_ms) != -1)
		;
	return NULL;
}

/* Whether this process may run on more than one CPU. */
static bool
cpus_to_spare(void)
{
	cpu_set_t	set;

	return sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    CPU_COUNT(&set) > 1;
}

static void
stop_thread(struct img_follow *f)
{
	if (!f->thread)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->tid, NULL);
	f->thread = false;
}

struct img_follow *
img_follow_start(int fd, uint64_t off, struct mig_stream *parser,
    struct img_digest *digest, const char *path, long fs_type,
    struct mig_err *err)
{
	struct img_follow	*f;
	pthread_condattr_t	 ca;
	sigset_t		 all, old;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->buf = malloc(IMG_CHUNK_SIZE)) == NULL) {
		free(f);
		mig_seterr(err, MIG_E_NOMEM, "out of memory");
		return NULL;
	}
	f->fd = fd;
	f->path = path;
	f->fs_type = fs_type;
	f->parser = parser;
	f->digest = digest;
	f->start = f->off = off;
	f->end = END_UNKNOWN;
	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cv, &ca);
	pthread_condattr_destroy(&ca);
	(void)posix_fadvise(fd, (off_t)off, 0, POSIX_FADV_SEQUENTIAL);
	/* Without a thread (one CPU, or none to be had) the pass comes
	 * after libxl, all of it in img_follow_end: the same bytes. */
	if (!cpus_to_spare())
		return f;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	f->thread = pthread_create(&f->tid, NULL, follow, f) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return f;
}

int
img_follow_end(struct img_follow *f, uint64_t end, uint64_t *bytes,
    struct mig_err *err)
{
	unsigned	wait_ms = WAIT_MIN_MS;

	*bytes = 0;
	pthread_mutex_lock(&f->mu);
	f->end = end;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->thread) {
		pthread_join(f->tid, NULL);
		f->thread = false;
	} else
		while (step(f, &wait_ms) != -1)
			;
	if (!f->failed && f->off != end)
		mig_seterr(&f->err, MIG_E_IO, "image %s: the stream was not "
		    "read back to its end", f->path);
	if (f->failed || f->off != end) {
		*err = f->err;
		return -1;
	}
	*bytes = end - f->start;
	return 0;
}

void
img_follow_free(struct img_follow *f)
{
	if (f == NULL)
		return;
	stop_thread(f);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f->buf);
	free(f);
}
