/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Local disks for storage migration (mig/disk.h).  The bytes themselves
 * travel through the relay (relay.h), as any stream does; what is here
 * is what the relay does not know: what a disk is, how big, and what it
 * holds once written.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_digest.h"
#include "mig/disk.h"
#include "mig/error.h"

#define DIGEST_CHUNK	(1024u * 1024)

int
mig_disk_probe(const char *path, uint8_t *kind, uint64_t *size,
    struct mig_err *err)
{
	struct stat	st;
	uint64_t	sz;
	int		fd;

	if (stat(path, &st) == -1)
		return mig_seterrno(err, errno == ENOENT ? MIG_E_NOTFOUND :
		    MIG_E_IO, "disk %s", path);
	if (S_ISREG(st.st_mode)) {
		*kind = MIG_DISK_FILE;
		sz = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		*kind = MIG_DISK_BLOCK;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			return mig_seterrno(err, MIG_E_IO, "disk %s", path);
		if (ioctl(fd, BLKGETSIZE64, &sz) == -1) {
			mig_seterrno(err, MIG_E_IO, "disk %s: its size", path);
			close(fd);
			return -1;
		}
		close(fd);
	} else
		return mig_seterr(err, MIG_E_INVAL, "disk %s: neither a block "
		    "device nor a regular file", path);
	if (sz == 0 || sz % MIG_DISK_SECTOR != 0)
		return mig_seterr(err, MIG_E_INVAL, "disk %s: its size %"
		    PRIu64 " is not whole %u-byte sectors", path, sz,
		    MIG_DISK_SECTOR);
	*size = sz;
	return 0;
}

int
mig_disk_flush(int fd, const char *name, struct mig_err *err)
{
	struct stat	st;

	if (fsync(fd) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s: fsync", name);
	if (fstat(fd, &st) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", name);
	/* Best effort both: a read that still hits the cache checks less,
	 * not wrongly. */
	if (S_ISBLK(st.st_mode))
		(void)ioctl(fd, BLKFLSBUF, 0);
	else
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	return 0;
}

int
mig_disk_pread(int fd, void *buf, size_t len, uint64_t off,
    const char *name, struct mig_err *err)
{
	size_t	got;
	ssize_t	n;

	for (got = 0; got < len; got += (size_t)n) {
		n = pread(fd, (uint8_t *)buf + got, len - got,
		    (off_t)(off + got));
		if (n == -1 && errno == EINTR)
			n = 0;
		else if (n == -1)
			return mig_seterrno(err, MIG_E_IO, "%s: read at %"
			    PRIu64, name, off + got);
		else if (n == 0)
			return mig_seterr(err, MIG_E_IO, "%s: ends at %" PRIu64
			    " bytes (it shrank?)", name, off + got);
	}
	return 0;
}

/* Adds [off, off + len) of fd to d, through buf (DIGEST_CHUNK bytes). */
static int
digest_range(struct img_digest *d, int fd, uint64_t off, uint64_t len,
    uint8_t *buf, const char *name, volatile int *cancelled,
    struct mig_err *err)
{
	uint64_t	end = off + len;
	size_t		want;
	ssize_t		n;

	while (off < end) {
		if (cancelled != NULL && *cancelled)
			return mig_seterr(err, MIG_E_CANCELLED, "%s: cancelled",
			    name);
		want = end - off < DIGEST_CHUNK ? (size_t)(end - off) :
		    DIGEST_CHUNK;
		if ((n = pread(fd, buf, want, (off_t)off)) == -1) {
			if (errno == EINTR)
				continue;
			return mig_seterrno(err, MIG_E_IO, "%s: read at %"
			    PRIu64, name, off);
		}
		if (n == 0)
			return mig_seterr(err, MIG_E_CORRUPT, "%s: ends at %"
			    PRIu64 " bytes, not %" PRIu64, name, off, end);
		if (img_digest_update(d, buf, (size_t)n, err) == -1)
			return -1;
		off += (uint64_t)n;
	}
	return 0;
}

int
mig_disk_digest_ranges(int fd, const struct mig_disk_range *r, size_t n,
    int xxh3, const char *name, volatile int *cancelled,
    uint8_t out[MIG_DIGEST_LEN], struct mig_err *err)
{
	struct img_digest	 d;
	uint8_t			*buf, md[IMG_DIGEST_MAX];
	size_t			 i;
	int			 rc = -1;

	if ((buf = malloc(DIGEST_CHUNK)) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "%s", name);
	if (img_digest_init(&d, xxh3 ? MIG_IMAGE_DIGEST_XXH3 :
	    MIG_IMAGE_DIGEST_SHA256, err) == -1) {
		free(buf);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (digest_range(&d, fd, r[i].off, r[i].len, buf, name,
		    cancelled, err) == -1)
			goto out;
	if (img_digest_final(&d, md, err) == -1)
		goto out;
	memset(out, 0, MIG_DIGEST_LEN);
	memcpy(out, md, MIG_DIGEST_LEN < sizeof(md) ? MIG_DIGEST_LEN :
	    sizeof(md));
	rc = 0;
 out:
	img_digest_free(&d);
	free(buf);
	return rc;
}

int
mig_disk_digest(int fd, uint64_t size, int xxh3, const char *name,
    volatile int *cancelled, uint8_t out[MIG_DIGEST_LEN],
    struct mig_err *err)
{
	struct mig_disk_range	all = { 0, size };

	return mig_disk_digest_ranges(fd, &all, 1, xxh3, name, cancelled, out,
	    err);
}

uint64_t
mig_disk_block_hash(const void *p, size_t len)
{
	return XXH3_64bits(p, len);
}
