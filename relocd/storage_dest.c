/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A moved disk's destination on this host: an LVM logical volume
 * (/dev/VG/LV, made with lvcreate in the volume group VG) for a block
 * device, a file of the same size for a raw image.  relocd creates it
 * itself, at reservation, so that the space is really held before a
 * byte moves (a file's blocks are allocated, not sparse), and only ever
 * removes what it created (storage_journal.c keeps the list).
 *
 * LVM is driven through its commands, as an administrator would, with
 * argument vectors (never a shell): lvm2's library interface is gone.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/log.h"
#include "cmd.h"
#include "storage.h"

#define DEST_REMOVE_TRIES	5

/* /dev/VG/LV: its VG and LV, each a name LVM accepts. */
static int
lv_split(const char *path, char *vg, char *lv, size_t size)
{
	const char	*p, *s;

	if (strncmp(path, "/dev/", 5) != 0)
		return -1;
	p = path + 5;
	if ((s = strchr(p, '/')) == NULL || strchr(s + 1, '/') != NULL ||
	    (size_t)(s - p) >= size || strlen(s + 1) >= size)
		return -1;
	snprintf(vg, size, "%.*s", (int)(s - p), p);
	snprintf(lv, size, "%s", s + 1);
	for (p = path + 5; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("+_.-/", *p) == NULL)
			return -1;
	return vg[0] == '\0' || lv[0] == '\0' || vg[0] == '-' ||
	    lv[0] == '-' ? -1 : 0;
}

/* The directory a file goes in. */
static void
parent(const char *path, char *dir, size_t size)
{
	const char	*s = strrchr(path, '/');

	snprintf(dir, size, "%.*s", s == path ? 1 : (int)(s - path), path);
}

/* 1 with why when path cannot be a destination of that kind here. */
int
dest_check(uint8_t kind, const char *path, char *why, size_t size)
{
	char		vg[NAME_MAX + 1], lv[NAME_MAX + 1], dir[PATH_MAX];
	struct stat	st;

	if (lstat(path, &st) == 0)
		return snprintf(why, size, "%s exists here already: a moved "
		    "disk never overwrites one", path), 1;
	if (kind == MIG_DISK_BLOCK) {
		if (lv_split(path, vg, lv, sizeof(vg)) == -1)
			return snprintf(why, size, "%s: a block device moves "
			    "to an LVM volume, /dev/VG/LV (see storage_map)",
			    path), 1;
		return 0;
	}
	/* A raw image never becomes a node under /dev, a VG's included. */
	if (strncmp(path, "/dev/", 5) == 0)
		return snprintf(why, size, "%s: an image file moves to a file "
		    "in a directory, not under /dev (see storage_map)", path),
		    1;
	parent(path, dir, sizeof(dir));
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return snprintf(why, size, "%s: no directory %s here", path,
		    dir), 1;
	return 0;
}

/* The pool a destination takes its space from (a VG, a file system), as
 * a key, to add up what several disks take from one. */
int
dest_pool(uint8_t kind, const char *path, char *key, size_t size)
{
	char		vg[NAME_MAX + 1], lv[NAME_MAX + 1], dir[PATH_MAX];
	struct statvfs	sv;

	if (kind == MIG_DISK_BLOCK) {
		if (lv_split(path, vg, lv, sizeof(vg)) == -1)
			return -1;
		snprintf(key, size, "vg %s", vg);
		return 0;
	}
	parent(path, dir, sizeof(dir));
	if (statvfs(dir, &sv) == -1)
		return -1;
	snprintf(key, size, "fs %lx", (unsigned long)sv.f_fsid);
	return 0;
}

/* Bytes free where the destination would take its space. */
int
dest_free(uint8_t kind, const char *path, uint64_t *avail, char *why,
    size_t size)
{
	char		 vg[NAME_MAX + 1], lv[NAME_MAX + 1], dir[PATH_MAX];
	char		 out[128], *end;
	char		*argv[] = { "vgs", "--noheadings", "--nosuffix",
			    "--units", "b", "-o", "vg_free", vg, NULL };
	struct statvfs	 sv;
	struct mig_err	 err;

	if (kind == MIG_DISK_BLOCK) {
		if (lv_split(path, vg, lv, sizeof(vg)) == -1)
			return snprintf(why, size, "%s: not /dev/VG/LV", path),
			    1;
		if (cmd_run(argv, out, sizeof(out), &err) == -1)
			return snprintf(why, size, "volume group %s: %s", vg,
			    err.msg), 1;
		errno = 0;
		*avail = strtoull(out, &end, 10);
		if (errno != 0 || end == out || *(end + strspn(end,
		    " \t\n")) != '\0')
			return snprintf(why, size, "volume group %s: vgs says "
			    "`%.40s', not its free bytes", vg, out), 1;
		return 0;
	}
	parent(path, dir, sizeof(dir));
	if (statvfs(dir, &sv) == -1)
		return snprintf(why, size, "%s: %s", dir, strerror(errno)), 1;
	*avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	return 0;
}

int
dest_create(uint8_t kind, const char *path, uint64_t bytes,
    struct mig_err *err)
{
	char	vg[NAME_MAX + 1], lv[NAME_MAX + 1], sz[32];
	char	*argv[] = { "lvcreate", "-q", "-y", "-W", "n", "-n", lv, "-L",
		    sz, vg, NULL };
	int	fd, e;

	if (kind == MIG_DISK_BLOCK) {
		if (lv_split(path, vg, lv, sizeof(vg)) == -1)
			return mig_seterr(err, MIG_E_INVAL, "%s: not /dev/VG/LV",
			    path);
		snprintf(sz, sizeof(sz), "%" PRIu64 "b", bytes);
		return cmd_run(argv, NULL, 0, err);
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	/* Allocated now, so that the space is held, not promised. */
	if ((e = posix_fallocate(fd, 0, (off_t)bytes)) != 0) {
		errno = e;
		mig_seterrno(err, e == ENOSPC ? MIG_E_NOMEM : MIG_E_IO,
		    "%s: %" PRIu64 " bytes", path, bytes);
		close(fd);
		(void)unlink(path);
		return -1;
	}
	if (fsync(fd) == -1) {
		mig_seterrno(err, MIG_E_IO, "%s", path);
		close(fd);
		(void)unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

/* Removes what dest_create made; one that is not there is removed. */
int
dest_remove(uint8_t kind, const char *path, struct mig_err *err)
{
	char	vg[NAME_MAX + 1], lv[NAME_MAX + 1], spec[2 * NAME_MAX + 2];
	char	*argv[] = { "lvremove", "-q", "-f", spec, NULL };
	struct stat st;
	int	try;

	if (kind == MIG_DISK_BLOCK) {
		if (lv_split(path, vg, lv, sizeof(vg)) == -1)
			return mig_seterr(err, MIG_E_INVAL, "%s: not /dev/VG/LV",
			    path);
		if (lstat(path, &st) == -1 && errno == ENOENT)
			return 0;
		snprintf(spec, sizeof(spec), "%s/%s", vg, lv);
		/* The backend of a domain just destroyed may hold the
		 * volume open a moment longer ("in use"). */
		for (try = 0; cmd_run(argv, NULL, 0, err) == -1; try++) {
			if (try == DEST_REMOVE_TRIES - 1)
				return -1;
			sleep(1);
		}
		return 0;
	}
	if (unlink(path) == -1 && errno != ENOENT)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	return 0;
}
