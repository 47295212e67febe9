/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/socket.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "mig/clock.h"
#include "mig/fdpass.h"
#include "mig/io.h"
#include "msghdr_int.h"

int
mig_fd_send(int sock, const void *buf, size_t len, int fd,
    struct mig_err *err)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr	msg;
	struct iovec	iov;
	ssize_t		n;

	memset(&cm, 0, sizeof(cm));
	mig_msghdr_init(&msg, &iov, (void *)buf, len, fd != -1 ? cm.buf : NULL,
	    fd != -1 ? sizeof(cm.buf) : 0);
	if (fd != -1) {
		cm.hdr.cmsg_level = SOL_SOCKET;
		cm.hdr.cmsg_type = SCM_RIGHTS;
		cm.hdr.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.hdr), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return mig_seterrno(err, MIG_E_IO, "passing a descriptor");
	if ((size_t)n != len)
		return mig_seterr(err, MIG_E_IO, "passing a descriptor: %zd of "
		    "%zu bytes sent", n, len);
	return 0;
}

/* The descriptors a message brought: the one in *fd, the rest closed;
 * -1 when there were more than one. */
static int
fd_take(struct msghdr *msg, int *fd)
{
	struct cmsghdr	*c;
	size_t		 i, nfd;
	int		 one, rc = 0;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&one, CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
			if (*fd == -1)
				*fd = one;
			else {
				close(one);
				rc = -1;
			}
		}
	}
	return rc;
}

int
mig_fd_recv(int sock, void *buf, size_t len, int *fd, uint64_t deadline,
    struct mig_err *err)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct mig_io	io = MIG_IO_DEADLINE(deadline);
	struct msghdr	msg;
	struct iovec	iov;
	ssize_t		n;

	*fd = -1;
	for (;;) {
		mig_msghdr_init(&msg, &iov, buf, len, cm.buf, sizeof(cm.buf));
		if ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC |
		    MSG_DONTWAIT)) >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mig_seterrno(err, MIG_E_IO, "receiving a "
			    "descriptor");
		if (mig_io_wait(sock, POLLIN, &io, "receiving from",
		    "the sandbox", err) == -1)
			return -1;
	}
	if (fd_take(&msg, fd) == -1 || (msg.msg_flags & MSG_CTRUNC)) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		return mig_seterr(err, MIG_E_PROTO, "more than one descriptor "
		    "in one message");
	}
	if (n == 0 || (size_t)n != len || (msg.msg_flags & MSG_TRUNC)) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		return mig_seterr(err, n == 0 ? MIG_E_EOF : MIG_E_PROTO,
		    n == 0 ? "the other end closed before it answered" :
		    "a message of %zd bytes where %zu were due", n, len);
	}
	return 0;
}
