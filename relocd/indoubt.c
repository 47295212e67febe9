/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The in-doubt window.  A source that sent COMMIT (journaled COMMIT_SENT)
 * and never heard ACTIVATED cannot know whether the target journaled the
 * COMMIT, which is the point of no return.  Guessing either way breaks
 * the failure rule: resuming may make two copies run, destroying may leave
 * none.  So the source asks the target, on a connection of its own, with
 * QUERY (the target's reservation id, the domain's uuid and name), and
 * the target answers from its journal:
 *
 *   committed   the target owns the domain: destroy NAME--migratedaway
 *   aborted     it never will: rename back to NAME and resume here
 *   pending     it has not decided yet (its worker still waits for the
 *               COMMIT, or its reconciliation has not run): ask again
 *   not-known   no record and no such domain there: only a person can
 *               tell (a wiped state directory, another host at that
 *               address), so nothing is done here
 *
 * Until an answer settles it the domain stays suspended here as
 * NAME--migratedaway, never resumed, and the log says what to check.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/conn.h"
#include "mig/hv.h"
#include "mig/log.h"
#include "mig/proto.h"
#include "relocd.h"
#include "mig/tls.h"

#define INDOUBT_BACKOFF_MIN	1	/* seconds between two QUERYs */
#define INDOUBT_BACKOFF_MAX	30
#define TLS_TAG			"/tls"

/* The journal's PEER field of a source record: "host:port[/tls]". */
void
indoubt_peer(char *buf, size_t len, const char *host, unsigned port, int tls)
{
	snprintf(buf, len, "%s:%u%s", host, port, tls ? TLS_TAG : "");
}

static int
peer_parse(const char *peer, char *host, size_t hlen, unsigned *port,
    int *tls)
{
	char	 tmp[JOURNAL_PEER_MAX + 1], *colon, *end;
	size_t	 n;

	snprintf(tmp, sizeof(tmp), "%s", peer);
	n = strlen(tmp);
	*tls = n > strlen(TLS_TAG) && strcmp(tmp + n - strlen(TLS_TAG),
	    TLS_TAG) == 0;
	if (*tls)
		tmp[n - strlen(TLS_TAG)] = '\0';
	if ((colon = strrchr(tmp, ':')) == NULL || colon == tmp)
		return -1;
	*colon++ = '\0';
	*port = (unsigned)strtoul(colon, &end, 10);
	if (*end != '\0' || *port > 65535)
		return -1;
	snprintf(host, hlen, "%s", tmp);
	return 0;
}

/* One QUERY; the answer's state, or -1 when the target cannot be asked. */
static int
ask(struct worker *w, const struct jrec *r, struct mig_msg_answer *ans,
    struct mig_err *err)
{
	struct mig_conn		*conn = NULL;
	SSL_CTX			*ctx = NULL;
	struct peer_buf		*buf;
	struct mig_msg		 us, them, m;
	char			 host[JOURNAL_PEER_MAX + 1];
	unsigned		 port;
	uint64_t		 dl;
	int			 tls, rc = -1;

	if (peer_parse(r->peer, host, sizeof(host), &port, &tls) == -1)
		return mig_seterr(err, MIG_E_CORRUPT, "journal: job %"
		    PRIu64 " names no peer I can ask (\"%s\")", r->job,
		    r->peer);
	/* Whoever answers decides whether our copy is destroyed or run:
	 * only an answer over TLS, from a certificate our CA signed, is
	 * believed.  A job that went in plaintext asks the target's TLS
	 * port, taken to be ours (relocation_ssl_port). */
	if (!tls) {
		if (w->conf.tls_cert == NULL || w->conf.tls_key == NULL ||
		    w->conf.tls_ca == NULL)
			return mig_seterr(err, MIG_E_INVAL, "the target is "
			    "asked only over TLS, and %s sets no tls_cert, "
			    "tls_key and tls_ca", w->conf_path);
		tls = 1;
		port = w->conf.tls_port;
	}
	if ((buf = malloc(sizeof(*buf))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "buffer");
	dl = worker_deadline(w);
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_QUERY;
	m.u.query.reservation_id = r->resv;
	/* The name too, so that a reservation id and uuid that some other
	 * migration to that target shares cannot answer for ours. */
	snprintf(m.u.query.name, sizeof(m.u.query.name), "%s", r->name);
	if (mig_hv_uuid_parse(r->uuid, m.u.query.uuid) == -1) {
		mig_seterr(err, MIG_E_CORRUPT, "journal: job %" PRIu64
		    ": bad uuid \"%s\"", r->job, r->uuid);
		goto out;
	}
	if (peer_hello_fill(w->hv, &us, err) == -1 ||
	    peer_connect(w, host, port, tls, &conn, &ctx, err) == -1 ||
	    peer_open(conn, &us, buf, &them, dl, err) == -1 ||
	    peer_send(conn, &m, dl, err) == -1 ||
	    peer_expect(conn, buf, MIG_MSG_ANSWER, &m, dl, err) == -1)
		goto out;
	*ans = m.u.answer;
	rc = ans->state;
 out:
	if (conn != NULL)
		mig_conn_close(conn);
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	free(buf);
	return rc;
}

/* The target owns the domain: our suspended copy goes. */
static int
give_up_copy(struct worker *w, const struct jrec *r)
{
	struct mig_hv_dominfo	d;
	struct mig_err		err;

	if (reconcile_find(w, r, AWAY_SUFFIX, &d) == 0) {
		if (mig_hv_destroy(w->hv, d.domid, &err) == -1) {
			mig_log_warnx("%s", err.msg);
			return -1;
		}
		mig_log_info("job %" PRIu64 ": %s committed %s: destroyed "
		    "%s" AWAY_SUFFIX " (domain %u) here", r->job, r->peer,
		    r->name, r->name, d.domid);
	}
	reconcile_close(w, r, J_DONE);
	return 0;
}

/* Sleeps s seconds in small steps; 0 if our parent died meanwhile. */
static int
nap(unsigned s, pid_t parent)
{
	unsigned	i;

	for (i = 0; i < s * 5; i++) {
		if (getppid() != parent)
			return 0;
		usleep(200000);
	}
	return getppid() == parent;
}

/*
 * Settles one COMMIT_SENT record: INDOUBT_SETTLED, INDOUBT_OPEN when it
 * is still in doubt (asked once, or, with retry, until the parent
 * relocd goes away), -1 when the answer could not be acted upon.
 */
int
indoubt_settle(struct worker *w, const struct jrec *r, int retry)
{
	struct mig_msg_answer	ans;
	struct mig_err		err;
	pid_t			parent = getppid();
	unsigned		backoff = INDOUBT_BACKOFF_MIN, said = 0;
	int			st;

	for (;;) {
		memset(&ans, 0, sizeof(ans));
		st = ask(w, r, &ans, &err);
		switch (st) {
		case MIG_QUERY_COMMITTED:
			return give_up_copy(w, r);
		case MIG_QUERY_ABORTED:
			mig_log_info("job %" PRIu64 ": %s did not commit %s "
			    "(%s)", r->job, r->peer, r->name, ans.text);
			if (reconcile_resume_source(w, r) == -1)
				return -1;
			reconcile_close(w, r, J_ABORTED);
			return INDOUBT_SETTLED;
		case MIG_QUERY_UNKNOWN:
			mig_log_warnx("job %" PRIu64 ": IN DOUBT: %s knows "
			    "nothing of %s (reservation %" PRIu64 ", uuid %s)"
			    ": %s.  %s" AWAY_SUFFIX " stays suspended here.  "
			    "Check 'xl list' on %s: if %s runs there, 'xl "
			    "destroy %s" AWAY_SUFFIX "' here; if it does not, "
			    "'xl rename %s" AWAY_SUFFIX " %s' and 'xl "
			    "unpause' it here", r->job, r->peer, r->name,
			    r->resv, r->uuid, ans.text, r->name, r->peer,
			    r->name, r->name, r->name, r->name);
			return INDOUBT_OPEN;
		default:
			break;
		}
		/* Unreachable, or pending: say so once per backoff step. */
		if (said++ == 0 || backoff < INDOUBT_BACKOFF_MAX)
			mig_log_warnx("job %" PRIu64 ": IN DOUBT: COMMIT of %s "
			    "was sent to %s, which %s.  %s" AWAY_SUFFIX " stays "
			    "suspended here, never resumed while in doubt; "
			    "%s.  An operator may check 'xl list' on %s and "
			    "its relocd journal for reservation %" PRIu64,
			    r->job, r->name, r->peer, st == MIG_QUERY_PENDING ?
			    "has not decided yet" : "cannot be asked",
			    r->name, retry ? "asking again" : "relocd asks "
			    "again in the background", r->peer, r->resv);
		if (st != MIG_QUERY_PENDING)
			mig_log_info("job %" PRIu64 ": %s", r->job, err.msg);
		if (!retry || !nap(backoff, parent))
			return INDOUBT_OPEN;
		if ((backoff *= 2) > INDOUBT_BACKOFF_MAX)
			backoff = INDOUBT_BACKOFF_MAX;
	}
}

/* --- the target's side --- */

struct match {
	uint64_t	resv;
	char		uuid[37];
	const char	*name;		/* "" when the QUERY has none */
};

/*
 * A record of ours answers for the asker's migration when its reservation
 * id and uuid are the QUERY's and, when the QUERY names the domain (all
 * but the oldest sources do), its name is too.
 */
static int
match_target(const struct jrec *r, void *arg)
{
	const struct match	*m = arg;

	return r->role == JR_TARGET && r->resv == m->resv &&
	    strcmp(r->uuid, m->uuid) == 0 &&
	    (m->name[0] == '\0' || strcmp(r->name, m->name) == 0);
}

/* Without a record (compacted away once finished), the domain itself. */
static uint16_t
answer_from_host(struct worker *w, const struct match *k, char *text,
    size_t len)
{
	struct mig_hv_dominfo	d;
	const char		*sfx;

	if (mig_hv_find(w->hv, k->uuid, &d, NULL) == -1) {
		snprintf(text, len, "no journal record and no domain %s here",
		    k->uuid);
		return MIG_QUERY_UNKNOWN;
	}
	sfx = temp_suffix(d.name);
	if (sfx == NULL) {
		snprintf(text, len, "runs here as %s (domain %u)", d.name,
		    d.domid);
		return MIG_QUERY_COMMITTED;
	}
	snprintf(text, len, "%s here has no journal record", d.name);
	return strcmp(sfx, INCOMING_SUFFIX) == 0 ? MIG_QUERY_PENDING :
	    MIG_QUERY_UNKNOWN;
}

static uint16_t
answer_state(enum jstate s)
{
	switch (s) {
	case J_COMMITTED:
	case J_ACTIVATED:
	case J_DONE:
		return MIG_QUERY_COMMITTED;
	case J_ABORTING:
	case J_ABORTED:
		return MIG_QUERY_ABORTED;
	default:
		return MIG_QUERY_PENDING;
	}
}

/* Answers a QUERY that came as the first request of a connection. */
int
indoubt_answer(struct worker *w, struct mig_conn *conn,
    const struct mig_msg *q)
{
	struct match	k;
	struct jrec	r;
	struct mig_msg	m;
	struct mig_err	err;
	char		text[MIG_TEXT_MAX + 1];
	int		found;

	/* An answer decides whether the source destroys its copy or runs
	 * it: it goes only where the asker is authenticated, and the asker
	 * believes it only from us, authenticated (TLS both ways). */
	if (!w->tls) {
		mig_seterr(&err, MIG_E_DENIED, "QUERY is answered only on the "
		    "TLS port (relocation_ssl_server): in plaintext anyone on "
		    "the path could answer it");
		mig_log_warnx("%s asks about reservation %" PRIu64 " in "
		    "plaintext: %s", mig_conn_peer(conn),
		    q->u.query.reservation_id, err.msg);
		peer_abort(conn, MIG_MSG_ERROR, &err);
		return worker_result(w, CTL_ST_REFUSED, &err);
	}
	k.resv = q->u.query.reservation_id;
	mig_hv_uuid_format(q->u.query.uuid, k.uuid);
	k.name = q->u.query.name;
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_ANSWER;
	if ((found = journal_lookup(w->conf.state_dir, match_target, &k, &r,
	    &err)) == -1) {
		/* Not knowing our own journal is no answer at all. */
		mig_log_warnx("%s", err.msg);
		peer_abort(conn, MIG_MSG_ERROR, &err);
		return worker_result(w, CTL_ST_FAILED, &err);
	}
	if (found) {
		m.u.answer.state = answer_state(r.state);
		snprintf(text, sizeof(text), "job %" PRIu64 " is %s here",
		    r.job, journal_state_name(r.state));
	} else
		m.u.answer.state = answer_from_host(w, &k, text, sizeof(text));
	mig_text_set(m.u.answer.text, text);
	mig_log_info("%s asks about reservation %" PRIu64 " (%s%s%s): %s: %s",
	    mig_conn_peer(conn), k.resv, k.name, k.name[0] != '\0' ? ", " : "",
	    k.uuid, mig_query_state_name(m.u.answer.state), text);
	if (peer_send(conn, &m, worker_deadline(w), &err) == -1) {
		mig_log_warnx("%s", err.msg);
		return worker_result(w, CTL_ST_FAILED, &err);
	}
	worker_describe(w, "(query)", mig_conn_peer(conn));
	return worker_result(w, CTL_ST_OK, NULL);
}
