/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "reloc.h"

int
replace_file(const char *path, const char *tmp, int durable,
    void (*fill)(FILE *, const void *), const void *arg, struct mig_err *err)
{
	FILE	*f;
	int	 fd, bad;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", tmp);
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		return mig_seterrno(err, MIG_E_IO, "%s", tmp);
	}
	fill(f, arg);
	bad = fflush(f) == EOF || ferror(f) ||
	    (durable && fsync(fileno(f)) == -1);
	/* A reader sees the old file or the new one, never a part. */
	if (fclose(f) == EOF || bad || rename(tmp, path) == -1) {
		mig_seterrno(err, MIG_E_IO, "%s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}
