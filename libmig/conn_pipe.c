/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A connection's bytes to and from a local socket, both ways: what
 * relocd's pre-authentication sandbox runs when TLS stays in user space,
 * so that the process that owns the session key is never the one that
 * owns the hypervisor, and the other end reads plaintext from its socket
 * as fast as from a plain connection.
 *
 * Each wake-up moves as much as is there without waiting: OpenSSL reads
 * ahead, and the decrypted records of a burst go out in one write, not a
 * write per 16 KiB record.  Writes wait (the other side is reading, or
 * will be); the peer's direction only ever carries the few frames the
 * receiving side answers with, which the socket buffers take whole.
 */
#include <sys/socket.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "mig/conn.h"
#include "mig/io.h"
#include "conn_int.h"

#define PIPE_BUF_LEN	(256 * 1024)

/* What c has, up to len, without waiting: bytes, 0 at its end, -1 on
 * error, -2 when nothing is there yet (a record not whole yet). */
static ssize_t
pipe_from_conn(struct mig_conn *c, uint8_t *buf, size_t len,
    struct mig_err *err)
{
	const struct mig_io	now = { .deadline = 1, /* passed */
				    .cancel_fd = -1,
				    .flags = MIG_IO_SIGPIPE_BLOCKED };
	struct mig_err		e2;
	size_t			off = 0;
	ssize_t			n;

	while (off < len) {
		n = mig_conn_recv(c, buf + off, len - off, &now, &e2);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && e2.code == MIG_E_TIMEOUT)
			return off > 0 ? (ssize_t)off : -2;
		if (off > 0)
			break;		/* the end or the error comes next */
		if (n == -1)
			*err = e2;
		return n;
	}
	return (ssize_t)off;
}

static int
pipe_to_fd(int fd, const uint8_t *buf, size_t len, uint64_t deadline,
    struct mig_err *err)
{
	struct mig_io	io = MIG_IO_DEADLINE(deadline);
	size_t		off = 0;
	ssize_t		n;

	while (off < len) {
		if ((n = send(fd, buf + off, len - off, MSG_NOSIGNAL)) >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mig_seterrno(err, MIG_E_IO, "relay to the worker");
		if (mig_io_wait(fd, POLLOUT, &io, "relay to", "the worker",
		    err) == -1)
			return -1;
	}
	return 0;
}

/*
 * SIGPIPE stays blocked for the whole relay rather than around each SSL
 * call (conn.c's guard costs three system calls a 16 KiB record); one our
 * writes raised is discarded at the end.
 */
static void
pipe_sigpipe(int on, sigset_t *old)
{
	static const struct timespec	zero = { 0, 0 };
	sigset_t			set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (on) {
		pthread_sigmask(SIG_BLOCK, &set, old);
		return;
	}
	if (!sigismember(old, SIGPIPE))
		while (sigtimedwait(&set, NULL, &zero) > 0)
			;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

int
mig_conn_pipe(struct mig_conn *c, int fd, int linger_ms, struct mig_err *err)
{
	const struct mig_io	 forever = { .cancel_fd = -1,
				    .flags = MIG_IO_SIGPIPE_BLOCKED };
	struct mig_io		 io = forever;
	sigset_t		 old;
	int			 sndbuf = PIPE_BUF_LEN;
	SSL			*ssl = mig_conn_ssl(c);
	uint8_t			*buf;
	ssize_t			 n;
	int			 conn_open = 1, fd_open = 1, ready, rc = -1;
	int			 full = 0;

	if ((buf = malloc(PIPE_BUF_LEN)) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "relay buffer");
	if (ssl != NULL)
		SSL_set_read_ahead(ssl, 1);
	/* Room for a whole buffer: one write per wake-up, where the kernel
	 * allows it (net.core.wmem_max); best effort. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	pipe_sigpipe(1, &old);
	while (conn_open || fd_open) {
		/* Once one side is done, the other has linger_ms. */
		if ((!conn_open || !fd_open) && io.deadline == 0)
			io.deadline = mig_deadline(linger_ms);
		if (conn_open && full) {
			/* A buffer filled at a record's end may leave whole
			 * records read ahead in OpenSSL, which neither poll(2)
			 * nor SSL_pending() sees: read on first. */
			ready = MIG_READY_CONN;
		} else if (!conn_open) {
			/* mig_conn_wait cannot wait for fd alone */
			if (mig_io_wait(fd, POLLIN, &io, "relay from",
			    "the worker", err) == -1)
				goto out;
			ready = MIG_READY_FD;
		} else if ((ready = mig_conn_wait(c, fd_open ? fd : -1,
		    io.deadline != 0 ? &io : &forever, err)) == -1)
			goto out;
		if (conn_open && (ready & MIG_READY_CONN)) {
			if ((n = pipe_from_conn(c, buf, PIPE_BUF_LEN,
			    err)) == -1)
				goto out;
			full = n == PIPE_BUF_LEN;
			if (n == -2)
				;	/* the rest of a record is on its way */
			else if (n == 0) {
				conn_open = 0;
				if (shutdown(fd, SHUT_WR) == -1 &&
				    errno != ENOTCONN) {
					mig_seterrno(err, MIG_E_IO, "relay "
					    "to the worker");
					goto out;
				}
			} else if (pipe_to_fd(fd, buf, (size_t)n, io.deadline,
			    err) == -1)
				goto out;
		}
		if (fd_open && (ready & MIG_READY_FD)) {
			n = recv(fd, buf, PIPE_BUF_LEN, MSG_DONTWAIT);
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n == -1) {
				mig_seterrno(err, MIG_E_IO, "relay from the "
				    "worker");
				goto out;
			}
			if (n == 0) {
				fd_open = 0;
				if (mig_conn_shutdown(c, mig_deadline(
				    linger_ms), err) == -1)
					goto out;
			} else if (mig_conn_send(c, buf, (size_t)n, &io,
			    err) == -1)
				goto out;
		}
	}
	rc = 0;
out:
	pipe_sigpipe(0, &old);
	if (ssl != NULL)
		SSL_set_read_ahead(ssl, 0);
	free(buf);
	return rc;
}
