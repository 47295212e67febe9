/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The primitives of settling a journal record, below both reconciliation
 * (reconcile.c) and the in-doubt source (indoubt.c): find the domain a
 * record is about, resume a source's copy, remove a save's temporary
 * files, and write the record's last state.
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
