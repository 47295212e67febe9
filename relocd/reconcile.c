/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reconciliation: after a crash or a restart, settle every job the journal
 * says did not finish, by the rule of the commit point.
 *
 *   target, before COMMITTED  destroy NAME--incoming: the source owns it
 *   target, COMMITTED         finish: rename to NAME, unpause (unless
 *                             the record says it was asked paused)
 *   target, ABORTING          destroy it: its activation failed and the
 *                             source was told to resume its copy
 *   source, before COMMIT     resume the domain if it is suspended
 *                             (renamed back first if the crash came
 *                             between the rename and the COMMIT_SENT),
 *                             put back the cpu cap auto-converge
 *                             lowered, remove a save's temporary file
 *   source, COMMIT_SENT       in doubt: only the target knows whether it
 *                             journaled the COMMIT, so it is asked
 *                             (indoubt.c); meanwhile the domain stays
 *                             suspended as NAME--migratedaway
 *
 * Run by the parent before it accepts anything ("-W reconcile -j 0": every
 * unfinished job but the in-doubt ones, which would hold the start up for
 * as long as the target is unreachable), then in the background
 * ("-j 0 -R": the in-doubt ones, asking until settled), and after a
 * worker dies ("-j ID -R": that job alone).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mig/hv.h"
#include "mig/log.h"
#include "dm_era.h"
#include "relocd.h"
#include "storage.h"

struct rec_ctx {
	struct worker	*w;
	uint64_t	 started;	/* wall ms: newer records are live jobs' */
	int		 failed;
	int		 open;		/* in doubt still */
};

/*
 * Given back after COMMITTED (its activation failed): the source resumed
 * its copy, so ours goes, under whichever name the failed activation
 * left it.  By domid only: on one host the source's copy has the name.
 */
static int
settle_withdrawn(struct worker *w, const struct jrec *r, const char *incoming)
{
	struct mig_hv_dominfo	d;
	struct mig_err		err;

	if (r->domid >= 0 && mig_hv_dominfo(w->hv, (uint32_t)r->domid, &d,
	    NULL) == 0 && (strcmp(d.name, incoming) == 0 ||
	    strcmp(d.name, r->name) == 0)) {
		if (mig_hv_destroy(w->hv, d.domid, &err) == -1) {
			mig_log_warnx("%s", err.msg);
			return -1;
		}
		mig_log_info("job %" PRIu64 ": destroyed %s (domain %u): it was "
		    "given back to the source", r->job, d.name, d.domid);
	}
	reconcile_close(w, r, J_ABORTED);
	return 0;
}

static int
settle_target(struct worker *w, const struct jrec *r)
{
	struct mig_hv_dominfo	d;
	struct mig_err		err;
	char			incoming[MIG_HV_NAMELEN];

	snprintf(incoming, sizeof(incoming), "%s" INCOMING_SUFFIX, r->name);
	if (r->state == J_ABORTING)
		return settle_withdrawn(w, r, incoming);
	if (r->state == J_ACTIVATED) {
		reconcile_close(w, r, J_DONE);
		return 0;
	}
	if (r->state != J_COMMITTED) {
		if (reconcile_find(w, r, INCOMING_SUFFIX, &d) == 0) {
			if (mig_hv_destroy(w->hv, d.domid, &err) == -1) {
				mig_log_warnx("%s", err.msg);
				return -1;
			}
			mig_log_info("job %" PRIu64 ": destroyed %s (domain %u):"
			    " it never committed", r->job, incoming, d.domid);
		}
		reconcile_close(w, r, J_ABORTED);
		return 0;
	}
	if (reconcile_find(w, r, INCOMING_SUFFIX, &d) == 0) {
		if (mig_hv_rename(w->hv, d.domid, incoming, r->name,
		    &err) == -1) {
			mig_log_warnx("%s", err.msg);
			return -1;
		}
		mig_log_info("job %" PRIu64 ": %s committed before the crash; "
		    "renamed it from %s (domain %u)", r->job, r->name,
		    incoming, d.domid);
	} else if (reconcile_find(w, r, "", &d) == -1) {
		reconcile_close(w, r, J_DONE);
		return 0;
	}
	if (!(r->flags & JF_NO_ADOPT))
		worker_adopt(w, d.domid, r->name);
	if (d.state == MIG_HV_DOM_PAUSED && (r->flags & JF_START_PAUSED))
		mig_log_info("job %" PRIu64 ": %s (domain %u) left paused: it was "
		    "asked to start paused (--paused)", r->job, r->name,
		    d.domid);
	else if (d.state == MIG_HV_DOM_PAUSED) {
		if (mig_hv_unpause(w->hv, d.domid, &err) == -1) {
			mig_log_warnx("%s", err.msg);
			return -1;
		}
		mig_log_info("job %" PRIu64 ": %s committed before the crash; "
		    "unpaused it (domain %u)", r->job, r->name, d.domid);
	}
	reconcile_close(w, r, J_DONE);
	return 0;
}

static int
settle_source(struct rec_ctx *c, const struct jrec *r)
{
	struct worker		*w = c->w;
	struct mig_hv_dominfo	 d;
	int			 rc;

	if (r->state == J_COMMIT_SENT) {
		if (reconcile_find(w, r, AWAY_SUFFIX, &d) == -1) {
			mig_log_info("job %" PRIu64 ": no %s" AWAY_SUFFIX
			    " here any more: nothing to settle", r->job,
			    r->name);
			reconcile_close(w, r, J_DONE);
			return 0;
		}
		if (!w->retry) {
			mig_log_warnx("job %" PRIu64 ": in doubt: COMMIT of %s "
			    "was sent to %s; %s" AWAY_SUFFIX " stays suspended "
			    "while relocd asks it", r->job, r->name, r->peer,
			    r->name);
			c->open = 1;
			return 0;
		}
		if ((rc = indoubt_settle(w, r, 1)) == INDOUBT_OPEN)
			c->open = 1;
		return rc == -1 ? -1 : 0;
	}
	if (reconcile_resume_source(w, r) == -1)
		return -1;
	reconcile_drop_temp(r);
	reconcile_close(w, r, J_ABORTED);
	return 0;
}

static int
same_job(const struct jrec *r, void *arg)
{
	const struct jrec	*k = arg;

	return r->job == k->job && r->role == k->role;
}

static int
settle(const struct jrec *snap, void *arg)
{
	struct rec_ctx	*c = arg;
	struct jrec	 key = *snap, now = *snap, *r = &now;
	struct mig_err	 err;
	int		 fd;

	if (c->w->job != 0 && r->job != c->w->job)
		return 0;
	/* The background pass settles only what the startup pass left in
	 * doubt, never a job that began since. */
	if (c->w->job == 0 && c->w->retry && (r->state != J_COMMIT_SENT ||
	    r->time_ms >= c->started))
		return 0;
	/* A worker that outlived its relocd may still run the job: wait
	 * for it, then settle what the journal says now. */
	if ((fd = journal_lock_job(c->w->conf.state_dir, r->job, 0,
	    NULL)) == -1) {
		mig_log_info("job %" PRIu64 ": its worker still runs; waiting for "
		    "it before settling", r->job);
		fd = journal_lock_job(c->w->conf.state_dir, r->job, 1, &err);
	}
	if (fd == -1) {
		mig_log_warnx("%s", err.msg);
		c->failed = 1;
		return 0;
	}
	if (journal_lookup(c->w->conf.state_dir, same_job, &key, &now,
	    &err) == -1) {
		mig_log_warnx("%s", err.msg);
		c->failed = 1;
	} else if (!journal_state_final(r->state) &&
	    (r->role == JR_TARGET ? settle_target(c->w, r) :
	    settle_source(c, r)) == -1)
		c->failed = 1;
	journal_unlock_job(c->w->conf.state_dir, r->job, fd,
	    journal_state_final(c->w->rec.job == r->job ? c->w->rec.state :
	    r->state));
	return 0;
}

int
reconcile_run(struct worker *w)
{
	struct rec_ctx	c = { w, wall_ms(), 0, 0 };
	struct mig_err	err;
	int		n;

	w->lock_fd = -2;	/* settle() locks each job it settles */
	/* Only the startup pass compacts (a single job's pass runs while
	 * other workers append), and before it settles anything, so that
	 * the journal keeps what this pass did until the next start. */
	if (w->job == 0 && !w->retry && journal_compact(w->journal, &err) == -1)
		mig_log_warnx("%s", err.msg);
	if (journal_replay(w->conf.state_dir, settle, &c, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		return 1;
	}
	/* Disks created for jobs that never committed (storage_journal.c),
	 * once their domains are settled: at start, and for a job whose
	 * worker died; not in the background pass, which settles only the
	 * sources in doubt. */
	if ((w->job != 0 || !w->retry) && storage_reconcile(w) == -1)
		c.failed = 1;
	/* A source's dm-era left under a live volume (dm_era.c): only those
	 * whose process is gone, so a job's pass spares the others'. */
	if (w->job != 0 || !w->retry) {
		if ((n = dm_era_recover(w->conf.state_dir, &err)) == -1) {
			mig_log_warnx("%s", err.msg);
			c.failed = 1;
		} else if (n > 0)
			mig_log_info("put back the own table of %d volume(s) "
			    "a dead worker left on dm-era", n);
	}
	if (c.failed)
		return 1;
	return c.open ? RECONCILE_IN_DOUBT : 0;
}
