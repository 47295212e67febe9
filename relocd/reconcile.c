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
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mig/hv.h"
#include "mig/image.h"
#include "mig/log.h"
#include "relocd.h"

struct rec_ctx {
	struct worker	*w;
	uint64_t	 started;	/* wall ms: newer records are live jobs' */
	int		 failed;
	int		 open;		/* in doubt still */
};

/* The domain a record is about, if it still exists under that name. */
int
reconcile_find(struct worker *w, const struct jrec *r, const char *suffix,
    struct mig_hv_dominfo *d)
{
	char	name[MIG_HV_NAMELEN];

	snprintf(name, sizeof(name), "%s%s", r->name, suffix);
	if (r->domid >= 0 && mig_hv_dominfo(w->hv, (uint32_t)r->domid, d,
	    NULL) == 0 && strcmp(d->name, name) == 0)
		return 0;
	return mig_hv_find(w->hv, name, d, NULL);
}

void
reconcile_close(struct worker *w, const struct jrec *r, enum jstate st)
{
	struct mig_err	err;

	w->rec = *r;
	/* Settled: no cap or temporary file is left to see to. */
	w->rec.flags &= ~JF_CAP;
	w->rec.tmp[0] = '\0';
	if (worker_journal(w, st, &err) == -1)
		mig_log_warnx("%s", err.msg);
}

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

/*
 * Before the commit point the source owns the domain: it runs here again,
 * under its own name (a crash between the rename and the COMMIT_SENT
 * record leaves it as NAME--migratedaway).
 */
int
reconcile_resume_source(struct worker *w, const struct jrec *r)
{
	struct mig_hv_dominfo	d;
	struct mig_err		err, why;
	char			away[MIG_HV_NAMELEN];

	snprintf(away, sizeof(away), "%s" AWAY_SUFFIX, r->name);
	if (reconcile_find(w, r, "", &d) == -1) {
		if (reconcile_find(w, r, AWAY_SUFFIX, &d) == -1)
			return 0;	/* nothing of it here */
		if (mig_hv_rename(w->hv, d.domid, away, r->name, &err) == -1) {
			mig_log_warnx("%s", err.msg);
			return -1;
		}
		mig_log_info("job %" PRIu64 ": renamed %s back to %s",
		    r->job, away, r->name);
	}
	if (d.state == MIG_HV_DOM_SUSPENDED) {
		mig_seterr(&why, MIG_E_IO, "relocd restarted");
		if (mig_hv_recover_source(w->hv, d.domid, &why, &err) == -1) {
			mig_log_warnx("%s", err.msg);
			return -1;
		}
		mig_log_info("job %" PRIu64 ": resumed %s (domain %u): its "
		    "migration never committed", r->job, r->name, d.domid);
	}
	/* Auto-converge lowered its cap and died before it put it back.
	 * Not worth leaving the job open for: said, for a person to do. */
	if (r->flags & JF_CAP) {
		if (mig_hv_cap_set(w->hv, d.domid, r->cap, &err) == -1)
			mig_log_warnx("job %" PRIu64 ": %s; restore it by hand: xl "
			    "sched-credit2 (or sched-credit) -d %s -c %d",
			    r->job, err.msg, r->name, r->cap);
		else
			mig_log_info("job %" PRIu64 ": %s: cpu cap restored to %d",
			    r->job, r->name, r->cap);
	}
	return 0;
}

/*
 * One temporary file of a save, tmp, for image: removed if it is still
 * there, never the image itself; 1 if there was none.
 */
static int
drop_temp_file(const struct jrec *r, const char *tmp, const char *image)
{
	struct stat	st, im;

	if (lstat(tmp, &st) == -1) {
		if (errno != ENOENT)
			mig_log_warn("job %" PRIu64 ": %s", r->job, tmp);
		return 1;
	}
	if (!S_ISREG(st.st_mode) || (stat(image, &im) == 0 &&
	    im.st_dev == st.st_dev && im.st_ino == st.st_ino)) {
		mig_log_info("job %" PRIu64 ": %s is not a temporary file of "
		    "its save (any more); left alone", r->job, tmp);
		return 0;
	}
	if (unlink(tmp) == -1) {
		mig_log_warn("job %" PRIu64 ": cannot remove %s, the temporary "
		    "file of an unfinished save", r->job, tmp);
		return 0;
	}
	mig_log_info("job %" PRIu64 ": removed %s, the temporary file of a "
	    "save that never finished", r->job, tmp);
	return 0;
}

/*
 * The temporary file of a save that never finished, or of a split save
 * its parts TMP.000, TMP.001, ...: removed if still there, never the
 * image (a crash between the rename and the record leaves the name free,
 * or, were it a link, the image's), and never a file whose name is not
 * of that form.
 */
void
reconcile_drop_temp(const struct jrec *r)
{
	char		image[JOURNAL_PATH_MAX + 1];
	char		tmp[JOURNAL_PATH_MAX + 8], part[JOURNAL_PATH_MAX + 8];
	unsigned	n;

	if (r->tmp[0] == '\0')
		return;
	if (mig_image_temp_target(r->tmp, image, sizeof(image)) == -1) {
		mig_log_warnx("job %" PRIu64 ": journal names %s as a save's "
		    "temporary file, which it cannot be; left alone", r->job,
		    r->tmp);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s", r->tmp);
	if (!drop_temp_file(r, tmp, image))
		return;
	/* Parts are created in order: the first missing one ends them. */
	for (n = 0; n < MIG_IMAGE_SPLIT_PARTS; n++) {
		snprintf(tmp, sizeof(tmp), "%s.%03u", r->tmp, n);
		snprintf(part, sizeof(part), "%s.%03u", image, n);
		if (drop_temp_file(r, tmp, part))
			return;
	}
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
	if (c.failed)
		return 1;
	return c.open ? RECONCILE_IN_DOUBT : 0;
}
