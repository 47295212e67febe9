/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Write trackers (storage_track.h): the one a disk's kind takes, and
 * the common part of their lives.
 */
#include <stdlib.h>

#include "mig/log.h"
#include "mig/proto.h"
#include "storage_track.h"

static const struct track_ops *
ops_of(uint8_t kind)
{
	switch (kind) {
	case MIG_DISK_FILE:
		return &track_file_ops;
	case MIG_DISK_BLOCK:
		return &track_era_ops;
	default:
		return NULL;
	}
}

uint32_t
track_block(uint64_t size)
{
	uint32_t	b = TRACK_BLOCK_MIN;

	while (b < TRACK_PIECE && size / b > TRACK_BLOCKS_MAX)
		b *= 2;
	return b;
}

int
track_can(uint8_t kind, const char *path, struct mig_err *err)
{
	const struct track_ops	*ops = ops_of(kind);

	if (ops == NULL)
		return mig_seterr(err, MIG_E_NOTSUP, "disk %s: no write "
		    "tracker for its kind; use --non-live", path);
	if (ops->start == NULL)
		return mig_seterr(err, MIG_E_NOTSUP, "disk %s: live migration "
		    "of a block device needs the %s tracker, which this relocd "
		    "does not have yet; use --non-live", path, ops->name);
	return 0;
}

int
track_start(uint8_t kind, const char *path, uint64_t size,
    const char *state_dir, volatile int *cancelled, struct track **out,
    struct mig_err *err)
{
	struct track	*t;

	*out = NULL;
	if (track_can(kind, path, err) == -1)
		return -1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "tracker of %s", path);
	t->ops = ops_of(kind);
	t->path = path;
	t->size = size;
	t->block = track_block(size);
	t->state_dir = state_dir;
	t->cancelled = cancelled;
	if (t->ops->start(t, err) == -1) {
		free(t);
		return -1;
	}
	t->started = 1;
	*out = t;
	return 0;
}

void
track_tick(struct track *t, void (*fn)(void *), void *arg)
{
	t->tick = fn;
	t->tick_arg = arg;
}

void
track_saw(struct track *t, uint64_t off, const uint8_t *p, size_t n)
{
	if (t != NULL && t->ops->saw != NULL)
		t->ops->saw(t, off, p, n);
}

int
track_take(struct track *t, struct extents *out, struct mig_err *err)
{
	extents_free(out);
	if (t->ops->take(t, out, err) == -1) {
		extents_free(out);
		return -1;
	}
	extents_clip(out, t->size);
	return 0;
}

void
track_stop(struct track **tp)
{
	struct track	*t = *tp;
	struct mig_err	 err;

	if (t == NULL)
		return;
	*tp = NULL;
	if (t->started && t->ops->stop(t, &err) == -1)
		mig_log_warnx("%s", err.msg);
	free(t);
}
