/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which blocks of a live device-mapper volume (an LVM logical volume a
 * running guest has as its disk) were written since a point in time:
 * dm-era interposed under it, for the delta passes of a live disk copy.
 * doc/architecture.md, "Live storage migration", has the design; dm_era.c
 * the steps and their order.
 */
#ifndef RELOCD_DM_ERA_H
#define RELOCD_DM_ERA_H

#include <stdint.h>

#include "extents.h"
#include "mig/error.h"

/* The tracking granule when the caller names none (0). */
#define DM_ERA_BLOCK_DEFAULT	(64u * 1024)

struct dm_era;

/*
 * Interposes dm-era under dev (a device-mapper node such as /dev/VG/LV,
 * possibly held open by blkback), tracking blocks of block_bytes (a
 * multiple of 4 KiB, or 0 for DM_ERA_BLOCK_DEFAULT).  Each step is
 * journaled in state_dir first, so that dm_era_recover can undo a crash;
 * a failure undoes what was done.  A write that completes after this
 * returns is in the next dm_era_take.
 */
int	dm_era_attach(const char *, uint32_t, const char *, struct dm_era **,
	    struct mig_err *);
/*
 * Starts a new era; out (appended to; the caller frees it) gets the byte
 * ranges, merged and clipped to the device's size, of every block
 * written since the previous take or the attach.  Every write those
 * ranges cover has completed when it returns.  Each take stalls the
 * volume's I/O for a suspend and resume.  After a failure the handle
 * is good only for dm_era_detach (the volume may be suspended until
 * then).
 */
int	dm_era_take(struct dm_era *, struct extents *, struct mig_err *);
/* Puts dev's own table back, removes what attach made, drops the
 * journal record, frees; NULL is a no-op.  On failure the record stays
 * for dm_era_recover, and the handle is freed all the same. */
int	dm_era_detach(struct dm_era *, struct mig_err *);
/* Undoes every interposition in state_dir whose process is gone; the
 * number undone, or -1 (err says the first failure; the rest are still
 * tried). */
int	dm_era_recover(const char *, struct mig_err *);

#endif
