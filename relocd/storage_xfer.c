/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Some ranges of a disk (the whole of it for pass 0 and a cold copy)
 * between a file descriptor and the connection: a network relay
 * (mig/relay.h: DATA frames and STREAM_END, with the job's compression,
 * bandwidth limit, digest and cancel, as for memory) and, on the other
 * end of a socketpair, a thread of ours that reads the ranges in order
 * (source) or writes what arrives at their offsets (target) with
 * blocking I/O, which libevent cannot watch.  The source's thread shows
 * each piece it read to the disk's write tracker, which so remembers
 * exactly what was sent.
 */
#include <sys/socket.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/disk.h"
#include "mig/relay.h"
#include "storage.h"
#include "storage_track.h"

/* Pieces start on a tracker block: what track_saw() asks. */
#define PIECE	TRACK_PIECE

struct wait {
	struct worker	*w;
	const char	*name;
	int		 done;
};

struct side {
	int				 sock;	/* our end of the socketpair */
	int				 fd;	/* the disk */
	int				 to_disk;
	const struct mig_disk_range	*r;
	size_t				 n;
	struct track			*track;	/* source: sees the bytes */
	const char			*name;
	uint64_t			 moved;
	struct mig_err			 err;
	int				 rc;
};

static void
on_done(evutil_socket_t fd, short ev, void *arg)
{
	struct wait	*wt = arg;

	(void)fd;
	(void)ev;
	wt->done = 1;
}

static void
on_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct wait	*wt = arg;

	(void)fd;
	(void)ev;
	worker_event(wt->w, wt->w->phase, wt->name);
}

/*
 * The event loop runs while the disk moves, as it does during a save or
 * a restore: the parent's cancel, and progress every half second.
 */
static void
wait_relay(struct worker *w, const char *name)
{
	struct wait	 wt = { w, name, 0 };
	struct timeval	 half = { 0, 500000 };
	struct event	*done, *tick;

	done = event_new(w->base, mig_relay_done_fd(w->relay), EV_READ,
	    on_done, &wt);
	tick = event_new(w->base, -1, EV_PERSIST, on_tick, &wt);
	if (done == NULL || event_add(done, NULL) == -1)
		wt.done = 1;	/* the join below just blocks */
	if (tick != NULL)
		event_add(tick, &half);
	while (!wt.done && !w->cancelled)
		event_base_loop(w->base, EVLOOP_ONCE);
	if (tick != NULL)
		event_free(tick);
	if (done != NULL)
		event_free(done);
}

/* The disk's ranges, in order, into the socket. */
static int
read_ranges(struct side *s, uint8_t *buf)
{
	uint64_t	off, end;
	size_t		want, got, i;
	ssize_t		n;

	for (i = 0; i < s->n; i++) {
		for (off = s->r[i].off, end = off + s->r[i].len; off < end;
		    off += want) {
			want = end - off < PIECE - off % PIECE ?
			    (size_t)(end - off) : PIECE - off % PIECE;
			if (mig_disk_pread(s->fd, buf, want, off, s->name,
			    &s->err) == -1)
				return -1;
			track_saw(s->track, off, buf, want);
			for (got = 0; got < want; got += (size_t)n)
				if ((n = send(s->sock, buf + got, want - got,
				    MSG_NOSIGNAL)) == -1 && errno != EINTR)
					return mig_seterrno(&s->err, MIG_E_IO,
					    "%s: to the relay", s->name);
				else if (n == -1)
					n = 0;
			s->moved += want;
		}
	}
	return 0;
}

/* What arrives, at the ranges' offsets, then the end of it. */
static int
write_ranges(struct side *s, uint8_t *buf)
{
	uint64_t	off, end;
	size_t		want, put, i;
	ssize_t		n, wr;

	for (i = 0; i < s->n; i++) {
		for (off = s->r[i].off, end = off + s->r[i].len; off < end;
		    off += (uint64_t)n) {
			want = end - off < PIECE ? (size_t)(end - off) : PIECE;
			if ((n = recv(s->sock, buf, want, 0)) == -1 &&
			    errno == EINTR) {
				n = 0;
				continue;
			}
			if (n == -1)
				return mig_seterrno(&s->err, MIG_E_IO,
				    "%s: from the relay", s->name);
			if (n == 0)
				return mig_seterr(&s->err, MIG_E_EOF, "%s: the "
				    "stream ended after %" PRIu64 " bytes of "
				    "the ranges'", s->name, s->moved);
			for (put = 0; put < (size_t)n; put += (size_t)wr) {
				wr = pwrite(s->fd, buf + put, (size_t)n - put,
				    (off_t)(off + put));
				if (wr == -1 && errno == EINTR)
					wr = 0;
				else if (wr == -1)
					return mig_seterrno(&s->err, MIG_E_IO,
					    "%s: write at %" PRIu64, s->name,
					    off + put);
			}
			s->moved += (uint64_t)n;
		}
	}
	while ((n = recv(s->sock, buf, 1, 0)) == -1 && errno == EINTR)
		;
	if (n != 0)
		return mig_seterr(&s->err, MIG_E_PROTO, "%s: more bytes than "
		    "its ranges hold", s->name);
	return 0;
}

static void *
side_main(void *arg)
{
	struct side	*s = arg;
	uint8_t		*buf;

	/* Aligned for a block device read with O_DIRECT. */
	if ((errno = posix_memalign((void **)&buf, 4096, PIECE)) != 0) {
		buf = NULL;
		s->rc = mig_seterrno(&s->err, MIG_E_NOMEM, "%s", s->name);
	}
	else
		s->rc = s->to_disk ? write_ranges(s, buf) :
		    read_ranges(s, buf);
	free(buf);
	/* Done: EOF for the relay; failed: EOF and EPIPE, so that it
	 * ends too. */
	(void)shutdown(s->sock, s->rc == -1 ? SHUT_RDWR : SHUT_WR);
	return NULL;
}

/*
 * net: the network relay's SEND or RECV conf, its local_fd left to us.
 * One side that fails shuts the socketpair down, and the other then
 * fails or ends short: the relay's error is the cause on the source (a
 * peer gone), the disk's on the target (a write that failed).
 */
int
storage_pump(struct worker *w, struct mig_relay_conf *net, int file_fd,
    const struct mig_disk_range *r, size_t n, struct track *track,
    struct mig_relay_stats *st, struct mig_err *err)
{
	struct side	 s;
	pthread_t	 th;
	sigset_t	 all, old;
	int		 sv[2], rc_net, e;

	if (mig_relay_socketpair(sv, err) == -1)
		return -1;
	memset(&s, 0, sizeof(s));
	s.sock = sv[1];
	s.fd = file_fd;
	s.to_disk = net->dir == MIG_RELAY_RECV;
	s.r = r;
	s.n = n;
	s.track = track;
	s.name = net->name;
	net->local_fd = sv[0];
	net->idle_ms = worker_peer_ms(w);
	/* Signals stay with the worker's own thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&th, NULL, side_main, &s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		close(sv[0]);
		close(sv[1]);
		errno = e;
		return mig_seterrno(err, MIG_E_NOMEM, "%s: thread", net->name);
	}
	if ((w->relay = mig_relay_start(net, err)) == NULL) {
		(void)shutdown(sv[0], SHUT_RDWR);
		pthread_join(th, NULL);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	w->relay_disk = 1;
	wait_relay(w, net->name);
	rc_net = mig_relay_join(w->relay, st, err);
	w->relay = NULL;
	w->relay_disk = 0;
	/* The relay is done with its end: a side still blocked on it wakes
	 * (a relay that ended without reading all that was sent). */
	(void)shutdown(sv[0], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[0]);
	close(sv[1]);
	if (s.rc == -1 && (rc_net == 0 || s.to_disk))
		*err = s.err;
	return rc_net == -1 || s.rc == -1 ? -1 : 0;
}
