/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The target side of a migration.  The domain is built paused under a
 * temporary name, NAME--incoming, and only gets its own name and runs
 * after the source's COMMIT has been journaled here: that record is the
 * point of no return.  Before it, any failure destroys the container and
 * the source resumes its copy; after it, this side owns the domain.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/conn.h"
#include "mig/domcfg.h"
#include "mig/hv.h"
#include "mig/log.h"
#include "mig/proto.h"
#include "mig/relay.h"
#include "relocd.h"
#include "storage.h"
#include "worker_in.h"

static int
refuse(struct in *in, uint16_t reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Answers REFUSED; nothing has been changed on this host. */
static int
refuse(struct in *in, uint16_t reason, const char *fmt, ...)
{
	struct mig_msg	m;
	struct mig_err	err;
	char		text[MIG_TEXT_MAX + 1];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	mig_log_info("refused %s from %s: %s", in->req.name,
	    mig_conn_peer(in->conn), text);
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_REFUSED;
	m.u.refused.reason = reason;
	mig_text_set(m.u.refused.text, text);
	peer_send(in->conn, &m, worker_deadline(in->w), &err);
	mig_seterr(&err, MIG_E_DENIED, "refused %s: %s", in->req.name, text);
	return worker_result(in->w, CTL_ST_REFUSED, &err);
}

/*
 * The memory NAME--incoming containers hold already.  Each of them keeps
 * its reservation in the ledger until it is renamed, so this is added back
 * to the hypervisor's free figure before the ledger subtracts what it
 * holds: a restore in progress then counts once, not twice, and parallel
 * migrations to one host are not refused for memory that is there.
 */
uint64_t
in_incoming_kib(struct worker *w)
{
	struct mig_hv_dominfo	*list;
	const char		*sfx;
	uint64_t		 sum = 0;
	int			 n, i;

	if (mig_hv_list(w->hv, &list, &n, NULL) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if ((sfx = temp_suffix(list[i].name)) != NULL &&
		    strcmp(sfx, INCOMING_SUFFIX) == 0)
			sum += list[i].mem_kib;
	free(list);
	return sum;
}

/*
 * Name and uuid clashes with the domains here; 1 (with the reason and a
 * text) when there is one.  On one host the source itself holds the name
 * and the uuid: only that domain (same name and uuid) may share them.
 */
int
in_clash(struct in *in, uint16_t *reason, char *why, size_t size)
{
	struct mig_msg_reserve	*r = &in->req;
	struct mig_hv_dominfo	 d;
	struct mig_hv		*hv = in->w->hv;
	char			 uuid[37];
	int			 localhost = r->flags & MIG_RESERVE_F_LOCALHOST;

	*reason = MIG_REFUSE_NAME_CLASH;
	if (mig_hv_find(hv, r->name, &d, NULL) == 0 && !(localhost &&
	    memcmp(d.uuid, r->uuid, 16) == 0)) {
		snprintf(why, size, "a domain called %s runs here already "
		    "(domid %u)", r->name, d.domid);
		return 1;
	}
	if (mig_hv_find(hv, in->incoming, &d, NULL) == 0) {
		snprintf(why, size, "%s exists here already", in->incoming);
		return 1;
	}
	*reason = MIG_REFUSE_UUID_CLASH;
	mig_hv_uuid_format(r->uuid, uuid);
	if (mig_hv_find(hv, uuid, &d, NULL) == 0 && !(localhost &&
	    strcmp(d.name, r->name) == 0)) {
		snprintf(why, size, "domain %s here has the same uuid %s",
		    d.name, uuid);
		return 1;
	}
	return 0;
}

/*
 * The receive policy on the configuration as libxl parsed it: the name
 * and uuid this host will create (in->req), and what the configuration
 * asks of dom0.  1 (with the reason and a text) when refused.
 */
int
in_policy(struct in *in, const struct mig_domcfg *dc, uint16_t *reason,
    char *why, size_t size)
{
	*reason = MIG_REFUSE_NOT_ALLOWED;
	return policy_name(in->req.name, why, size) ||
	    policy_identity(dc, in->req.uuid, why, size) ||
	    policy_check(&in->w->conf.recv, dc, why, size);
}

/* The REFUSED reason for the ledger's refusal of a reservation. */
uint16_t
in_ledger_reason(const struct worker *w)
{
	switch (w->reserve_ans.refusal) {
	case LEDGER_NO_MEMORY:
		return MIG_REFUSE_NO_MEMORY;
	case LEDGER_FULL:
		return MIG_REFUSE_BUSY;
	case LEDGER_UUID_CLASH:
		return MIG_REFUSE_UUID_CLASH;
	default:
		return MIG_REFUSE_NAME_CLASH;
	}
}

/* Pre-checks of a RESERVE; 0 when it may go on to the ledger. */
static int
check(struct in *in, const struct mig_msg_hello *us, uint64_t *need,
    int *refused)
{
	struct worker		*w = in->w;
	struct mig_msg_reserve	*r = &in->req;
	struct mig_domcfg	 dc;
	struct mig_err		 err;
	char			 why[MIG_TEXT_MAX + 1];
	uint16_t		 reason;
	int			 localhost = r->flags & MIG_RESERVE_F_LOCALHOST;
	int			 bad;

	*refused = 1;
	if (strcmp(r->arch, us->arch) != 0)
		return refuse(in, MIG_REFUSE_ARCH, "this host is %s, the "
		    "domain %s", us->arch, r->arch);
	if (r->page_size != us->page_size)
		return refuse(in, MIG_REFUSE_PAGE_SIZE, "this host has %u-byte "
		    "pages, the domain %u", us->page_size, r->page_size);
	if (r->xen_major > us->xen_major || (r->xen_major == us->xen_major &&
	    r->xen_minor > us->xen_minor))
		return refuse(in, MIG_REFUSE_XEN_VERSION, "this host runs Xen "
		    "%u.%u, older than the source's %u.%u", us->xen_major,
		    us->xen_minor, r->xen_major, r->xen_minor);
	if (localhost && !w->conf.allow_localhost)
		return refuse(in, MIG_REFUSE_NOT_ALLOWED, "localhost migration "
		    "is off (allow_localhost_migration)");
	/* Disks that come along: the configuration names where they will
	 * be here, and the policy judges that. */
	if (in->storage != NULL && storage_plan(w, r, &in->json, in->storage,
	    &reason, why, sizeof(why)) != 0)
		return refuse(in, reason, "%s", why);
	/* Before anything here is touched: libxl would act on all of it. */
	if (mig_hv_config_describe(w->hv, in->json, &dc, &err) == -1)
		return refuse(in, MIG_REFUSE_BAD_CONFIG, "%s", err.msg);
	bad = in_policy(in, &dc, &reason, why, sizeof(why));
	mig_domcfg_free(&dc);
	if (bad)
		return refuse(in, reason, "%s", why);
	if (in_clash(in, &reason, why, sizeof(why)))
		return refuse(in, reason, "%s", why);
	if (mig_hv_config_memory(w->hv, in->json, need, &err) == -1)
		return refuse(in, MIG_REFUSE_BAD_CONFIG, "%s", err.msg);
	*refused = 0;
	return 0;
}

/* libxl's restore from fd into a new paused NAME--incoming, to its end. */
static int
restore_from(struct in *in, int fd, struct mig_err *err)
{
	struct worker	*w = in->w;
	int		 rc;

	w->op = mig_hv_restore(w->hv, fd, in->json, in->incoming, 1, NULL,
	    NULL, err);
	rc = w->op == NULL ? -1 : mig_hv_wait(w->op, err);
	if (rc == 0)
		in->domid = mig_hv_op_domid(w->op);
	return rc;
}

/*
 * The libxl stream from the connection into a new paused NAME--incoming:
 * DATA frames from a relocd (each says whether it is compressed: of
 * STREAM_START's flags the relay needs only the digest's, in rflags as
 * MIG_RELAY_F_XXH3), or xl's raw bytes (RECV_RAW, rflags 0).
 */
int
in_receive(struct in *in, enum mig_relay_dir dir, unsigned rflags,
    struct mig_err *err)
{
	struct worker		*w = in->w;
	struct mig_relay_conf	 rc;
	int			 xfd, rc_restore;

	memset(&rc, 0, sizeof(rc));
	rc.dir = dir;
	rc.flags = MIG_RELAY_F_NO_XL_HEADER | rflags;
	rc.conn = in->conn;
	rc.name = in->incoming;
	if (worker_relay_start(w, &rc, &xfd, err) == -1)
		return -1;
	rc_restore = restore_from(in, xfd, err);
	rc_restore = worker_stream_end(w, rc_restore, rc.local_fd, err);
	close(xfd);
	return rc_restore;
}

/* The same, libxl reading the connection's socket itself (byte_path.c). */
static int
in_receive_direct(struct in *in, struct mig_err *err)
{
	struct direct	*d;
	int		 fd;

	if ((d = direct_begin(in->w, in->conn, in->sandbox > 0 ?
	    in->w->conn_fd : -1, 0, &fd, err)) == NULL)
		return -1;
	return direct_end(d, restore_from(in, fd, err), err);
}

/*
 * DIRECT is granted when this side, too, can give libxl the socket; *why
 * says why not (this side's reasons first), or which socket it is.
 */
static int
in_direct_ok(struct in *in, const char **why)
{
	if (!in->w->conf.direct_stream) {
		*why = "direct_stream = 0";
		return 0;
	}
	/* A sandbox that still runs keeps TLS in user space: libxl reads
	 * the plaintext socketpair it hands over. */
	if (in->sandbox > 0 ? !byte_path_sandbox(in->w->conn_fd, why) :
	    !byte_path_can(in->conn, why))
		return 0;
	if (!(in->req.features & MIG_FEAT_DIRECT)) {
		*why = "the source did not ask for DIRECT";
		return 0;
	}
	return 1;
}

/*
 * STREAM_START's byte path: 1 direct, 0 relay, -1 (*err) when it sets
 * DIRECT without the grant, or with flags that only DATA frames have.
 */
static int
in_byte_path(struct in *in, uint16_t flags, const char *why,
    struct mig_err *err)
{
	if (!(flags & MIG_STREAM_F_DIRECT)) {
		byte_path_log(in->req.name, 0, in->granted & MIG_FEAT_DIRECT ?
		    "the source's choice" : why);
		return 0;
	}
	if (!(in->granted & MIG_FEAT_DIRECT) || flags != MIG_STREAM_F_DIRECT)
		return mig_seterr(err, MIG_E_PROTO, "%s set STREAM_START flag "
		    "DIRECT %s", mig_conn_peer(in->conn), !(in->granted &
		    MIG_FEAT_DIRECT) ? "without the grant" : "with ZSTD, XXH3 "
		    "or CREDIT");
	byte_path_log(in->req.name, 1, why);
	return 1;
}

/*
 * Before commit: the container goes, the source resumes its copy (the
 * mirror of worker_out.c's undo()).
 */
int
in_undo(struct in *in, const struct mig_err *why)
{
	struct worker	*w = in->w;
	struct mig_err	 err;

	mig_log_failure(why->msg, w->followed);
	if (in->domid != MIG_HV_INVALID_DOMID &&
	    mig_hv_destroy(w->hv, in->domid, &err) == -1)
		mig_log_warnx("%s", err.msg);
	if (in->storage != NULL)
		storage_undo(w, in->storage);
	if (in->resv != 0)
		worker_reserve_msg(w, CTL_RESERVE_RELEASE);
	if (w->rec.state != J_NONE && worker_journal(w, J_ABORTED, &err) == -1)
		mig_log_warnx("%s", err.msg);
	return worker_result(w, ctl_status_of(why, 0), why);
}

/* The same, after telling the source why in an ERROR frame (abandon()). */
int
in_abandon(struct in *in, const struct mig_err *why)
{
	peer_abort(in->conn, MIG_MSG_ERROR, why);
	return in_undo(in, why);
}

/*
 * A peer_expect() failed: a frame out of turn (MIG_E_PROTO) means the
 * source is still there and is told why; anything else is the source or
 * the connection failing, and is only undone.
 */
static int
in_out_of_turn(struct in *in, const struct mig_err *why)
{
	return why->code == MIG_E_PROTO ? in_abandon(in, why) :
	    in_undo(in, why);
}

/* The job's journal record, before its first state is written. */
void
in_journal_begin(struct in *in, const char *peer)
{
	struct worker	*w = in->w;

	w->rec.job = w->job;
	w->rec.role = JR_TARGET;
	w->rec.domid = -1;
	w->rec.resv = in->resv;
	snprintf(w->rec.name, sizeof(w->rec.name), "%s", in->req.name);
	mig_hv_uuid_format(in->req.uuid, w->rec.uuid);
	snprintf(w->rec.peer, sizeof(w->rec.peer), "%s", peer);
	/* A reconciliation that finishes the job must know it too. */
	if (in->req.flags & MIG_RESERVE_F_START_PAUSED)
		w->rec.flags |= JF_START_PAUSED;
	if (in->req.flags & MIG_RESERVE_F_NO_ADOPT)
		w->rec.flags |= JF_NO_ADOPT;
}

/*
 * Journals COMMITTED.  A record whose write went in is a commit even when
 * its fdatasync failed: QUERY and reconciliation read the file, so they
 * would answer "committed" for a domain destroyed here, and the source
 * would destroy the only other copy.
 */
int
in_commit(struct in *in, struct mig_err *err)
{
	int	landed;

	if (worker_journal_landed(in->w, J_COMMITTED, &landed, err) == 0)
		return 0;
	if (!landed)
		return -1;
	mig_log_warnx("%s: the record is in the journal but may not be on disk; "
	    "%s is committed here", err->msg, in->req.name);
	return 0;
}

/*
 * After COMMITTED the activation failed: the commit is taken back only
 * once the journal says so (ABORTING), and only then may the source be
 * told to resume its copy and ours be destroyed; a crash from there on
 * is reconciled by destroying ours.  -1 when the record did not land:
 * the journal still says COMMITTED, so the domain stays here, paused,
 * and the source, told nothing, asks and hears "committed".
 */
int
in_withdraw(struct in *in, struct mig_err *err)
{
	int	landed;

	if (worker_journal_landed(in->w, J_ABORTING, &landed, err) == 0 ||
	    landed)
		return 0;
	mig_log_warnx("%s", err->msg);
	mig_seterr(err, MIG_E_IO, "%s (domain %u) stays here, paused: its "
	    "activation failed and the journal cannot record that it is "
	    "given back; relocd finishes the activation at its next start",
	    in->req.name, in->domid);
	return -1;
}

static int
activate(struct in *in, struct mig_err *err)
{
	struct worker	*w = in->w;
	struct mig_msg	 m;
	struct mig_err	 e2;
	int		 ok;

	if (in_commit(in, err) == -1)
		return in_abandon(in, err);
	if (in->storage != NULL && storage_keep(w, in->storage, &e2) == -1)
		mig_log_warnx("%s", e2.msg);	/* COMMITTED says it too */
	worker_adopt(w, in->domid, in->req.name);
	/* Ours now.  The source renamed its copy out of the way before it
	 * sent COMMIT, so the name is free even on one host. */
	ok = mig_hv_rename(w->hv, in->domid, in->incoming, in->req.name,
	    err) == 0 && ((in->req.flags & MIG_RESERVE_F_START_PAUSED) ||
	    mig_hv_unpause(w->hv, in->domid, err) == 0);
	/* No longer NAME--incoming: its memory is the host's, not the
	 * ledger's (in_incoming_kib). */
	worker_reserve_msg(w, CTL_RESERVE_RELEASE);
	in->resv = 0;
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_ACTIVATED;
	m.u.activated.domid = in->domid;
	if (!ok) {
		mig_log_warnx("%s", err->msg);
		if (in_withdraw(in, &e2) == -1) {
			mig_log_warnx("%s", e2.msg);
			return worker_result(w, CTL_ST_UNDEFINED, &e2);
		}
		/* It cannot run here: say so, and the source resumes its
		 * copy, which it still has, suspended. */
		m.u.activated.status = -1;
		mig_text_set(m.u.activated.text, err->msg);
		peer_send(in->conn, &m, worker_deadline(in->w), &e2);
		/* Not destroyed: the ABORTING record stays, and
		 * reconciliation destroys it. */
		if (mig_hv_destroy(w->hv, in->domid, &e2) == -1)
			mig_log_warnx("%s", e2.msg);
		else if (worker_journal(w, J_ABORTED, &e2) == -1)
			mig_log_warnx("%s", e2.msg);
		else if (in->storage != NULL)
			storage_undo(w, in->storage);
		return worker_result(w, CTL_ST_FAILED, err);
	}
	if (worker_journal(w, J_ACTIVATED, err) == -1)
		mig_log_warnx("%s", err->msg);
	if (peer_send(in->conn, &m, worker_deadline(in->w), err) == -1)
		mig_log_warnx("%s (the domain runs here)", err->msg);
	worker_journal(w, J_DONE, &e2);
	w->result_domid = in->domid;
	mig_log_info("%s arrived from %s as domain %u", in->req.name,
	    mig_conn_peer(in->conn), in->domid);
	return worker_result(w, CTL_ST_OK, NULL);
}

/*
 * Phase 2: the checks of a RESERVE, then the ledger's reservation.  0
 * when reserved; 1 when refused (REFUSED sent, the result reported); -1
 * with err when it failed.
 */
static int
reserve(struct in *in, const struct mig_msg_hello *us, struct mig_err *err)
{
	struct worker	*w = in->w;
	uint64_t	 need = 0;
	int		 refused;

	char		 why[MIG_TEXT_MAX + 1];
	uint16_t	 reason;

	if ((in->json = strndup((const char *)in->req.config,
	    in->req.config_len)) == NULL ||
	    ((in->req.flags & MIG_RESERVE_F_STORAGE) && (in->storage =
	    calloc(1, sizeof(*in->storage))) == NULL))
		return mig_seterrno(err, MIG_E_NOMEM, "config");
	snprintf(in->incoming, sizeof(in->incoming), "%s" INCOMING_SUFFIX,
	    in->req.name);
	worker_describe(w, in->req.name, mig_conn_peer(in->conn));
	worker_event(w, MIG_PHASE_RESERVATION, "reserving");
	if (check(in, us, &need, &refused) != 0 || refused)
		return 1;
	if (worker_reserve(w, in->req.name, in->req.uuid, need,
	    us->mem_free_kib + in_incoming_kib(w), err) == -1)
		return -1;
	if (w->reserve_ans.refusal != 0)
		return refuse(in, in_ledger_reason(w), "%s (%" PRIu64 " KiB "
		    "needed, %" PRIu64 " KiB free)", w->reserve_ans.text, need,
		    us->mem_free_kib);
	in->resv = w->reserve_ans.id;
	if (in->storage != NULL && storage_create(w, in->storage, &reason, why,
	    sizeof(why)) != 0) {
		worker_reserve_msg(w, CTL_RESERVE_RELEASE);
		in->resv = 0;
		return refuse(in, reason, "%s", why);
	}
	in_journal_begin(in, mig_conn_peer(in->conn));
	return 0;
}

/* Disks that come while the guest runs: asked, live, and allowed. */
static int
in_live_disks(const struct in *in)
{
	return in->storage != NULL && (in->req.flags & MIG_RESERVE_F_LIVE) &&
	    (in->req.features & MIG_FEAT_STORAGE_LIVE) &&
	    in->w->conf.storage_live;
}

/* STREAM_ACKs to send: granted, and asked for by STREAM_START. */
static unsigned
in_credit(const struct in *in, const struct mig_msg_stream_start *ss)
{
	return (in->granted & MIG_FEAT_CREDIT) &&
	    (ss->flags & MIG_STREAM_F_CREDIT) ? MIG_RELAY_F_CREDIT : 0;
}

/*
 * An incoming migration from a relocd, top to bottom, the mirror of
 * worker_out.c's run(): reserve, RESERVED, STREAM_START, receive,
 * RECEIVED, COMMIT, activate.  Until COMMITTED every failure undoes what
 * was done here (in_undo), and tells the source why (in_abandon) unless
 * it is the source or the connection that failed.
 */
static int
migrate(struct in *in, const struct mig_msg_hello *us)
{
	struct worker	*w = in->w;
	struct mig_msg	 m;
	struct mig_err	 err;
	const char	*why;
	int		 rc, direct;

	if ((rc = reserve(in, us, &err)) != 0)
		return rc == -1 ? in_abandon(in, &err) : rc;
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_RESERVED;
	m.u.reserved.id = in->resv;
	m.u.reserved.ttl_sec = w->reserve_ans.ttl_sec;
	m.u.reserved.features = in->granted = (in->req.features &
	    (MIG_FEAT_ZSTD | MIG_FEAT_XXH3 | MIG_FEAT_CREDIT)) |
	    (in_direct_ok(in, &why) ? MIG_FEAT_DIRECT : 0) |
	    (in_live_disks(in) ? MIG_FEAT_STORAGE_LIVE : 0);
	if (worker_journal(w, J_RESERVED, &err) == -1 ||
	    peer_send(in->conn, &m, worker_deadline(w), &err) == -1)
		return in_undo(in, &err);

	/* Phase 3.  The source has ttl seconds to start its stream, or,
	 * moving disks live, its disks: the reservation is held while
	 * they come, however long. */
	if (in->granted & MIG_FEAT_STORAGE_LIVE) {
		if (worker_reserve_hold(w, in->resv, in->req.name,
		    in->req.uuid, &err) == -1)
			return in_abandon(in, &err);
		worker_event(w, MIG_PHASE_PRECOPY, "receiving disks");
		if (storage_receive_live(w, in->conn, in->buf, in->storage,
		    in->granted, &m, &err) == -1)
			return in_abandon(in, &err);
	} else if (peer_expect(in->conn, in->buf, MIG_MSG_STREAM_START, &m,
	    mig_deadline((int)w->reserve_ans.ttl_sec * 1000), &err) == -1)
		return in_out_of_turn(in, &err);
	/* The ledger checks the id and the domain it was made for: a stale
	 * or foreign id is ERROR(not-found), and nothing is received. */
	if (worker_reserve_hold(w, m.u.stream_start.reservation_id,
	    in->req.name, in->req.uuid, &err) == -1 ||
	    worker_journal(w, J_STREAMING, &err) == -1 ||
	    (direct = in_byte_path(in, m.u.stream_start.flags, why,
	    &err)) == -1)
		return in_abandon(in, &err);
	worker_event(w, MIG_PHASE_PRECOPY, "receiving");
	if (direct ? in_receive_direct(in, &err) == -1 :
	    in_receive(in, MIG_RELAY_RECV, (m.u.stream_start.flags &
	    MIG_STREAM_F_XXH3 ? MIG_RELAY_F_XXH3 : 0) | ((in->granted &
	    MIG_FEAT_ZSTD) && (m.u.stream_start.flags & MIG_STREAM_F_ZSTD) ?
	    MIG_RELAY_F_ZSTD : 0) | in_credit(in, &m.u.stream_start), &err) ==
	    -1)
		return in_abandon(in, &err);
	w->rec.domid = (int)in->domid;
	if (in->storage != NULL && ((in->granted & MIG_FEAT_STORAGE_LIVE) ?
	    storage_receive_final(w, in->conn, in->buf, in->storage,
	    in->granted, &err) : storage_receive(w, in->conn, in->buf,
	    in->storage, in->granted, &err)) == -1)
		return in_abandon(in, &err);
	if (worker_journal(w, J_RECEIVED, &err) == -1)
		return in_abandon(in, &err);

	/* Phases 4 and 5. */
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_RECEIVED;
	m.u.received.domid = in->domid;
	worker_event(w, MIG_PHASE_COMMITMENT, "received, paused");
	if (peer_send(in->conn, &m, worker_deadline(w), &err) == -1)
		return in_undo(in, &err);
	if (peer_expect(in->conn, in->buf, MIG_MSG_COMMIT, &m,
	    worker_deadline(w), &err) == -1)
		return in_out_of_turn(in, &err);
	return activate(in, &err);
}

/*
 * Admits the connection and reads its first message, which says what it
 * is: a relocd's migration (RESERVE), stock xl through "xl-reloc tunnel"
 * (worker_xl.c), or a source in doubt asking about a job (indoubt.c).
 */
static int
run(struct in *in)
{
	struct worker	*w = in->w;
	struct mig_msg	 us, them, m;
	struct mig_err	 err;
	int		 st;

	/* The handshake, certificate checks, preamble and HELLOs run in
	 * the sandbox (preauth.c); the parent's gate admitted the address
	 * or name already. */
	if (peer_hello_fill(w->hv, &us, &err) == -1) {
		mig_log_info("connection from %s: %s", w->peer != NULL ?
		    w->peer : "?", err.msg);
		return worker_result(w, CTL_ST_FAILED, &err);
	}
	if (!w->conf.storage_live)
		us.u.hello.features &= ~MIG_FEAT_STORAGE_LIVE;
	if ((st = preauth_open(w, &us, &them, &in->conn, &in->sandbox,
	    &err)) != CTL_ST_OK) {
		mig_log_info("connection from %s: %s", w->peer != NULL ?
		    w->peer : "?", err.msg);
		return worker_result(w, st, &err);
	}
	/* Out of the parent's pre-authentication budget. */
	worker_reserve_msg(w, CTL_AUTHENTICATED);
	if (peer_recv(in->conn, in->buf, &m, worker_deadline(w), &err) == -1) {
		mig_log_info("connection from %s: %s", mig_conn_peer(in->conn),
		    err.msg);
		return worker_result(w, CTL_ST_FAILED, &err);
	}
	switch (m.type) {
	case MIG_MSG_RESERVE:
		in->req = m.u.reserve;
		return migrate(in, &us.u.hello);
	case MIG_MSG_XL_TUNNEL:
		return worker_in_xl(in, &us.u.hello, &m.u.xl_tunnel);
	case MIG_MSG_QUERY:
		return indoubt_answer(w, in->conn, &m);
	default:
		mig_seterr(&err, MIG_E_PROTO, "%s sent %s, not RESERVE",
		    mig_conn_peer(in->conn), mig_msg_name(m.type));
		peer_abort(in->conn, MIG_MSG_ERROR, &err);
		return worker_result(w, CTL_ST_FAILED, &err);
	}
}

int
worker_in(struct worker *w)
{
	struct in	in;
	struct mig_err	err;
	int		rc;

	memset(&in, 0, sizeof(in));
	in.w = w;
	in.domid = MIG_HV_INVALID_DOMID;
	if ((in.buf = malloc(sizeof(*in.buf))) == NULL) {
		mig_seterrno(&err, MIG_E_NOMEM, "buffer");
		return worker_result(w, CTL_ST_FAILED, &err);
	}
	rc = run(&in);
	if (in.conn != NULL)
		mig_conn_close(in.conn);
	if (w->conn_fd != -1) {		/* the TCP socket's last copy is the
					 * sandbox's, whose close ends it */
		close(w->conn_fd);
		w->conn_fd = -1;
	}
	preauth_end(in.sandbox, 0);	/* the relay ends by itself */
	free(in.storage);
	free(in.json);
	free(in.buf);
	return rc;
}
