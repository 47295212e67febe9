/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The source's live disk copy (xl-reloc migrate --with-storage, live):
 * before the memory stream, with the guest running, a write tracker per
 * disk (storage_track.h), pass 0 (each disk whole, as DISK), then delta
 * passes (DISK_DELTA: the blocks written since the previous pass) while
 * the delta shrinks, each judged by the memory's convergence policy;
 * after the memory stream, the guest suspended, the last delta, which
 * ends each disk (flag LAST).  The source's disks are never written:
 * until COMMIT they are the truth.  Every end, success or failure, stops
 * the trackers (storage_live_stop), which removes what they put in place.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mig/log.h"
#include "mig/relay.h"
#include "storage.h"
#include "storage_track.h"

/* Delta passes before the memory at most: a guest whose writes keep up
 * with the link stops shrinking long before. */
#define DELTA_PASSES_MAX	8
/* A delta this small is left to the last pass whatever the rate. */
#define DELTA_SMALL		(1024u * 1024)

/* A take that reads a whole file may outlast the target's patience
 * (peer_timeout, 5 s at least): it hears from us this often. */
#define KEEPALIVE_MS		2000

/* One piece's ranges, as DISK_DELTA carries them. */
static struct mig_disk_range	piece[MIG_DELTA_RANGES_MAX];

int
storage_live_check(const struct storage *st, struct mig_err *err)
{
	unsigned	i;

	for (i = 0; i < st->n; i++)
		if (track_can(st->disk[i].d.kind, st->disk[i].src, err) == -1)
			return -1;
	return 0;
}

/* What sending bytes would cost at the link's recent rate; 0 while
 * there is none. */
static uint32_t
cost_ms(const struct worker *w, uint64_t bytes)
{
	double	ms;

	if (w->rate == 0)
		return 0;
	ms = (double)bytes * 1000 / (double)w->rate;
	return ms >= UINT32_MAX ? UINT32_MAX : ms < 1 && bytes > 0 ? 1 :
	    (uint32_t)ms;
}

/* One piece of a pass: DISK_DELTA with up to MIG_DELTA_RANGES_MAX
 * ranges, their bytes, STREAM_END. */
static int
send_piece(struct worker *w, struct mig_conn *conn,
    const struct storage_disk *d, int fd, const struct mig_disk_range *r,
    uint32_t n, uint32_t pass, int last, struct storage_live *sl,
    struct track *track, struct mig_err *err)
{
	struct mig_relay_conf	 rc;
	struct mig_relay_stats	 rs;
	struct mig_msg		 m;
	char			 name[64];
	uint64_t		 want = 0;
	uint32_t		 i;

	for (i = 0; i < n; i++)
		want += r[i].len;
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_DISK_DELTA;
	m.u.disk_delta.index = d->d.index;
	m.u.disk_delta.size = d->d.size;
	m.u.disk_delta.flags = storage_disk_flags(sl->rflags) |
	    (last ? MIG_DELTA_F_LAST : 0);
	m.u.disk_delta.pass = pass;
	m.u.disk_delta.nranges = n;
	m.u.disk_delta.ranges = r;
	if (peer_send(conn, &m, worker_deadline(w), err) == -1)
		return -1;
	if (n == 0)
		return 0;	/* LAST alone: nothing follows */
	snprintf(name, sizeof(name), "disks[%u] pass %" PRIu32, d->d.index,
	    pass);
	storage_relay_conf(w, conn, sl->rflags, sl->bw, name, &rc);
	if (storage_pump(w, &rc, fd, r, n, track, &rs, err) == -1)
		return -1;
	w->bytes_disk += rs.stream_bytes;
	w->bytes_wire += rs.wire_bytes;
	if (rs.stream_bytes != want)
		return mig_seterr(err, MIG_E_IO, "disk %s: read %" PRIu64
		    " bytes of pass %" PRIu32 ", not %" PRIu64, d->src,
		    rs.stream_bytes, pass, want);
	return 0;
}

/* A disk's delta, as many pieces as its ranges need; last: the final
 * pass, whose last piece says so even when the delta is empty. */
static int
send_delta(struct worker *w, struct mig_conn *conn,
    const struct storage_disk *d, const struct extents *x, uint32_t pass,
    int last, struct storage_live *sl, struct track *track,
    struct mig_err *err)
{
	size_t		 at = 0, n, i;
	int		 fd, rc = 0;

	if (x->n == 0)
		return last ? send_piece(w, conn, d, -1, NULL, 0, pass, 1, sl,
		    track, err) : 0;
	if ((fd = storage_open_source(d, err)) == -1)
		return -1;
	while (rc == 0 && at < x->n) {
		n = x->n - at < MIG_DELTA_RANGES_MAX ? x->n - at :
		    MIG_DELTA_RANGES_MAX;
		for (i = 0; i < n; i++) {
			piece[i].off = x->x[at + i].off;
			piece[i].len = x->x[at + i].len;
		}
		rc = send_piece(w, conn, d, fd, piece, (uint32_t)n, pass,
		    last && at + n == x->n, sl, track, err);
		at += n;
	}
	close(fd);
	if (rc == 0)
		mig_log_info("%s: sent pass %" PRIu32 " of disks[%u] %s: %"
		    PRIu64 " bytes in %zu ranges", w->rec.name, pass,
		    d->d.index, d->src, x->bytes, x->n);
	return rc;
}

struct keepalive {
	struct worker	*w;
	struct mig_conn	*conn;
	uint64_t	 last_ms;
	int		 failed;
};

/* During a take: PROGRESS to the target, which takes it as a sign of
 * life; a failure to send shows again in the pass that follows. */
static void
keepalive(void *arg)
{
	struct keepalive	*k = arg;
	struct mig_msg		 m;
	struct mig_err		 err;
	uint64_t		 now = mig_now_ms();

	if (k->failed || now < k->last_ms + KEEPALIVE_MS)
		return;
	k->last_ms = now;
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_PROGRESS;
	m.u.progress.phase = k->w->phase;
	m.u.progress.bytes = k->w->bytes_disk;
	if (peer_send(k->conn, &m, worker_deadline(k->w), &err) == -1)
		k->failed = 1;
	worker_event(k->w, k->w->phase, "disks: looking for what was written");
}

/* One pass over every disk: take, send.  *bytes: the pass's total. */
static int
pass_all(struct worker *w, struct mig_conn *conn, const struct storage *st,
    struct storage_live *sl, int last, uint64_t *bytes, struct mig_err *err)
{
	struct keepalive k = { w, conn, mig_now_ms(), 0 };
	struct extents	 x;
	unsigned	 i;
	int		 rc = 0;

	memset(&x, 0, sizeof(x));
	*bytes = 0;
	sl->passes++;
	for (i = 0; rc == 0 && i < st->n; i++) {
		track_tick(sl->track[i], keepalive, &k);
		if (w->cancelled)
			rc = mig_seterr(err, MIG_E_CANCELLED, "cancelled");
		else if ((rc = track_take(sl->track[i], &x, err)) == 0 &&
		    (rc = send_delta(w, conn, &st->disk[i], &x, sl->passes,
		    last, sl, sl->track[i], err)) == 0)
			*bytes += x.bytes;
		track_tick(sl->track[i], NULL, NULL);
	}
	extents_free(&x);
	return rc;
}

int
storage_live_precopy(struct worker *w, struct mig_conn *conn,
    const struct storage *st, struct storage_live *sl, struct mig_err *err)
{
	uint64_t	bytes, prev = UINT64_MAX;
	uint32_t	cost;
	unsigned	i;

	worker_event(w, MIG_PHASE_PRECOPY, "copying disks, guest running");
	for (i = 0; i < st->n; i++)
		if (track_start(st->disk[i].d.kind, st->disk[i].src,
		    st->disk[i].d.size, w->conf.state_dir, &w->cancelled,
		    &sl->track[i], err) == -1)
			return -1;
	for (i = 0; i < st->n; i++)
		if (storage_send_disk(w, conn, &st->disk[i], sl->rflags, sl->bw,
		    sl->track[i], err) == -1)
			return -1;
	/* While the delta shrinks and is worth another pass. */
	while (sl->passes < DELTA_PASSES_MAX) {
		if (pass_all(w, conn, st, sl, 0, &bytes, err) == -1)
			return -1;
		w->disk_pending = bytes;
		cost = cost_ms(w, bytes);
		if (sl->judge != NULL && sl->judge(sl->arg, cost) == -1)
			return mig_seterr(err, MIG_E_NOTSUP, "disks do not "
			    "converge");
		if (bytes <= DELTA_SMALL || bytes >= prev)
			break;
		prev = bytes;
	}
	return 0;
}

int
storage_live_final(struct worker *w, struct mig_conn *conn,
    const struct storage *st, struct storage_live *sl, struct mig_err *err)
{
	uint64_t	bytes;

	if (pass_all(w, conn, st, sl, 1, &bytes, err) == -1)
		return -1;
	sl->last_bytes = bytes;
	w->disk_pending = 0;
	return 0;
}

void
storage_live_stop(struct storage_live *sl)
{
	unsigned	i;

	for (i = 0; i < MIG_DISKS_MAX; i++)
		track_stop(&sl->track[i]);
}
