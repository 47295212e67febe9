/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The write tracker of a raw image file (storage_track.h).  qdisk and
 * blkback open the file themselves, so nothing can be put between the
 * guest and it: instead each block's fingerprint is taken from
 * the very bytes a pass sent (track_saw), and a take reads the whole
 * file again and reports the blocks whose fingerprint changed.  Taken
 * from the bytes sent, never from a read of its own, so that a block
 * written back to what it held before a pass read it is still resent.
 * A take costs a local read of the whole file; the last one runs with
 * the guest paused, so that pause grows with the file's size, at local
 * read speed (doc/architecture.md says so, and the benchmark shows it).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/disk.h"
#include "mig/error.h"
#include "storage_track.h"

#define READ_CHUNK	TRACK_PIECE

struct files {
	int		 fd;
	uint64_t	 nblocks;
	uint64_t	*hash;		/* of the bytes last sent */
	uint8_t		*known;		/* hash[] holds them */
	uint8_t		*buf;
};


static void
files_free(struct files *f)
{
	if (f->fd != -1)
		close(f->fd);
	free(f->hash);
	free(f->known);
	free(f->buf);
	free(f);
}

static int
file_start(struct track *t, struct mig_err *err)
{
	struct files	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "%s", t->path);
	f->nblocks = (t->size + t->block - 1) / t->block;
	if ((f->fd = open(t->path, O_RDONLY | O_CLOEXEC)) == -1) {
		mig_seterrno(err, MIG_E_IO, "disk %s", t->path);
		f->fd = -1;
		files_free(f);
		return -1;
	}
	if ((f->hash = calloc(f->nblocks, sizeof(*f->hash))) == NULL ||
	    (f->known = calloc(f->nblocks, 1)) == NULL ||
	    (f->buf = malloc(READ_CHUNK)) == NULL) {
		files_free(f);
		return mig_seterrno(err, MIG_E_NOMEM, "block digests of %s",
		    t->path);
	}
	t->priv = f;
	return 0;
}

/*
 * Pieces start on a block and are whole blocks but at the disk's end
 * (storage_xfer.c reads so); a piece that does not is forgotten, block
 * by block, so that the next take resends what it touched.
 */
static void
file_saw(struct track *t, uint64_t off, const uint8_t *p, size_t n)
{
	struct files	*f = t->priv;
	uint64_t	 b, at, end = off + n, bs = t->block;
	size_t		 len;

	for (b = off / bs; b < f->nblocks && b * bs < end; b++) {
		at = b * bs;
		len = t->size - at < bs ? (size_t)(t->size - at) : (size_t)bs;
		if (at < off || at + len > end) {
			f->known[b] = 0;
			continue;
		}
		f->hash[b] = mig_disk_block_hash(p + (at - off), len);
		f->known[b] = 1;
	}
}

static int
file_take(struct track *t, struct extents *out, struct mig_err *err)
{
	struct files	*f = t->priv;
	uint64_t	 off = 0, b;
	size_t		 want, len, i;

	while (off < t->size) {
		if (t->cancelled != NULL && *t->cancelled)
			return mig_seterr(err, MIG_E_CANCELLED, "cancelled");
		if (t->tick != NULL)
			t->tick(t->tick_arg);
		want = t->size - off < READ_CHUNK ? (size_t)(t->size - off) :
		    READ_CHUNK;
		if (mig_disk_pread(f->fd, f->buf, want, off, t->path,
		    err) == -1)
			return -1;
		for (i = 0; i < want; i += len) {
			b = (off + i) / t->block;
			len = want - i < t->block ? want - i : t->block;
			if (f->known[b] && f->hash[b] ==
			    mig_disk_block_hash(f->buf + i, len))
				continue;
			if (extents_add(out, off + i, len) == -1)
				return mig_seterrno(err, MIG_E_NOMEM, "the "
				    "delta of %s", t->path);
		}
		off += want;
	}
	return 0;
}

static int
file_stop(struct track *t, struct mig_err *err)
{
	(void)err;
	files_free(t->priv);
	t->priv = NULL;
	return 0;
}

const struct track_ops	track_file_ops = {
	.name = "block digest",
	.start = file_start,
	.saw = file_saw,
	.take = file_take,
	.stop = file_stop,
};
