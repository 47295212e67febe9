/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lab's witness guest: /init of a tiny PV domU.  It proves from inside the
 * guest what a save, restore or migration did to it, on its console:
 *
 *   XS start dirty=N wss=MiB          once, at boot (a second one = a reboot)
 *   XW <n> <realtime ms> <monotonic ms> <gap ms>
 *                                     every 100 ms; n never resets; gap is the
 *                                     largest realtime step between two ticks
 *                                     since the previous line that got out
 *   XC <n> <checksum>                 every 10 ticks: the checksum of a region
 *                                     filled once at boot and never written
 *
 * The largest gap is the guest-visible downtime (realtime, because a PV
 * guest's monotonic clock stands still while it is suspended); a changed
 * checksum is memory the restore corrupted.  The console is written without
 * blocking: a console nobody drains (xenconsoled not yet attached after a
 * restore) loses lines instead of stalling the clock, and the gap field
 * still accounts for the ticks whose lines were lost.  Each tick also dirties N pages
 * of a working set ("dirty=N" and "wss=MiB" on the kernel command line, which
 * the kernel hands to init as environment variables) so that live migration
 * has something to chase.
 *
 * On cue, a line on its console (dom0 writes it to the console's pty):
 *   R  reboot          P  power off          K  crash (init exits: a panic,
 *                                               which Xen sees as a crash)
 * It says so first ("XQ reboot"), so its log shows the shutdown was asked.
 *   V  read its disks back and print a verdict (diskw.c: with "disk=RATE"
 *      on the command line it writes numbered blocks to them as it ticks)
 * Run as "init fill FILE" (in dom0), it fills FILE with the initial
 * content the guest expects of a disk's unwritten blocks.
 * A cue on the console rather than the command line: a restarted guest
 * boots with the same command line and must not shut down again.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

#include "diskw.h"

#define PAGE		4096
#define CONST_BYTES	(4u << 20)	/* the region whose checksum must hold */
#define TICK_NS		100000000L

static long long
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static long
env_long(const char *name, long def, long min, long max)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return def;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return def;
	return v;
}

/* A fixed pseudo-random pattern, so every boot has the same checksum too. */
static void
fill_const(uint64_t *p, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

/* FNV-1a over 64-bit words: cheap, and any flipped bit changes it. */
static uint64_t
checksum(const uint64_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* One line, one write(2), never blocking; 0 if it did not get out whole. */
static int
emit(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	ssize_t w;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(line))
		return 0;
	do
		w = write(STDOUT_FILENO, line, (size_t)len);
	while (w < 0 && errno == EINTR);
	return w == len;
}

/* A cue waiting on the console (stdin shares stdout's non-blocking
 * file): act on it, or return. */
static void
cue(void)
{
	char c[16];
	ssize_t r, i;

	if ((r = read(STDIN_FILENO, c, sizeof(c))) <= 0)
		return;
	for (i = 0; i < r; i++) {
		switch (c[i]) {
		case 'R':
			emit("XQ reboot\n");
			reboot(RB_AUTOBOOT);
			break;
		case 'P':
			emit("XQ poweroff\n");
			reboot(RB_POWER_OFF);
			break;
		case 'K':
			emit("XQ crash\n");
			_exit(1);
		case 'V':
			diskw_verify_cue();
			break;
		}
	}
}

int
main(int argc, char **argv)
{
	long dirty = env_long("dirty", 256, 0, 1 << 20);
	long wss = env_long("wss", 32, 1, 4096);
	size_t pages = (size_t)wss * 1024 * 1024 / PAGE, pos = 0;
	size_t cwords = CONST_BYTES / sizeof(uint64_t);
	unsigned char *work;
	uint64_t *cst;
	unsigned long long n;
	long long rt, last_rt, gap = 0;
	struct timespec next;
	long i;

	if (argc == 3 && strcmp(argv[1], "fill") == 0)
		return diskw_fill(argv[2]);
	work = malloc(pages * PAGE);
	cst = malloc(CONST_BYTES);
	if (work == NULL || cst == NULL) {
		emit("XE out of memory\n");
		for (;;)
			pause();
	}
	memset(work, 1, pages * PAGE);
	fill_const(cst, cwords);
	emit("XS start dirty=%ld wss=%ld\n", dirty, wss);
	emit("XC 0 %016" PRIx64 "\n", checksum(cst, cwords));
	fcntl(STDOUT_FILENO, F_SETFL,
	    fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK);
	/* Its own flag too: the console may be two open files. */
	fcntl(STDIN_FILENO, F_SETFL,
	    fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);

	diskw_start(env_long("disk", 0, 0, 10000), env_long("disks", 1, 1, 8),
	    getenv("diskdev"));
	clock_gettime(CLOCK_MONOTONIC, &next);
	last_rt = clock_ms(CLOCK_REALTIME);
	for (n = 1;; n++) {
		for (i = 0; i < dirty; i++) {
			work[pos * PAGE] = (unsigned char)n;
			pos = (pos + 1) % pages;
		}
		rt = clock_ms(CLOCK_REALTIME);
		if (rt - last_rt > gap)
			gap = rt - last_rt;
		last_rt = rt;
		if (emit("XW %llu %lld %lld %lld\n", n, rt,
		    clock_ms(CLOCK_MONOTONIC), gap))
			gap = 0;
		if (n % 10 == 0) {
			emit("XC %llu %016" PRIx64 "\n", n,
			    checksum(cst, cwords));
			diskw_progress(n);
		}
		cue();
		/* Absolute deadlines: a slow tick does not shift later ones. */
		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL) != 0 || clock_ms(CLOCK_MONOTONIC) >
		    next.tv_sec * 1000LL + next.tv_nsec / 1000000 + 1000)
			clock_gettime(CLOCK_MONOTONIC, &next);
	}
}
