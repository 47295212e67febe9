/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "mig/conn.h"
#include "mig/io.h"
#include "conn_int.h"
#include "mig/tls.h"

struct mig_conn {
	int			 fd;
	SSL			*ssl;
	struct sockaddr_storage	 peer_sa;
	socklen_t		 peer_salen;
	char			 peer[MIG_PEERLEN];
	int			 kernel_tls;	/* MIG_KTLS_*: TLS the kernel
						 * does, set up by another
						 * process (no SSL here) */
};

enum ssl_op { OP_HANDSHAKE, OP_READ, OP_WRITE, OP_SHUTDOWN };

/* How each operation is named: alone (TLS errors) and before the peer. */
static const struct {
	const char	*verb;
	const char	*phrase;
} ssl_op_names[] = {
	[OP_HANDSHAKE] = { "handshake", "TLS handshake with" },
	[OP_READ] = { "read", "read from" },
	[OP_WRITE] = { "write", "write to" },
	[OP_SHUTDOWN] = { "shutdown", "TLS shutdown of" },
};

/* A wait on c's fd: 0 when ready, -1 with err set. */
static int
conn_wait(struct mig_conn *c, short events, const struct mig_io *io,
    const char *verb, struct mig_err *err)
{
	return mig_io_wait(c->fd, events, io, verb, c->peer, err) == -1 ?
	    -1 : 0;
}

/*
 * OpenSSL writes with write(2) through its socket BIO, which raises SIGPIPE
 * on a closed connection.  Rather than make every program ignore SIGPIPE, or
 * replace the BIO (which would disable kernel TLS), block SIGPIPE around each
 * SSL call and discard one that the call raised.
 */
struct pipe_guard {
	sigset_t	old;
	int		was_pending;
};

static void
pipe_guard_on(struct pipe_guard *g)
{
	sigset_t	set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
	g->was_pending = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE);
}

static void
pipe_guard_off(struct pipe_guard *g)
{
	static const struct timespec	zero = { 0, 0 };
	sigset_t			set, pend;
	int				saved = errno;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!g->was_pending && sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGPIPE))
		while (sigtimedwait(&set, NULL, &zero) == -1 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
	errno = saved;
}

static int
conn_ssl_call(struct mig_conn *c, enum ssl_op op, void *buf, int len,
    const struct mig_io *io)
{
	struct pipe_guard	g;
	int			ret = -1, guard;

	if ((guard = !(io->flags & MIG_IO_SIGPIPE_BLOCKED)))
		pipe_guard_on(&g);
	ERR_clear_error();
	errno = 0;
	switch (op) {
	case OP_HANDSHAKE:
		ret = SSL_do_handshake(c->ssl);
		break;
	case OP_READ:
		ret = SSL_read(c->ssl, buf, len);
		break;
	case OP_WRITE:
		ret = SSL_write(c->ssl, buf, len);
		break;
	case OP_SHUTDOWN:
		ret = SSL_shutdown(c->ssl);
		break;
	}
	if (guard)
		pipe_guard_off(&g);
	return ret;
}

/*
 * MIG_IO_QUIET_PEER: wait for room to write; if the peer has something to
 * say meanwhile (an ERROR or CANCEL frame, or it closed), it will not read
 * on: stop now rather than wait forever, and leave its bytes unread for
 * the caller.
 */
static int
conn_wait_send(struct mig_conn *c, const struct mig_io *io,
    struct mig_err *err)
{
	uint8_t	b;
	ssize_t	n;
	int	rev;

	if ((rev = mig_io_wait(c->fd, POLLOUT | POLLIN, io, "write to",
	    c->peer, err)) == -1)
		return -1;
	if (!(rev & (POLLIN | POLLHUP | POLLERR)) || (rev & POLLOUT) ||
	    (rev & POLLERR))
		return 0;	/* room, or an error the write reports */
	if (io->peer_spoke != NULL)
		return io->peer_spoke(io->peer_arg, err);
	n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		return mig_seterr(err, MIG_E_EOF, "%s closed the connection "
		    "during the stream", c->peer);
	if (n == -1 && errno != EAGAIN)
		return mig_seterrno(err, MIG_E_IO, "%s", c->peer);
	return mig_seterr(err, MIG_E_PROTO, "%s sent a message during the "
	    "stream and stopped reading", c->peer);
}

/*
 * After the SSL call op returned ret <= 0: wait for what it wants and
 * return 1 (call again), or fill err and return -1.
 */
static int
conn_ssl_retry(struct mig_conn *c, enum ssl_op op, int ret,
    const struct mig_io *io, struct mig_err *err)
{
	const char	*phrase = ssl_op_names[op].phrase;

	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return conn_wait(c, POLLIN, io, phrase, err) == 0 ? 1 : -1;
	case SSL_ERROR_WANT_WRITE:
		if (op == OP_WRITE && (io->flags & MIG_IO_QUIET_PEER))
			return conn_wait_send(c, io, err) == 0 ? 1 : -1;
		return conn_wait(c, POLLOUT, io, phrase, err) == 0 ? 1 : -1;
	default:
		return mig_tls_seterr(c->ssl, ret, ssl_op_names[op].verb,
		    c->peer, err);
	}
}

static void
conn_format_peer(struct mig_conn *c)
{
	const struct sockaddr_in	*sin = (const void *)&c->peer_sa;
	const struct sockaddr_in6	*sin6 = (const void *)&c->peer_sa;
	char				 a[INET6_ADDRSTRLEN];
	struct in_addr			 a4;

	snprintf(c->peer, sizeof(c->peer), "local");
	if (c->peer_salen >= sizeof(*sin) && sin->sin_family == AF_INET) {
		if (inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)) != NULL)
			snprintf(c->peer, sizeof(c->peer), "%s:%u", a,
			    ntohs(sin->sin_port));
	} else if (c->peer_salen >= sizeof(*sin6) &&
	    sin6->sin6_family == AF_INET6) {
		/* Show a mapped IPv4 peer as IPv4, as the ACL sees it. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(&a4, &sin6->sin6_addr.s6_addr[12], sizeof(a4));
			if (inet_ntop(AF_INET, &a4, a, sizeof(a)) != NULL)
				snprintf(c->peer, sizeof(c->peer), "%s:%u", a,
				    ntohs(sin6->sin6_port));
		} else if (inet_ntop(AF_INET6, &sin6->sin6_addr, a,
		    sizeof(a)) != NULL)
			snprintf(c->peer, sizeof(c->peer), "[%s]:%u", a,
			    ntohs(sin6->sin6_port));
	}
}

static void
conn_set_nodelay(int fd)
{
	int	one = 1;

	/* Fails harmlessly on a UNIX socket: nothing to do there. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Takes fd: on failure it is closed. */
static struct mig_conn *
conn_alloc(int fd, const struct sockaddr *sa, socklen_t salen,
    struct mig_err *err)
{
	struct mig_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "connection");
		close(fd);
		return NULL;
	}
	c->fd = fd;
	if (sa != NULL && salen > 0 && salen <= sizeof(c->peer_sa)) {
		memcpy(&c->peer_sa, sa, salen);
		c->peer_salen = salen;
	}
	conn_format_peer(c);
	return c;
}

struct mig_conn *
mig_conn_new(int fd, struct mig_err *err)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	int			fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		mig_seterrno(err, MIG_E_IO, "connection fd %d", fd);
		close(fd);
		return NULL;
	}
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		len = 0;
	conn_set_nodelay(fd);
	return conn_alloc(fd, (struct sockaddr *)&ss, len, err);
}

/* One non-blocking connect to ai; the fd, or -1 with err set. */
static int
conn_connect_one(const struct addrinfo *ai, const char *name, int timeout_ms,
    struct mig_err *err)
{
	struct mig_io	io = MIG_IO_INIT;
	int		fd, soerr = 0;
	socklen_t	len = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd == -1)
		return mig_seterrno(err, MIG_E_IO, "connect to %s: socket",
		    name);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		mig_seterrno(err, MIG_E_IO, "connect to %s", name);
		goto fail;
	}
	io.deadline = mig_deadline(timeout_ms);
	if (mig_io_wait(fd, POLLOUT, &io, "connect to", name, err) == -1)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1) {
		mig_seterrno(err, MIG_E_IO, "connect to %s", name);
		goto fail;
	}
	if (soerr != 0) {
		errno = soerr;
		mig_seterrno(err, MIG_E_IO, "connect to %s", name);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

struct mig_conn *
mig_conn_connect(const char *host, const char *port, int timeout_ms,
    struct mig_err *err)
{
	struct addrinfo	 hints, *res, *ai;
	struct mig_conn	 tmp;
	int		 fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		mig_seterr(err, MIG_E_IO, "connect to %s port %s: %s", host,
		    port, gai_strerror(rc));
		return NULL;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		/* Name each address in the error as the peer string would. */
		memset(&tmp, 0, sizeof(tmp));
		memcpy(&tmp.peer_sa, ai->ai_addr, ai->ai_addrlen);
		tmp.peer_salen = ai->ai_addrlen;
		conn_format_peer(&tmp);
		fd = conn_connect_one(ai, tmp.peer, timeout_ms, err);
	}
	freeaddrinfo(res);
	if (fd == -1)
		return NULL;
	return mig_conn_new(fd, err);
}

static int
conn_bind_one(int family, const struct sockaddr *sa, socklen_t salen,
    int backlog, int flags, const char *name, struct mig_err *err)
{
	int	fd, one = 1, v6only = (flags & MIG_LISTEN_V6ONLY) != 0;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return mig_seterrno(err, MIG_E_IO, "listen on %s: socket",
		    name);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 ||
	    (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &v6only, sizeof(v6only)) == -1)) {
		mig_seterrno(err, MIG_E_IO, "listen on %s: setsockopt", name);
		goto fail;
	}
	if (bind(fd, sa, salen) == -1) {
		mig_seterrno(err, MIG_E_IO, "listen on %s: bind", name);
		goto fail;
	}
	if (listen(fd, backlog) == -1) {
		mig_seterrno(err, MIG_E_IO, "listen on %s", name);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Bind and listen on the first address host:port resolves to that works. */
static int
conn_listen_host(const char *host, const char *name, const char *port,
    int backlog, int flags, struct mig_err *err)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		errno = EADDRNOTAVAIL;
		return mig_seterr(err, MIG_E_IO, "listen on %s: %s", name,
		    gai_strerror(rc));
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = conn_bind_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen,
		    backlog, flags, name, err);
	freeaddrinfo(res);
	return fd;
}

int
mig_conn_listen(const char *addr, const char *port, int backlog, int flags,
    struct mig_err *err)
{
	char	name[MIG_PEERLEN + 16];
	int	fd, any;

	any = addr == NULL || *addr == '\0' || strcmp(addr, "*") == 0;
	snprintf(name, sizeof(name), "%s port %s", any ? "*" : addr, port);
	if (!any)
		return conn_listen_host(addr, name, port, backlog, flags, err);
	/* The IPv6 wildcard, which unless V6ONLY also takes IPv4; 0.0.0.0
	 * on hosts without IPv6. */
	fd = conn_listen_host("::", name, port, backlog, flags, err);
	if (fd == -1 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL))
		fd = conn_listen_host("0.0.0.0", name, port, backlog, flags,
		    err);
	return fd;
}

struct mig_conn *
mig_conn_accept_fd(int lfd, struct mig_err *err)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	int			fd;

	do
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
	while (fd == -1 && errno == EINTR);
	if (fd == -1) {
		mig_seterrno(err, MIG_E_IO, "accept");
		return NULL;
	}
	conn_set_nodelay(fd);
	return conn_alloc(fd, (struct sockaddr *)&ss, len, err);
}

static int
conn_handshake(struct mig_conn *c, uint64_t deadline, struct mig_err *err)
{
	struct mig_io	io = MIG_IO_DEADLINE(deadline);
	int		ret;

	for (;;) {
		if ((ret = conn_ssl_call(c, OP_HANDSHAKE, NULL, 0, &io)) == 1)
			return 0;
		if (conn_ssl_retry(c, OP_HANDSHAKE, ret, &io, err) == -1)
			return -1;
	}
}

static int
conn_is_ip_literal(const char *s)
{
	struct in6_addr	a;

	return inet_pton(AF_INET, s, &a) == 1 ||
	    inet_pton(AF_INET6, s, &a) == 1;
}

/* A new SSL on c's fd; the caller installs it in c->ssl. */
static SSL *
conn_ssl_new(struct mig_conn *c, SSL_CTX *ctx, struct mig_err *err)
{
	SSL	*ssl;

	if (c->ssl != NULL) {
		mig_seterr(err, MIG_E_INVAL, "connection to %s already uses "
		    "TLS", c->peer);
		return NULL;
	}
	ERR_clear_error();
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, c->fd) != 1) {
		mig_seterr(err, MIG_E_NOMEM, "TLS for %s: cannot set up the "
		    "connection", c->peer);
		ERR_clear_error();
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/*
 * Undo a failed handshake.  OpenSSL has sent its alert, if any; a FIN
 * after it means a peer never waits for an answer that will not come (a
 * tls-peers-allow refusal happens after a successful handshake, and sends
 * close_notify instead).
 */
static int
conn_tls_failed(struct mig_conn *c, int notify)
{
	struct mig_io	io = MIG_IO_INIT;
	int		saved = errno;	/* the failure's, for the caller to read */

	if (notify)
		(void)conn_ssl_call(c, OP_SHUTDOWN, NULL, 0, &io);
	(void)shutdown(c->fd, SHUT_WR);
	SSL_free(c->ssl);
	c->ssl = NULL;
	ERR_clear_error();
	errno = saved;
	return -1;
}

int
mig_conn_tls_client(struct mig_conn *c, SSL_CTX *ctx,
    const char *expected_host, int timeout_ms, struct mig_err *err)
{
	SSL	*ssl;
	int	 ok;

	if (expected_host == NULL || *expected_host == '\0')
		return mig_seterr(err, MIG_E_INVAL, "TLS to %s: no expected "
		    "host name to verify the certificate against", c->peer);
	if ((ssl = conn_ssl_new(c, ctx, err)) == NULL)
		return -1;
	if (conn_is_ip_literal(expected_host))
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    expected_host);
	else {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set1_host(ssl, expected_host) == 1 &&
		    SSL_set_tlsext_host_name(ssl, expected_host) == 1;
	}
	c->ssl = ssl;
	if (!ok) {
		mig_seterr(err, MIG_E_INVAL, "TLS to %s: bad expected host "
		    "name '%s'", c->peer, expected_host);
		return conn_tls_failed(c, 0);
	}
	SSL_set_connect_state(ssl);
	if (conn_handshake(c, mig_deadline(timeout_ms), err) == -1)
		return conn_tls_failed(c, 0);
	return 0;
}

/* Refuse a peer whose first bytes cannot start a TLS handshake. */
static int
conn_sniff(struct mig_conn *c, uint64_t deadline, struct mig_err *err)
{
	struct mig_io	io = MIG_IO_DEADLINE(deadline);
	uint8_t		buf[8];
	ssize_t		n;

	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), MSG_PEEK);
		if (n > 0)
			return mig_tls_sniff(buf, n, c->peer, err);
		if (n == 0)
			return mig_seterr(err, MIG_E_EOF, "TLS handshake: peer "
			    "%s closed the connection before sending "
			    "anything", c->peer);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mig_seterrno(err, MIG_E_IO, "TLS handshake "
			    "with %s", c->peer);
		if (conn_wait(c, POLLIN, &io, "TLS handshake with", err) == -1)
			return -1;
	}
}

int
mig_conn_tls_server(struct mig_conn *c, SSL_CTX *ctx, int timeout_ms,
    struct mig_err *err)
{
	uint64_t	 deadline = mig_deadline(timeout_ms);
	SSL		*ssl;

	if (c->ssl != NULL)
		return mig_seterr(err, MIG_E_INVAL, "connection to %s already "
		    "uses TLS", c->peer);
	if (conn_sniff(c, deadline, err) == -1)
		return -1;
	if ((ssl = conn_ssl_new(c, ctx, err)) == NULL)
		return -1;
	c->ssl = ssl;
	SSL_set_accept_state(ssl);
	if (conn_handshake(c, deadline, err) == -1)
		return conn_tls_failed(c, 0);
	if (mig_tls_check_peer(ssl, c->peer, err) == -1)
		return conn_tls_failed(c, 1);
	return 0;
}

ssize_t
mig_conn_recv(struct mig_conn *c, void *buf, size_t len,
    const struct mig_io *io, struct mig_err *err)
{
	ssize_t	n;
	int	ret, chunk = len > INT_MAX ? INT_MAX : (int)len;

	if (len == 0)
		return mig_seterr(err, MIG_E_INVAL, "read from %s: zero-length "
		    "buffer", c->peer);
	/* The SSL call comes before any poll: bytes OpenSSL has already
	 * decrypted are never waited for. */
	for (;;) {
		if (c->ssl != NULL) {
			if ((ret = conn_ssl_call(c, OP_READ, buf, chunk,
			    io)) > 0)
				return ret;
			if (SSL_get_error(c->ssl, ret) == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (conn_ssl_retry(c, OP_READ, ret, io, err) == -1)
				return -1;
			continue;
		}
		if ((n = c->kernel_tls & MIG_KTLS_RX ?
		    conn_ktls_recv(c->fd, buf, len) :
		    recv(c->fd, buf, len, 0)) >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mig_seterrno(err, MIG_E_IO, "read from %s",
			    c->peer);
		if (conn_wait(c, POLLIN, io, "read from", err) == -1)
			return -1;
	}
}

int
mig_conn_recv_all(struct mig_conn *c, void *buf, size_t len,
    const struct mig_io *io, struct mig_err *err)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < len) {
		n = mig_conn_recv(c, (uint8_t *)buf + off, len - off, io, err);
		if (n == -1)
			return -1;
		if (n == 0)
			return mig_seterr(err, MIG_E_EOF, "read from %s: "
			    "connection closed after %zu of %zu bytes",
			    c->peer, off, len);
		off += n;
	}
	return 0;
}

int
mig_conn_send(struct mig_conn *c, const void *buf, size_t len,
    const struct mig_io *io, struct mig_err *err)
{
	const uint8_t	*p = buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 ret, chunk;

	while (off < len) {
		if (c->ssl != NULL) {
			/* A retried SSL_write must repeat the same
			 * arguments; chunk depends only on off. */
			chunk = len - off > INT_MAX ? INT_MAX :
			    (int)(len - off);
			ret = conn_ssl_call(c, OP_WRITE, (void *)(p + off),
			    chunk, io);
			if (ret > 0)
				off += ret;
			else if (conn_ssl_retry(c, OP_WRITE, ret, io,
			    err) == -1)
				return -1;
			continue;
		}
		n = send(c->fd, p + off, len - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mig_seterrno(err, MIG_E_IO, "write to %s",
			    c->peer);
		if (io->flags & MIG_IO_QUIET_PEER ?
		    conn_wait_send(c, io, err) == -1 :
		    conn_wait(c, POLLOUT, io, "write to", err) == -1)
			return -1;
	}
	return 0;
}

int
mig_conn_wait(struct mig_conn *c, int fd, const struct mig_io *io,
    struct mig_err *err)
{
	struct pollfd	pfd[2];
	uint64_t	now;
	int		ready = 0, timeout, n;

	/* Decrypted bytes wait in OpenSSL, not on the fd. */
	if (mig_conn_pending(c) > 0)
		return MIG_READY_CONN;
	if (fd == -1)
		return mig_io_wait(c->fd, POLLIN, io, "read from", c->peer,
		    err) == -1 ? -1 : MIG_READY_CONN;
	pfd[0].fd = c->fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = fd;
	pfd[1].events = POLLIN;
	while (ready == 0) {
		timeout = -1;
		if (io->deadline != 0) {
			if ((now = mig_now_ms()) >= io->deadline)
				return mig_seterr(err, MIG_E_TIMEOUT, "read from "
				    "%s: timed out", c->peer);
			timeout = io->deadline - now > INT_MAX ? INT_MAX :
			    (int)(io->deadline - now);
		}
		pfd[0].revents = pfd[1].revents = 0;
		if ((n = poll(pfd, 2, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			return mig_seterrno(err, MIG_E_IO, "poll");
		}
		ready = (pfd[0].revents != 0 ? MIG_READY_CONN : 0) |
		    (pfd[1].revents != 0 ? MIG_READY_FD : 0);
	}
	return ready;
}

ssize_t
mig_conn_read_some(struct mig_conn *c, void *buf, size_t len,
    uint64_t deadline, struct mig_err *err)
{
	struct mig_io	io = MIG_IO_DEADLINE(deadline);

	return mig_conn_recv(c, buf, len, &io, err);
}

int
mig_conn_read_full(struct mig_conn *c, void *buf, size_t len,
    uint64_t deadline, struct mig_err *err)
{
	struct mig_io	io = MIG_IO_DEADLINE(deadline);

	return mig_conn_recv_all(c, buf, len, &io, err);
}

int
mig_conn_write_all(struct mig_conn *c, const void *buf, size_t len,
    uint64_t deadline, struct mig_err *err)
{
	struct mig_io	io = MIG_IO_DEADLINE(deadline);

	return mig_conn_send(c, buf, len, &io, err);
}

size_t
mig_conn_pending(const struct mig_conn *c)
{
	int	n;

	if (c->ssl == NULL)
		return 0;
	n = SSL_pending(c->ssl);
	return n > 0 ? (size_t)n : 0;
}

int
mig_conn_shutdown(struct mig_conn *c, uint64_t deadline, struct mig_err *err)
{
	struct mig_io	io = MIG_IO_DEADLINE(deadline);
	int		ret;

	/* SSL_shutdown returns 0 once our close_notify is out; we do not
	 * wait for the peer's, the socket shutdown below ends our side. */
	while (c->ssl != NULL &&
	    (ret = conn_ssl_call(c, OP_SHUTDOWN, NULL, 0, &io)) < 0)
		if (conn_ssl_retry(c, OP_SHUTDOWN, ret, &io, err) == -1)
			return -1;
	if ((c->kernel_tls & MIG_KTLS_TX) &&
	    conn_ktls_close_notify(c->fd) == -1 && errno != EPIPE &&
	    errno != ENOTCONN && errno != ECONNRESET)
		return mig_seterrno(err, MIG_E_IO, "TLS shutdown of %s",
		    c->peer);
	if (shutdown(c->fd, SHUT_WR) == -1 && errno != ENOTCONN)
		return mig_seterrno(err, MIG_E_IO, "shutdown of %s", c->peer);
	return 0;
}

void
mig_conn_close(struct mig_conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

int
mig_conn_ktls(const struct mig_conn *c)
{
	int	bits = 0;

	if (c->ssl == NULL)
		return c->kernel_tls;
	if (BIO_get_ktls_send(SSL_get_wbio(c->ssl)))
		bits |= MIG_KTLS_TX;
	if (BIO_get_ktls_recv(SSL_get_rbio(c->ssl)))
		bits |= MIG_KTLS_RX;
	return bits;
}

int
mig_conn_fd(const struct mig_conn *c)
{
	return c->fd;
}

int
mig_conn_stream_fd(const struct mig_conn *c, struct mig_err *err)
{
	if (c->ssl != NULL &&
	    mig_conn_ktls(c) != (MIG_KTLS_TX | MIG_KTLS_RX))
		return mig_seterr(err, MIG_E_NOTSUP, "%s: TLS in user space: "
		    "its bytes cannot be handed over as a file descriptor",
		    c->peer);
	return c->fd;
}

int
mig_conn_is_tls(const struct mig_conn *c)
{
	return c->ssl != NULL || c->kernel_tls != 0;
}

int
mig_conn_peer_cert(const struct mig_conn *c, char *subject, size_t slen,
    char *fpr, size_t flen)
{
	if (c->ssl == NULL)
		return -1;
	return mig_tls_peer_cert(c->ssl, subject, slen, fpr, flen);
}

SSL *
mig_conn_ssl(const struct mig_conn *c)
{
	return c->ssl;
}

const char *
mig_conn_peer(const struct mig_conn *c)
{
	return c->peer;
}

void
mig_conn_set_peer(struct mig_conn *c, const char *name)
{
	snprintf(c->peer, sizeof(c->peer), "%s", name);
}

const struct sockaddr *
mig_conn_peer_addr(const struct mig_conn *c, socklen_t *len)
{
	*len = c->peer_salen;
	return (const struct sockaddr *)&c->peer_sa;
}

/*
 * Handing a connection to another process.  A plain connection, or one
 * whose records the kernel encrypts and decrypts both ways with nothing
 * decrypted left in OpenSSL, is its socket alone: the fd, and *ktls says
 * which.  The SSL is freed without a word to the peer (the kernel goes on
 * with the session) and c keeps no fd.
 */
int
mig_conn_handoff(struct mig_conn *c, int *ktls, struct mig_err *err)
{
	int	fd;

	*ktls = mig_conn_ktls(c);
	if (c->ssl != NULL && *ktls != (MIG_KTLS_TX | MIG_KTLS_RX))
		return mig_seterr(err, MIG_E_NOTSUP, "%s: TLS in user space",
		    c->peer);
	if (c->ssl != NULL && SSL_has_pending(c->ssl))
		return mig_seterr(err, MIG_E_NOTSUP, "%s: OpenSSL holds bytes "
		    "it read past the handshake", c->peer);
	SSL_free(c->ssl);
	c->ssl = NULL;
	fd = c->fd;
	c->fd = -1;
	return fd;
}

void
mig_conn_adopt_ktls(struct mig_conn *c, int ktls)
{
	c->kernel_tls = ktls;
}
