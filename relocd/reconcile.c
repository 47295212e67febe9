/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reconciliation: after a crash or a restart, settle every job the journal
 * says did not finish, by the rule of the commit point.
 *
 *   target, before COMMITTED  destroy NAME--incoming: the source owns it
 *   target, COMMITTED         finish: rename to NAME, unpause
 *   source, before COMMIT     resume the domain if it is suspended
 *   source, COMMIT_SENT       in doubt: only the target knows whether it
 *                             journaled the COMMIT; the domain stays
 *                             suspended as NAME--migratedaway and the
 *                             record stays open for the operator (and a
 *                             later relocd) to settle
 *
 * Run by the parent before it accepts anything ("-W reconcile -j 0": every
 * unfinished job), and after a worker dies ("-j ID": that job alone).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hv.h"
#include "log.h"
#include "relocd.h"

struct rec_ctx {
	struct worker	*w;
	int		 failed;
};

/* The domain a record is about, if it still exists under that name. */
static int
find(struct worker *w, const struct jrec *r, const char *suffix,
    struct mig_hv_dominfo *d)
{
	char	name[MIG_HV_NAMELEN];

	snprintf(name, sizeof(name), "%s%s", r->name, suffix);
	if (r->domid >= 0 && mig_hv_dominfo(w->hv, (uint32_t)r->domid, d,
	    NULL) == 0 && strcmp(d->name, name) == 0)
		return 0;
	return mig_hv_find(w->hv, name, d, NULL);
}

static void
close_record(struct worker *w, const struct jrec *r, enum jstate st)
{
	struct mig_err	err;

	w->rec = *r;
	if (worker_journal(w, st, &err) == -1)
		log_warnx("%s", err.msg);
}

static int
settle_target(struct worker *w, const struct jrec *r)
{
	struct mig_hv_dominfo	d;
	struct mig_err		err;
	char			incoming[MIG_HV_NAMELEN];

	snprintf(incoming, sizeof(incoming), "%s" INCOMING_SUFFIX, r->name);
	if (r->state == J_ACTIVATED) {
		close_record(w, r, J_DONE);
		return 0;
	}
	if (r->state != J_COMMITTED) {
		if (find(w, r, INCOMING_SUFFIX, &d) == 0) {
			if (mig_hv_destroy(w->hv, d.domid, &err) == -1) {
				log_warnx("%s", err.msg);
				return -1;
			}
			log_info("job %016" PRIx64 ": destroyed %s (domain %u):"
			    " it never committed", r->job, incoming, d.domid);
		}
		close_record(w, r, J_ABORTED);
		return 0;
	}
	if (find(w, r, INCOMING_SUFFIX, &d) == 0) {
		if (mig_hv_rename(w->hv, d.domid, incoming, r->name,
		    &err) == -1 || mig_hv_unpause(w->hv, d.domid, &err) == -1) {
			log_warnx("%s", err.msg);
			return -1;
		}
		log_info("job %016" PRIx64 ": %s committed before the crash; "
		    "it runs now as domain %u", r->job, r->name, d.domid);
	}
	close_record(w, r, J_DONE);
	return 0;
}

static int
settle_source(struct worker *w, const struct jrec *r)
{
	struct mig_hv_dominfo	d;
	struct mig_err		err, why;

	if (r->state == J_COMMIT_SENT) {
		if (find(w, r, AWAY_SUFFIX, &d) == 0)
			log_warnx("job %016" PRIx64 ": COMMIT for %s was sent "
			    "to %s with no answer: %s--migratedaway stays "
			    "suspended here.  If %s runs on %s, destroy it "
			    "here; if not, rename it back and resume it",
			    r->job, r->name, r->peer, r->name, r->name,
			    r->peer);
		else
			close_record(w, r, J_DONE);
		return 0;
	}
	if (find(w, r, "", &d) == 0 && d.state == MIG_HV_DOM_SUSPENDED) {
		mig_seterr(&why, MIG_E_IO, "relocd restarted");
		if (mig_hv_recover_source(w->hv, d.domid, &why, &err) == -1) {
			log_warnx("%s", err.msg);
			return -1;
		}
		log_info("job %016" PRIx64 ": resumed %s (domain %u): its "
		    "migration never committed", r->job, r->name, d.domid);
	}
	close_record(w, r, J_ABORTED);
	return 0;
}

static int
settle(const struct jrec *r, void *arg)
{
	struct rec_ctx	*c = arg;

	if (c->w->job != 0 && r->job != c->w->job)
		return 0;
	if ((r->role == JR_TARGET ? settle_target(c->w, r) :
	    settle_source(c->w, r)) == -1)
		c->failed = 1;
	return 0;
}

int
reconcile_run(struct worker *w)
{
	struct rec_ctx	c = { w, 0 };
	struct mig_err	err;

	if (journal_replay(w->conf.state_dir, settle, &c, &err) == -1) {
		log_warnx("%s", err.msg);
		return 1;
	}
	/* Only the startup pass compacts: a single job's pass runs while
	 * other workers append. */
	if (w->job == 0 && journal_compact(w->journal, &err) == -1)
		log_warnx("%s", err.msg);
	return c.failed;
}
