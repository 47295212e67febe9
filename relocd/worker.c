/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the phase machines of a worker process (worker_main.c) call back
 * into: reports to the parent over the pipe (events, the one RESULT),
 * journal records, reservations in the parent's ledger, the end of a
 * stream and the cause of its failure, and the status a failure gives.
 * Nothing here decides a job's next step.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/acl.h"
#include "mig/conn.h"
#include "mig/hv.h"
#include "mig/log.h"
#include "mig/relay.h"
#include "relocd.h"

uint64_t
wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Anything that is in flight stops; the phase machine sees the flag. */
void
worker_interrupt(struct worker *w)
{
	w->cancelled = 1;
	if (w->op != NULL && !mig_hv_op_done(w->op))
		mig_hv_abort(w->op, NULL);
	if (w->relay != NULL)
		mig_relay_cancel(w->relay);
	if (w->direct != NULL)
		direct_cancel(w->direct);
	if (w->stop_on_cancel)
		event_base_loopbreak(w->base);
}

void
worker_send(struct worker *w, const struct ctl_msg *m)
{
	struct mig_err	err;

	if (ctl_send(w->pipe, m, &err) == -1 && err.code != MIG_E_EOF)
		mig_log_warnx("%s", err.msg);
}

/* Tells the parent (and so `xl-reloc jobs`) what this job is about. */
void
worker_describe(struct worker *w, const char *domain, const char *peer)
{
	struct ctl_msg	m;

	/* journalctl DOMAIN=web1 finds this job's lines from here on */
	mig_log_field("DOMAIN", "%s", domain);
	mig_log_field("PEER", "%s", peer);
	memset(&m, 0, sizeof(m));
	m.type = CTL_JOB;
	snprintf(m.u.jobrow.domain, sizeof(m.u.jobrow.domain), "%s", domain);
	snprintf(m.u.jobrow.peer, sizeof(m.u.jobrow.peer), "%s", peer);
	worker_send(w, &m);
}

void
worker_event(struct worker *w, uint16_t phase, const char *text)
{
	struct ctl_msg		m;
	struct mig_relay_stats	st;
	uint64_t		now = mig_now_ms();

	w->phase = phase;
	memset(&m, 0, sizeof(m));
	m.type = CTL_EVENT;
	m.u.event.phase = phase;
	m.u.event.round = w->round;
	m.u.event.pages_total = w->pages_total;
	m.u.event.dirty_left = w->dirty_left;
	m.u.event.bytes_disk = w->bytes_disk;
	if (w->relay != NULL && w->relay_disk) {
		mig_relay_stats(w->relay, &st);
		m.u.event.bytes_disk += st.stream_bytes;
		m.u.event.bytes_wire = st.wire_bytes;
	} else if (w->relay != NULL) {
		mig_relay_stats(w->relay, &st);
		w->bytes_wire = st.wire_bytes;
		w->bytes_stream = st.stream_bytes;
		w->bytes_queued = st.stream_queued;
		w->pages_sent = st.pages;
	} else if (w->direct != NULL)
		direct_progress(w->direct);
	m.u.event.pages_sent = w->pages_sent;
	m.u.event.bytes_wire += w->bytes_wire;
	if (now > w->rate_ms + 200) {
		w->rate = (m.u.event.bytes_wire - w->rate_bytes) * 1000 /
		    (now - w->rate_ms);
		w->rate_ms = now;
		w->rate_bytes = m.u.event.bytes_wire;
	}
	m.u.event.rate = w->rate;
	m.u.event.downtime_ms = worker_downtime_ms(w, w->dirty_left);
	m.u.event.elapsed_ms = now - w->started_ms;
	ctl_text_set(m.u.event.text, text != NULL ? text : "");
	worker_send(w, &m);
}

/*
 * What stop-and-copy of this many pages would cost now, at the rate the
 * link has been doing; 0 while there is no rate yet.  The rate is of
 * bytes on the wire, so a compressed stream's pages are counted at the
 * size compression has been giving them.  What was sent and is still
 * queued before the target's libxl (credit's bytes in flight) comes
 * first: the pause waits for it too.  Under credit the wire runs at the
 * pace the target takes the stream, so the same rate prices both.
 */
uint32_t
worker_downtime_ms(const struct worker *w, uint64_t pages)
{
	double	bytes = (double)pages * w->page_size + (double)w->bytes_queued,
		ms;
	/* A live disk copy's last delta goes in the same pause, raw. */
	double	disk = (double)w->disk_pending;

	if (w->rate == 0)
		return 0;
	if (w->bytes_stream > 0 && w->bytes_wire > 0)
		bytes = bytes * (double)w->bytes_wire / (double)w->bytes_stream;
	bytes += disk;
	ms = bytes * 1000 / (double)w->rate;
	if (ms >= UINT32_MAX)
		return UINT32_MAX;
	return ms < 1 && bytes > 0 ? 1 : (uint32_t)ms;
}

/* Sends the job's end to the parent; returns the worker's exit status. */
int
worker_result(struct worker *w, uint16_t status, const struct mig_err *err)
{
	struct ctl_msg	m;

	memset(&m, 0, sizeof(m));
	m.type = CTL_RESULT;
	m.u.result.status = status;
	m.u.result.code = err != NULL ? err->code : MIG_OK;
	ctl_text_set(m.u.result.text, err != NULL ? err->msg : "");
	m.u.result.domid = w->result_domid;
	m.u.result.total_ms = mig_now_ms() - w->started_ms;
	if (w->suspended_ms != 0)
		m.u.result.paused_ms = (w->resumed_ms ? w->resumed_ms :
		    mig_now_ms()) - w->suspended_ms;
	m.u.result.bytes_wire = w->bytes_wire;
	m.u.result.bytes_stream = w->bytes_stream;
	m.u.result.bytes_disk = w->bytes_disk;
	m.u.result.disk_passes = w->disk_passes;
	m.u.result.disk_last = w->disk_last;
	m.u.result.rounds = w->round;
	worker_send(w, &m);
	return status == CTL_ST_OK ? 0 : 1;
}

/*
 * Appends the job's record in its new state, durably, before the step.
 * On failure *landed (journal_append_landed) says whether the record is
 * in the journal all the same; when it is not, the job keeps its state.
 */
int
worker_journal_landed(struct worker *w, enum jstate st, int *landed,
    struct mig_err *err)
{
	enum jstate	prev = w->rec.state;
	int		in_file = 0;

	if (landed != NULL)
		*landed = 0;
	if (w->lock_fd == -1 && (w->lock_fd = journal_lock_job(
	    w->conf.state_dir, w->rec.job, 0, err)) == -1)
		return -1;
	w->rec.state = st;
	w->rec.time_ms = wall_ms();
	if (journal_append_landed(w->journal, &w->rec, &in_file, err) == -1) {
		if (!in_file)
			w->rec.state = prev;
		if (landed != NULL)
			*landed = in_file;
		return -1;
	}
	mig_log_debug("journal: %s", journal_state_name(st));
	return 0;
}

int
worker_journal(struct worker *w, enum jstate st, struct mig_err *err)
{
	return worker_journal_landed(w, st, NULL, err);
}

/*
 * Sends a reservation request to the parent and waits for its answer,
 * which comes through on_pipe, so the loop runs until it does (a cancel
 * may arrive meanwhile, and is noted).
 */
static int
reserve_ask(struct worker *w, const struct ctl_msg *m, struct mig_err *err)
{
	w->reserve_answered = 0;
	if (ctl_send(w->pipe, m, err) == -1)
		return -1;
	while (!w->reserve_answered && !w->cancelled)
		if (event_base_loop(w->base, EVLOOP_ONCE) == -1)
			return mig_seterr(err, MIG_E_IO, "event loop");
	if (w->cancelled)
		return mig_seterr(err, MIG_E_CANCELLED, "cancelled");
	return 0;
}

/* Asks the parent's ledger to hold memory for an arriving domain. */
int
worker_reserve(struct worker *w, const char *name, const uint8_t uuid[16],
    uint64_t need_kib, uint64_t free_kib, struct mig_err *err)
{
	struct ctl_msg	m;

	memset(&m, 0, sizeof(m));
	m.type = CTL_RESERVE_REQ;
	snprintf(m.u.reserve_req.name, sizeof(m.u.reserve_req.name), "%s",
	    name);
	memcpy(m.u.reserve_req.uuid, uuid, 16);
	m.u.reserve_req.need_kib = need_kib;
	m.u.reserve_req.free_kib = free_kib;
	return reserve_ask(w, &m, err);
}

/*
 * The stream starts on reservation id for name and uuid (as reserved):
 * the ledger holds it until released, or refuses (MIG_E_NOTFOUND) when it
 * has no such reservation for that domain -- lapsed, or an id from before
 * relocd restarted, or another domain's -- and the stream must not start.
 */
int
worker_reserve_hold(struct worker *w, uint64_t id, const char *name,
    const uint8_t uuid[16], struct mig_err *err)
{
	struct ctl_msg	m;

	memset(&m, 0, sizeof(m));
	m.type = CTL_RESERVE_HOLD;
	m.u.reserve_hold.id = id;
	snprintf(m.u.reserve_hold.name, sizeof(m.u.reserve_hold.name), "%s",
	    name);
	memcpy(m.u.reserve_hold.uuid, uuid, 16);
	if (reserve_ask(w, &m, err) == -1)
		return -1;
	if (w->reserve_ans.refusal != 0)
		return mig_seterr(err, MIG_E_NOTFOUND, "reservation %" PRIu64
		    " for %s: %s", id, name, w->reserve_ans.text);
	return 0;
}

/* How long a peer may keep us waiting: peer_timeout, in ms. */
int
worker_peer_ms(const struct worker *w)
{
	return (int)w->conf.peer_timeout * 1000;
}

/* The deadline of one exchange with the peer, from now. */
uint64_t
worker_deadline(const struct worker *w)
{
	return mig_deadline(worker_peer_ms(w));
}

/*
 * Starts the job's relay between the connection (rc->conn) and a new
 * socketpair, whose other end, for libxl, is *libxl_fd; the relay's end
 * is rc->local_fd, which worker_stream_end() closes.  A stream that
 * neither delivers nor accepts a byte for peer_timeout fails.
 */
int
worker_relay_start(struct worker *w, struct mig_relay_conf *rc,
    int *libxl_fd, struct mig_err *err)
{
	int	sv[2];

	if (mig_relay_socketpair(sv, err) == -1)
		return -1;
	rc->local_fd = sv[0];
	rc->idle_ms = worker_peer_ms(w);
	if ((w->relay = mig_relay_start(rc, err)) == NULL) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	*libxl_fd = sv[1];
	return 0;
}

/*
 * Which of two failures a stream reports.  When the relay failed on its
 * own, before the operation ended (the peer went away or said why, the
 * connection broke), libxl's failure is only the echo of it -- its save
 * helper dies of SIGPIPE, or its restore reads an early EOF, once the
 * relay shuts the socketpair -- so the relay's error is the cause.  The
 * relay publishes its failure before that shutdown (relay.c), so this
 * holds on any schedule.  Otherwise the operation's error wins: a relay
 * stopped by us, or one that ran into the end of a stream libxl cut
 * short, says nothing libxl did not.  Returns 1 if relay_err is the
 * cause.
 */
int
worker_stream_cause(const struct mig_relay_stats *st,
    const struct mig_err *relay_err)
{
	if (!st->failed)
		return 0;
	if (st->peer_word)
		return 1;
	switch (relay_err->code) {
	case MIG_E_EOF:
	case MIG_E_IO:
	case MIG_E_TLS:
	case MIG_E_TIMEOUT:
	case MIG_E_PROTO:
		return 1;
	default:
		return 0;
	}
}

/*
 * Ends a job's stream once its hypervisor operation has finished (rc_op,
 * with *err set if it failed): stops the relay if the operation failed,
 * joins it, keeps its counters, and frees the relay, the operation and our
 * end of the socketpair.  Of two failures, worker_stream_cause() picks the
 * one reported; a relay error after a good operation means libxl took a
 * stream the relay could not vouch for (hash or length wrong), and that
 * is a failure too.
 */
int
worker_stream_end(struct worker *w, int rc_op, int local_fd,
    struct mig_err *err)
{
	struct mig_relay_stats	st, first;
	struct mig_err		rerr;
	int			rc_relay;

	/* Sampled before our cancel: what the relay did before the
	 * operation ended. */
	mig_relay_stats(w->relay, &first);
	if (rc_op == -1)
		mig_relay_cancel(w->relay);
	rc_relay = mig_relay_join(w->relay, &st, &rerr);
	w->relay = NULL;
	close(local_fd);
	w->bytes_wire = st.wire_bytes;
	w->bytes_stream = st.stream_bytes;
	w->bytes_queued = 0;
	w->pages_sent = st.pages;
	if (st.acks > 0)
		mig_log_info("%s: credit: %" PRIu64 " STREAM_ACKs, at most %"
		    PRIu64 " stream bytes in flight, %" PRIu64 " waits for the "
		    "target", w->rec.name, st.acks, st.inflight_max,
		    st.credit_waits);
	if (w->op != NULL) {
		mig_hv_op_free(w->op);
		w->op = NULL;
	}
	if (rc_op == -1 && rc_relay == -1 &&
	    worker_stream_cause(&first, &rerr)) {
		snprintf(w->followed, sizeof(w->followed), "%s", err->msg);
		*err = rerr;
	}
	if (rc_op == -1)
		return -1;
	if (rc_relay == -1) {
		*err = rerr;
		return -1;
	}
	return 0;
}

/*
 * Past its commit point a domain that arrived here is relocd's to look
 * after (monitor.c), before it first runs: from then on its shutdown is
 * acted on, even if this worker dies at once.  Named by its uuid as the
 * hypervisor has it, so that a restore needs no uuid of its own.
 */
void
worker_adopt(struct worker *w, uint32_t domid, const char *name)
{
	struct mig_hv_dominfo	di;
	struct mig_err		err;
	char			u[37];

	if (w->rec.flags & JF_NO_ADOPT) {
		mig_log_info("%s (domain %u): asked not to be looked after (-e): "
		    "relocd will not act on its shutdown", name, domid);
		return;
	}
	if (mig_hv_dominfo(w->hv, domid, &di, &err) == 0) {
		mig_hv_uuid_format(di.uuid, u);
		if (owned_adopt(w->conf.state_dir, u, domid, name, &err) == 0)
			return;
	}
	mig_log_warnx("%s (domain %u): %s; relocd will not act on its shutdown",
	    name, domid, err.msg);
}

void
worker_reserve_msg(struct worker *w, uint16_t type)
{
	struct ctl_msg	m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	worker_send(w, &m);
}
