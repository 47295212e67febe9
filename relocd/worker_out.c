/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The source side of a migration, phase by phase (doc/protocol.md's phases):
 *
 *   0 pre-migration   checks here, HELLO both ways, checks of the target
 *   1 reservation     RESERVE -> RESERVED | REFUSED; nothing moved yet
 *   2 pre-copy        libxl writes the stream into the connection's socket
 *   3 stop-and-copy     (byte_path.c), or into a socketpair whose relay
 *                       thread frames it onto the connection
 *   4 commitment      RECEIVED; rename to NAME--migratedaway; COMMIT
 *   5 activation      ACTIVATED: destroy our copy
 *
 * The failure rule: until the target has journaled the COMMIT, this side
 * owns the domain and every failure ends with it running here again; once
 * COMMIT is sent and no answer comes, the domain stays suspended here and
 * the job is reported in doubt, to be settled with the target.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/conn.h"
#include "mig/hv.h"
#include "mig/log.h"
#include "mig/proto.h"
#include "mig/relay.h"
#include "relocd.h"
#include "mig/tls.h"
#include "storage.h"

struct out {
	struct worker		*w;
	struct ctl_migrate	 req;
	struct mig_hv_dominfo	 dom;
	struct mig_conn		*conn;
	SSL_CTX			*tls;
	struct peer_buf		*buf;
	char			*json;
	struct storage		*storage;	/* --with-storage: the disks */
	struct storage_live	 live;		/* ... moved live: trackers */
	int			 live_disks;
	int			 granted_zstd;
	int			 granted_xxh3;	/* else SHA-256 */
	int			 direct;	/* wanted, then granted */
	int			 raw;		/* ... through TLS in user
						 * space: the relay, raw */
	const char		*path_why;	/* byte path: the reason */
	int			 granted_credit; /* STREAM_ACK, with zstd */
	int			 suspended;
	int			 save_failed;	/* the hypervisor's save did, */
	struct mig_err		 save_err;	/* with this error */
	/* the max-downtime policy (converge.c) */
	struct converge		 conv;
	unsigned		 judged;	/* last round judged, + 1 */
	int			 final_judged;	/* the stop-and-copy round */
	int			 cap_orig;	/* the guest's cap before us */
	int			 capped;	/* we changed it: restore */
	int			 conv_aborted;
	char			 conv_text[CTL_TEXT_MAX + 1];	/* throttled */
	char			 conv_why[CTL_TEXT_MAX + 1];	/* aborted */
};

/* The progress text while the policy holds the guest back. */
static const char *
conv_text(struct out *o)
{
	return o->conv_text[0] != '\0' ? o->conv_text : NULL;
}

/* Slows the guest one step down (converge.c says which). */
static void
throttle(struct out *o, uint32_t expected)
{
	struct worker	*w = o->w;
	struct mig_err	 err;
	int		 cap;

	if (!o->capped && mig_hv_cap_get(w->hv, o->dom.domid, &o->cap_orig,
	    &err) == -1)
		goto off;
	/* The guest's own cap is journaled, durably, before it is first
	 * lowered: if we die with it lowered, reconciliation puts it back. */
	if (!(w->rec.flags & JF_CAP)) {
		w->rec.flags |= JF_CAP;
		w->rec.cap = o->cap_orig;
		if (worker_journal(w, w->rec.state, &err) == -1) {
			w->rec.flags &= ~JF_CAP;
			goto off;
		}
	}
	cap = converge_cap(o->cap_orig, o->dom.vcpus, o->conv.step);
	if (mig_hv_cap_set(w->hv, o->dom.domid, cap, &err) == -1)
		goto off;
	o->capped = 1;
	snprintf(o->conv_text, sizeof(o->conv_text), "guest throttled to "
	    "%d%% cpu: expected downtime %" PRIu32 " ms > %" PRIu32 " ms",
	    cap, expected, o->conv.limit_ms);
	mig_log_info("%s: %s", o->dom.name, o->conv_text);
	worker_event(w, MIG_PHASE_PRECOPY, o->conv_text);
	return;
off:
	/* No lever left: from here the rule goes straight to its end. */
	mig_log_warnx("%s; auto-converge off for this migration", err.msg);
	o->conv.auto_converge = false;
}

/* Gives up before the guest would be stopped for too long. */
static void
downtime_abort(struct out *o, uint32_t expected)
{
	struct worker	*w = o->w;

	o->conv_aborted = 1;
	snprintf(o->conv_why, sizeof(o->conv_why), "%s does not converge: "
	    "expected downtime %" PRIu32 " ms, allowed %" PRIu32 " ms, %u "
	    "round(s) over%s; aborted, it runs here again", o->dom.name,
	    expected, o->conv.limit_ms, o->conv.over, o->capped ?
	    " even throttled" : "");
	if (w->op != NULL && !mig_hv_op_done(w->op))
		mig_hv_abort(w->op, NULL);
	if (w->relay != NULL)
		mig_relay_cancel(w->relay);
	if (w->direct != NULL)
		direct_cancel(w->direct);
}

/* The policy's decision on a round (or a disk pass) that would cost
 * expected ms, acted on; -1 when it gave up. */
static int
act(struct out *o, uint32_t expected, bool final)
{
	switch (converge_round(&o->conv, expected, final)) {
	case CONV_NONE:
		break;
	case CONV_THROTTLE:
		throttle(o, expected);
		break;
	case CONV_ABORT:
		downtime_abort(o, expected);
		return -1;
	}
	return 0;
}

/* A live disk copy's delta pass, judged as a memory round is: what
 * stopping now would cost is that delta (storage_live.c). */
static int
disk_judge(void *arg, uint32_t expected)
{
	struct out	*o = arg;

	if (o->conv.limit_ms == 0 || o->conv_aborted)
		return o->conv_aborted ? -1 : 0;
	return act(o, expected, false);
}

/* Once per round, at its first report: what stopping now would cost
 * is what this round set out to send. */
static void
judge(struct out *o, const struct mig_hv_progress *p)
{
	uint32_t	expected;

	if (o->conv.limit_ms == 0 || o->conv_aborted || o->final_judged ||
	    !(o->req.flags & CTL_MF_LIVE))
		return;
	if (o->suspended)
		o->final_judged = 1;
	else if (p->round == 0 || p->round + 1 == o->judged)
		return;
	o->judged = p->round + 1;
	expected = worker_downtime_ms(o->w, p->pages_total);
	(void)act(o, expected, o->suspended);
}

/* The guest's own cap again, whatever happened: this copy may yet run
 * (failure, or a commit that fails), and the target's copy was built
 * from the config read before any throttling, which carries the cap. */
static void
cap_restore(struct out *o)
{
	struct mig_err	err;

	if (!o->capped)
		return;
	if (mig_hv_cap_set(o->w->hv, o->dom.domid, o->cap_orig, &err) == -1) {
		/* Still owed: undo() tries again, the journal keeps it. */
		mig_log_warnx("%s; restore it by hand: xl sched-credit2 (or "
		    "sched-credit) -d %s -c %d", err.msg, o->dom.name,
		    o->cap_orig);
		return;
	}
	mig_log_info("%s: cpu cap restored to %d", o->dom.name, o->cap_orig);
	o->capped = 0;
	o->conv_text[0] = '\0';
	/* The next record no longer owes it (a crash before then only
	 * sets it once more). */
	o->w->rec.flags &= ~JF_CAP;
}

static void
on_progress(struct mig_hv_op *op, const struct mig_hv_progress *rep,
    void *arg)
{
	struct out		*o = arg;
	struct worker		*w = o->w;
	struct mig_err		 err;
	struct mig_hv_progress	 capped = *rep, *p = &capped;

	mig_hv_progress_cap(p, o->dom.mem_kib, w->page_size);
	switch (p->kind) {
	case MIG_HV_PROGRESS_ROUND:
		w->round = p->round;
		w->dirty_left = p->dirty_left;
		if (p->round == 0)
			w->pages_total = p->pages_total;
		/* The last pass, after the suspend, is stop-and-copy. */
		worker_event(w, o->suspended ? MIG_PHASE_STOPCOPY :
		    MIG_PHASE_PRECOPY, conv_text(o));
		judge(o, p);
		break;
	case MIG_HV_PROGRESS_SUSPENDED:
		o->suspended = 1;
		w->suspended_ms = mig_now_ms();
		if (worker_journal(w, J_SUSPENDED, &err) == -1)
			mig_log_warnx("%s", err.msg);	/* save goes on: the
						 * record is advisory */
		worker_event(w, MIG_PHASE_STOPCOPY, "domain suspended");
		break;
	case MIG_HV_PROGRESS_END:
		break;
	}
}

static void
on_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct out		*o = arg;
	struct mig_relay_stats	 st;

	/* A raw relay that failed (the target went away) stops libxl even
	 * when it is not writing, as the direct path's timer does. */
	if (o->raw && o->w->relay != NULL && o->w->op != NULL &&
	    !mig_hv_op_done(o->w->op)) {
		mig_relay_stats(o->w->relay, &st);
		if (st.failed)
			mig_hv_abort(o->w->op, NULL);
	}
	worker_event(o->w, o->suspended ? MIG_PHASE_STOPCOPY :
	    MIG_PHASE_PRECOPY, conv_text(o));
}

/* Pre-migration checks on this side. */
static int
check_domain(struct out *o, struct mig_err *err)
{
	struct worker	*w = o->w;

	if (mig_hv_find(w->hv, o->req.domain, &o->dom, err) == -1)
		return -1;
	if (temp_suffix(o->dom.name) != NULL)
		return mig_seterr(err, MIG_E_INVAL, "domain %s is itself in "
		    "the middle of a migration", o->dom.name);
	if (o->dom.domid == 0)
		return mig_seterr(err, MIG_E_INVAL, "Domain-0 cannot be "
		    "migrated");
	if (o->dom.state != MIG_HV_DOM_RUNNING &&
	    o->dom.state != MIG_HV_DOM_PAUSED)
		return mig_seterr(err, MIG_E_INVAL, "domain %s is %s, not "
		    "running", o->dom.name, mig_hv_domstate_name(o->dom.state));
	if (strlen(o->dom.name) > MIG_NAME_MAX)
		return mig_seterr(err, MIG_E_INVAL, "domain name %s is longer "
		    "than %d bytes", o->dom.name, MIG_NAME_MAX);
	return 0;
}

/*
 * A live migration needs this hypervisor to track dirty pages (hostinfo
 * said so in our HELLO): refused before the target hears of it.  Only a
 * PV guest's tracking needs shadow paging; an HVM or PVH guest's goes
 * through its p2m, in HAP or shadow mode, whichever it runs in here, so
 * it is never refused (a type we cannot tell is treated as PV).
 */
static int
check_live(struct out *o, const struct mig_msg_hello *us, struct mig_err *err)
{
	if (o->dom.type == MIG_HV_TYPE_HVM || o->dom.type == MIG_HV_TYPE_PVH)
		return 0;
	if ((o->req.flags & CTL_MF_LIVE) && !(us->features & MIG_FEAT_LIVE))
		return mig_seterr(err, MIG_E_NOTSUP, "this hypervisor cannot "
		    "track dirty pages for PV guests (no shadow paging): live "
		    "migration is impossible here; use a stop-and-copy "
		    "migration (--non-live) or a hypervisor with shadow "
		    "paging");
	return 0;
}

/* Pre-migration checks of the target's HELLO against ours. */
static int
check_target(struct out *o, const struct mig_msg_hello *us,
    const struct mig_msg_hello *them, struct mig_err *err)
{
	if (strcmp(us->arch, them->arch) != 0)
		return mig_seterr(err, MIG_E_NOTSUP, "%s is %s, this host %s",
		    o->req.host, them->arch, us->arch);
	if (us->page_size != them->page_size)
		return mig_seterr(err, MIG_E_NOTSUP, "%s has %u-byte pages, "
		    "this host %u", o->req.host, them->page_size,
		    us->page_size);
	if (them->xen_major < us->xen_major || (them->xen_major ==
	    us->xen_major && them->xen_minor < us->xen_minor))
		return mig_seterr(err, MIG_E_NOTSUP, "%s runs Xen %u.%u, older "
		    "than this host's %u.%u: a domain never moves to an older "
		    "Xen", o->req.host, them->xen_major, them->xen_minor,
		    us->xen_major, us->xen_minor);
	if (strcmp(us->hostname, them->hostname) == 0 &&
	    !(o->req.flags & CTL_MF_LOCALHOST))
		return mig_seterr(err, MIG_E_INVAL, "%s is this host (%s); "
		    "use --localhost to migrate to it", o->req.host,
		    them->hostname);
	if ((o->req.flags & CTL_MF_STORAGE) &&
	    !(them->features & MIG_FEAT_STORAGE))
		return mig_seterr(err, MIG_E_NOTSUP, "%s's relocd cannot "
		    "receive disks (--with-storage): upgrade it", o->req.host);
	if (o->live_disks && !(them->features & MIG_FEAT_STORAGE_LIVE))
		return mig_seterr(err, MIG_E_NOTSUP, "%s's relocd does not "
		    "receive disks while the guest runs (older than this one, "
		    "or storage_live = 0 there): use --non-live, or upgrade "
		    "it", o->req.host);
	if (them->mem_free_kib < o->dom.maxmem_kib)
		mig_log_info("%s reports %" PRIu64 " KiB free for a %" PRIu64
		    " KiB domain; asking anyway", o->req.host,
		    them->mem_free_kib, o->dom.maxmem_kib);
	return 0;
}

/* The bandwidth limit of this job, 0 for none. */
static uint64_t
bw_limit(const struct out *o)
{
	return o->req.bandwidth ? o->req.bandwidth :
	    o->w->conf.bandwidth_limit;
}

/* Whether libxl's stream may go to the socket itself (byte_path.c), and
 * why, for the log line. */
static int
direct_wanted(struct out *o)
{
	if ((o->req.flags & CTL_MF_COMPRESS) || o->w->conf.compression) {
		o->path_why = "compression asked";
		return 0;
	}
	if (bw_limit(o) != 0) {
		o->path_why = "bandwidth limit";
		return 0;
	}
	if (!o->w->conf.direct_stream) {
		o->path_why = "direct_stream = 0";
		return 0;
	}
	return byte_path_can(o->conn, &o->path_why) ||
	    (o->raw = byte_path_raw(o->conn, &o->path_why));
}

static int
reserve(struct out *o, const struct mig_msg_hello *us,
    struct mig_msg *m, struct mig_err *err)
{
	struct worker	*w = o->w;
	uint64_t	 need;
	char		*given;

	if ((o->json = mig_hv_config_json(w->hv, o->dom.domid, err)) == NULL)
		return -1;
	if (o->req.config[0] != '\0') {
		if (cfg_override(w->hv, o->req.config, o->json, 1, &given,
		    NULL, 0, err) == -1)
			return -1;
		free(o->json);
		o->json = given;
		mig_log_info("%s: sending configuration %s in place of its own",
		    o->dom.name, o->req.config);
	}
	if (mig_hv_config_memory(w->hv, o->json, &need, err) == -1)
		return -1;
	if (strlen(o->json) > MIG_FRAME_CTRL_MAX - 1024)
		return mig_seterr(err, MIG_E_TOOBIG, "domain %s: config of "
		    "%zu bytes", o->dom.name, strlen(o->json));
	memset(m, 0, sizeof(*m));
	m->type = MIG_MSG_RESERVE;
	snprintf(m->u.reserve.name, sizeof(m->u.reserve.name), "%s",
	    o->dom.name);
	memcpy(m->u.reserve.uuid, o->dom.uuid, 16);
	m->u.reserve.config = (const uint8_t *)o->json;
	m->u.reserve.config_len = strlen(o->json);
	m->u.reserve.mem_kib = need;
	m->u.reserve.xen_major = us->xen_major;
	m->u.reserve.xen_minor = us->xen_minor;
	snprintf(m->u.reserve.arch, sizeof(m->u.reserve.arch), "%s", us->arch);
	m->u.reserve.page_size = us->page_size;
	m->u.reserve.flags = (o->req.flags & CTL_MF_LIVE ? MIG_RESERVE_F_LIVE :
	    0) | (o->req.flags & CTL_MF_LOCALHOST ? MIG_RESERVE_F_LOCALHOST :
	    0) | (o->req.flags & CTL_MF_PAUSED ? MIG_RESERVE_F_START_PAUSED :
	    0) | (o->req.flags & CTL_MF_NO_ADOPT ? MIG_RESERVE_F_NO_ADOPT : 0);
	/* Credit only with compression: uncompressed, TCP's own window
	 * already bounds the stream bytes in flight (relay_credit.c). */
	m->u.reserve.features = MIG_FEAT_XXH3 |
	    ((o->req.flags & CTL_MF_COMPRESS) || w->conf.compression ?
	    MIG_FEAT_ZSTD | MIG_FEAT_CREDIT : 0) | ((o->direct =
	    direct_wanted(o)) ? MIG_FEAT_DIRECT : 0) |
	    (o->live_disks ? MIG_FEAT_STORAGE_LIVE : 0);
	if (o->storage != NULL) {
		if (storage_describe(w->hv, o->json, o->storage, err) == -1 ||
		    (o->live_disks && storage_live_check(o->storage,
		    err) == -1))
			return -1;
		storage_reserve_fill(o->storage, &m->u.reserve);
	}
	if (peer_send(o->conn, m, worker_deadline(w), err) == -1 ||
	    peer_recv(o->conn, o->buf, m, worker_deadline(w), err) == -1)
		return -1;
	if (m->type == MIG_MSG_REFUSED)
		return mig_seterr(err, MIG_E_DENIED, "%s refused %s: %s (%s)",
		    o->req.host, o->dom.name, m->u.refused.text,
		    mig_refuse_reason_name(m->u.refused.reason));
	if (m->type != MIG_MSG_RESERVED)
		return mig_seterr(err, MIG_E_PROTO, "%s sent %s to RESERVE",
		    o->req.host, mig_msg_name(m->type));
	o->granted_zstd = (m->u.reserved.features & MIG_FEAT_ZSTD) != 0;
	if (m->u.reserved.features & MIG_FEAT_ZSTD)
		mig_log_info("%s: %s agreed to zstd compression", o->dom.name,
		    o->req.host);
	o->granted_xxh3 = (m->u.reserved.features & MIG_FEAT_XXH3) != 0;
	if (o->direct && !(m->u.reserved.features & MIG_FEAT_DIRECT)) {
		o->direct = o->raw = 0;
		o->path_why = "the target did not grant DIRECT";
	}
	o->granted_credit = o->granted_zstd &&
	    (m->u.reserved.features & MIG_FEAT_CREDIT) != 0;
	if (o->live_disks && !(m->u.reserved.features & MIG_FEAT_STORAGE_LIVE))
		return mig_seterr(err, MIG_E_PROTO, "%s did not grant the live "
		    "disk copy it offers", o->req.host);
	o->live.rflags = (o->granted_zstd ? MIG_RELAY_F_ZSTD : 0) |
	    (o->granted_xxh3 ? MIG_RELAY_F_XXH3 : 0);
	o->live.bw = bw_limit(o);
	o->live.judge = disk_judge;
	o->live.arg = o;
	return 0;
}

/*
 * libxl's save of the domain into fd, to its end.  Its own error is kept
 * apart: the byte path's end may report another (a peer that went away),
 * which says nothing about the guest's state.
 */
static int
save_into(struct out *o, int fd, struct mig_err *err)
{
	struct worker	*w = o->w;
	int		 rc;

	w->op = mig_hv_save(w->hv, o->dom.domid, fd,
	    o->req.flags & CTL_MF_LIVE ? MIG_HV_SAVE_LIVE : 0, on_progress,
	    NULL, o, err);
	rc = w->op == NULL ? -1 : mig_hv_wait(w->op, err);
	if ((o->save_failed = rc == -1))
		o->save_err = *err;
	return rc;
}

/* Phases 2 and 3 the direct way: libxl writes into the socket. */
static int
stream_direct(struct out *o, struct mig_err *err)
{
	struct direct	*d;
	int		 fd;

	if ((d = direct_begin(o->w, o->conn, -1, 1, &fd, err)) == NULL)
		return -1;
	return direct_end(d, save_into(o, fd, err), err);
}

/* The relay's way: libxl writes into a socketpair, the relay frames it,
 * or passes it on raw through TLS in user space (direct, o->raw). */
static int
stream_relay(struct out *o, struct mig_err *err)
{
	struct worker		*w = o->w;
	struct mig_relay_conf	 rc;
	int			 xfd, rc_save;

	memset(&rc, 0, sizeof(rc));
	rc.dir = o->raw ? MIG_RELAY_SEND_RAW : MIG_RELAY_SEND;
	rc.flags = MIG_RELAY_F_NO_XL_HEADER | (o->raw ? 0 :
	    (o->granted_zstd ? MIG_RELAY_F_ZSTD : 0) |
	    (o->granted_xxh3 ? MIG_RELAY_F_XXH3 : 0) |
	    (o->granted_credit ? MIG_RELAY_F_CREDIT : 0));
	rc.conn = o->conn;
	rc.zstd_level = w->conf.compression_level;
	rc.bw_limit = bw_limit(o);
	rc.name = o->dom.name;
	if (worker_relay_start(w, &rc, &xfd, err) == -1)
		return -1;
	rc_save = save_into(o, xfd, err);
	/* libxl never closes the fd: closing our copy of its end is what
	 * tells the relay the stream is complete. */
	close(xfd);
	return worker_stream_end(w, rc_save, rc.local_fd, err);
}

/* Phases 2 and 3: the stream, from libxl to the target, one way or the
 * other (byte_path.c says which and why). */
static int
stream(struct out *o, uint64_t resv, struct mig_err *err)
{
	struct worker		*w = o->w;
	struct mig_msg		 m;
	struct event		*tick;
	struct timeval		 half = { 0, 500000 };
	int			 rc;

	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_STREAM_START;
	m.u.stream_start.reservation_id = resv;
	m.u.stream_start.flags = o->direct ? MIG_STREAM_F_DIRECT :
	    (o->granted_zstd ? MIG_STREAM_F_ZSTD : 0) |
	    (o->granted_xxh3 ? MIG_STREAM_F_XXH3 : 0) |
	    (o->granted_credit ? MIG_STREAM_F_CREDIT : 0);
	if (peer_send(o->conn, &m, worker_deadline(w), err) == -1)
		return -1;
	byte_path_log(o->dom.name, o->direct, o->path_why);
	if (worker_journal(w, J_STREAMING, err) == -1)
		return -1;
	worker_event(w, MIG_PHASE_PRECOPY, "streaming");
	tick = event_new(w->base, -1, EV_PERSIST, on_tick, o);
	if (tick != NULL)
		event_add(tick, &half);
	rc = o->direct && !o->raw ? stream_direct(o, err) :
	    stream_relay(o, err);
	if (tick != NULL)
		event_free(tick);
	return rc;
}

/*
 * Before commit: make the domain run here again.  Only the save's own
 * error can say the guest's state is unknown (a suspend that timed out);
 * a peer's timeout says nothing about our guest.
 */
static int
undo(struct out *o, const struct mig_err *why)
{
	struct worker	*w = o->w;
	struct mig_err	 err;
	uint16_t	 status = ctl_status_of(why, 0);

	mig_log_failure(why->msg, w->followed);
	/* Nothing more to track, before the guest runs here again. */
	storage_live_stop(&o->live);
	cap_restore(o);
	if (o->dom.domid != 0 && o->dom.domid != MIG_HV_INVALID_DOMID &&
	    mig_hv_recover_source(w->hv, o->dom.domid, o->save_failed ?
	    &o->save_err : NULL, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		return worker_result(w, CTL_ST_UNDEFINED, &err);
	}
	w->resumed_ms = mig_now_ms();
	w->result_domid = o->dom.domid;
	if (w->rec.state != J_NONE && worker_journal(w, J_ABORTED, &err) == -1)
		mig_log_warnx("%s", err.msg);
	return worker_result(w, status, why);
}

/* The same, after telling the target we stop (CANCEL): in_abandon(). */
static int
abandon(struct out *o, struct mig_err *why)
{
	peer_abort(o->conn, MIG_MSG_CANCEL, why);
	return undo(o, why);
}

/*
 * COMMIT went out and no ACTIVATED came back: ask the target (indoubt.c)
 * until it says, while the domain stays suspended here.
 */
static int
in_doubt(struct out *o, struct mig_err *err)
{
	struct worker	*w = o->w;
	int		 rc;

	mig_log_warnx("COMMIT sent to %s, no answer: %s", o->req.host, err->msg);
	storage_live_stop(&o->live);
	worker_event(w, MIG_PHASE_COMMITMENT, "in doubt: asking the target");
	mig_conn_close(o->conn);
	o->conn = NULL;
	rc = indoubt_settle(w, &w->rec, 1);
	if (rc == INDOUBT_SETTLED && w->rec.state == J_DONE) {
		worker_event(w, MIG_PHASE_ACTIVATION, "done");
		return worker_result(w, CTL_ST_OK, NULL);
	}
	if (rc == INDOUBT_SETTLED) {
		w->resumed_ms = mig_now_ms();
		w->result_domid = o->dom.domid;
		mig_seterr(err, MIG_E_IO, "%s did not commit %s after the "
		    "connection failed; it runs here again", o->req.host,
		    o->dom.name);
		return worker_result(w, CTL_ST_FAILED, err);
	}
	mig_seterr(err, MIG_E_IO, "COMMIT sent to %s but no answer: %s stays "
	    "suspended here as %s" AWAY_SUFFIX " until relocd settles it with "
	    "%s (see the log); check 'xl list' on both hosts", o->req.host,
	    o->dom.name, o->dom.name, o->req.host);
	return worker_result(w, CTL_ST_UNDEFINED, err);
}

/* Phases 4 and 5. */
static int
commit(struct out *o, struct mig_err *err)
{
	struct worker	*w = o->w;
	struct mig_msg	 m;
	char		 away[MIG_HV_NAMELEN];
	struct mig_err	 e2;

	worker_event(w, MIG_PHASE_COMMITMENT, "waiting for the target");
	if (peer_expect(o->conn, o->buf, MIG_MSG_RECEIVED, &m,
	    worker_deadline(w), err) == -1)
		return abandon(o, err);
	if (w->cancelled) {
		mig_seterr(err, MIG_E_CANCELLED, "cancelled before commit");
		return abandon(o, err);
	}
	snprintf(away, sizeof(away), "%s" AWAY_SUFFIX, o->dom.name);
	if (mig_hv_rename(w->hv, o->dom.domid, o->dom.name, away, err) == -1)
		return abandon(o, err);
	if (worker_journal(w, J_COMMIT_SENT, err) == -1) {
		mig_hv_rename(w->hv, o->dom.domid, away, o->dom.name, &e2);
		return abandon(o, err);
	}
	/* The point of no return is the target's record of this COMMIT;
	 * from here on we never resume on our own. */
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_COMMIT;
	worker_event(w, MIG_PHASE_ACTIVATION, "committed");
	if (peer_send(o->conn, &m, worker_deadline(w), err) == -1 ||
	    peer_expect(o->conn, o->buf, MIG_MSG_ACTIVATED, &m,
	    worker_deadline(w), err) == -1)
		return in_doubt(o, err);
	w->resumed_ms = mig_now_ms();
	if (m.u.activated.status != 0) {
		/* The target could not start it and destroyed its copy:
		 * ours is the one. */
		mig_seterr(err, MIG_E_HV, "%s could not start %s: %s",
		    o->req.host, o->dom.name, m.u.activated.text);
		mig_hv_rename(w->hv, o->dom.domid, away, o->dom.name, &e2);
		return undo(o, err);
	}
	w->result_domid = m.u.activated.domid;
	/* The disks' trackers go once the guest runs there: taking
	 * dm-era's table off a volume is several dmsetup runs, which its
	 * pause need not wait for; before the destroy and the removal
	 * (lvremove would leave dm-era's devices), and before the result,
	 * which promises a host as it was. */
	storage_live_stop(&o->live);
	if (mig_hv_destroy(w->hv, o->dom.domid, err) == -1)
		mig_log_warnx("%s: the domain runs on %s; destroy %s here by hand",
		    err->msg, o->req.host, away);
	else if (o->storage != NULL && (o->req.flags & CTL_MF_STORAGE_REMOVE))
		storage_remove_source(o->storage, o->req.host);
	if (worker_journal(w, J_DONE, err) == -1)
		mig_log_warnx("%s", err->msg);
	worker_event(w, MIG_PHASE_ACTIVATION, "done");
	return worker_result(w, CTL_ST_OK, NULL);
}

/* The target ended the exchange (HOW) between its TLS handshake and its
 * greeting: it refused our certificate. */
static void
cert_refused(struct out *o, const char *how, struct mig_err *err)
{
	mig_seterr(err, MIG_E_DENIED, "%s %s after the TLS handshake, "
	    "before greeting us: it refused this host's certificate, most "
	    "likely: its tls_ca must hold the CA of this host's tls_cert, and "
	    "its tls_peers_allow (if set) must name it (its log says which)",
	    mig_conn_peer(o->conn), how);
}

/*
 * Connects and exchanges greetings.  A relocd whose relocation_hosts_allow
 * does not admit us closes the connection without a word, before any
 * greeting (and before TLS): it tells a host it refuses nothing, not even
 * why.  The connection ends or is reset there and nowhere else in a
 * healthy exchange, so that is reported as a refusal, with the reasons it
 * can have; nothing has moved.
 */
static int
greet(struct out *o, const struct mig_msg *us, struct mig_msg *them,
    struct mig_err *err)
{
	bool	tls = (o->req.flags & CTL_MF_TLS) != 0;

	if (peer_connect(o->w, o->req.host, o->req.port, tls, &o->conn,
	    &o->tls, err) == -1) {
		if (o->conn != NULL)
			(void)mig_greeting_refusal(err, errno,
			    mig_conn_peer(o->conn));
		return -1;
	}
	if (peer_open(o->conn, us, o->buf, them, worker_deadline(o->w),
	    err) == 0)
		return 0;
	/* Past a TLS handshake the host was admitted already: with TLS 1.3
	 * the target checks our certificate after our side of the
	 * handshake is done, and its refusal arrives as a close, or as its
	 * alert if we read before the close: which one is timing, so both
	 * are the same refusal. */
	if (mig_greeting_refusal(err, errno, mig_conn_peer(o->conn)) && tls)
		cert_refused(o, "closed the connection", err);
	else if (tls && err->code == MIG_E_TLS &&
	    strstr(err->msg, "refused the TLS") != NULL) {
		char	alert[MIG_ERRLEN + 32];

		snprintf(alert, sizeof(alert), "sent a TLS alert (%s)",
		    err->msg);
		cert_refused(o, alert, err);
	}
	return -1;
}

static int
run(struct out *o)
{
	struct worker	*w = o->w;
	struct mig_msg	 us, them, m;
	struct mig_err	 err;
	char		 peer[CTL_HOST_MAX + 8];
	int		 rc;

	snprintf(peer, sizeof(peer), "%s", o->req.host);
	worker_event(w, MIG_PHASE_PREMIGRATION, "checking");
	if (check_domain(o, &err) == -1)
		return worker_result(w, ctl_status_of(&err, 1), &err);
	worker_describe(w, o->dom.name, peer);
	w->rec.job = w->job;
	w->rec.role = JR_SOURCE;
	w->rec.domid = (int)o->dom.domid;
	snprintf(w->rec.name, sizeof(w->rec.name), "%s", o->dom.name);
	mig_hv_uuid_format(o->dom.uuid, w->rec.uuid);
	indoubt_peer(w->rec.peer, sizeof(w->rec.peer), o->req.host,
	    o->req.port, o->req.flags & CTL_MF_TLS);
	if (peer_hello_fill(w->hv, &us, &err) == -1 ||
	    check_live(o, &us.u.hello, &err) == -1 ||
	    greet(o, &us, &them, &err) == -1 ||
	    check_target(o, &us.u.hello, &them.u.hello, &err) == -1)
		return worker_result(w, ctl_status_of(&err, 0), &err);
	if (worker_journal(w, J_PRECHECK, &err) == -1)
		return worker_result(w, CTL_ST_FAILED, &err);
	worker_event(w, MIG_PHASE_RESERVATION, "reserving");
	if (reserve(o, &us.u.hello, &m, &err) == -1)
		return undo(o, &err);
	w->rec.resv = m.u.reserved.id;
	if (worker_journal(w, J_RESERVED, &err) == -1)
		return undo(o, &err);
	if (w->cancelled) {
		mig_seterr(&err, MIG_E_CANCELLED, "cancelled");
		return abandon(o, &err);
	}
	/* Live: the disks first, with the guest running. */
	rc = o->live_disks ? storage_live_precopy(w, o->conn, o->storage,
	    &o->live, &err) : 0;
	if (rc == 0)
		rc = stream(o, m.u.reserved.id, &err);
	/* The guest is suspended now: its disks hold still. */
	if (rc == 0 && o->live_disks)
		rc = storage_live_final(w, o->conn, o->storage, &o->live, &err);
	else if (rc == 0 && o->storage != NULL)
		rc = storage_send(w, o->conn, o->storage, o->live.rflags,
		    o->live.bw, &err);
	w->disk_passes = o->live.passes;
	w->disk_last = o->live.last_bytes;
	cap_restore(o);
	if (rc == -1) {
		if (o->conv_aborted)
			mig_seterr(&err, MIG_E_NOTSUP, "%s", o->conv_why);
		else if (w->cancelled)
			mig_seterr(&err, MIG_E_CANCELLED, "cancelled during the "
			    "stream; %s runs here again", o->dom.name);
		return undo(o, &err);
	}
	return commit(o, &err);
}

int
worker_out(struct worker *w)
{
	struct out	 o;
	struct ctl_msg	 req;
	struct mig_err	 err;
	int		 rc;

	memset(&o, 0, sizeof(o));
	o.w = w;
	o.dom.domid = MIG_HV_INVALID_DOMID;
	if (ctl_recv(w->pipe, &req, &err) == -1 || req.type != CTL_MIGRATE) {
		mig_log_warnx("no migrate request from the parent");
		return 1;
	}
	o.req = req.u.migrate;
	converge_init(&o.conv, o.req.max_downtime_ms ? o.req.max_downtime_ms :
	    w->conf.max_downtime_ms, w->conf.downtime_rounds,
	    (o.req.flags & CTL_MF_AUTO_CONVERGE) || w->conf.auto_converge,
	    (o.req.flags & CTL_MF_DOWNTIME_ABORT) || w->conf.downtime_abort);
	if (o.req.flags & ~CTL_MF_ALL) {
		mig_seterr(&err, MIG_E_INVAL, "unknown migrate flags %#x",
		    o.req.flags);
		return worker_result(w, CTL_ST_FAILED, &err);
	}
	o.live_disks = (o.req.flags & CTL_MF_STORAGE) &&
	    (o.req.flags & CTL_MF_LIVE);
	if ((o.buf = malloc(sizeof(*o.buf))) == NULL ||
	    ((o.req.flags & CTL_MF_STORAGE) && (o.storage =
	    calloc(1, sizeof(*o.storage))) == NULL)) {
		free(o.buf);
		mig_seterrno(&err, MIG_E_NOMEM, "buffer");
		return worker_result(w, CTL_ST_FAILED, &err);
	}
	rc = run(&o);
	if (o.conn != NULL)
		mig_conn_close(o.conn);
	if (o.tls != NULL)
		SSL_CTX_free(o.tls);
	free(o.json);
	free(o.buf);
	storage_live_stop(&o.live);	/* any path that did not already */
	free(o.storage);
	return rc;
}
