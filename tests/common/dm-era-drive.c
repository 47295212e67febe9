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
 *   dm-era-drive stress DEV STATE_DIR
 *	attach; a child process makes 12000 writes of 4 KiB over the first
 *	three quarters of DEV's blocks (the bytes that were there: DEV's
 *	data does not change), one after another, while this one takes
 *	again and again; once the child is done, a last take.  Each write
 *	must be listed by a take no later than the first that began after
 *	it landed, and no block of the last quarter by any.  Then detach.
 *   dm-era-drive watch DEV STATE_DIR
 *	attach, say "attached", then per line on stdin: "take" takes and
 *	prints the ranges; "detach" (or the end of stdin) detaches.  For a
 *	guest that writes its disk itself.
 *   dm-era-drive hold DEV STATE_DIR
 *	attach, say "attached", and wait to be killed.
 *   dm-era-drive recover STATE_DIR
 *	dm_era_recover; prints how many it undid.
 *
 * Exit 0 when every check held; otherwise one line on stderr saying
 * which did not.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
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

static uint64_t
dev_size(void)
{
	uint64_t	size;
	int		fd;

	if ((fd = open(dev, O_RDONLY | O_CLOEXEC)) == -1 ||
	    ioctl(fd, BLKGETSIZE64, &size) == -1)
		die("%s: %s", dev, strerror(errno));
	close(fd);
	return size;
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
	if ((size = dev_size()) < 32 * BLK)
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

#define STRESS_WRITES	12000
#define STRESS_TAKES	64

/* What the writer and the taker share. */
struct shared {
	uint32_t	begun;			/* takes begun so far */
	struct {
		uint32_t	blk;
		uint32_t	started;	/* begun, as the write began */
		uint32_t	landed;		/* begun, once it completed */
	}		w[STRESS_WRITES];
};

/* Block i of a spread over the first three quarters of the disk (7919 is
 * prime: the steps visit them all). */
static uint64_t
stress_block(unsigned i, uint64_t nblocks)
{
	uint64_t	span = nblocks * 3 / 4;

	return ((uint64_t)i * 7919) % span;
}

/* The writer: rewrites what is there, noting when each write began and
 * landed against the takes. */
static void __attribute__((noreturn))
rewriter(uint64_t nblocks, struct shared *sh)
{
	unsigned char	*b;
	uint64_t	 blk, off;
	unsigned	 i;
	int		 fd;

	if ((fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC)) == -1 ||
	    posix_memalign((void **)&b, 4096, 4096) != 0)
		_exit(1);
	for (i = 0; i < STRESS_WRITES; i++) {
		blk = stress_block(i, nblocks);
		off = blk * BLK + (i % (BLK / 4096)) * 4096;
		if (pread(fd, b, 4096, (off_t)off) != 4096)
			_exit(1);
		sh->w[i].blk = (uint32_t)blk;
		sh->w[i].started = __atomic_load_n(&sh->begun,
		    __ATOMIC_SEQ_CST);
		if (pwrite(fd, b, 4096, (off_t)off) != 4096)
			_exit(1);
		sh->w[i].landed = __atomic_load_n(&sh->begun,
		    __ATOMIC_SEQ_CST);
	}
	_exit(0);
}

/*
 * Each write must be in a take that began no earlier than the one in
 * progress as it began (an earlier one had listed its era already) and
 * no later than the first that began after it landed: a write is never
 * lost, nor put off past the next take.  No block outside the writer's
 * spread may be listed at all.
 */
static int
stress(const char *state)
{
	struct dm_era		*e;
	struct extents		 got = { 0 };
	struct mig_err		 err, derr;
	struct shared		*sh;
	unsigned char		*seen;		/* [take][block] */
	uint64_t		 nblocks = dev_size() / BLK, b;
	unsigned		 t, takes = 0, late = 0, extra = 0, i;
	size_t			 k;
	pid_t			 pid;
	int			 st = 0, last = 0;

	if (nblocks < 8 || nblocks > UINT32_MAX)
		die("%s: %" PRIu64 " blocks", dev, nblocks);
	if ((sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0)) == MAP_FAILED ||
	    (seen = calloc(STRESS_TAKES + 1, nblocks)) == NULL)
		die("out of memory");
	if (dm_era_attach(dev, 0, state, &e, &err) == -1)
		die("attach: %s", err.msg);
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		rewriter(nblocks, sh);
	/* take until one has begun after the writer was done */
	while (!last) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			last = 1;
		else if (takes == STRESS_TAKES - 1) {
			if (waitpid(pid, &st, 0) == -1)
				die("wait: %s", strerror(errno));
			last = 1;
		}
		__atomic_store_n(&sh->begun, takes + 1, __ATOMIC_SEQ_CST);
		if (dm_era_take(e, &got, &err) == -1) {
			if (dm_era_detach(e, &derr) == -1)
				fprintf(stderr, "dm-era-drive: detach: %s\n",
				    derr.msg);
			die("take %u: %s", takes + 1, err.msg);
		}
		takes++;
		for (k = 0; k < got.n; k++)
			for (b = got.x[k].off / BLK; b * BLK < got.x[k].off +
			    got.x[k].len; b++)
				seen[takes * nblocks + b] = 1;
		extents_free(&got);
	}
	if (dm_era_detach(e, &err) == -1)
		die("detach: %s", err.msg);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("the writer failed");
	for (i = 0; i < STRESS_WRITES; i++) {
		for (t = sh->w[i].started > 0 ? sh->w[i].started : 1;
		    t <= sh->w[i].landed + 1 && t <= takes; t++)
			if (seen[t * nblocks + sh->w[i].blk])
				break;
		if (t > sh->w[i].landed + 1 || t > takes) {
			if (late++ == 0)
				fprintf(stderr, "dm-era-drive: write %u (block "
				    "%u, between takes %u and %u) in none of "
				    "them\n", i, sh->w[i].blk,
				    sh->w[i].started, sh->w[i].landed + 1);
		}
	}
	for (b = nblocks * 3 / 4; b < nblocks; b++)
		for (t = 1; t <= takes; t++)
			extra += seen[t * nblocks + b];
	printf("stress: %u takes amid %u writes: %u writes not in the take "
	    "due, %u blocks listed that nothing wrote\n", takes,
	    STRESS_WRITES, late, extra);
	if (late != 0 || extra != 0)
		die("the takes did not list exactly the blocks written");
	return 0;
}

/* One take, printed as "take N: R range(s), B bytes: OFF+LEN ...". */
static void
take_print(struct dm_era *e, unsigned n)
{
	struct extents	 got = { 0 };
	struct mig_err	 err, derr;
	size_t		 i;

	if (dm_era_take(e, &got, &err) == -1) {
		if (dm_era_detach(e, &derr) == -1)
			fprintf(stderr, "dm-era-drive: detach: %s\n", derr.msg);
		die("take %u: %s", n, err.msg);
	}
	printf("take %u: %zu range(s), %" PRIu64 " bytes:", n, got.n,
	    got.bytes);
	for (i = 0; i < got.n; i++)
		printf(" %" PRIu64 "+%" PRIu64, got.x[i].off, got.x[i].len);
	printf("\n");
	extents_free(&got);
}

static int
watch(const char *state)
{
	struct dm_era	*e;
	struct mig_err	 err;
	char		 line[64];
	unsigned	 n = 0;

	if (dm_era_attach(dev, 0, state, &e, &err) == -1)
		die("attach: %s", err.msg);
	printf("attached\n");
	while (fgets(line, sizeof(line), stdin) != NULL &&
	    strcmp(line, "detach\n") != 0) {
		if (strcmp(line, "take\n") != 0) {
			fprintf(stderr, "dm-era-drive: `take' or `detach', not "
			    "%s", line);
			continue;
		}
		take_print(e, ++n);
	}
	if (dm_era_detach(e, &err) == -1)
		die("detach: %s", err.msg);
	printf("detached\n");
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
	if (argc == 4 && strcmp(argv[1], "stress") == 0) {
		dev = argv[2];
		return stress(argv[3]);
	}
	if (argc == 4 && strcmp(argv[1], "watch") == 0) {
		dev = argv[2];
		return watch(argv[3]);
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
	    "stress DEV STATE_DIR | watch DEV STATE_DIR | hold DEV STATE_DIR | "
	    "recover STATE_DIR\n");
	return 2;
}
