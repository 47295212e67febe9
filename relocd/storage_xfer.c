/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One disk's bytes between a file descriptor and the connection, by two
 * relays (mig/relay.h) end to end on a socketpair: a file relay (the
 * disk read or written with blocking I/O, which libevent cannot watch)
 * and a network relay (DATA frames and STREAM_END, with the job's
 * compression, bandwidth limit, digest and cancel, as for memory).
 */
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/relay.h"
#include "storage.h"

struct wait {
	struct worker	*w;
	const char	*name;
	int		 done;
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
	worker_event(wt->w, MIG_PHASE_STOPCOPY, wt->name);
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

/*
 * net: the network relay's SEND or RECV conf, its local_fd left to us.
 * A relay that fails shuts the socketpair down: the one that reads from
 * it then sees its end, the one that writes to it fails too, with an
 * echo of the first failure.  So when both fail, the reader's error is
 * the cause: the network's on the source (a peer gone), the disk's on
 * the target (a write that failed).
 */
int
storage_pump(struct worker *w, struct mig_relay_conf *net, int file_fd,
    struct mig_relay_stats *st, struct mig_err *err)
{
	struct mig_relay_conf	 fc;
	struct mig_relay	*fr;
	struct mig_err		 ferr;
	int			 sv[2], rc_net, rc_file;

	if (mig_relay_socketpair(sv, err) == -1)
		return -1;
	memset(&fc, 0, sizeof(fc));
	fc.dir = net->dir == MIG_RELAY_SEND ? MIG_RELAY_FROM_FILE :
	    MIG_RELAY_TO_FILE;
	fc.flags = MIG_RELAY_F_NO_PARSE;
	fc.local_fd = sv[1];
	fc.file_fd = file_fd;
	fc.name = net->name;
	net->local_fd = sv[0];
	net->idle_ms = worker_peer_ms(w);
	if ((fr = mig_relay_start(&fc, err)) == NULL) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if ((w->relay = mig_relay_start(net, err)) == NULL) {
		mig_relay_cancel(fr);
		(void)mig_relay_join(fr, NULL, NULL);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	w->relay_disk = 1;
	wait_relay(w, net->name);
	rc_net = mig_relay_join(w->relay, st, err);
	w->relay = NULL;
	w->relay_disk = 0;
	rc_file = mig_relay_join(fr, NULL, &ferr);
	close(sv[0]);
	close(sv[1]);
	if (rc_file == -1 && (rc_net == 0 || fc.dir == MIG_RELAY_TO_FILE))
		*err = ferr;
	return rc_net == -1 || rc_file == -1 ? -1 : 0;
}
