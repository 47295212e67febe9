/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A list of byte ranges of a disk, kept sorted and merged: what a write
 * tracker (dm_era.c for LVM volumes, block digests for image files)
 * reports as written since its last pass, and what a delta pass sends.
 */
#ifndef RELOCD_EXTENTS_H
#define RELOCD_EXTENTS_H

#include <stddef.h>
#include <stdint.h>

struct extent {
	uint64_t	off;
	uint64_t	len;
};

struct extents {
	struct extent	*x;
	size_t		 n;
	size_t		 cap;
	uint64_t	 bytes;		/* the sum of every len */
};

/*
 * Append [off, off + len), which must not start before the end of the
 * last range (trackers report in ascending order); a range that touches
 * the last one extends it.  -1 (ENOMEM or EINVAL) leaves the list as it
 * was.
 */
int	extents_add(struct extents *, uint64_t, uint64_t);
/* Clip every range to [0, size): a last block past a disk's end. */
void	extents_clip(struct extents *, uint64_t);
void	extents_free(struct extents *);

#endif
