/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dm_era.c's parts that need no kernel, apart for the unit tests
 * (tests/unit/test_dm_era.c): its journal record, and what dmsetup and
 * era_invalidate print.
 */
#ifndef RELOCD_DM_ERA_INT_H
#define RELOCD_DM_ERA_INT_H

#include <stddef.h>
#include <stdint.h>

#include "extents.h"

#define ERA_NAME_MAX	128		/* DM_NAME_LEN, with its NUL */
#define ERA_TABLE_MAX	16384		/* a volume's table, every line */

/* STATE_DIR/dm-era/NAME: what undoes one interposition. */
struct era_rec {
	char	name[ERA_NAME_MAX];	/* the volume's device-mapper name */
	char	table[ERA_TABLE_MAX];	/* its own table, lines ending \n */
};

/* The record as text; -1 when it does not fit or holds what a record
 * cannot (a name LVM would not make, a control character). */
int	era_rec_format(const struct era_rec *, char *, size_t);
/* The text back; -1 with why when it is not a whole record. */
int	era_rec_parse(const char *, struct era_rec *, char *, size_t);
/* 0 when name is one dm_era.c handles: what LVM names a volume. */
int	era_name_ok(const char *);
/* Whether a table (dmsetup table's output) has a line of target type. */
int	era_table_has(const char *, const char *);

/*
 * era_invalidate's XML (<blocks> of <block block="B"/> and <range
 * begin="B" end="E"/>, E exclusive, ascending) as byte ranges of blocks
 * of block_bytes, clipped to size, appended to out; -1 with why on
 * anything else, out then as it was.
 */
int	era_blocks_parse(const char *, uint32_t, uint64_t, struct extents *,
	    char *, size_t);
/* The current era from an era target's `dmsetup status` line. */
int	era_status_parse(const char *, uint32_t *, char *, size_t);

#endif
