/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dm-era interposed under a live device-mapper volume VOL (an LVM
 * logical volume whose guest runs):
 *
 *	VOL            era  LOOP ORIG BLOCK	(VOL's device number stays:
 *	                                 blkback, which holds it, goes on)
 *	VOL-relocd-orig  VOL's own table	(the data, where it always was)
 *	LOOP             STATE_DIR/dm-era/meta.VOL, dm-era's metadata
 *	VOL-relocd-meta  linear over LOOP	(what era_invalidate reads)
 *
 * The metadata lives in a file under STATE_DIR, not in a small volume of
 * VOL's volume group: a full group (a guest's disk fills it, as a
 * target's reservation may) must not stop a migration, and a file needs
 * no LVM metadata change to make or to remove after a crash.  The file
 * is allocated whole before anything changes (fallocate), so that dm-era
 * never meets a full file system while the guest writes through it; its
 * loop device has autoclear, so it goes when the last table using it
 * does.  era_invalidate opens what it reads exclusively, and dm holds
 * LOOP, hence the linear view.
 *
 * Order.  Attach journals STATE_DIR/dm-era/rec.VOL (VOL's name and own
 * table) before anything else, makes ORIG, LOOP and the view, loads the
 * era table into VOL's inactive slot, and swaps it in with one resume:
 * the kernel suspends VOL (waiting for every write in flight, which
 * lands through the old table), swaps and resumes, so no write is lost
 * or goes around the tracker.  It then starts the first era the takes
 * count from; what was written before it, the caller's first full pass
 * reads.  A take starts a new era (checkpoint), then suspends and
 * resumes VOL: a write dm-era marked in the old era may still be in
 * flight after the checkpoint, and the caller must not read its block
 * before it lands; suspend waits for it.  Then the blocks of the old
 * eras from a metadata snapshot.  Detach loads VOL's own table back and
 * resumes (the same swap), then removes ORIG and the view; LOOP goes
 * with them.
 *
 * Recovery reads only the record and what device-mapper shows, so it
 * undoes a crash at any step: a live era table is swapped back, an
 * inactive one cleared, a volume left suspended resumed, ORIG and the
 * view removed.  The record is held with flock(2) by its process, so a
 * recovery (at relocd's start, or for a job whose worker died) never
 * touches an interposition whose process is alive.
 */
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "dm_era.h"
#include "dm_era_int.h"

#define ERA_DIR		"dm-era"
#define ORIG_SUFFIX	"-relocd-orig"
#define VIEW_SUFFIX	"-relocd-meta"
#define META_FIXED	(8u << 20)	/* superblock, space maps, slack */
#define META_PER_BLOCK	16		/* era array, writesets, a snapshot */
#define LOOP_TRIES	8
/* Buffers no name or path below can overflow (era_name_ok keeps a
 * sibling's name within DM_NAME_LEN). */
#define SIB_MAX		(ERA_NAME_MAX + 16)
#define REC_PATH_MAX	(PATH_MAX + ERA_NAME_MAX + 8)

struct dm_era {
	struct era_rec	 rec;
	char		 dir[PATH_MAX];		/* STATE_DIR/dm-era */
	char		 view[32];		/* /dev/dm-N of the view */
	int		 lock;			/* rec.VOL, flock'ed */
	uint64_t	 size;			/* VOL's bytes */
	uint32_t	 block;			/* bytes per tracked block */
	uint32_t	 era;			/* the next take lists from it */
};

/* --- dmsetup --------------------------------------------------------- */

/* dmsetup ARGS... (NULL-terminated), in on its stdin, its stdout in out. */
static int
dms(char *out, size_t size, const char *in, struct mig_err *err, ...)
{
	char	*argv[12];
	va_list	 ap;
	int	 n = 0;

	argv[n++] = "dmsetup";
	va_start(ap, err);
	while (n < 11 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	if (in == NULL)
		return cmd_run(argv, out, size, err);
	if (out != NULL)
		out[0] = '\0';
	return cmd_exec(argv, in, NULL, err);
}

/* 1 when a device-mapper device of that name exists. */
static int
dm_exists(const char *name, struct mig_err *err)
{
	char	 buf[16384], *l, *save;
	size_t	 n = strlen(name);

	if (dms(buf, sizeof(buf), NULL, err, "ls", NULL) == -1)
		return -1;
	/* NAME<TAB>(MAJOR:MINOR), or "No devices found" */
	for (l = strtok_r(buf, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save))
		if (strncmp(l, name, n) == 0 && (l[n] == '\t' || l[n] == ' '))
			return 1;
	return 0;
}

/* Its attributes: L live, I an inactive table, s suspended ... */
static int
dm_attr(const char *name, char *attr, size_t size, struct mig_err *err)
{
	if (dms(attr, size, NULL, err, "info", "-c", "--noheadings", "-o",
	    "attr", name, NULL) == -1)
		return -1;
	attr[strcspn(attr, " \n")] = '\0';
	return 0;
}

static int
dm_devno(const char *name, unsigned *maj, unsigned *min, struct mig_err *err)
{
	char	buf[64], c;

	if (dms(buf, sizeof(buf), NULL, err, "info", "-c", "--noheadings",
	    "--separator", ":", "-o", "major,minor", name, NULL) == -1)
		return -1;
	if (sscanf(buf, "%u:%u%c", maj, min, &c) != 3 || c != '\n')
		return mig_seterr(err, MIG_E_IO, "dmsetup info %s: `%.30s' is "
		    "not MAJOR:MINOR", name, buf);
	return 0;
}

static int
dm_table(const char *name, char *table, size_t size, struct mig_err *err)
{
	if (dms(table, size, NULL, err, "table", name, NULL) == -1)
		return -1;
	if (strlen(table) + 1 >= size)
		return mig_seterr(err, MIG_E_INVAL, "%s: its table is longer "
		    "than %zu bytes", name, size - 2);
	return 0;
}

static void
sibling(char *buf, size_t size, const char *name, const char *suffix)
{
	snprintf(buf, size, "%s%s", name, suffix);
}

/* --- the journal record ---------------------------------------------- */

/* STATE_DIR/dm-era/KIND.NAME */
static void
rec_path(char *buf, size_t size, const char *dir, const char *kind,
    const char *name)
{
	snprintf(buf, size, "%s/%s.%s", dir, kind, name);
}

static int
sync_dir(const char *dir, struct mig_err *err)
{
	int	fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", dir);
	rc = fsync(fd);
	close(fd);
	return rc == -1 ? mig_seterrno(err, MIG_E_IO, "%s: fsync", dir) : 0;
}

/* rec.NAME, written whole and renamed into place, held locked (fd). */
static int
rec_write(const char *dir, const struct era_rec *r, int *lockfd,
    struct mig_err *err)
{
	char	 buf[ERA_TABLE_MAX + 512], tmp[REC_PATH_MAX], path[REC_PATH_MAX];
	int	 fd, len;

	if ((len = era_rec_format(r, buf, sizeof(buf))) == -1)
		return mig_seterr(err, MIG_E_INVAL, "%s: cannot journal its "
		    "table", r->name);
	rec_path(tmp, sizeof(tmp), dir, "tmp", r->name);
	rec_path(path, sizeof(path), dir, "rec", r->name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", tmp);
	if (flock(fd, LOCK_EX) == -1 || write(fd, buf, (size_t)len) != len ||
	    fsync(fd) == -1 || rename(tmp, path) == -1) {
		mig_seterrno(err, MIG_E_IO, "%s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	*lockfd = fd;
	return sync_dir(dir, err);
}

/* The record at path, locked; 0 when its process still holds it. */
static int
rec_take(const char *path, struct era_rec *r, int *lockfd,
    struct mig_err *err)
{
	char		 buf[ERA_TABLE_MAX + 512], why[128];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 :
		    mig_seterrno(err, MIG_E_IO, "%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		return errno == EWOULDBLOCK ? 0 :
		    mig_seterrno(err, MIG_E_IO, "%s: lock", path);
	}
	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) == -1) {
		close(fd);
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	}
	buf[n] = '\0';
	if (era_rec_parse(buf, r, why, sizeof(why)) == -1) {
		close(fd);
		return mig_seterr(err, MIG_E_IO, "%s: %s (the volume it names "
		    "may still have dm-era under it: see dmsetup table)", path,
		    why);
	}
	*lockfd = fd;
	return 1;
}

/* --- undoing --------------------------------------------------------- */

/*
 * Puts the volume of r back on its own table, whatever step the
 * interposition stopped at, removes ORIG and the view, then the files.
 * Every step is idempotent: a failure leaves the record for another try.
 */
static int
era_undo(const char *dir, const struct era_rec *r, struct mig_err *err)
{
	char	 table[ERA_TABLE_MAX], attr[32], sib[SIB_MAX], path[REC_PATH_MAX];
	const char *sfx[] = { ORIG_SUFFIX, VIEW_SUFFIX };
	size_t	 i;
	int	 ex;

	if ((ex = dm_exists(r->name, err)) == -1)
		return -1;
	if (ex) {
		if (dm_table(r->name, table, sizeof(table), err) == -1 ||
		    dm_attr(r->name, attr, sizeof(attr), err) == -1)
			return -1;
		if (era_table_has(table, "era")) {
			/* Load replaces an inactive table, if any; resume
			 * suspends, waits for writes in flight and swaps. */
			if (dms(NULL, 0, r->table, err, "load", r->name,
			    NULL) == -1 || dms(NULL, 0, NULL, err, "resume",
			    r->name, NULL) == -1)
				return -1;
		} else {
			/* An era table loaded but never swapped in must not
			 * be by anyone's later resume. */
			if (strchr(attr, 'I') != NULL && dms(NULL, 0, NULL,
			    err, "clear", r->name, NULL) == -1)
				return -1;
			if (strchr(attr, 's') != NULL && dms(NULL, 0, NULL,
			    err, "resume", r->name, NULL) == -1)
				return -1;
		}
	}
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		sibling(sib, sizeof(sib), r->name, sfx[i]);
		if ((ex = dm_exists(sib, err)) == -1 || (ex &&
		    dms(NULL, 0, NULL, err, "remove", "--retry", sib,
		    NULL) == -1))
			return -1;
	}
	rec_path(path, sizeof(path), dir, "meta", r->name);
	if (unlink(path) == -1 && errno != ENOENT)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	rec_path(path, sizeof(path), dir, "rec", r->name);
	if (unlink(path) == -1 && errno != ENOENT)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	return sync_dir(dir, err);
}

/* --- attaching ------------------------------------------------------- */

/* The device-mapper name and size of the block device at dev. */
static int
volume(const char *dev, char *name, size_t nsize, uint64_t *bytes,
    struct mig_err *err)
{
	char		 sys[96];
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	if (stat(dev, &st) == -1)
		return mig_seterrno(err, MIG_E_INVAL, "%s", dev);
	if (!S_ISBLK(st.st_mode))
		return mig_seterr(err, MIG_E_INVAL, "%s is not a block device",
		    dev);
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/dm/name",
	    major(st.st_rdev), minor(st.st_rdev));
	if ((fd = open(sys, O_RDONLY | O_CLOEXEC)) == -1)
		return mig_seterr(err, MIG_E_INVAL, "%s is not a device-mapper "
		    "volume (no %s)", dev, sys);
	n = read(fd, name, nsize - 1);
	close(fd);
	name[n > 0 ? (size_t)n : 0] = '\0';
	name[strcspn(name, "\n")] = '\0';
	if (era_name_ok(name) == -1)
		return mig_seterr(err, MIG_E_INVAL, "%s: device-mapper name "
		    "`%s' is not a volume's name", dev, name);
	if ((fd = open(dev, O_RDONLY | O_CLOEXEC)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", dev);
	n = ioctl(fd, BLKGETSIZE64, bytes);
	close(fd);
	if (n == -1)
		return mig_seterrno(err, MIG_E_IO, "%s: size", dev);
	if (*bytes == 0 || *bytes % 512 != 0)
		return mig_seterr(err, MIG_E_INVAL, "%s: %" PRIu64 " bytes, not "
		    "whole sectors", dev, *bytes);
	return 0;
}

/* The metadata file, allocated whole, on a loop device with autoclear:
 * *lfd holds it until a table does. */
static int
meta_loop(const char *path, uint64_t bytes, int *lfd, dev_t *rdev,
    struct mig_err *err)
{
	struct loop_config	 lc;
	struct stat		 st;
	char			 dev[32];
	int			 mfd, ctl = -1, fd = -1, n, i, rc = -1;

	if ((mfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	if ((errno = posix_fallocate(mfd, 0, (off_t)bytes)) != 0 ||
	    fsync(mfd) == -1) {
		mig_seterrno(err, MIG_E_IO, "%s: %" PRIu64 " bytes for dm-era's "
		    "metadata", path, bytes);
		goto out;
	}
	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) == -1) {
		mig_seterrno(err, MIG_E_IO, "/dev/loop-control");
		goto out;
	}
	for (i = 0; i < LOOP_TRIES; i++) {
		if ((n = ioctl(ctl, LOOP_CTL_GET_FREE)) == -1) {
			mig_seterrno(err, MIG_E_IO, "no free loop device");
			goto out;
		}
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		if ((fd = open(dev, O_RDWR | O_CLOEXEC)) == -1) {
			mig_seterrno(err, MIG_E_IO, "%s", dev);
			goto out;
		}
		memset(&lc, 0, sizeof(lc));
		lc.fd = (uint32_t)mfd;
		lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		/* only what losetup -l shows: cut short, it still names it */
		if (snprintf((char *)lc.info.lo_file_name,
		    sizeof(lc.info.lo_file_name), "%s", path) < 0)
			lc.info.lo_file_name[0] = '\0';
		if (ioctl(fd, LOOP_CONFIGURE, &lc) == 0 && fstat(fd, &st) == 0)
			break;
		/* Another process took it between GET_FREE and here. */
		if (errno != EBUSY) {
			mig_seterrno(err, MIG_E_IO, "%s: configure on %s", dev,
			    path);
			goto out;
		}
		close(fd);
		fd = -1;
	}
	if (fd == -1) {
		mig_seterr(err, MIG_E_IO, "no loop device stayed free for %s",
		    path);
		goto out;
	}
	*rdev = st.st_rdev;
	*lfd = fd;
	fd = -1;
	rc = 0;
 out:
	if (fd != -1)
		close(fd);
	if (ctl != -1)
		close(ctl);
	close(mfd);
	return rc;
}

/*
 * A new era, and every write marked in the old ones landed (suspend
 * waits for those in flight); e->era becomes the new one.  A failure
 * may leave the volume suspended: the caller detaches, which resumes it.
 */
static int
rollover(struct dm_era *e, struct mig_err *err)
{
	char		 st[256], why[128];
	const char	*n = e->rec.name;

	if (dms(NULL, 0, NULL, err, "message", n, "0", "checkpoint",
	    NULL) == -1 ||
	    dms(NULL, 0, NULL, err, "suspend", n, NULL) == -1 ||
	    dms(NULL, 0, NULL, err, "resume", n, NULL) == -1 ||
	    dms(st, sizeof(st), NULL, err, "status", n, NULL) == -1)
		return -1;
	if (era_status_parse(st, &e->era, why, sizeof(why)) == -1)
		return mig_seterr(err, MIG_E_IO, "%s: %s", n, why);
	return 0;
}

static int
interpose(struct dm_era *e, struct mig_err *err)
{
	char		 path[REC_PATH_MAX], sib[SIB_MAX], tab[160];
	const char	*n = e->rec.name;
	uint64_t	 nblocks, meta;
	unsigned	 omaj, omin, vmaj, vmin;
	dev_t		 loop;
	int		 lfd = -1, rc = -1;

	nblocks = e->size / e->block + (e->size % e->block != 0);
	meta = META_FIXED + ((nblocks * META_PER_BLOCK + 4095) & ~4095ull);
	rec_path(path, sizeof(path), e->dir, "meta", n);
	if (meta_loop(path, meta, &lfd, &loop, err) == -1)
		return -1;
	snprintf(tab, sizeof(tab), "0 %" PRIu64 " linear %u:%u 0\n",
	    meta / 512, major(loop), minor(loop));
	sibling(sib, sizeof(sib), n, VIEW_SUFFIX);
	if (dms(NULL, 0, tab, err, "create", sib, NULL) == -1 ||
	    dm_devno(sib, &vmaj, &vmin, err) == -1)
		goto out;
	snprintf(e->view, sizeof(e->view), "/dev/dm-%u", vmin);
	sibling(sib, sizeof(sib), n, ORIG_SUFFIX);
	if (dms(NULL, 0, e->rec.table, err, "create", sib, NULL) == -1 ||
	    dm_devno(sib, &omaj, &omin, err) == -1)
		goto out;
	snprintf(tab, sizeof(tab), "0 %" PRIu64 " era %u:%u %u:%u %u\n",
	    e->size / 512, major(loop), minor(loop), omaj, omin,
	    e->block / 512);
	if (dms(NULL, 0, tab, err, "load", n, NULL) == -1 ||
	    dms(NULL, 0, NULL, err, "resume", n, NULL) == -1)
		goto out;
	rc = 0;
 out:
	close(lfd);		/* the tables hold the loop device now */
	return rc;
}

int
dm_era_attach(const char *dev, uint32_t block, const char *state_dir,
    struct dm_era **out, struct mig_err *err)
{
	struct dm_era	*e;
	char		 attr[32], sib[SIB_MAX], path[REC_PATH_MAX];
	char		*version[] = { "era_invalidate", "-V", NULL };
	struct mig_err	 uerr, first;
	int		 ex;

	*out = NULL;
	if (block == 0)
		block = DM_ERA_BLOCK_DEFAULT;
	if (block % 4096 != 0 || block > (1u << 30))
		return mig_seterr(err, MIG_E_INVAL, "dm-era block of %" PRIu32
		    " bytes: a multiple of 4 KiB up to 1 GiB", block);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "dm-era");
	e->lock = -1;
	e->block = block;
	/* era_invalidate missing would fail the first take: better before
	 * anything changes. */
	if (volume(dev, e->rec.name, sizeof(e->rec.name), &e->size,
	    err) == -1 || cmd_run(version, NULL, 0, err) == -1 ||
	    dm_table(e->rec.name, e->rec.table, sizeof(e->rec.table),
	    err) == -1 ||
	    dm_attr(e->rec.name, attr, sizeof(attr), err) == -1)
		goto fail;
	if (era_table_has(e->rec.table, "era")) {
		mig_seterr(err, MIG_E_INVAL, "%s has dm-era under it already",
		    dev);
		goto fail;
	}
	if (attr[0] != 'L' || strpbrk(attr, "Is") != NULL) {
		mig_seterr(err, MIG_E_INVAL, "%s is suspended or has a table "
		    "loaded (attributes %s): another tool is changing it", dev,
		    attr);
		goto fail;
	}
	if (snprintf(e->dir, sizeof(e->dir), "%s/" ERA_DIR, state_dir) >=
	    (int)sizeof(e->dir)) {
		mig_seterr(err, MIG_E_INVAL, "%s: state directory name too "
		    "long", state_dir);
		goto fail;
	}
	if (mkdir(e->dir, 0700) == -1 && errno != EEXIST) {
		mig_seterrno(err, MIG_E_IO, "%s", e->dir);
		goto fail;
	}
	rec_path(path, sizeof(path), e->dir, "rec", e->rec.name);
	if (access(path, F_OK) == 0) {
		mig_seterr(err, MIG_E_INVAL, "%s: %s is there: an interposition "
		    "not undone yet (relocd's reconciliation undoes it)", dev,
		    path);
		goto fail;
	}
	sibling(sib, sizeof(sib), e->rec.name, ORIG_SUFFIX);
	if ((ex = dm_exists(sib, err)) == 0) {
		sibling(sib, sizeof(sib), e->rec.name, VIEW_SUFFIX);
		ex = dm_exists(sib, err);
	}
	if (ex == -1)
		goto fail;
	if (ex) {
		mig_seterr(err, MIG_E_INVAL, "%s: device %s exists, not ours to "
		    "replace", dev, sib);
		goto fail;
	}
	if (rec_write(e->dir, &e->rec, &e->lock, err) == -1)
		goto fail;
	if (interpose(e, err) == -1 || rollover(e, err) == -1) {
		if (era_undo(e->dir, &e->rec, &uerr) == -1) {
			first = *err;
			mig_seterr(err, first.code, "%s; undoing it: %s",
			    first.msg, uerr.msg);
		}
		goto fail;
	}
	*out = e;
	return 0;
 fail:
	if (e->lock != -1)
		close(e->lock);
	free(e);
	return -1;
}

/* --- taking ---------------------------------------------------------- */

/* All of fd (a finished command's output), NUL-terminated. */
static char *
slurp_all(int fd, struct mig_err *err)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;

	if (fstat(fd, &st) == -1 || (buf = malloc((size_t)st.st_size +
	    1)) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "era_invalidate's output");
		return NULL;
	}
	if ((n = pread(fd, buf, (size_t)st.st_size, 0)) != st.st_size) {
		mig_seterrno(err, MIG_E_IO, "era_invalidate's output");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

int
dm_era_take(struct dm_era *e, struct extents *out, struct mig_err *err)
{
	char		 since[16], why[160], *xml = NULL;
	char		*argv[] = { "era_invalidate", "--metadata-snapshot",
			    "--written-since", since, e->view, NULL };
	const char	*n = e->rec.name;
	struct mig_err	 derr;
	uint32_t	 prev = e->era;
	int		 ofd = -1, rc = -1;

	if (out->n != 0)
		return mig_seterr(err, MIG_E_INVAL, "dm_era_take: the list to "
		    "fill is not empty");
	if (rollover(e, err) == -1)
		return -1;
	if (e->era <= prev)
		return mig_seterr(err, MIG_E_IO, "%s: dm-era stayed at era %"
		    PRIu32 " after a checkpoint", n, prev);
	snprintf(since, sizeof(since), "%" PRIu32, prev);
	if (dms(NULL, 0, NULL, err, "message", n, "0", "take_metadata_snap",
	    NULL) == -1)
		return -1;
	if (cmd_exec(argv, NULL, &ofd, err) == 0 &&
	    (xml = slurp_all(ofd, err)) != NULL) {
		if (era_blocks_parse(xml, e->block, e->size, out, why,
		    sizeof(why)) == -1)
			mig_seterr(err, MIG_E_IO, "era_invalidate on %s: %s",
			    e->view, why);
		else
			rc = 0;
	}
	/* A held snapshot pins metadata blocks: always let it go. */
	if (dms(NULL, 0, NULL, &derr, "message", n, "0", "drop_metadata_snap",
	    NULL) == -1 && rc == 0) {
		*err = derr;
		extents_free(out);
		rc = -1;
	}
	if (ofd != -1)
		close(ofd);
	free(xml);
	return rc;
}

/* --- detaching and recovering --------------------------------------- */

int
dm_era_detach(struct dm_era *e, struct mig_err *err)
{
	int	rc;

	if (e == NULL)
		return 0;
	rc = era_undo(e->dir, &e->rec, err);
	close(e->lock);		/* a record left is recovery's now */
	free(e);
	return rc;
}

static int
recover_one(const char *dir, const char *ent, struct mig_err *err)
{
	struct era_rec	 r;
	char		 path[REC_PATH_MAX];
	int		 lock = -1, rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, ent) >= (int)sizeof(path))
		return mig_seterr(err, MIG_E_INVAL, "%s/%s: too long", dir, ent);
	if (strncmp(ent, "rec.", 4) != 0) {
		/* tmp. (never renamed into place: nothing was done under
		 * it) and meta., once their record is gone. */
		char	rec[REC_PATH_MAX];

		rec_path(rec, sizeof(rec), dir, "rec", strchr(ent, '.') + 1);
		if (access(rec, F_OK) == 0)
			return 0;
		/* a tmp. is held locked by its writer until the rename */
		if (strncmp(ent, "tmp.", 4) == 0) {
			if ((lock = open(path, O_RDONLY | O_CLOEXEC)) == -1)
				return 0;
			rc = flock(lock, LOCK_EX | LOCK_NB);
			close(lock);
			if (rc == -1)
				return 0;
		}
		if (unlink(path) == -1 && errno != ENOENT)
			return mig_seterrno(err, MIG_E_IO, "%s", path);
		return 0;
	}
	if ((rc = rec_take(path, &r, &lock, err)) <= 0)
		return rc;
	rc = era_undo(dir, &r, err);
	close(lock);
	return rc == -1 ? -1 : 1;
}

int
dm_era_recover(const char *state_dir, struct mig_err *err)
{
	char		 dir[PATH_MAX];
	struct dirent	*d;
	struct mig_err	 e1;
	DIR		*dp;
	int		 n = 0, failed = 0, rc;

	snprintf(dir, sizeof(dir), "%s/" ERA_DIR, state_dir);
	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 :
		    mig_seterrno(err, MIG_E_IO, "%s", dir);
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, "rec.", 4) != 0 &&
		    strncmp(d->d_name, "tmp.", 4) != 0 &&
		    strncmp(d->d_name, "meta.", 5) != 0)
			continue;
		if ((rc = recover_one(dir, d->d_name, &e1)) == -1) {
			if (!failed)
				*err = e1;
			failed = 1;
		} else
			n += rc;
	}
	closedir(dp);
	return failed ? -1 : n;
}
