/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which way a migration's bytes go, and the direct way itself.
 *
 * The relay (libmig/relay.c) copies libxl's stream between a socketpair
 * and the connection, which compression, a bandwidth limit and TLS in
 * user space need.  Where none of them is asked and the kernel carries
 * every byte of the connection (plain TCP, or kernel TLS both ways),
 * libxl is given the connection's socket itself, as xl migrate gives it
 * its pipe: its save writes the stream straight into it, and its restore
 * reads exactly the stream's records, up to libxl's END record, after
 * which the framed protocol goes on on the same connection
 * (doc/protocol.md, DIRECT).  With TLS in user space the stream is direct
 * as well, without the kernel at the source: its relay passes libxl's
 * bytes through OpenSSL unframed (MIG_RELAY_SEND_RAW, byte_path_raw),
 * and the target lends libxl the socketpair of the sandbox that keeps
 * the TLS (byte_path_sandbox).
 *
 * Nothing then touches the bytes: what the relay used to count comes from
 * the kernel's own counters (TCP_INFO: bytes acknowledged by the peer when
 * sending, bytes received when receiving), sampled twice a second, which
 * also tell a stalled peer (no byte for peer_timeout) from a busy one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <linux/tcp.h>

#include <event2/event.h>

#include "mig/conn.h"
#include "mig/hv.h"
#include "mig/log.h"
#include "relocd.h"

struct direct {
	struct worker	*w;
	struct event	*tick;
	const char	*peer;		/* the connection's name for it */
	int		 fd;		/* the connection's: lent, not ours */
	int		 cfd;		/* the TCP socket counted: fd, or the
					 * sandbox's (byte_path_sandbox) */
	int		 fl;		/* its fcntl flags before */
	int		 sending;
	uint64_t	 base;		/* the counter at the start */
	uint64_t	 last;		/* ... at the last change */
	uint64_t	 last_ms;
	int		 stalled;	/* we shut it down: no progress */
	int		 gone;		/* ... the peer closed or reset it */
	int		 cancelled;	/* we shut it down: cancel */
};

/* TCP_ESTABLISHED of the kernel's tcp_states.h (ABI: ss(8) reads it). */
#define DIRECT_TCP_ESTABLISHED	1

struct direct_count {
	uint64_t	bytes;		/* libxl wrote, or read */
	uint64_t	moved;		/* the peer took, or arrived */
	int		waiting;	/* for the peer, if none move */
	int		open;		/* both ways, as far as TCP knows */
};

/* What the kernel knows of the stream (-1: not TCP). */
static int
direct_count(int fd, int sending, struct direct_count *n)
{
	struct tcp_info	ti;
	socklen_t	len = sizeof(ti);
	int		outq = 0, inq = 0;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) +
	    sizeof(ti.tcpi_bytes_received))
		return -1;
	n->open = ti.tcpi_state == DIRECT_TCP_ESTABLISHED;
	if (!sending) {
		/* What libxl read: what arrived, less what waits (SIOCINQ),
		 * for the stream may have begun arriving before us. */
		if (ioctl(fd, SIOCINQ, &inq) == -1 || inq < 0 ||
		    (uint64_t)inq > ti.tcpi_bytes_received)
			inq = 0;
		n->moved = ti.tcpi_bytes_received;
		n->bytes = n->moved - (uint64_t)inq;
		n->waiting = 1;
		return 0;
	}
	/* What libxl wrote is what the peer took and what it has yet to
	 * take (SIOCOUTQ), so that a stream's count is whole at its end; a
	 * sender is stalled only with bytes the peer does not take. */
	if (ioctl(fd, SIOCOUTQ, &outq) == -1 || outq < 0)
		outq = 0;
	n->moved = ti.tcpi_bytes_acked;
	n->bytes = n->moved + (uint64_t)outq;
	n->waiting = outq > 0;
	return 0;
}

/* Why the connection can or cannot carry libxl's stream itself; 1 when it
 * can ("plain TCP", "kernel TLS"), 0 with the reason it cannot. */
int
byte_path_can(const struct mig_conn *c, const char **what)
{
	struct mig_err		err;
	struct direct_count	n;
	int			fd, k;

	if ((fd = mig_conn_stream_fd(c, &err)) == -1) {
		k = mig_conn_ktls(c);
		*what = k == 0 ? "TLS in user space: no kernel TLS" :
		    k == MIG_KTLS_TX ? "TLS in user space: kernel TLS sends "
		    "but does not receive" : "TLS in user space: kernel TLS "
		    "receives but does not send";
		return 0;
	}
	if (direct_count(fd, 1, &n) == -1) {
		*what = "not a TCP connection";
		return 0;
	}
	*what = mig_conn_is_tls(c) ? "kernel TLS" : "plain TCP";
	return 1;
}

/*
 * The source's case of a connection that cannot carry the stream itself
 * because OpenSSL keeps TLS (byte_path_can said so): the relay can still
 * pass libxl's bytes through TLS as they are, with no DATA frame and no
 * digest (MIG_RELAY_SEND_RAW), the AEAD of every record checking them as
 * kernel TLS would.  1 with the log line's reason, else 0.
 */
int
byte_path_raw(const struct mig_conn *c, const char **what)
{
	if (!mig_conn_is_tls(c))
		return 0;
	*what = mig_conn_ktls(c) == 0 ? "TLS in user space, relayed raw" :
	    "TLS partly in user space, relayed raw";
	return 1;
}

/*
 * The target's case of a connection whose TLS the pre-authentication
 * sandbox keeps (preauth.c): libxl reads the sandbox's plaintext
 * socketpair, the sandbox having checked every record.  A socketpair has
 * no counters: the TCP socket's (tcp_fd, a copy the worker keeps for
 * them and never reads) count what arrived, TLS records' overhead and
 * what the sandbox holds included, and tell a source that sends nothing.
 */
int
byte_path_sandbox(int tcp_fd, const char **what)
{
	struct direct_count	n;

	if (tcp_fd == -1 || direct_count(tcp_fd, 0, &n) == -1)
		return 0;
	*what = "TLS kept in the sandbox";
	return 1;
}

/* The one line per job that says which way its bytes went. */
void
byte_path_log(const char *name, int direct, const char *why)
{
	mig_log_info("%s: byte path: %s (%s)", name, direct ? "direct" :
	    "relay", why);
}

/* The job's progress counters, from the kernel's; -1 if it has none. */
static int
direct_sample(struct direct *d, struct direct_count *n)
{
	struct worker	*w = d->w;

	if (direct_count(d->cfd, d->sending, n) == -1)
		return -1;
	/* No compression here: what went over the wire is the stream. */
	w->bytes_wire = w->bytes_stream = n->bytes - d->base;
	/* PAGE_DATA records add 8 bytes a page and a header per batch:
	 * within a fraction of a percent, as a progress figure. */
	w->pages_sent = w->bytes_stream / w->page_size;
	return 0;
}

/* Ends the stream from here: libxl fails on its next read or write, and
 * an operation that is not reading or writing is aborted. */
static void
direct_stop(struct direct *d)
{
	shutdown(d->fd, SHUT_RDWR);
	if (d->w->op != NULL && !mig_hv_op_done(d->w->op))
		mig_hv_abort(d->w->op, NULL);
}

/* The counters brought up to date for a progress report (worker_event). */
void
direct_progress(struct direct *d)
{
	struct direct_count	n;

	(void)direct_sample(d, &n);
}

static void
direct_tick(evutil_socket_t unused, short ev, void *arg)
{
	struct direct		*d = arg;
	struct worker		*w = d->w;
	struct direct_count	 n;
	uint64_t		 now = mig_now_ms();

	if (d->stalled || d->gone || d->cancelled ||
	    direct_sample(d, &n) == -1)
		return;
	/* A target that went away is noticed by libxl's next write, which
	 * may be long in coming (a guest being suspended): the relay would
	 * have seen it at once, and so does this. */
	if (d->sending && !n.open) {
		d->gone = 1;
		direct_stop(d);
		return;
	}
	if (n.moved != d->last || !n.waiting) {
		d->last = n.moved;
		d->last_ms = now;
		return;
	}
	if (now - d->last_ms < (uint64_t)worker_peer_ms(w))
		return;
	mig_log_warnx("no stream byte %s %s for %d s: stopping the stream",
	    d->sending ? "taken by" : "from", d->peer,
	    worker_peer_ms(w) / 1000);
	d->stalled = 1;
	direct_stop(d);
}

/*
 * Lends the connection's socket to libxl for one stream: *fd is for
 * mig_hv_save/restore, and stays the connection's.  libxl's helper
 * reads and writes it with plain blocking calls, so it is blocking until
 * direct_end().  count_fd is the TCP socket whose counters tell progress
 * and stalls, -1 for the connection's own.
 */
struct direct *
direct_begin(struct worker *w, struct mig_conn *c, int count_fd, int sending,
    int *fd, struct mig_err *err)
{
	struct direct		*d;
	struct direct_count	 n;
	struct timeval		 half = { 0, 500000 };

	if (mig_conn_pending(c) != 0) {
		mig_seterr(err, MIG_E_PROTO, "%s sent bytes ahead of the "
		    "stream", mig_conn_peer(c));
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "direct stream");
		return NULL;
	}
	d->w = w;
	d->peer = mig_conn_peer(c);
	d->sending = sending;
	if ((d->fd = mig_conn_stream_fd(c, err)) == -1 ||
	    direct_count(d->cfd = count_fd != -1 ? count_fd : d->fd, sending,
	    &n) == -1 ||
	    (d->fl = fcntl(d->fd, F_GETFL)) == -1 ||
	    fcntl(d->fd, F_SETFL, d->fl & ~O_NONBLOCK) == -1) {
		if (d->fd != -1)
			mig_seterrno(err, MIG_E_IO, "%s: the socket for the "
			    "stream", mig_conn_peer(c));
		free(d);
		return NULL;
	}
	d->base = n.bytes;
	d->last = n.moved;
	d->last_ms = mig_now_ms();
	d->tick = event_new(w->base, -1, EV_PERSIST, direct_tick, d);
	if (d->tick == NULL || event_add(d->tick, &half) == -1) {
		mig_seterr(err, MIG_E_NOMEM, "direct stream: timer");
		if (d->tick != NULL)
			event_free(d->tick);
		fcntl(d->fd, F_SETFL, d->fl);
		free(d);
		return NULL;
	}
	w->direct = d;
	*fd = d->fd;
	return d;
}

/* Cancel (worker_interrupt() aborts the operation itself). */
void
direct_cancel(struct direct *d)
{
	d->cancelled = 1;
	shutdown(d->fd, SHUT_RDWR);
}

/*
 * Takes the socket back once libxl's operation has ended (rc_op, *err if
 * it failed), and frees the operation as worker_stream_end() does.  A
 * stream we stopped for want of progress reports that, not libxl's echo
 * of it.
 */
int
direct_end(struct direct *d, int rc_op, struct mig_err *err)
{
	struct worker		*w = d->w;
	struct direct_count	 n;

	event_free(d->tick);
	(void)direct_sample(d, &n);
	w->direct = NULL;
	if (w->op != NULL) {
		mig_hv_op_free(w->op);
		w->op = NULL;
	}
	if (fcntl(d->fd, F_SETFL, d->fl) == -1 && rc_op == 0) {
		rc_op = -1;
		mig_seterrno(err, MIG_E_IO, "the connection after the stream");
	}
	if (rc_op == -1 && (d->stalled || d->gone)) {
		snprintf(w->followed, sizeof(w->followed), "%s", err->msg);
		if (d->stalled)
			mig_seterr(err, MIG_E_TIMEOUT, "the stream stopped: "
			    "no byte %s %s for %d s", d->sending ? "taken by" :
			    "from", d->peer, worker_peer_ms(w) / 1000);
		else
			mig_seterr(err, MIG_E_EOF, "%s closed the connection "
			    "during the stream", d->peer);
	}
	free(d);
	return rc_op;
}
