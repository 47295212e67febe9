/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fault knob fail_sync STATE, for relocd-sim only (linked with
 * -Wl,--wrap=fdatasync): an fdatasync of a journal whose last record is
 * in STATE fails with EIO after the write went in, as a failing disk
 * does.  The host directory is RELOCD_SIM_DIR, as for the backend.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim.h"

int	__real_fdatasync(int);
int	__wrap_fdatasync(int);

/* Does the file's last line hold " STATE "? */
static int
last_line_in(int fd, const char *state)
{
	struct stat	st;
	char		buf[512], want[40], *nl;
	off_t		off;
	ssize_t		n;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size < 2)
		return 0;
	off = st.st_size > (off_t)sizeof(buf) - 1 ?
	    st.st_size - (off_t)sizeof(buf) + 1 : 0;
	if ((n = pread(fd, buf, sizeof(buf) - 1, off)) <= 0)
		return 0;
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	nl = strrchr(buf, '\n');
	snprintf(want, sizeof(want), " %s ", state);
	return strstr(nl != NULL ? nl + 1 : buf, want) != NULL;
}

int
__wrap_fdatasync(int fd)
{
	struct sim_faults	 f;
	const char		*dir = getenv("RELOCD_SIM_DIR");

	if (dir != NULL && sim_faults_load(dir, &f, NULL) == 0 &&
	    f.fail_sync[0] != '\0' && last_line_in(fd, f.fail_sync)) {
		errno = EIO;
		return -1;
	}
	return __real_fdatasync(fd);
}
