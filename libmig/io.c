/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/socket.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>

#include "mig/clock.h"
#include "mig/io.h"

/* The poll(2) timeout that honours both the deadline and the idle limit,
 * and whether it is the idle limit that ends it; -1 if the deadline has
 * passed. */
static int
io_timeout(const struct mig_io *io, int *idle)
{
	uint64_t	now, left;
	int		t = -1;

	*idle = 0;
	if (io->deadline != 0) {
		now = mig_now_ms();
		if (now >= io->deadline)
			return -2;
		left = io->deadline - now;
		t = left > INT_MAX ? INT_MAX : (int)left;
	}
	if (io->idle_ms > 0 && (t < 0 || io->idle_ms < t)) {
		t = io->idle_ms;
		*idle = 1;
	}
	return t;
}

int
mig_io_wait(int fd, short events, const struct mig_io *io, const char *verb,
    const char *name, struct mig_err *err)
{
	struct pollfd	pfd[2];
	int		n, timeout, idle;

	pfd[0].fd = fd;
	pfd[0].events = events;
	pfd[1].fd = io->cancel_fd;
	pfd[1].events = POLLIN;
	for (;;) {
		if ((timeout = io_timeout(io, &idle)) == -2)
			return mig_seterr(err, MIG_E_TIMEOUT, "%s %s: timed out",
			    verb, name);
		pfd[0].revents = pfd[1].revents = 0;
		n = poll(pfd, io->cancel_fd >= 0 ? 2 : 1, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return mig_seterrno(err, MIG_E_IO, "%s %s: poll", verb,
			    name);
		}
		if (pfd[1].revents != 0)
			return mig_seterr(err, MIG_E_CANCELLED, "cancelled");
		if (pfd[0].revents & POLLNVAL) {
			errno = EBADF;
			return mig_seterrno(err, MIG_E_IO, "%s %s", verb, name);
		}
		if (pfd[0].revents != 0)
			return pfd[0].revents;
		if (n == 0 && idle)
			return mig_seterr(err, MIG_E_TIMEOUT, "%s neither sent "
			    "nor took a byte for %d s", name,
			    io->idle_ms / 1000);
	}
}

ssize_t
mig_io_read(int fd, void *buf, size_t len, const struct mig_io *io,
    const char *name, struct mig_err *err)
{
	ssize_t	n;

	for (;;) {
		if ((n = read(fd, buf, len)) >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mig_seterrno(err, MIG_E_IO, "read from %s", name);
		if (mig_io_wait(fd, POLLIN, io, "read from", name, err) == -1)
			return -1;
	}
}

int
mig_io_write(int fd, const void *buf, size_t len, const struct mig_io *io,
    const char *name, struct mig_err *err)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) >= 0) {
			p += n;
			len -= n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mig_seterrno(err, MIG_E_IO, "write to %s", name);
		if (mig_io_wait(fd, POLLOUT, io, "write to", name, err) == -1)
			return -1;
	}
	return 0;
}
