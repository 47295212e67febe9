/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SEND_RAW: libxl's stream through TLS in user space as libxl wrote it,
 * for a DIRECT stream (doc/protocol.md) that the kernel cannot carry
 * itself.  No DATA frame, no digest, no STREAM_END: the AEAD of every
 * TLS record checks the bytes, as with kernel TLS, and the target's libxl
 * finds the stream's end (its END record), after which the framed
 * protocol goes on.  What the relay still does is count (progress and
 * rate for the source's convergence) and pass the bytes through OpenSSL.
 *
 * While libxl writes nothing (a guest being suspended, a stalled writer)
 * before its END record, the relay watches the connection too: a target that closed it, or
 * reset it, during the stream is noticed then, not at libxl's next
 * write, as the kernel's counters tell it on the direct path; a message
 * (its ERROR) ends the relay too, and is left for the caller to read, as
 * a write that waits does (MIG_IO_QUIET_PEER).
 */
#include <sys/socket.h>
#include <errno.h>
#include <poll.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conn_int.h"
#include "relay_int.h"

/*
 * What the peer's bytes, there while we wait for libxl, are: 0 for a TLS
 * record that carried no data (OpenSSL took it), -1 for the end of the
 * connection or a message, which is left unread.
 */
static int
raw_peer(struct mig_relay *r, int fd)
{
	const char	*peer = mig_conn_peer(r->conf.conn);
	SSL		*ssl = mig_conn_ssl(r->conf.conn);
	uint8_t		 b;
	int		 n;

	if (ssl != NULL) {
		ERR_clear_error();
		if ((n = SSL_peek(ssl, &b, 1)) <= 0 && (SSL_get_error(ssl,
		    n) == SSL_ERROR_WANT_READ || SSL_get_error(ssl, n) ==
		    SSL_ERROR_WANT_WRITE))
			return 0;
	} else if ((n = (int)recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT)) ==
	    -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0)
		return mig_seterr(&r->err, MIG_E_PROTO, "%s: %s sent a "
		    "message during the stream", r->name, peer);
	return mig_seterr(&r->err, MIG_E_EOF, "%s: %s closed the connection "
	    "during the stream", r->name, peer);
}

/*
 * 0 once the local fd has bytes or its end, -1 when cancelled or the
 * peer spoke or went away.  Only until libxl's END record has passed
 * (the parser says so, r->parsing): from then on the peer may answer
 * (RECEIVED) before libxl's end of the socketpair is closed.
 */
static int
raw_wait(struct mig_relay *r)
{
	struct pollfd	p[3];
	bool		watch = r->parsing;

	p[0].fd = r->conf.local_fd;
	p[1].fd = r->cancel_fd;
	p[2].fd = watch ? mig_conn_fd(r->conf.conn) : -1;
	p[0].events = p[1].events = p[2].events = POLLIN;
	for (;;) {
		if (watch && mig_conn_pending(r->conf.conn) > 0)
			return raw_peer(r, p[2].fd);
		p[0].revents = p[1].revents = p[2].revents = 0;
		if (poll(p, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			return mig_seterrno(&r->err, MIG_E_IO, "%s: poll",
			    r->name);
		}
		if (p[1].revents != 0 && relay_cancelled(r) == -1)
			return -1;
		if (p[0].revents != 0)
			return 0;
		if (p[2].revents != 0 && raw_peer(r, p[2].fd) == -1)
			return -1;
	}
}

int
relay_send_raw(struct mig_relay *r)
{
	ssize_t	n;

	for (;;) {
		if (relay_cancelled(r) == -1 || raw_wait(r) == -1)
			return -1;
		n = relay_fd_gather(r, r->conf.local_fd, r->buf,
		    r->conf.chunk, "the local stream");
		if (n <= 0)
			return (int)n;
		atomic_fetch_add_explicit(&r->local_bytes, n,
		    memory_order_relaxed);
		if (relay_account(r, r->buf, n) == -1 ||
		    relay_conn_write(r, r->buf, n) == -1)
			return -1;
	}
}
