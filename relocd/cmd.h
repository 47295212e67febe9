/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running the host's storage commands (LVM's, dmsetup, era_invalidate)
 * as an administrator would: an argument vector, never a shell.
 */
#ifndef RELOCD_CMD_H
#define RELOCD_CMD_H

#include <stddef.h>

#include "mig/error.h"

/*
 * Runs argv with in (may be NULL) on its stdin; a non-zero exit is
 * MIG_E_IO naming argv[0] and the first line it wrote to stderr.  With
 * ofd non-NULL, *ofd is a file holding all it wrote to stdout, at offset
 * 0 (the caller closes it).  Output goes to memory files, read once the
 * command has exited: no pipe to fill up while we wait.
 */
int	cmd_exec(char *const [], const char *, int *, struct mig_err *);
/* cmd_exec, with up to size - 1 bytes of stdout in out (may be NULL),
 * NUL-terminated. */
int	cmd_run(char *const [], char *, size_t, struct mig_err *);

#endif
