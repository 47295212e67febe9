/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The files of an image: one file, or numbered parts for file systems
 * whose largest file is smaller than the image (FAT's 4 GiB - 1).
 *
 * A part is a 48-byte header and a slice of the image; the slices, in
 * order, are the image exactly as one file holds it, so the trailer's
 * SHA-256 and length cover the whole and the parser sees one stream.
 * The header says which part it is, whether it is the last, how many
 * image bytes follow, and carries a random set id common to the parts of
 * one save: so a missing, truncated, extra, renamed or reordered part, or
 * a part left over from another save, is named in a one-line error
 * before any of its bytes are used.
 *
 * Atomicity as for one file: every part is written to a temporary file
 * next to the image, and only when all are written and synced are they
 * renamed into place; whatever the image's name held before (an older
 * set's parts, a single file) is then removed.  A crash in the middle of
 * the renames leaves parts of two sets, which the set id refuses.
 *
 * On NFS (doc/architecture.md, "Images on NFS"): write(2) fills the
 * client's cache, and the server's errors (ESTALE, or EIO/ETIMEDOUT from
 * a soft mount whose server stopped answering) come back from a later
 * write, from fsync(2), or only from close(2), which writes back what is
 * left: so close is checked as fsync is, and the image is renamed into
 * place only when both succeeded.  The server makes the rename atomic
 * and the directory durable (a sync export), and close-to-open makes a
 * client that opens the image after the rename see all of it.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "mig/image.h"
#include "image_file.h"
#include "mig/wire.h"

struct part_hdr {
	uint32_t	version;
	uint32_t	flags;
	uint32_t	index;
	uint64_t	len;
	uint8_t		setid[IMG_PART_SETID];
};

/* 0 magic, 8 version, 12 flags, 16 index, 20 reserved, 24 length,
 * 32 set id; big-endian as the trailer. */
static void
part_hdr_encode(uint8_t *buf, const struct part_hdr *h)
{
	struct wire_wr	ww;

	wire_wr_init(&ww, buf, IMG_PART_HDR);
	wire_put_bytes(&ww, IMG_PART_MAGIC, 8);
	wire_put_be32(&ww, h->version);
	wire_put_be32(&ww, h->flags);
	wire_put_be32(&ww, h->index);
	wire_put_be32(&ww, 0);
	wire_put_be64(&ww, h->len);
	wire_put_bytes(&ww, h->setid, IMG_PART_SETID);
}

static bool
part_magic(const uint8_t *buf)
{
	return memcmp(buf, IMG_PART_MAGIC, 8) == 0;
}

static void
part_hdr_decode(const uint8_t *buf, struct part_hdr *h)
{
	struct wire_rd	rd;

	wire_rd_init(&rd, buf + 8, IMG_PART_HDR - 8);
	h->version = wire_get_be32(&rd);
	h->flags = wire_get_be32(&rd);
	h->index = wire_get_be32(&rd);
	(void)wire_get_be32(&rd);
	h->len = wire_get_be64(&rd);
	memcpy(h->setid, buf + 32, IMG_PART_SETID);
}

int
img_part_name(const char *base, unsigned n, char *buf, size_t len)
{
	int	r = snprintf(buf, len, "%s.%03u", base, n);

	return r < 0 || (size_t)r >= len ? -1 : 0;
}

/* Allocated NAME.NNN; NULL only when out of memory. */
static char *
part_alloc(const char *base, unsigned n)
{
	char	*s;

	return asprintf(&s, "%s.%03u", base, n) == -1 ? NULL : s;
}

#define TEMP_RANDOM	6	/* as mkostemp's XXXXXX */
static const char temp_set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz0123456789";

/*
 * Unpredictable bytes for a name or a set id, straight from the kernel:
 * neither is a key, and OpenSSL's generator would first have to set
 * itself up in this process (its provider and DRBG), which in a worker
 * whose first image this is costs more than the rest of the save's
 * preparation together (70-160 ms in the lab's dom0).  Blocks, as
 * OpenSSL's would, only until the kernel's pool is first seeded.
 */
static int
random_fill(void *buf, size_t len)
{
	uint8_t	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		if ((n = getrandom(p, len, 0)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory (allocated) and the file name within it of path. */
static int
split_path(const char *path, char **dir, const char **base,
    struct mig_err *err)
{
	const char	*slash = strrchr(path, '/');

	*base = slash ? slash + 1 : path;
	*dir = NULL;
	if (**base == '\0')
		return mig_seterr(err, MIG_E_INVAL, "image %s: not a file name",
		    path);
	if (slash == NULL)
		*dir = strdup(".");
	else if (slash == path)
		*dir = strdup("/");
	else
		*dir = strndup(path, (size_t)(slash - path));
	if (*dir == NULL)
		return mig_seterr(err, MIG_E_NOMEM, "out of memory");
	return 0;
}

int
mig_image_temp_name(const char *path, char *buf, size_t len,
    struct mig_err *err)
{
	unsigned char		 rnd[TEMP_RANDOM];
	char			 sfx[TEMP_RANDOM + 1], *dir;
	const char		*base;
	size_t			 i;
	int			 n;

	if (split_path(path, &dir, &base, err) == -1)
		return -1;
	if (random_fill(rnd, sizeof(rnd)) == -1) {
		free(dir);
		return mig_seterrno(err, MIG_E_IO, "image %s: no random "
		    "bytes for a temporary name", path);
	}
	for (i = 0; i < TEMP_RANDOM; i++)
		sfx[i] = temp_set[rnd[i] % (sizeof(temp_set) - 1)];
	sfx[TEMP_RANDOM] = '\0';
	n = snprintf(buf, len, "%s/.%s.%s", dir, base, sfx);
	free(dir);
	if (n < 0 || (size_t)n >= len)
		return mig_seterr(err, MIG_E_TOOBIG, "image %s: path too long",
		    path);
	return 0;
}

int
mig_image_temp_target(const char *tmp, char *buf, size_t len)
{
	const char	*slash = strrchr(tmp, '/'), *base, *dot;
	size_t		 dirlen, blen;
	int		 n;

	base = slash ? slash + 1 : tmp;
	dirlen = slash ? (size_t)(slash - tmp) : 0;
	if (base[0] != '.' || (dot = strrchr(base, '.')) == base ||
	    strlen(dot + 1) != TEMP_RANDOM ||
	    strspn(dot + 1, temp_set) != TEMP_RANDOM)
		return -1;
	blen = (size_t)(dot - base) - 1;
	if (blen == 0)
		return -1;
	if (slash == NULL)
		n = snprintf(buf, len, "%.*s", (int)blen, base + 1);
	else
		n = snprintf(buf, len, "%.*s/%.*s", (int)dirlen, tmp,
		    (int)blen, base + 1);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ---- writing ---- */

static int
sink_out(struct img_sink *s, const void *buf, size_t len,
    struct mig_err *err)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = s->write_fn(s->fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return img_io_err(err, s->fs_type, "image %s: write "
			    "failed", s->path);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Part n's temporary file: the stem and the part's number. */
static int
open_part(struct img_sink *s, unsigned n, struct mig_err *err)
{
	struct part_hdr	h;
	uint8_t		buf[IMG_PART_HDR];
	char		*name;

	if (n >= IMG_PARTS_MAX)
		return mig_seterr(err, MIG_E_TOOBIG, "image %s: more than %d "
		    "parts: split it into larger ones", s->path,
		    IMG_PARTS_MAX);
	if ((name = part_alloc(s->tmp, n)) == NULL)
		return mig_seterr(err, MIG_E_NOMEM, "out of memory");
	s->fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	free(name);
	if (s->fd == -1)
		return img_io_err(err, s->fs_type, "image %s: cannot create "
		    "a temporary file in %s", s->path, s->dir);
	if (s->fs_type == 0)
		s->fs_type = img_fs_type(s->fd);
	s->created = n + 1;
	s->part = n;
	s->part_len = 0;
	/* Rewritten with the length when the part is complete. */
	memset(&h, 0, sizeof(h));
	h.version = IMG_PART_VERSION;
	h.index = n;
	memcpy(h.setid, s->setid, sizeof(h.setid));
	part_hdr_encode(buf, &h);
	return sink_out(s, buf, sizeof(buf), err);
}

/*
 * fsync, then close: both report errors of the data written earlier
 * (close(2) on NFS writes back what fsync left and reports it), and
 * either failing fails the image.  An fd is closed once, even when
 * close fails (Linux has released it).
 */
static int
sync_close(struct img_sink *s, struct mig_err *err)
{
	int	fd = s->fd, e;

	s->fd = -1;
	if (s->fsync_fn(fd) == -1) {
		e = errno;
		s->close_fn(fd);
		errno = e;
		return img_io_err(err, s->fs_type, "image %s: fsync failed",
		    s->path);
	}
	if (s->close_fn(fd) == -1)
		return img_io_err(err, s->fs_type, "image %s: close failed "
		    "(writing back its data)", s->path);
	return 0;
}

/* The open part's header gets its length and flags; synced, closed. */
static int
close_part(struct img_sink *s, bool last, struct mig_err *err)
{
	struct part_hdr	h;
	uint8_t		buf[IMG_PART_HDR];

	memset(&h, 0, sizeof(h));
	h.version = IMG_PART_VERSION;
	h.flags = last ? IMG_PART_LAST : 0;
	h.index = s->part;
	h.len = s->part_len;
	memcpy(h.setid, s->setid, sizeof(h.setid));
	part_hdr_encode(buf, &h);
	errno = 0;
	if (pwrite(s->fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf)) {
		if (errno == 0)
			errno = ENOSPC;
		return img_io_err(err, s->fs_type, "image %s: write failed",
		    s->path);
	}
	return sync_close(s, err);
}

int
img_sink_open(struct img_sink *s, const char *path, const char *tmp,
    uint64_t split, const struct mig_image_opts *o, struct mig_err *err)
{
	char		 name[PATH_MAX];
	const char	*base;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->split = split;
	s->write_fn = o != NULL && o->write_fn != NULL ? o->write_fn : write;
	s->fsync_fn = o != NULL && o->fsync_fn != NULL ? o->fsync_fn : fsync;
	s->close_fn = o != NULL && o->close_fn != NULL ? o->close_fn : close;
	if (split_path(path, &s->dir, &base, err) == -1)
		return -1;
	if ((s->path = strdup(path)) == NULL)
		return mig_seterr(err, MIG_E_NOMEM, "out of memory");
	if (tmp != NULL)
		s->tmp = strdup(tmp);
	else if (split != 0) {
		/* A stem nobody has: the parts are STEM.NNN. */
		if (mig_image_temp_name(path, name, sizeof(name), err) == -1)
			return -1;
		s->tmp = strdup(name);
	} else if (asprintf(&s->tmp, "%s/.%s.XXXXXX", s->dir, base) == -1)
		s->tmp = NULL;
	if (s->tmp == NULL)
		return mig_seterr(err, MIG_E_NOMEM, "out of memory");
	if (split != 0) {
		if (split < MIG_IMAGE_SPLIT_MIN ||
		    split > UINT64_MAX - IMG_PART_HDR)
			return mig_seterr(err, MIG_E_INVAL, "image %s: split "
			    "into parts of at least %d bytes (and fewer than "
			    "2^64)", path, MIG_IMAGE_SPLIT_MIN);
		if (random_fill(s->setid, sizeof(s->setid)) == -1)
			return mig_seterrno(err, MIG_E_IO, "image %s: no random "
			    "set id", path);
		return open_part(s, 0, err);
	}
	/* Both create the file with mode 0600. */
	if ((s->fd = tmp != NULL ? open(s->tmp, O_RDWR | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0600) : mkostemp(s->tmp, O_CLOEXEC)) == -1) {
		free(s->tmp);
		s->tmp = NULL;
		return img_io_err(err, 0, "image %s: cannot create a "
		    "temporary file in %s", path, s->dir);
	}
	s->fs_type = img_fs_type(s->fd);
	return 0;
}

int
img_sink_write(struct img_sink *s, const void *buf, size_t len,
    struct mig_err *err)
{
	const uint8_t	*p = buf;
	uint64_t	 n;

	if (s->split == 0)
		return sink_out(s, buf, len, err);
	while (len > 0) {
		if (s->part_len == s->split && (close_part(s, false,
		    err) == -1 || open_part(s, s->part + 1, err) == -1))
			return -1;
		n = s->split - s->part_len;
		if (n > len)
			n = len;
		if (sink_out(s, p, (size_t)n, err) == -1)
			return -1;
		s->part_len += n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
sink_free(struct img_sink *s)
{
	if (s->fd != -1)
		s->close_fn(s->fd);
	s->fd = -1;
	free(s->path);
	free(s->tmp);
	free(s->dir);
	s->path = s->tmp = s->dir = NULL;
}

/*
 * The parts of an older image at base from n on, while they are parts:
 * a file that only has a part's name is not ours to remove.
 */
static void
drop_parts(const char *base, unsigned n)
{
	uint8_t	 buf[IMG_PART_HDR];
	char	*name;
	int	 fd;
	bool	 part;

	for (; n < IMG_PARTS_MAX; n++) {
		if ((name = part_alloc(base, n)) == NULL)
			return;
		if ((fd = open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
			part = false;
		else {
			part = read(fd, buf, sizeof(buf)) ==
			    (ssize_t)sizeof(buf) && part_magic(buf);
			close(fd);
		}
		if (part)
			unlink(name);
		free(name);
		if (!part)
			return;
	}
}

void
img_sink_abort(struct img_sink *s)
{
	char		*name;
	unsigned	 n;

	if (s->fd != -1)
		s->close_fn(s->fd);
	s->fd = -1;
	if (s->tmp != NULL && s->split == 0)
		unlink(s->tmp);
	/* Only the parts this sink created: a name it found taken is
	 * somebody else's file. */
	for (n = 0; s->tmp != NULL && n < s->created; n++)
		if ((name = part_alloc(s->tmp, n)) != NULL) {
			unlink(name);
			free(name);
		}
	/* Renamed into place, but its directory could not be synced: the
	 * save failed and the domain runs on, so no image of it may stay
	 * for a restore to take (a second copy of the domain). */
	if (s->renamed && s->split == 0)
		unlink(s->path);
	else if (s->renamed)
		for (n = 0; n <= s->part; n++)
			if ((name = part_alloc(s->path, n)) != NULL) {
				unlink(name);
				free(name);
			}
	sink_free(s);
}

static int
sync_dir(struct img_sink *s, struct mig_err *err)
{
	int	dfd, rc = 0;

	if ((dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return img_io_err(err, s->fs_type, "image %s written, but "
		    "its directory cannot be opened to sync", s->path);
	if (s->fsync_fn(dfd) == -1)
		rc = img_io_err(err, s->fs_type, "image %s written, but "
		    "syncing its directory failed", s->path);
	close(dfd);
	return rc;
}

/* Every part into place, the first last: it is what a reader opens. */
static int
rename_parts(struct img_sink *s, struct mig_err *err)
{
	char		*from, *to;
	unsigned	 n = s->part + 1;
	int		 rc;

	while (n-- > 0) {
		from = part_alloc(s->tmp, n);
		to = part_alloc(s->path, n);
		rc = from == NULL || to == NULL ? mig_seterr(err, MIG_E_NOMEM,
		    "out of memory") : rename(from, to) == -1 ?
		    img_io_err(err, s->fs_type, "image %s: rename failed",
		    s->path) : 0;
		free(from);
		free(to);
		if (rc == -1)
			return -1;
	}
	return 0;
}

int
img_sink_commit(struct img_sink *s, struct mig_err *err)
{
	struct stat	st;

	if (s->split == 0) {
		if (sync_close(s, err) == -1)
			return -1;
		if (rename(s->tmp, s->path) == -1)
			return img_io_err(err, s->fs_type, "image %s: rename "
			    "failed", s->path);
		free(s->tmp);
		s->tmp = NULL;
		/* An older split image of that name is replaced too. */
		drop_parts(s->path, 0);
	} else {
		if (close_part(s, true, err) == -1 ||
		    rename_parts(s, err) == -1)
			return -1;
		/* Renamed: no temporary part of ours is left. */
		free(s->tmp);
		s->tmp = NULL;
		drop_parts(s->path, s->part + 1);
		if (lstat(s->path, &st) == 0 && S_ISREG(st.st_mode))
			unlink(s->path);
	}
	s->renamed = true;
	if (sync_dir(s, err) == -1)
		return -1;
	sink_free(s);
	return 0;
}

/* ---- reading ---- */

/* "part NAME.NNN <what>", one line. */
static int __attribute__((format(printf, 4, 5)))
part_err(struct img_source *src, struct mig_err *err, int code,
    const char *fmt, ...)
{
	char	what[MIG_ERRLEN];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mig_seterr(err, code, "part %s %s", src->part_path, what);
}

/*
 * Part n's header, checked against the set (part 0 starts it), and its
 * size against what the header says.
 */
static int
check_part(struct img_source *src, unsigned n, struct mig_err *err)
{
	struct part_hdr	h;
	struct stat	st;
	uint8_t		buf[IMG_PART_HDR];
	char		next[PATH_MAX];
	uint64_t	want;
	ssize_t		got;

	got = read(src->fd, buf, sizeof(buf));
	if (got == -1)
		return img_io_err(err, src->fs_type, "part %s",
		    src->part_path);
	if (got < (ssize_t)sizeof(buf))
		return part_err(src, err, MIG_E_TRUNC, "is truncated (in its "
		    "part header)");
	if (!part_magic(buf))
		return part_err(src, err, MIG_E_CORRUPT, "is not a part of a "
		    "split image");
	part_hdr_decode(buf, &h);
	if (h.version != IMG_PART_VERSION)
		return part_err(src, err, MIG_E_NOTSUP, "has part header "
		    "version %u, which this reader does not know", h.version);
	if (h.index != n)
		return part_err(src, err, MIG_E_CORRUPT, "holds part %u, not "
		    "%u: parts renamed or out of order", h.index, n);
	if (n == 0)
		memcpy(src->setid, h.setid, sizeof(src->setid));
	else if (CRYPTO_memcmp(src->setid, h.setid, sizeof(h.setid)) != 0)
		return part_err(src, err, MIG_E_CORRUPT, "belongs to another "
		    "save (a part left over from an earlier one?)");
	want = IMG_PART_HDR + h.len;
	if (h.len > UINT64_MAX - IMG_PART_HDR)
		return part_err(src, err, MIG_E_CORRUPT, "has a bad length");
	if (fstat(src->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size != want)
		return part_err(src, err, (uint64_t)st.st_size < want ?
		    MIG_E_TRUNC : MIG_E_CORRUPT, "is %s: %llu bytes, its "
		    "header says %llu", (uint64_t)st.st_size < want ?
		    "truncated" : "too long", (unsigned long long)st.st_size,
		    (unsigned long long)want);
	src->part = n;
	src->left = h.len;
	src->last = (h.flags & IMG_PART_LAST) != 0;
	if (!src->last && n + 1 >= IMG_PARTS_MAX)
		return part_err(src, err, MIG_E_CORRUPT, "is not the last, "
		    "but no part may follow it");
	if (src->last && img_part_name(src->base, n + 1, next,
	    sizeof(next)) == 0 && access(next, F_OK) == 0)
		return part_err(src, err, MIG_E_CORRUPT, "is the last, but "
		    "%s follows it: remove it if it is stale", next);
	return 0;
}

/* The next part, after src->part. */
static int
next_part(struct img_source *src, struct mig_err *err)
{
	char	*name, *prev = src->part_path;

	close(src->fd);
	src->fd = -1;
	if ((name = part_alloc(src->base, src->part + 1)) == NULL)
		return mig_seterr(err, MIG_E_NOMEM, "out of memory");
	if ((src->fd = open(name, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			mig_seterr(err, MIG_E_TRUNC, "part %s is missing (%s "
			    "is not the last part)", name, prev);
		else
			mig_seterrno(err, MIG_E_IO, "part %s", name);
		free(name);
		return -1;
	}
	free(prev);
	src->part_path = name;
	return check_part(src, src->part + 1, err);
}

/*
 * Every part's header and size, before the image is read: a missing,
 * short, extra or foreign part is refused before a restore builds
 * anything.  Reading checks each part again (it may change meanwhile).
 */
static int
scan_parts(const struct img_source *src, struct mig_err *err)
{
	struct img_source	scan;
	int			rc = 0;

	memset(&scan, 0, sizeof(scan));
	scan.split = true;
	scan.base = src->base;
	if ((scan.part_path = strdup(src->part_path)) == NULL)
		return mig_seterr(err, MIG_E_NOMEM, "out of memory");
	if ((scan.fd = open(scan.part_path, O_RDONLY | O_CLOEXEC)) == -1)
		rc = mig_seterrno(err, MIG_E_IO, "part %s", scan.part_path);
	else
		rc = check_part(&scan, 0, err);
	while (rc == 0 && !scan.last)
		rc = next_part(&scan, err);
	if (scan.fd != -1)
		close(scan.fd);
	free(scan.part_path);
	return rc;
}

void
img_source_fdopen(struct img_source *src, int fd)
{
	memset(src, 0, sizeof(*src));
	src->fd = fd;
	src->fs_type = img_fs_type(fd);
}

int
img_source_open(struct img_source *src, const char *path,
    struct mig_err *err)
{
	uint8_t	buf[IMG_PART_HDR];
	size_t	len = strlen(path);
	int	fd;

	memset(src, 0, sizeof(*src));
	src->fd = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 && errno == ENOENT) {
		/* NAME of a split image: its first part. */
		if ((src->base = strdup(path)) == NULL ||
		    (src->part_path = part_alloc(path, 0)) == NULL)
			return mig_seterr(err, MIG_E_NOMEM, "out of memory");
		if ((fd = open(src->part_path, O_RDONLY | O_CLOEXEC)) == -1 &&
		    errno == ENOENT)
			return mig_seterr(err, MIG_E_NOTFOUND, "%s",
			    strerror(ENOENT));
	}
	/* The caller names the image: the reason is enough. */
	if (fd == -1)
		return mig_seterr(err, MIG_E_IO, "%s", strerror(errno));
	src->fd = fd;
	src->fs_type = img_fs_type(fd);
	if (src->base == NULL) {
		/* NAME.000 named itself; any other part is not a start. */
		if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
		    !part_magic(buf))
			return 0;
		if (len < 4 || strcmp(path + len - 4, ".000") != 0)
			return mig_seterr(err, MIG_E_INVAL, "%s is a part of "
			    "a split image, not its first (NAME.000): give "
			    "the image's NAME", path);
		if ((src->base = strndup(path, len - 4)) == NULL ||
		    (src->part_path = strdup(path)) == NULL)
			return mig_seterr(err, MIG_E_NOMEM, "out of memory");
	}
	src->split = true;
	if (check_part(src, 0, err) == -1)
		return -1;
	return src->last ? 0 : scan_parts(src, err);
}

ssize_t
img_source_read(struct img_source *src, void *buf, size_t len,
    struct mig_err *err)
{
	uint8_t	*p = buf;
	size_t	 got = 0, want;
	ssize_t	 n;

	while (got < len) {
		want = len - got;
		if (src->split) {
			if (src->left == 0) {
				if (src->last)
					break;
				if (next_part(src, err) == -1)
					return -1;
				continue;
			}
			if (want > src->left)
				want = (size_t)src->left;
		}
		n = read(src->fd, p + got, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return img_io_err(err, src->fs_type, "read failed");
		if (n == 0) {
			/* Shrunk since its size was checked. */
			if (src->split)
				return part_err(src, err, MIG_E_TRUNC,
				    "is truncated");
			break;
		}
		got += (size_t)n;
		if (src->split)
			src->left -= (uint64_t)n;
	}
	return (ssize_t)got;
}

uint64_t
img_source_skip(struct img_source *src, uint64_t len)
{
	struct stat	st;
	off_t		off;

	if (src->split || fstat(src->fd, &st) == -1 ||
	    !S_ISREG(st.st_mode) ||
	    (off = lseek(src->fd, 0, SEEK_CUR)) == -1 || off >= st.st_size)
		return 0;
	if (len > (uint64_t)(st.st_size - off))
		len = (uint64_t)(st.st_size - off);
	if (lseek(src->fd, (off_t)len, SEEK_CUR) == -1)
		return 0;
	return len;
}

unsigned
img_source_parts(const struct img_source *src)
{
	return src->split ? src->part + 1 : 0;
}

void
img_source_close(struct img_source *src)
{
	if (src->fd != -1)
		close(src->fd);
	src->fd = -1;
	free(src->base);
	free(src->part_path);
	src->base = src->part_path = NULL;
}
