/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The files an image is stored in (private to libmig): one file, or a
 * split image's numbered parts NAME.000, NAME.001, ... each a part header
 * and a slice of the image.  The writer (image_write.c) writes through a
 * sink, the reader (image_read.c) reads through a source; neither sees
 * the parts.  doc/image-format.md, "Split image", is the reference.
 */
#ifndef MIG_IMAGE_FILE_H
#define MIG_IMAGE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mig/error.h"
#include "mig/image.h"

#define IMG_PART_MAGIC		"XRELOCPT"
#define IMG_PART_HDR		MIG_IMAGE_PART_HDR
#define IMG_PART_VERSION	1
#define IMG_PART_LAST		0x1
#define IMG_PART_SETID		16
#define IMG_PARTS_MAX		MIG_IMAGE_SPLIT_PARTS

/* Where an image is written: a temporary file (or one per part). */
struct img_sink {
	char		*path;		/* the image, NAME */
	char		*dir;
	char		*tmp;		/* the file, or the parts' stem */
	int		 fd;
	uint64_t	 split;		/* bytes of image a part; 0: one file */
	unsigned	 part;		/* the open part */
	unsigned	 created;	/* parts created (to remove on abort) */
	bool		 renamed;	/* in place, its directory not synced */
	uint64_t	 part_len;	/* image bytes in it so far */
	uint8_t		 setid[IMG_PART_SETID];
	long		 fs_type;	/* statfs(2)'s, for messages */
	ssize_t		(*write_fn)(int, const void *, size_t);
	int		(*fsync_fn)(int);
	int		(*close_fn)(int);
};

/*
 * Creates the temporary file (tmp, from mig_image_temp_name(), or NULL
 * for a fresh name), or the first part's when split is not 0.
 */
int	img_sink_open(struct img_sink *, const char *, const char *, uint64_t,
	    const struct mig_image_opts *, struct mig_err *);
int	img_sink_write(struct img_sink *, const void *, size_t,
	    struct mig_err *);
/*
 * Syncs, renames into place and syncs the directory; then frees.  On
 * failure nothing is removed yet: img_sink_abort does that, when the
 * caller is ready to wait for it (on a file system that stopped
 * answering, removing a file waits as long as writing it did).
 */
int	img_sink_commit(struct img_sink *, struct mig_err *);
/* Removes the temporary file(s) and frees; safe on a zeroed sink. */
void	img_sink_abort(struct img_sink *);

/* Where an image is read from: a file, or the parts of a split image. */
struct img_source {
	char		*base;		/* split: NAME, the parts' stem */
	char		*part_path;	/* split: the open part */
	int		 fd;
	bool		 split;
	bool		 last;		/* the open part is the last */
	unsigned	 part;
	uint64_t	 left;		/* image bytes left in the open part */
	long		 fs_type;	/* statfs(2)'s, for messages */
	uint8_t		 setid[IMG_PART_SETID];
};

/*
 * Opens path: a file, or the first part of a split image (path is
 * NAME and NAME.000 exists, or path is NAME.000).  -1 with errno's
 * MIG_E_NOTFOUND if there is neither.
 */
int	img_source_open(struct img_source *, const char *, struct mig_err *);
/* As open, on an fd it then owns; a split image is not looked for. */
void	img_source_fdopen(struct img_source *, int);
/* Up to len image bytes; fewer only at the end of the image. */
ssize_t	img_source_read(struct img_source *, void *, size_t,
	    struct mig_err *);
/*
 * Steps over up to len image bytes without reading them, never past the
 * end of the file: how many, 0 when it cannot (split, not seekable).
 */
uint64_t img_source_skip(struct img_source *, uint64_t);
/* Parts read so far (0: not split). */
unsigned img_source_parts(const struct img_source *);
void	img_source_close(struct img_source *);

/* fd's file system type (statfs f_type), 0 if fd is not a file. */
long	img_fs_type(int);
/*
 * A one-line I/O error from errno: "WHAT on FS: REASON", with what ESTALE,
 * or EIO and ETIMEDOUT on a network file system, likely mean; FS left
 * out when fs_type is 0.  Returns -1.
 */
int	img_io_err(struct mig_err *, long, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/* NAME.NNN of part n, into buf. */
int	img_part_name(const char *, unsigned, char *, size_t);

#endif
