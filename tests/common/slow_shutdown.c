/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For tests only: shutdown(2) interposed, so that a thread can be held
 * right after it shut a local (AF_UNIX) socket down with SHUT_RDWR, for
 * slow_shutdown_ms, or $TEST_SLOW_SHUTDOWN_MS when no test set it.  That
 * is the worst schedule for a relay that fails: the process it woke (the
 * save helper, the restore reading its stream) fails and is reaped while
 * the relay has not run again.  A definition in the program itself takes
 * the place of libc's for libmig.so's calls too.
 */
#include <sys/socket.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

#include "slow_shutdown.h"

int	slow_shutdown_ms = -1;

int
shutdown(int fd, int how)
{
	static int	(*real)(int, int);
	struct sockaddr_storage	ss;
	socklen_t	len = sizeof(ss);
	struct timespec	ts;
	const char	*v;
	int		rc, ms = slow_shutdown_ms;

	if (real == NULL &&
	    (real = (int (*)(int, int))dlsym(RTLD_NEXT, "shutdown")) == NULL)
		abort();
	rc = real(fd, how);
	if (ms < 0)
		ms = (v = getenv("TEST_SLOW_SHUTDOWN_MS")) != NULL ? atoi(v) : 0;
	if (ms > 0 && how == SHUT_RDWR &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family == AF_UNIX) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
	return rc;
}
