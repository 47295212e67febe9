/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cancel-aware I/O for the relay thread.  Every fd is non-blocking (a
 * regular file simply never says EAGAIN) and every wait polls the relay's
 * cancel eventfd too, so no call can outlast a cancel.  The connection is
 * driven with SSL_read/SSL_write directly, not through conn.c's blocking
 * helpers, for the same reason; an SSL call is tried before any poll, so
 * bytes OpenSSL already buffered are never waited for.
 */
#include <sys/socket.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "relay_int.h"
#include "mig/tls.h"

int
relay_cancelled(struct mig_relay *r)
{
	if (!atomic_load_explicit(&r->cancelled, memory_order_relaxed))
		return 0;
	r->stopped = true;
	return mig_seterr(&r->err, MIG_E_CANCELLED, "%s: cancelled", r->name);
}

/*
 * Wait for events on fd (-1: none) or timeout_ms (-1: forever).  0 with
 * *revents set (0 on timeout), -1 if cancelled or poll failed.
 */
static int
relay_poll(struct mig_relay *r, int fd, short events, int timeout_ms,
    short *revents)
{
	struct pollfd	pfd[2];
	int		n;

	pfd[0].fd = r->cancel_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = fd;
	pfd[1].events = events;
	for (;;) {
		pfd[0].revents = pfd[1].revents = 0;
		n = poll(pfd, 2, timeout_ms);
		if (n >= 0)
			break;
		if (errno != EINTR)
			return mig_seterrno(&r->err, MIG_E_IO, "%s: poll",
			    r->name);
	}
	if (relay_cancelled(r) == -1)
		return -1;
	if (pfd[1].revents & POLLNVAL) {
		errno = EBADF;
		return mig_seterrno(&r->err, MIG_E_IO, "%s: fd %d", r->name,
		    fd);
	}
	*revents = pfd[1].revents;
	return 0;
}

int
relay_sleep(struct mig_relay *r, uint64_t ns)
{
	short	rev;

	return relay_poll(r, -1, 0, (int)((ns + 999999) / 1000000), &rev);
}

/* How long a wait on fd may last: idle_ms on the connection. */
static int
relay_wait_ms(struct mig_relay *r, int fd)
{
	if (r->conf.idle_ms > 0 && r->conf.conn != NULL &&
	    fd == mig_conn_fd(r->conf.conn))
		return r->conf.idle_ms;
	return -1;
}

static int
relay_timed_out(struct mig_relay *r, int fd, short rev)
{
	if (rev != 0 || relay_wait_ms(r, fd) == -1)
		return 0;
	return mig_seterr(&r->err, MIG_E_TIMEOUT, "%s: %s neither sent nor "
	    "took a byte for %d s", r->name, mig_conn_peer(r->conf.conn),
	    r->conf.idle_ms / 1000);
}

static int
relay_wait(struct mig_relay *r, int fd, short events)
{
	short	rev;

	if (relay_poll(r, fd, events, relay_wait_ms(r, fd), &rev) == -1)
		return -1;
	return relay_timed_out(r, fd, rev);
}

/* 1..len bytes, 0 at EOF, -1 on error. */
ssize_t
relay_fd_read(struct mig_relay *r, int fd, void *buf, size_t len,
    const char *what)
{
	ssize_t	n;

	for (;;) {
		if ((n = read(fd, buf, len)) >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mig_seterrno(&r->err, MIG_E_IO, "%s: read from "
			    "%s", r->name, what);
		if (relay_wait(r, fd, POLLIN) == -1)
			return -1;
	}
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
			return mig_seterrno(&r->err, MIG_E_IO, "%s: write to "
			    "%s", r->name, what);
		if (relay_wait(r, fd, POLLOUT) == -1)
			return -1;
	}
	return 0;
}

/*
 * The sender waits to write.  If the peer has something to say meanwhile
 * (an ERROR or CANCEL frame, or it closed), it will not read on: stop now
 * rather than wait forever, and leave its bytes unread for the caller.
 */
static int
relay_wait_send(struct mig_relay *r, int fd, short events)
{
	const char	*peer = mig_conn_peer(r->conf.conn);
	short		 rev;
	uint8_t		 b;
	ssize_t		 n;

	if (relay_poll(r, fd, events | POLLIN, relay_wait_ms(r, fd),
	    &rev) == -1 || relay_timed_out(r, fd, rev) == -1)
		return -1;
	if ((events & POLLIN) || !(rev & (POLLIN | POLLHUP | POLLERR)) ||
	    (rev & POLLOUT))
		return 0;
	if (rev & POLLERR)
		return 0;	/* the write reports it precisely */
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		return mig_seterr(&r->err, MIG_E_EOF, "%s: %s closed the "
		    "connection during the stream", r->name, peer);
	if (n == -1 && errno != EAGAIN)
		return mig_seterrno(&r->err, MIG_E_IO, "%s: %s", r->name,
		    peer);
	return mig_seterr(&r->err, MIG_E_PROTO, "%s: %s sent a message "
	    "during the stream and stopped reading", r->name, peer);
}

/* After SSL_read/SSL_write returned ret <= 0: 1 to retry, -1 on error. */
static int
relay_ssl_retry(struct mig_relay *r, SSL *ssl, int ret, int sending,
    const char *what)
{
	int	fd = mig_conn_fd(r->conf.conn);

	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return relay_wait(r, fd, POLLIN) == -1 ? -1 : 1;
	case SSL_ERROR_WANT_WRITE:
		if (sending)
			return relay_wait_send(r, fd, POLLOUT) == -1 ? -1 : 1;
		return relay_wait(r, fd, POLLOUT) == -1 ? -1 : 1;
	default:
		mig_tls_seterr(ssl, ret, what, mig_conn_peer(r->conf.conn),
		    &r->err);
		ERR_clear_error();
		return -1;
	}
}

/* 1..len bytes, 0 at a clean end (FIN or close_notify), -1 on error. */
ssize_t
relay_conn_read(struct mig_relay *r, void *buf, size_t len)
{
	struct mig_conn	*c = r->conf.conn;
	SSL		*ssl = mig_conn_ssl(c);
	int		 fd = mig_conn_fd(c), ret;
	ssize_t		 n;

	for (;;) {
		if (ssl != NULL) {
			ERR_clear_error();
			ret = SSL_read(ssl, buf, len > INT_MAX ? INT_MAX :
			    (int)len);
			if (ret > 0) {
				n = ret;
				break;
			}
			if (SSL_get_error(ssl, ret) == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (relay_ssl_retry(r, ssl, ret, 0, "read") == -1)
				return -1;
			continue;
		}
		if ((n = recv(fd, buf, len, 0)) >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mig_seterrno(&r->err, MIG_E_IO, "%s: read from "
			    "%s", r->name, mig_conn_peer(c));
		if (relay_wait(r, fd, POLLIN) == -1)
			return -1;
	}
	atomic_fetch_add_explicit(&r->wire_bytes, n, memory_order_relaxed);
	return n;
}

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

int
relay_conn_write(struct mig_relay *r, const void *buf, size_t len)
{
	struct mig_conn	*c = r->conf.conn;
	SSL		*ssl = mig_conn_ssl(c);
	const uint8_t	*p = buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd = mig_conn_fd(c), ret;

	while (off < len) {
		if (ssl != NULL) {
			/* Without partial writes SSL_write sends it all or
			 * wants the very same call again. */
			ERR_clear_error();
			ret = SSL_write(ssl, p + off, len - off > INT_MAX ?
			    INT_MAX : (int)(len - off));
			if (ret > 0)
				off += ret;
			else if (relay_ssl_retry(r, ssl, ret, 1,
			    "write") == -1)
				return -1;
			continue;
		}
		if ((n = send(fd, p + off, len - off, MSG_NOSIGNAL)) >= 0) {
			off += n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mig_seterrno(&r->err, MIG_E_IO, "%s: write to "
			    "%s", r->name, mig_conn_peer(c));
		if (relay_wait_send(r, fd, POLLOUT) == -1)
			return -1;
	}
	atomic_fetch_add_explicit(&r->wire_bytes, len, memory_order_relaxed);
	return 0;
}
