/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The relay thread's I/O: pacing (the bandwidth limit's sleeps) and the
 * relay's view of libmig's one way to wait (mig/io.h, mig/conn.h).  Every
 * wait polls the relay's cancel eventfd too, so no call can outlast a
 * cancel; the connection's waits also end after conf.idle_ms without a
 * byte.  A failure is the relay's error, named after the relay.
 */
#include <sys/socket.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "relay_int.h"

int
relay_cancelled(struct mig_relay *r)
{
	if (!atomic_load_explicit(&r->cancelled, memory_order_relaxed))
		return 0;
	r->stopped = true;
	return mig_seterr(&r->err, MIG_E_CANCELLED, "%s: cancelled", r->name);
}

int
relay_sleep(struct mig_relay *r, uint64_t ns)
{
	struct pollfd	pfd = { .fd = r->cancel_fd, .events = POLLIN };

	if (poll(&pfd, 1, (int)((ns + 999999) / 1000000)) == -1 &&
	    errno != EINTR)
		return mig_seterrno(&r->err, MIG_E_IO, "%s: poll", r->name);
	return relay_cancelled(r);
}

/* e, what the I/O layer said, as the relay's error. */
static int
relay_fail(struct mig_relay *r, const struct mig_err *e)
{
	if (e->code == MIG_E_CANCELLED)
		r->stopped = true;
	return mig_seterr(&r->err, e->code, "%s: %s", r->name, e->msg);
}

/* The limits of a wait: the cancel fd always; on the connection, the idle
 * limit too; the thread runs with every signal blocked (mig_relay_start),
 * SIGPIPE included. */
static void
relay_io(const struct mig_relay *r, struct mig_io *io, int conn)
{
	io->deadline = 0;
	io->idle_ms = conn ? r->conf.idle_ms : 0;
	io->cancel_fd = r->cancel_fd;
	io->flags = MIG_IO_SIGPIPE_BLOCKED;
	io->peer_spoke = NULL;
	io->peer_arg = NULL;
}

/* 1..len bytes, 0 at EOF, -1 on error. */
ssize_t
relay_fd_read(struct mig_relay *r, int fd, void *buf, size_t len,
    const char *what)
{
	struct mig_io	io;
	struct mig_err	e;
	ssize_t		n;

	relay_io(r, &io, 0);
	if ((n = mig_io_read(fd, buf, len, &io, what, &e)) == -1)
		return relay_fail(r, &e);
	return n;
}

/*
 * Waits for the first bytes, then takes whatever else is already there,
 * up to len: big chunks mean few frames (and better compression) without
 * ever waiting for data that has not been written yet.
 */
ssize_t
relay_fd_gather(struct mig_relay *r, int fd, uint8_t *buf, size_t len,
    const char *what)
{
	ssize_t	n, m;

	if ((n = relay_fd_read(r, fd, buf, len, what)) <= 0)
		return n;
	while ((size_t)n < len) {
		m = read(fd, buf + n, len - n);
		if (m > 0)
			n += m;
		else if (m == 0 || errno == EAGAIN)
			break;
		else if (errno != EINTR)
			return mig_seterrno(&r->err, MIG_E_IO, "%s: read from "
			    "%s", r->name, what);
	}
	return n;
}

int
relay_fd_write(struct mig_relay *r, int fd, const void *buf, size_t len,
    const char *what)
{
	struct mig_io	io;
	struct mig_err	e;

	relay_io(r, &io, 0);
	if (mig_io_write(fd, buf, len, &io, what, &e) == -1)
		return relay_fail(r, &e);
	return 0;
}

/* 1..len bytes, 0 at a clean end (FIN or close_notify), -1 on error. */
ssize_t
relay_conn_read(struct mig_relay *r, void *buf, size_t len)
{
	struct mig_io	io;
	struct mig_err	e;
	ssize_t		n;

	relay_io(r, &io, 1);
	if ((n = mig_conn_recv(r->conf.conn, buf, len, &io, &e)) == -1)
		return relay_fail(r, &e);
	atomic_fetch_add_explicit(&r->wire_bytes, n, memory_order_relaxed);
	return n;
}

/* A clean end here is the peer's, in the middle of the stream. */
int
relay_conn_read_full(struct mig_relay *r, void *buf, size_t len)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < len) {
		if ((n = relay_conn_read(r, (uint8_t *)buf + off,
		    len - off)) == -1)
			return -1;
		if (n == 0)
			return mig_seterr(&r->err, MIG_E_EOF, "%s: %s closed "
			    "the connection before the end of the stream",
			    r->name, mig_conn_peer(r->conf.conn));
		off += n;
	}
	return 0;
}

/*
 * The sender stops if the peer speaks or closes while it waits to write
 * (MIG_IO_QUIET_PEER): a peer that sent ERROR or CANCEL reads no more.
 */
int
relay_conn_write(struct mig_relay *r, const void *buf, size_t len)
{
	struct mig_io	io;
	struct mig_err	e;

	relay_io(r, &io, 1);
	io.flags |= MIG_IO_QUIET_PEER;
	/* Under credit the peer speaks on purpose: its STREAM_ACKs are read
	 * while we wait for room (relay_credit.c). */
	if (r->credit) {
		io.peer_spoke = relay_credit_peer_spoke;
		io.peer_arg = r;
	}
	if (mig_conn_send(r->conf.conn, buf, len, &io, &e) == -1)
		return r->cr_failed ? -1 : relay_fail(r, &e);
	atomic_fetch_add_explicit(&r->wire_bytes, len, memory_order_relaxed);
	return 0;
}

/*
 * The credit frames, which the counters of the stream leave out: a write
 * that waits on however the peer streams to us meanwhile, and a read
 * that, unless told to wait, returns 0 at once when nothing is there.
 */
int
relay_conn_write_ctl(struct mig_relay *r, const void *buf, size_t len)
{
	struct mig_io	io;
	struct mig_err	e;

	relay_io(r, &io, 1);
	if (mig_conn_send(r->conf.conn, buf, len, &io, &e) == -1)
		return relay_fail(r, &e);
	return 0;
}

ssize_t
relay_conn_read_ctl(struct mig_relay *r, void *buf, size_t len, bool wait)
{
	struct mig_io	io;
	struct mig_err	e;
	ssize_t		n;

	relay_io(r, &io, 1);
	if (!wait)
		io.deadline = 1;	/* long past: no wait at all */
	if ((n = mig_conn_recv(r->conf.conn, buf, len, &io, &e)) == -1) {
		if (!wait && e.code == MIG_E_TIMEOUT)
			return -2;
		return relay_fail(r, &e);
	}
	if (n == 0)
		return mig_seterr(&r->err, MIG_E_EOF, "%s: %s closed the "
		    "connection during the stream", r->name,
		    mig_conn_peer(r->conf.conn));
	return n;
}
