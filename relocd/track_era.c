/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The write tracker of an LVM volume (storage_track.h), over dm_era.c:
 * dm-era interposed under the volume, so that blkback, which holds it
 * open, goes on unaware.  A take is a checkpoint: it returns the blocks
 * written since the previous one, and the pause at the last take is
 * bounded by what the guest wrote since the one before, not by the
 * volume's size.  dm_era.c journals the interposition under state_dir,
 * so that a relocd that dies with it in place puts the table back at its
 * next start (dm_era_recover).
 */
#include "dm_era.h"
#include "storage_track.h"

static int
era_start(struct track *t, struct mig_err *err)
{
	struct dm_era	*e;

	if (dm_era_attach(t->path, t->block, t->state_dir, &e, err) == -1)
		return -1;
	t->priv = e;
	return 0;
}

static int
era_take(struct track *t, struct extents *out, struct mig_err *err)
{
	return dm_era_take(t->priv, out, err);
}

static int
era_stop(struct track *t, struct mig_err *err)
{
	struct dm_era	*e = t->priv;

	t->priv = NULL;
	return dm_era_detach(e, err);
}

const struct track_ops	track_era_ops = {
	.name = "dm-era",
	.start = era_start,
	.take = era_take,
	.stop = era_stop,
};
