/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd/dm_era.c against a real volume (the lab's storage-era):
 *
 *   dm-era-drive check DEV REF STATE_DIR
 *	attach under DEV; write known blocks through DEV (and the same to
 *	the file REF, DEV's copy from before); check that each take lists
 *	exactly what was written since the last (a second take: nothing);
 *	detach; check DEV's table is its own again.  The guest whose disk
 *	DEV is must not write to it meanwhile.
 *   dm-era-drive hold DEV STATE_DIR
 *	attach, say "attached", and wait to be killed.
 *   dm-era-drive recover STATE_DIR
 *	dm_era_recover; prints how many it undid.
 *
 * Exit 0 when every check held; otherwise one line on stderr saying
 * which did not.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "dm_era.h"

#define BLK	(64u * 1024)

static const char *dev;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "dm-era-drive: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
table(char *buf, size_t size)
{
	char		*argv[] = { "dmsetup", "table", NULL, NULL };
	char		 name[256], sys[96];
	struct stat	 st;
	struct mig_err	 err;
	FILE		*f;

	if (stat(dev, &st) == -1)
		die("%s: %s", dev, strerror(errno));
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/dm/name",
	    major(st.st_rdev), minor(st.st_rdev));
	if ((f = fopen(sys, "r")) == NULL || fgets(name, sizeof(name), f) ==
	    NULL)
		die("%s: no dm name", dev);
	fclose(f);
	name[strcspn(name, "\n")] = '\0';
	argv[2] = name;
	if (cmd_run(argv, buf, size, &err) == -1)
		die("%s", err.msg);
}

/* len bytes at off, of a pattern made of seed, to DEV and REF. */
static void
put(int dfd, int rfd, uint64_t off, size_t len, unsigned seed)
{
	unsigned char	*b;
	size_t		 i;

	if (posix_memalign((void **)&b, 4096, len) != 0)
		die("out of memory");
	for (i = 0; i < len; i++)
		b[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 12));
	if (pwrite(dfd, b, len, (off_t)off) != (ssize_t)len ||
	    pwrite(rfd, b, len, (off_t)off) != (ssize_t)len)
		die("write at %" PRIu64 ": %s", off, strerror(errno));
	free(b);
}

/* Takes, and checks the list is exactly the n ranges of want. */
static void
take_expect(struct dm_era *e, const char *what, const struct extent *want,
    size_t n)
{
	struct extents	 got = { 0 };
	struct mig_err	 err;
	size_t		 i;

	if (dm_era_take(e, &got, &err) == -1) {
		struct mig_err	derr;

		if (dm_era_detach(e, &derr) == -1)
			fprintf(stderr, "dm-era-drive: detach: %s\n", derr.msg);
		die("%s: take: %s", what, err.msg);
	}
	printf("%s: %zu range(s), %" PRIu64 " bytes:", what, got.n, got.bytes);
	for (i = 0; i < got.n; i++)
		printf(" %" PRIu64 "+%" PRIu64, got.x[i].off, got.x[i].len);
	printf("\n");
	fflush(stdout);
	for (i = 0; i < n && i < got.n; i++)
		if (got.x[i].off != want[i].off || got.x[i].len != want[i].len)
			break;
	if (i != n || got.n != n) {
		struct mig_err	derr;

		if (dm_era_detach(e, &derr) == -1)
			fprintf(stderr, "dm-era-drive: detach: %s\n", derr.msg);
		die("%s: not the %zu range(s) written", what, n);
	}
	extents_free(&got);
}

static int
check(const char *ref, const char *state)
{
	char		 before[4096], after[4096];
	struct dm_era	*e;
	struct mig_err	 err;
	uint64_t	 size, last;
	int		 dfd, rfd;
	/* blocks 3, 10-12, a 4 KiB write inside block 20, and the one
	 * before the last */
	struct extent	 one[] = {
		{ 3 * BLK, BLK }, { 10 * BLK, 3 * BLK }, { 20 * BLK, BLK },
		{ 0, BLK },
	};
	const struct extent two[] = { { 0, 2 * BLK }, { 7 * BLK, BLK } };

	table(before, sizeof(before));
	if ((dfd = open(dev, O_RDONLY | O_CLOEXEC)) == -1 ||
	    ioctl(dfd, BLKGETSIZE64, &size) == -1)
		die("%s: %s", dev, strerror(errno));
	close(dfd);
	if (size < 32 * BLK)
		die("%s: %" PRIu64 " bytes, fewer than 32 blocks", dev, size);
	last = one[3].off = (size / BLK - 2) * BLK;
	if (dm_era_attach(dev, 0, state, &e, &err) == -1)
		die("attach: %s", err.msg);
	printf("attached\n");
	if ((dfd = open(dev, O_WRONLY | O_DIRECT | O_CLOEXEC)) == -1 ||
	    (rfd = open(ref, O_WRONLY | O_CLOEXEC)) == -1)
		die("%s: %s", dev, strerror(errno));
	put(dfd, rfd, 3 * BLK, BLK, 1);
	put(dfd, rfd, 10 * BLK + 8192, 3 * BLK - 8192, 2);
	put(dfd, rfd, 10 * BLK, 4096, 3);
	put(dfd, rfd, 20 * BLK + 16384, 4096, 4);
	put(dfd, rfd, last + BLK - 4096, 4096, 5);
	take_expect(e, "take 1", one, 4);
	take_expect(e, "take 2 (nothing written)", NULL, 0);
	/* a write across a block boundary marks both blocks */
	put(dfd, rfd, BLK - 4096, 8192, 6);
	put(dfd, rfd, 7 * BLK, 4096, 7);
	take_expect(e, "take 3", two, 2);
	close(dfd);
	close(rfd);
	if (dm_era_detach(e, &err) == -1)
		die("detach: %s", err.msg);
	table(after, sizeof(after));
	if (strcmp(before, after) != 0)
		die("table after detach is `%s', was `%s'", after, before);
	printf("detached, table as before: %s", after);
	return 0;
}

int
main(int argc, char **argv)
{
	struct dm_era	*e;
	struct mig_err	 err;
	int		 n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "check") == 0) {
		dev = argv[2];
		return check(argv[3], argv[4]);
	}
	if (argc == 4 && strcmp(argv[1], "hold") == 0) {
		dev = argv[2];
		if (dm_era_attach(dev, 0, argv[3], &e, &err) == -1)
			die("attach: %s", err.msg);
		printf("attached\n");
		for (;;)
			pause();
	}
	if (argc == 3 && strcmp(argv[1], "recover") == 0) {
		if ((n = dm_era_recover(argv[2], &err)) == -1)
			die("recover: %s", err.msg);
		printf("recovered %d\n", n);
		return 0;
	}
	fprintf(stderr, "usage: dm-era-drive check DEV REF STATE_DIR | "
	    "hold DEV STATE_DIR | recover STATE_DIR\n");
	return 2;
}
