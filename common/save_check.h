/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * save_check.c: whether a save's image can fit where it is going, asked
 * before the guest is paused (file_job.c).
 */
#ifndef RELOCD_SAVE_CHECK_H
#define RELOCD_SAVE_CHECK_H

#include <limits.h>
#include <stdint.h>
#include <stddef.h>

#include "mig/error.h"
#include "mig/hv.h"

/* What a save needs to know of the directory its image goes to. */
struct save_fs {
	char		dir[PATH_MAX];
	long		fs_type;	/* statfs(2) f_type */
	char		fs_name[32];	/* for messages: "vfat (FAT)", "nfs" */
	uint64_t	free_bytes;	/* for an unprivileged writer */
	uint64_t	max_file;	/* largest file: the file system's or
					 * RLIMIT_FSIZE; UINT64_MAX none */
	char		max_why[80];	/* which of the two, for messages */
	char		max_fix[80];	/* and the way out of it */
};

/* Bytes an uncompressed image of the guest dom may take, with a
 * configuration of config_len bytes; its type, allocation and largest
 * size decide. */
uint64_t	save_estimate(const struct mig_hv_dominfo *dom,
		    size_t config_len);
/* The directory of path, as statvfs/statfs/getrlimit see it. */
int		save_fs_probe(const char *path, struct save_fs *,
		    struct mig_err *);
/*
 * 0 if need bytes fit, in parts of split bytes unless split is 0; -1
 * (MIG_E_TOOBIG, a message that names the file system, the sizes and the
 * fix) if not.  A compressed image's size is unknown: then it only warns.
 */
int		save_fits(const struct save_fs *, uint64_t need,
		    int compressed, uint64_t split, struct mig_err *);

#endif
