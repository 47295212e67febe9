/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The target side for stock xl: after XL_TUNNEL, relocd stands in for
 * "xl migrate-receive" and speaks xl's migrate protocol (doc/protocol.md
 * section 8) on the raw connection, with the same admission, ledger,
 * journal and NAME--incoming container as a migration from a relocd.
 *
 * xl's protocol has no way to refuse with a reason: as xl's receiver does,
 * we refuse by closing before "ready", and the sender resumes its domain.
 * A tunnel that set MIG_XLT_F_REASONS also gets a REFUSED or ERROR frame
 * where "ready" would have been (we send xl nothing between the banner
 * and "ready", so the frame interrupts nothing) and prints it for xl's
 * user; after "ready" the outcome is xl's own report byte, and no frame.
 * The commit point is xl's go-ahead ("domain is yours..."), journaled as
 * J_COMMITTED before we act on it.  Without it, after peer_timeout, the
 * sender still owns the domain: we destroy our copy, and (as xl does)
 * report a failure and hand the sender its permission to resume.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/conn.h"
#include "mig/domcfg.h"
#include "mig/log.h"
#include "mig/stream.h"
#include "mig/wire.h"
#include "worker_in.h"
#include "mig/xlcompat.h"

/* libxl's ERROR_FAIL: the report's status when our start fails. */
#define XL_ERROR_FAIL	(-3)

struct xl {
	struct in	*in;
	uint16_t	 flags;		/* MIG_XLT_F_* */
	bool		 told;		/* a frame said why we stop */
	bool		 ready;		/* "ready" is (being) sent */
	char		 peer[80];	/* for messages and `xl-reloc jobs` */
	uint8_t		*optdata;	/* the header's optional data */
};

static void
xl_step(struct xl *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* xl migrate-receive -d: every step at info level. */
static void
xl_step(struct xl *x, const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (x->flags & MIG_XLT_F_DEBUG)
		mig_log_info("xl %s: %s", x->peer, buf);
	else
		mig_log_debug("xl %s: %s", x->peer, buf);
}

static int
xl_send(struct xl *x, enum mig_xl_msg msg, struct mig_err *err)
{
	const uint8_t	*p;
	size_t		 len;

	p = mig_xl_msg_bytes(msg, &len);
	return mig_conn_write_all(x->in->conn, p, len,
	    worker_deadline(x->in->w), err);
}

/* Whether a frame may still say why we stop: before "ready" only. */
static bool
xl_may_tell(struct xl *x)
{
	return (x->flags & MIG_XLT_F_REASONS) && !x->told && !x->ready;
}

/* Before anything is reserved: close, and the sender resumes. */
static int
xl_refuse(struct xl *x, uint16_t reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
xl_refuse(struct xl *x, uint16_t reason, const char *fmt, ...)
{
	struct mig_msg	 m;
	struct mig_err	 err;
	char		 text[MIG_TEXT_MAX + 1];
	const char	*what = x->in->req.name[0] != '\0' ? x->in->req.name :
			    "a domain";
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	mig_log_info("refused %s from xl %s: %s", what, x->peer, text);
	if (xl_may_tell(x)) {
		memset(&m, 0, sizeof(m));
		m.type = MIG_MSG_REFUSED;
		m.u.refused.reason = reason;
		mig_text_set(m.u.refused.text, text);
		(void)peer_send(x->in->conn, &m, worker_deadline(x->in->w),
		    &err);
		x->told = true;
	}
	mig_seterr(&err, MIG_E_DENIED, "refused %s from xl: %s", what, text);
	return worker_result(x->in->w, CTL_ST_REFUSED, &err);
}

/* A failure before "ready": roll back, with an ERROR frame if we may. */
static int
xl_fail(struct xl *x, const struct mig_err *why)
{
	bool	tell = xl_may_tell(x);

	if (tell)
		x->told = true;
	return tell ? in_abandon(x->in, why) : in_undo(x->in, why);
}

/*
 * The xl save header and its optional data (u32 config length, config
 * with its NUL), written by the sender right after our banner.
 */
static int
xl_read_header(struct xl *x, struct mig_err *err)
{
	struct in	*in = x->in;
	struct mig_xlhdr h;
	struct wire_rd	 r;
	uint8_t		 hb[MIG_XLHDR_SIZE];
	uint32_t	 clen;
	const uint8_t	*cfg;

	if (mig_conn_read_full(in->conn, hb, sizeof(hb), worker_deadline(in->w),
	    err) == -1 || mig_xlhdr_decode(hb, &h, err) == -1)
		return -1;
	if (h.mandatory_flags != (MIG_XL_FLAG_JSON | MIG_XL_FLAG_STREAMV2) ||
	    h.optional_flags != 0)
		return mig_seterr(err, MIG_E_NOTSUP, "xl header flags "
		    "%#x/%#x: only a JSON config and a v2 stream are supported",
		    h.mandatory_flags, h.optional_flags);
	if (h.optional_data_len < 4 || h.optional_data_len >
	    MIG_XL_OPTDATA_MAX)
		return mig_seterr(err, MIG_E_PROTO, "xl header: %u bytes of "
		    "optional data", h.optional_data_len);
	if ((x->optdata = malloc(h.optional_data_len)) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "xl config");
	if (mig_conn_read_full(in->conn, x->optdata, h.optional_data_len,
	    worker_deadline(in->w), err) == -1)
		return -1;
	wire_rd_init(&r, x->optdata, h.optional_data_len);
	clen = wire_get_le32(&r);
	cfg = wire_get_bytes(&r, clen);
	if (r.bad || clen == 0 || cfg[clen - 1] != '\0' ||
	    memchr(cfg, '\0', clen - 1) != NULL)
		return mig_seterr(err, MIG_E_PROTO, "xl header: the config "
		    "is not one NUL-terminated string of its stated length");
	if ((in->json = strdup((const char *)cfg)) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "xl config");
	return 0;
}

/*
 * The domain's name (the tunnel's --name, else the config's) and uuid, as
 * libxl parses the config it will create the domain from, and the receive
 * policy on that config.  1 when refused (reported).
 */
static int
xl_identify(struct xl *x, const struct mig_msg_xl_tunnel *t,
    struct mig_err *err)
{
	struct in		*in = x->in;
	struct mig_domcfg	 dc;
	const char		*name;
	char			 why[MIG_TEXT_MAX + 1];
	uint16_t		 reason = MIG_REFUSE_NOT_ALLOWED;
	int			 bad;

	if (mig_hv_config_describe(in->w->hv, in->json, &dc, err) == -1) {
		xl_refuse(x, MIG_REFUSE_BAD_CONFIG, "%s", err->msg);
		return 1;
	}
	name = t->name[0] != '\0' ? t->name : dc.name != NULL ? dc.name : "";
	if (strlen(name) >= sizeof(in->req.name))
		bad = policy_name(name, why, sizeof(why));
	else {
		snprintf(in->req.name, sizeof(in->req.name), "%s", name);
		if (dc.has_uuid)
			memcpy(in->req.uuid, dc.uuid, sizeof(in->req.uuid));
		bad = in_policy(in, &dc, &reason, why, sizeof(why));
	}
	mig_domcfg_free(&dc);
	if (bad) {
		xl_refuse(x, reason, "%s", why);
		return 1;
	}
	snprintf(in->incoming, sizeof(in->incoming), "%s" INCOMING_SUFFIX,
	    in->req.name);
	/* xl migrates on one host as it does between two: the sender's
	 * own domain then holds the name and uuid until the go-ahead.
	 * in_clash lets only that one (same name and uuid) share them. */
	if (in->w->conf.allow_localhost)
		in->req.flags |= MIG_RESERVE_F_LOCALHOST;
	return 0;
}

/* Admission: clashes, memory, the ledger.  1 when refused (reported). */
static int
xl_admit(struct xl *x, const struct mig_msg_hello *us, struct mig_err *err)
{
	struct in	*in = x->in;
	struct worker	*w = in->w;
	char		 why[MIG_TEXT_MAX + 1];
	uint16_t	 reason;
	uint64_t	 need;

	if (in_clash(in, &reason, why, sizeof(why))) {
		xl_refuse(x, reason, "%s", why);
		return 1;
	}
	if (mig_hv_config_memory(w->hv, in->json, &need, err) == -1) {
		xl_refuse(x, MIG_REFUSE_BAD_CONFIG, "%s", err->msg);
		return 1;
	}
	if (worker_reserve(w, in->req.name, in->req.uuid, need,
	    us->mem_free_kib + in_incoming_kib(w), err) == -1)
		return -1;
	if (w->reserve_ans.refusal != 0) {
		xl_refuse(x, in_ledger_reason(w), "%s (%" PRIu64 " KiB "
		    "needed, %" PRIu64 " KiB free)", w->reserve_ans.text, need,
		    us->mem_free_kib);
		return 1;
	}
	in->resv = w->reserve_ans.id;
	return 0;
}

/* After a failed start, or no go-ahead: xl's receiver's failure path. */
static int
xl_give_back(struct xl *x, const struct mig_err *why)
{
	struct in	*in = x->in;
	struct worker	*w = in->w;
	struct mig_err	 err;
	uint8_t		 rep[MIG_XL_REPORT_STATUS_LEN];

	mig_log_warnx("%s", why->msg);
	if (w->rec.state == J_COMMITTED && in_withdraw(in, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		return worker_result(w, CTL_ST_UNDEFINED, &err);
	}
	/* Best effort: a sender that is gone needs neither. */
	mig_xl_report_encode(rep, mig_xl_status_from_rc(XL_ERROR_FAIL));
	if (mig_conn_write_all(in->conn, rep, sizeof(rep),
	    worker_deadline(in->w), &err) == -1)
		xl_step(x, "report: %s", err.msg);
	if (mig_hv_destroy(w->hv, in->domid, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		return worker_result(w, CTL_ST_UNDEFINED, &err);
	}
	in->domid = MIG_HV_INVALID_DOMID;
	if (in->resv != 0)
		worker_reserve_msg(w, CTL_RESERVE_RELEASE);
	if (worker_journal(w, J_ABORTED, &err) == -1)
		mig_log_warnx("%s", err.msg);
	/* The sender's permission to have its domain back. */
	if (xl_send(x, MIG_XL_MSG_GO, &err) == -1)
		xl_step(x, "permission to resume: %s", err.msg);
	return worker_result(w, ctl_status_of(why, 0), why);
}

static int
xl_read_go(struct xl *x, struct mig_err *err)
{
	uint8_t	go[MIG_XL_GO_LEN];

	if (mig_conn_read_full(x->in->conn, go, sizeof(go),
	    worker_deadline(x->in->w), err) == -1)
		return -1;
	return mig_xl_msg_match(MIG_XL_MSG_GO, go, sizeof(go), err) == 1 ?
	    0 : -1;
}

/* Committed: rename, unpause unless -p, report. */
static int
xl_activate(struct xl *x)
{
	struct in	*in = x->in;
	struct worker	*w = in->w;
	struct mig_err	 err, e2;
	uint8_t		 rep[MIG_XL_REPORT_STATUS_LEN];

	if (mig_hv_rename(w->hv, in->domid, in->incoming, in->req.name,
	    &err) == -1 || (!(x->flags & MIG_XLT_F_PAUSED) &&
	    mig_hv_unpause(w->hv, in->domid, &err) == -1))
		return xl_give_back(x, &err);
	worker_reserve_msg(w, CTL_RESERVE_RELEASE);
	in->resv = 0;
	if (worker_journal(w, J_ACTIVATED, &e2) == -1)
		mig_log_warnx("%s", e2.msg);
	mig_xl_report_encode(rep, 0);
	if (mig_conn_write_all(in->conn, rep, sizeof(rep),
	    worker_deadline(in->w), &e2) == -1)
		mig_log_warnx("%s (the domain runs here)", e2.msg);
	worker_journal(w, J_DONE, &e2);
	w->resumed_ms = mig_now_ms();
	w->result_domid = in->domid;
	worker_event(w, MIG_PHASE_ACTIVATION, (x->flags & MIG_XLT_F_PAUSED) ?
	    "arrived, paused" : "running");
	mig_log_info("%s arrived from xl %s as domain %u", in->req.name, x->peer,
	    in->domid);
	return worker_result(w, CTL_ST_OK, NULL);
}

static int
xl_run(struct xl *x, const struct mig_msg_hello *us,
    const struct mig_msg_xl_tunnel *t)
{
	struct in	*in = x->in;
	struct worker	*w = in->w;
	struct mig_err	 err, why;
	char		 desc[CTL_HOST_MAX + 1];
	int		 rc;

	/* What `xl-reloc jobs` shows as the job's other end. */
	snprintf(desc, sizeof(desc), "xl via tunnel from %s", x->peer);
	worker_describe(w, "(xl)", desc);
	worker_event(w, MIG_PHASE_RESERVATION, "xl handshake");
	if (xl_send(x, MIG_XL_MSG_BANNER, &err) == -1) {
		mig_log_info("xl %s: %s", x->peer, err.msg);
		return worker_result(w, CTL_ST_FAILED, &err);
	}
	if (xl_read_header(x, &err) == -1) {
		if (err.code == MIG_E_NOTSUP)
			return xl_refuse(x, MIG_REFUSE_FEATURE, "%s", err.msg);
		return xl_fail(x, &err);	/* nothing to roll back */
	}
	if (xl_identify(x, t, &err) != 0)
		return 1;
	worker_describe(w, in->req.name, desc);
	xl_step(x, "config for %s, %zu bytes", in->req.name,
	    strlen(in->json));
	if ((rc = xl_admit(x, us, &err)) != 0)
		return rc == 1 ? 1 : xl_fail(x, &err);
	in_journal_begin(in, x->peer);
	if (worker_journal(w, J_RESERVED, &err) == -1)
		return xl_fail(x, &err);
	if (worker_reserve_hold(w, in->resv, in->req.name, in->req.uuid,
	    &err) == -1 || worker_journal(w, J_STREAMING, &err) == -1)
		return xl_fail(x, &err);
	worker_event(w, MIG_PHASE_PRECOPY, "receiving from xl");
	/* Nothing goes to xl during the stream: a frame after a failed
	 * restore still lands where "ready" would. */
	if (in_receive(in, MIG_RELAY_RECV_RAW, 0, &err) == -1)
		return xl_fail(x, &err);
	w->rec.domid = (int)in->domid;
	if (worker_journal(w, J_RECEIVED, &err) == -1)
		return xl_fail(x, &err);
	worker_event(w, MIG_PHASE_COMMITMENT, "received, paused");
	xl_step(x, "%s received as domain %u; ready", in->incoming,
	    in->domid);
	/* From the first byte of "ready" on, xl reads its own protocol. */
	x->ready = true;
	if (xl_send(x, MIG_XL_MSG_READY, &err) == -1)
		return in_undo(in, &err);
	if (xl_read_go(x, &why) == -1) {
		mig_seterr(&err, why.code, "%s: no go-ahead from xl %s (%s): "
		    "the sender keeps the domain", in->req.name, x->peer,
		    why.msg);
		return xl_give_back(x, &err);
	}
	/* The point of no return: the sender renamed its copy away. */
	if (in_commit(in, &err) == -1)
		return xl_give_back(x, &err);
	worker_adopt(w, in->domid, in->req.name);
	xl_step(x, "go-ahead for %s", in->req.name);
	return xl_activate(x);
}

int
worker_in_xl(struct in *in, const struct mig_msg_hello *us,
    const struct mig_msg_xl_tunnel *t)
{
	struct xl	x;
	int		rc;

	memset(&x, 0, sizeof(x));
	x.in = in;
	x.flags = t->flags;
	snprintf(x.peer, sizeof(x.peer), "%s", mig_conn_peer(in->conn));
	rc = xl_run(&x, us, t);
	/* End cleanly (TLS close_notify): the tunnel then tells our end
	 * from a cut connection.  Best effort, the job is decided.  After
	 * a frame, xl may still be sending: read until the tunnel has
	 * read the frame and gone. */
	if (x.told)
		peer_linger(in->conn, worker_deadline(in->w));
	else
		(void)mig_conn_shutdown(in->conn, mig_deadline(1000),
		    NULL);
	free(x.optdata);
	return rc;
}
