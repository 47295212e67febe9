/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fault knobs image_fail and image_fail_after, for relocd-sim only
 * (linked with -Wl,--wrap=write,--wrap=fsync,--wrap=close): the I/O of an
 * image being written fails as a file system that went away fails it --
 * an NFS server that stopped answering a soft mount (EIO, ETIMEDOUT), or
 * a file handle gone stale (ESTALE).  relocd's file_job.c hands libmig
 * write, fsync and close from its own object, so only the image's I/O
 * reaches these wrappers among libmig's; relocd's own writes pass through.
 *
 * image_fail OP:ERRNO, OP one of write, fsync, close: that call on a
 * temporary image file (DIR/.NAME.XXXXXX, mig_image_temp_target) fails
 * with ERRNO (EIO, ESTALE, ETIMEDOUT); a write only once the file holds
 * image_fail_after bytes (0 if unset).  A failing close still closes the
 * fd, as Linux's does.  The host directory is RELOCD_SIM_DIR.
 */
#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/image.h"
#include "sim.h"

ssize_t	__real_write(int, const void *, size_t);
ssize_t	__wrap_write(int, const void *, size_t);
int	__real_fsync(int);
int	__wrap_fsync(int);
int	__real_close(int);
int	__wrap_close(int);

static const struct {
	const char	*name;
	int		 no;
} errnos[] = {
	{ "EIO", EIO }, { "ESTALE", ESTALE }, { "ETIMEDOUT", ETIMEDOUT },
};

/*
 * The errno op on fd fails with, or 0: the knob names op, and fd is a
 * temporary image file holding at least image_fail_after bytes.
 */
static int
armed(int fd, const char *op)
{
	struct sim_faults	 f;
	struct stat		 st;
	const char		*dir = getenv("RELOCD_SIM_DIR"), *colon;
	char			 link[64], path[PATH_MAX], target[PATH_MAX];
	size_t			 i, oplen = strlen(op);
	ssize_t			 n;

	if (dir == NULL || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return 0;
	path[n] = '\0';
	if (mig_image_temp_target(path, target, sizeof(target)) == -1 ||
	    sim_faults_load(dir, &f, NULL) == -1 ||
	    (colon = strchr(f.image_fail, ':')) == NULL ||
	    (size_t)(colon - f.image_fail) != oplen ||
	    strncmp(f.image_fail, op, oplen) != 0)
		return 0;
	if (strcmp(op, "write") == 0 && st.st_size < f.image_fail_after)
		return 0;
	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcmp(colon + 1, errnos[i].name) == 0)
			return errnos[i].no;
	return 0;
}

ssize_t
__wrap_write(int fd, const void *buf, size_t len)
{
	int	e = armed(fd, "write");

	if (e == 0)
		return __real_write(fd, buf, len);
	errno = e;
	return -1;
}

int
__wrap_fsync(int fd)
{
	int	e = armed(fd, "fsync");

	if (e == 0)
		return __real_fsync(fd);
	errno = e;
	return -1;
}

int
__wrap_close(int fd)
{
	int	e = armed(fd, "close");

	if (e == 0)
		return __real_close(fd);
	__real_close(fd);
	errno = e;
	return -1;
}
