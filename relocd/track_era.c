/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The write tracker of an LVM volume (storage_track.h): dm-era
 * interposed under the volume (dm_era.c).  Not in this relocd yet: a
 * live migration of a block device is refused before anything moves
 * (track_can), and --non-live moves it.
 */
#include "storage_track.h"

const struct track_ops	track_era_ops = {
	.name = "dm-era",
};
