/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A write tracker: which blocks of a source disk the guest wrote since
 * the last look, so that a live disk copy resends only those
 * (doc/architecture.md, "Live storage migration").
 *
 *   track_start  before pass 0, with the guest running
 *   track_saw    the bytes a pass read, as it read them, in pieces that
 *                start on a block (track->block) and are whole blocks but
 *                at the disk's end: a tracker that compares contents
 *                remembers exactly what was sent
 *   track_take   starts a new interval and returns, as whole blocks
 *                clipped to the disk, what was written in the last one
 *                (since the start for the first take)
 *   track_stop   removes everything the tracker put in place; every
 *                path ends with it, failure or success; idempotent
 *
 * Two kinds (storage_track.c picks by the disk's kind):
 *   track_file.c  a raw image file: a digest per block, taken from the
 *                 bytes sent; a take reads the whole file again locally
 *                 and reports the blocks whose digest changed.  Honest
 *                 and simple, and the pause grows with the file's size
 *                 at local read speed.
 *   track_era.c   an LVM volume: dm-era interposed under the volume
 *                 (dm_era.c); a take is a checkpoint, the pause is
 *                 bounded by what was written since the last take.
 */
#ifndef RELOCD_STORAGE_TRACK_H
#define RELOCD_STORAGE_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "extents.h"

/*
 * What a take reports in: a block a guest write dirties is resent whole,
 * so small blocks keep the paused pass small; but a tracker's state
 * grows with their number (dm-era's metadata, a digest each), so a disk
 * has at most TRACK_BLOCKS_MAX of them.  4 KiB up to 4 GiB, then
 * doubling; never more than TRACK_PIECE, which readers align to.
 */
#define TRACK_BLOCK_MIN		4096u
#define TRACK_BLOCKS_MAX	(1u << 20)
#define TRACK_PIECE		(1024u * 1024)

struct mig_err;
struct track;

struct track_ops {
	const char	*name;
	int	(*start)(struct track *, struct mig_err *);
	void	(*saw)(struct track *, uint64_t, const uint8_t *, size_t);
	int	(*take)(struct track *, struct extents *, struct mig_err *);
	int	(*stop)(struct track *, struct mig_err *);
};

struct track {
	const struct track_ops	*ops;
	const char		*path;		/* the source disk */
	uint64_t		 size;
	uint32_t		 block;		/* track_block(size) */
	const char		*state_dir;
	volatile int		*cancelled;
	/* Called now and then by a long take (a whole file read): the
	 * copy keeps its peer informed (storage_live.c). */
	void			(*tick)(void *);
	void			*tick_arg;
	void			*priv;		/* the kind's own */
	int			 started;
};

extern const struct track_ops	track_file_ops;
extern const struct track_ops	track_era_ops;

uint32_t track_block(uint64_t);
/* Whether a disk of this kind can be tracked by this relocd: 0, or -1
 * with a one-line error naming path and what to do instead. */
int	track_can(uint8_t kind, const char *path, struct mig_err *);
/* 0 with *out running, or -1 with nothing left in place. */
int	track_start(uint8_t kind, const char *path, uint64_t size,
	    const char *state_dir, volatile int *cancelled, struct track **out,
	    struct mig_err *);
void	track_tick(struct track *, void (*)(void *), void *);
void	track_saw(struct track *, uint64_t, const uint8_t *, size_t);
int	track_take(struct track *, struct extents *, struct mig_err *);
/* Removes it and frees it; NULL or stopped already: nothing.  A failure
 * to remove is logged (the kind's own journal keeps what is owed). */
void	track_stop(struct track **);

#endif
