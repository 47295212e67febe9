/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The witness's disk writer: with "disk=RATE" on the kernel command line
 * (and "disks=N", default 1: /dev/xvda, /dev/xvdb...; "diskdev=PREFIX"
 * names them otherwise, PREFIXa..., for a test outside a guest), a thread of the
 * guest writes RATE blocks a second, each a numbered, checksummed 4 KiB
 * block at a pseudo-random index over all the disks, so that writes spread
 * over every disk.  A write counts as completed only once it is durable
 * (O_DIRECT, then fdatasync: blkfront's flush); the guest then records in
 * its own memory, per block, the number of the last write completed there,
 * and beforehand the one write in flight.  Memory moves with the guest, so
 * after any move the guest itself knows what its disks must hold: on the
 * "V" cue the writer stops writing, reads every disk back and prints one
 * verdict line, then writes on.
 *
 * A block never written must hold its initial content, which both sides
 * compute: dom0 fills a disk with it before the guest starts ("init fill
 * FILE", this same program).  Not zeros: a fresh destination volume or a
 * sparse file reads as zeros, so zeros would pass a block the move never
 * copied; a pattern keyed by the block's index also catches a block copied
 * to the wrong place.
 *
 * Console lines:
 *   XD start disks=N blocks=B rate=R   the disks are found, writing starts
 *   XD <tick> <writes> <blocks>        every 10 ticks: writes completed and
 *                                      distinct blocks they went to
 *   XV <k> OK|BAD disks=N blocks=B written=W writes=C inflight=0|1 bad=X
 *      [what]                          verdict k (1, 2...: after a move
 *                                      they go on counting); what names
 *                                      the first bad blocks or the fault
 *   XE disk ...                        a write failed: writing stops, and
 *                                      every verdict after is BAD
 * A block whose write was in flight when the guest was paused may hold
 * either that write or what it held before; every other block must hold
 * exactly its last completed write, or its initial content.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "diskw.h"

#define BLK		4096
#define WORDS		(BLK / 8)
#define CHUNK		256		/* blocks per read when verifying */
#define DISKS_MAX	8
#define DISK_WAIT_S	60		/* blkfront connects after init starts */
#define BAD_NAMED	3
#define MAGIC		0x58574449534b3031ULL	/* "XWDISK01" */
#define INIT_KEY	0x6a09e667f3bcc908ULL

struct disk {
	char		 path[64];
	int		 fd;
	uint64_t	 blocks;
	uint32_t	*last;	/* per block: its last completed write, 0 none */
};

/* The writer thread's own, but for what the atomics below publish. */
static struct disk	disks[DISKS_MAX];
static unsigned		ndisks, want_disks;
static uint64_t		total_blocks, rng, run_id;
static long		rate;
static uint32_t		seq;			/* the last write begun */
static unsigned		fl_disk;		/* the write in flight: */
static uint64_t		fl_block;
static uint32_t		fl_seq;			/* 0: none */
static char		fault[256];		/* a write that failed */
static unsigned		verdicts;
static const char	*prefix = "/dev/xvd";

/* Shared with the main thread. */
static unsigned long	n_writes, n_blocks;
static int		verify_asked, running;

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* n words of a stream keyed by key: distinct keys, unrelated streams. */
static void
stream(uint64_t *w, size_t n, uint64_t key)
{
	uint64_t s = key, st = splitmix64(&s);
	size_t i;

	for (i = 0; i < n; i++)
		w[i] = splitmix64(&st);
}

static uint64_t
fnv(const uint64_t *w, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= w[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Block b's content before the guest ever writes it (on any disk). */
static void
initial(uint64_t *w, uint64_t b)
{
	stream(w, WORDS, INIT_KEY ^ b);
}

/* Write number s to disk d's block b: header, payload, checksum. */
static void
written(uint64_t *w, unsigned d, uint64_t b, uint32_t s)
{
	w[0] = MAGIC;
	w[1] = (uint64_t)d << 56 | b;
	w[2] = s;
	w[3] = run_id;
	stream(w + 4, WORDS - 5, run_id ^ w[1] * 0x9e3779b97f4a7c15ULL ^
	    (uint64_t)s << 32);
	w[WORDS - 1] = fnv(w, WORDS - 1);
}

/* One line; a verdict (must) waits up to 5 s for a full console. */
static void
say(int must, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	ssize_t w;
	size_t off = 0;
	int len, tries = 0;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	while (off < (size_t)len) {
		w = write(STDOUT_FILENO, line + off, (size_t)len - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (!must || ++tries > 500)
			return;
		usleep(10000);
	}
}

/* A disk's whole blocks: a block device's, or a file's (dom0's fill). */
static int
dev_blocks(int fd, uint64_t *blocks)
{
	struct stat st;
	uint64_t bytes;

	if (fstat(fd, &st) == -1)
		return -1;
	if (S_ISREG(st.st_mode))
		bytes = (uint64_t)st.st_size;
	else if (ioctl(fd, BLKGETSIZE64, &bytes) == -1)
		return -1;
	*blocks = bytes / BLK;
	return 0;
}

/* Waits for /dev/xvda... (blkfront connects them after init has
 * started); 0 once all want_disks are open. */
static int
open_disks(void)
{
	struct disk *d;
	int waited = 0, fd;

	/* As init only (not over a host's /dev in a test): blkfront is a
	 * module of Debian's kernel, which the lab puts in the initramfs;
	 * the initramfs has only /dev/console, devtmpfs has the disks. */
	if (getpid() == 1) {
		if ((fd = open("/xen-blkfront.ko", O_RDONLY | O_CLOEXEC)) != -1) {
			if (syscall(SYS_finit_module, fd, "", 0) == -1 &&
			    errno != EEXIST)
				say(1, "XE disk: loading xen-blkfront: %s\n",
				    strerror(errno));
			close(fd);
		}
		if (access("/dev/xvda", F_OK) == -1)
			(void)mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	}
	for (ndisks = 0; ndisks < want_disks; ndisks++) {
		d = &disks[ndisks];
		snprintf(d->path, sizeof(d->path), "%s%c", prefix, 'a' + ndisks);
		while ((d->fd = open(d->path, O_RDWR | O_DIRECT | O_CLOEXEC)) ==
		    -1) {
			if ((errno != ENOENT && errno != ENXIO) ||
			    waited++ >= DISK_WAIT_S * 10) {
				snprintf(fault, sizeof(fault), "%s: %s", d->path,
				    strerror(errno));
				return -1;
			}
			usleep(100000);
		}
		if (dev_blocks(d->fd, &d->blocks) == -1 || d->blocks == 0 ||
		    (d->last = calloc(d->blocks, sizeof(*d->last))) == NULL) {
			snprintf(fault, sizeof(fault), "%s: no size or no memory "
			    "for its %" PRIu64 " blocks", d->path, d->blocks);
			return -1;
		}
		total_blocks += d->blocks;
	}
	return 0;
}

/* One durable write at a pseudo-random block of all the disks. */
static void
write_one(uint64_t *buf)
{
	uint64_t b = splitmix64(&rng) % total_blocks;
	unsigned d = 0;

	while (b >= disks[d].blocks)
		b -= disks[d++].blocks;
	fl_disk = d;
	fl_block = b;
	fl_seq = ++seq;
	written(buf, d, b, fl_seq);
	if (pwrite(disks[d].fd, buf, BLK, (off_t)(b * BLK)) != BLK ||
	    fdatasync(disks[d].fd) == -1) {
		/* the block stays in flight: either content is allowed */
		snprintf(fault, sizeof(fault), "write %" PRIu32 " to %s block "
		    "%" PRIu64 " failed: %s", fl_seq, disks[d].path, b,
		    strerror(errno));
		say(1, "XE disk %s\n", fault);
		return;
	}
	if (disks[d].last[b] == 0)
		__atomic_add_fetch(&n_blocks, 1, __ATOMIC_RELAXED);
	disks[d].last[b] = fl_seq;
	fl_seq = 0;
	__atomic_add_fetch(&n_writes, 1, __ATOMIC_RELAXED);
}

/* What a bad block holds, for the verdict. */
static const char *
holds(const uint64_t *got, uint64_t b, char *s, size_t size)
{
	uint64_t w[WORDS];

	initial(w, b);
	if (memcmp(got, w, BLK) == 0)
		return "its initial content";
	if (got[0] == MAGIC && got[WORDS - 1] == fnv(got, WORDS - 1)) {
		snprintf(s, size, "write %" PRIu64 " of disk %" PRIu64 " block "
		    "%" PRIu64 "%s", got[2], got[1] >> 56,
		    got[1] & ((UINT64_C(1) << 56) - 1), got[3] == run_id ? "" :
		    " of another boot");
		return s;
	}
	return "other bytes";
}

/* Disk d's block b, read back as got: is it what the guest wrote? */
static int
block_ok(unsigned d, uint64_t b, const uint64_t *got)
{
	uint64_t w[WORDS];
	uint32_t s = disks[d].last[b];

	if (s != 0)
		written(w, d, b, s);
	else
		initial(w, b);
	if (memcmp(got, w, BLK) == 0)
		return 1;
	if (fl_seq == 0 || fl_disk != d || fl_block != b)
		return 0;
	written(w, d, b, fl_seq);
	return memcmp(got, w, BLK) == 0;
}

static void
verify(void)
{
	static uint64_t *buf;
	char named[BAD_NAMED * 200] = "", h[64], wnt[24], why[800] = "";
	uint64_t b, n, j, nbad = 0, blocks = 0;
	unsigned d, k = ++verdicts;
	size_t len = 0;
	ssize_t r;

	if (buf == NULL && posix_memalign((void **)&buf, BLK, CHUNK * BLK)) {
		say(1, "XV %u BAD no memory to read the disks into\n", k);
		return;
	}
	for (d = 0; d < ndisks && why[0] == '\0'; d++) {
		if (dev_blocks(disks[d].fd, &blocks) == -1 ||
		    blocks != disks[d].blocks) {
			snprintf(why, sizeof(why), "%s now has %" PRIu64 " blocks, "
			    "not %" PRIu64, disks[d].path, blocks,
			    disks[d].blocks);
			break;
		}
		for (b = 0; b < disks[d].blocks; b += n) {
			n = disks[d].blocks - b < CHUNK ? disks[d].blocks - b :
			    CHUNK;
			r = pread(disks[d].fd, buf, n * BLK, (off_t)(b * BLK));
			if (r != (ssize_t)(n * BLK)) {
				snprintf(why, sizeof(why), "reading %s at block "
				    "%" PRIu64 ": %s", disks[d].path, b,
				    r < 0 ? strerror(errno) : "short read");
				break;
			}
			for (j = 0; j < n; j++) {
				if (block_ok(d, b + j, buf + j * WORDS))
					continue;
				if (nbad++ >= BAD_NAMED)
					continue;
				if (disks[d].last[b + j] != 0)
					snprintf(wnt, sizeof(wnt), "write %" PRIu32,
					    disks[d].last[b + j]);
				else
					snprintf(wnt, sizeof(wnt), "initial");
				len += (size_t)snprintf(named + len,
				    sizeof(named) - len, " %s:%" PRIu64 " holds "
				    "%s, want %s;", strrchr(disks[d].path, '/') +
				    1, b + j, holds(buf + j * WORDS, b + j, h,
				    sizeof(h)), wnt);
			}
		}
	}
	if (why[0] == '\0' && ndisks < want_disks)
		snprintf(why, sizeof(why), "no disk: %s", fault);
	else if (why[0] == '\0' && fault[0] != '\0')
		snprintf(why, sizeof(why), "%s", fault);
	say(1, "XV %u %s disks=%u blocks=%" PRIu64 " written=%lu writes=%lu "
	    "inflight=%d bad=%" PRIu64 "%s%s%s\n", k, nbad == 0 &&
	    why[0] == '\0' ? "OK" : "BAD", ndisks, total_blocks,
	    __atomic_load_n(&n_blocks, __ATOMIC_RELAXED),
	    __atomic_load_n(&n_writes, __ATOMIC_RELAXED), fl_seq != 0,
	    nbad, named, why[0] != '\0' ? " " : "", why);
}

/* More than a second past the deadline next. */
static int
behind(const struct timespec *next)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - next->tv_sec > 1;
}

static void *
writer(void *arg)
{
	struct timespec next;
	uint64_t *buf = NULL;
	long step = 1000000000L / rate;

	(void)arg;
	if (posix_memalign((void **)&buf, BLK, BLK) != 0)
		snprintf(fault, sizeof(fault), "no memory");
	else if (open_disks() == 0)
		say(1, "XD start disks=%u blocks=%" PRIu64 " rate=%ld\n",
		    ndisks, total_blocks, rate);
	if (fault[0] != '\0')
		say(1, "XE disk %s\n", fault);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		if (__atomic_exchange_n(&verify_asked, 0, __ATOMIC_ACQ_REL))
			verify();
		if (fault[0] == '\0')
			write_one(buf);
		next.tv_nsec += step;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		/* more than a second behind (a pause, a slow disk): no
		 * burst to catch up */
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL) != 0 || behind(&next))
			clock_gettime(CLOCK_MONOTONIC, &next);
	}
	return NULL;
}

void
diskw_start(long r, long nd, const char *pfx)
{
	pthread_t t;
	struct timespec ts;

	if (r <= 0)
		return;
	rate = r;
	if (pfx != NULL && *pfx != '\0' && strlen(pfx) < sizeof(disks[0].path) - 1)
		prefix = pfx;
	want_disks = (unsigned)(nd < 1 ? 1 : nd > DISKS_MAX ? DISKS_MAX : nd);
	clock_gettime(CLOCK_REALTIME, &ts);
	run_id = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	rng = run_id;
	if (pthread_create(&t, NULL, writer, NULL) != 0) {
		say(1, "XE disk writer: no thread\n");
		return;
	}
	__atomic_store_n(&running, 1, __ATOMIC_RELEASE);
}

void
diskw_verify_cue(void)
{
	if (!__atomic_load_n(&running, __ATOMIC_ACQUIRE)) {
		/* no writer thread: the count is the main thread's */
		say(1, "XV %u BAD no disk writer (disk=RATE not on the kernel "
		    "command line)\n", ++verdicts);
		return;
	}
	__atomic_store_n(&verify_asked, 1, __ATOMIC_RELEASE);
}

void
diskw_progress(unsigned long long tick)
{
	if (__atomic_load_n(&running, __ATOMIC_ACQUIRE))
		say(0, "XD %llu %lu %lu\n", tick,
		    __atomic_load_n(&n_writes, __ATOMIC_RELAXED),
		    __atomic_load_n(&n_blocks, __ATOMIC_RELAXED));
}

int
diskw_fill(const char *path)
{
	static uint64_t buf[CHUNK * WORDS];
	uint64_t blocks, b, n, j;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1 ||
	    dev_blocks(fd, &blocks) == -1)
		goto fail;
	for (b = 0; b < blocks; b += n) {
		n = blocks - b < CHUNK ? blocks - b : CHUNK;
		for (j = 0; j < n; j++)
			initial(buf + j * WORDS, b + j);
		if (pwrite(fd, buf, n * BLK, (off_t)(b * BLK)) !=
		    (ssize_t)(n * BLK))
			goto fail;
	}
	if (fsync(fd) == -1 || close(fd) == -1)
		goto fail;
	return 0;
 fail:
	fprintf(stderr, "witness fill: %s: %s\n", path, strerror(errno));
	return 1;
}
