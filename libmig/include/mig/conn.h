/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A connection: one socket, optionally wrapped in TLS, used by everything
 * above the transport (relay, relocd, xl-reloc).  The connection owns both
 * its fd and its SSL; mig_conn_close() releases them.
 *
 * The connection is the only code that reads or writes its socket, plain
 * or TLS alike: callers move bytes with mig_conn_recv/send/wait, which
 * wait as a struct mig_io says (mig/io.h: a deadline, an idle limit, a
 * cancel fd); the _full/_all/_some forms take only a deadline.  The fd is
 * always non-blocking; a wait polls it.  A deadline that passes is
 * MIG_E_TIMEOUT; a peer that closes in the middle of a read is MIG_E_EOF.
 * Neither the fd nor the SSL is handed out, with one exception:
 * mig_conn_stream_fd(), for a byte path the kernel carries alone.
 *
 * SIGPIPE: plain sends use MSG_NOSIGNAL; TLS calls run with SIGPIPE blocked
 * in the calling thread and a SIGPIPE they raise is discarded, so programs
 * need not ignore SIGPIPE (and kernel TLS, which needs OpenSSL's own socket
 * BIO, keeps working).
 */
#ifndef MIG_CONN_H
#define MIG_CONN_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "mig/clock.h"
#include "mig/error.h"
#include "mig/io.h"

struct mig_conn;

/* Room for "[ipv6-address%scope]:port". */
#define MIG_PEERLEN	80

/* mig_conn_listen() flags */
#define MIG_LISTEN_V6ONLY	0x1	/* an IPv6 socket refuses IPv4 */

/*
 * Resolve host:port (IPv4 and IPv6) and connect to each address in turn,
 * giving each timeout_ms (<= 0: the kernel's own timeout).
 */
struct mig_conn	*mig_conn_connect(const char *host, const char *port,
		    int timeout_ms, struct mig_err *);
/*
 * A listening socket (non-blocking, close-on-exec, SO_REUSEADDR) on addr,
 * NULL/""/"*" meaning every address: "::" accepting IPv4 too unless
 * MIG_LISTEN_V6ONLY, or 0.0.0.0 where there is no IPv6.  port "0" picks a
 * free port.  Returns the fd or -1.
 */
int		 mig_conn_listen(const char *addr, const char *port,
		    int backlog, int flags, struct mig_err *);
/*
 * Accept one connection on a listening fd.  NULL with errno EAGAIN (code
 * MIG_E_IO) when none is pending, for event-loop callers.
 */
struct mig_conn	*mig_conn_accept_fd(int lfd, struct mig_err *);
/* Wrap a connected socket (e.g. one end of a socketpair); takes the fd. */
struct mig_conn	*mig_conn_new(int fd, struct mig_err *);

/*
 * TLS handshakes.  The client verifies the server's chain and that its
 * certificate is valid for expected_host (a name, or an IP address literal).
 * The server first checks that the peer's first byte starts a TLS record
 * ("plaintext on TLS port" otherwise), then handshakes and applies the
 * context's tls-peers-allow.  After a failed handshake the connection has
 * sent its alert (or close_notify) and a FIN: all that is left is to close
 * it.  A plaintext peer is refused before anything is sent, so the caller
 * may still answer it in plaintext.
 */
int		 mig_conn_tls_client(struct mig_conn *, SSL_CTX *,
		    const char *expected_host, int timeout_ms,
		    struct mig_err *);
int		 mig_conn_tls_server(struct mig_conn *, SSL_CTX *,
		    int timeout_ms, struct mig_err *);

/*
 * Between 1 and len bytes, 0 at a clean end of stream (FIN, or TLS
 * close_notify).  A TLS peer that closes without close_notify is an error
 * (MIG_E_EOF), not an end: it may be a truncation.  Bytes OpenSSL has
 * already decrypted are returned before any wait.
 */
ssize_t		 mig_conn_recv(struct mig_conn *, void *, size_t,
		    const struct mig_io *, struct mig_err *);
/* Exactly len bytes, or -1 (MIG_E_EOF if the peer closed first). */
int		 mig_conn_recv_all(struct mig_conn *, void *, size_t,
		    const struct mig_io *, struct mig_err *);
/* All len bytes, or -1 (MIG_IO_QUIET_PEER: see mig/io.h). */
int		 mig_conn_send(struct mig_conn *, const void *, size_t,
		    const struct mig_io *, struct mig_err *);
/*
 * Wait until the connection has bytes to read (MIG_READY_CONN: on its
 * socket or already decrypted in OpenSSL) or fd, if not -1, is readable
 * (MIG_READY_FD); both bits may be set.  Honours io's deadline only.
 */
#define MIG_READY_CONN	0x1
#define MIG_READY_FD	0x2
int		 mig_conn_wait(struct mig_conn *, int fd, const struct mig_io *,
		    struct mig_err *);

/* The same with only a deadline. */
int		 mig_conn_read_full(struct mig_conn *, void *, size_t,
		    uint64_t deadline, struct mig_err *);
int		 mig_conn_write_all(struct mig_conn *, const void *, size_t,
		    uint64_t deadline, struct mig_err *);
ssize_t		 mig_conn_read_some(struct mig_conn *, void *, size_t,
		    uint64_t deadline, struct mig_err *);
/* Bytes already decrypted and buffered in the SSL layer. */
size_t		 mig_conn_pending(const struct mig_conn *);

/* Send TLS close_notify (if TLS) and shut down our sending side. */
int		 mig_conn_shutdown(struct mig_conn *, uint64_t deadline,
		    struct mig_err *);
void		 mig_conn_close(struct mig_conn *);

/* Which directions kernel TLS took over (see mig_tls_conf.ktls). */
#define MIG_KTLS_TX	0x1
#define MIG_KTLS_RX	0x2
int		 mig_conn_ktls(const struct mig_conn *);

/*
 * The socket, for handing the byte stream to something that reads and
 * writes it itself (libxl's save and restore): only when the kernel
 * carries every byte, a plain connection or kernel TLS both ways; -1 with
 * MIG_E_NOTSUP when OpenSSL does.  The connection keeps owning the fd; the
 * caller must not read or write the connection while it is lent out.
 */
int		 mig_conn_stream_fd(const struct mig_conn *, struct mig_err *);
int		 mig_conn_is_tls(const struct mig_conn *);

/*
 * Handing an authenticated connection to another process (relocd's
 * pre-authentication sandbox).  mig_conn_handoff(): the socket alone, when
 * it carries the connection by itself (plain, or kernel TLS both ways with
 * nothing left decrypted in OpenSSL): its fd, *ktls the MIG_KTLS_* bits;
 * c keeps no fd.  Else -1 (MIG_E_NOTSUP) and c is unchanged.  The process
 * that receives the fd wraps it (mig_conn_new) and, for kernel TLS, says
 * so with mig_conn_adopt_ktls(): mig_conn_ktls() and mig_conn_stream_fd()
 * then answer as for the original, and the connection reads and writes
 * records the kernel decrypts (a close_notify is the end of the stream).
 */
int		 mig_conn_handoff(struct mig_conn *, int *ktls,
		    struct mig_err *);
void		 mig_conn_adopt_ktls(struct mig_conn *, int ktls);
/*
 * Else the connection stays where it is, and mig_conn_pipe() carries its
 * bytes to and from fd (a socket) both ways: until both ends have closed;
 * once one has, the other has linger_ms to follow.  A peer's close becomes
 * shutdown(fd, SHUT_WR) and fd's EOF becomes mig_conn_shutdown().
 */
int		 mig_conn_pipe(struct mig_conn *, int fd, int linger_ms,
		    struct mig_err *);
/* The certificate the peer presented (mig_tls_peer_cert); -1 if none. */
int		 mig_conn_peer_cert(const struct mig_conn *, char *subject,
		    size_t, char *fpr, size_t);
/* "192.0.2.1:8002", "[2001:db8::1]:8002", or "local" for non-IP sockets. */
const char	*mig_conn_peer(const struct mig_conn *);
/* The peer's address, for mig_acl_check(); *len 0 if not known. */
/* Names the peer as the caller knows it: an accepted socket whose peer
 * reset before getpeername() would otherwise be "local". */
void		 mig_conn_set_peer(struct mig_conn *, const char *);
const struct sockaddr *mig_conn_peer_addr(const struct mig_conn *,
		    socklen_t *len);

#endif
