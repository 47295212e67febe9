/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * file_job.c: save to and restore from an image file, the core shared by
 * relocd's worker (worker_file.c) and "xl-reloc save/restore --direct".
 *
 * The caller opens the hypervisor handle, fills hv, op and the optional
 * callbacks, and runs file_save() or file_restore() to the end: they return
 * an enum ctl_status and, unless CTL_ST_OK, fill err.  The guarantees are
 * the same whoever calls: the image appears only whole (atomic write); a
 * failed save resumes the domain; a restored domain is unpaused only
 * after the whole image has been verified, and destroyed otherwise.
 *
 * A restore builds NAME--incoming, as a migration's target does, and
 * renames it NAME once verified: the journal records the steps of both
 * jobs like a migration's (save as a source, restore as a target), so that
 * reconcile.c settles a job whose worker died as it settles migrations:
 * a suspended domain is resumed, an unverified NAME--incoming destroyed.
 */
#ifndef RELOCD_FILE_JOB_H
#define RELOCD_FILE_JOB_H

#include <stdint.h>

#include "ctl.h"
#include "mig/error.h"
#include "mig/hv.h"

struct file_job {
	/* set by the caller */
	struct mig_hv		 *hv;
	struct mig_hv_op	**op;		/* in flight: abort it to cancel */
	volatile int		 *cancelled;	/* may be NULL */
	int			  zstd_level;	/* --compress; 0: default */
	void			(*event)(struct file_job *, uint16_t,
				    const char *);
	void			(*describe)(struct file_job *, const char *,
				    const char *);
	/*
	 * relocd's journal and ledger (NULL for --direct).  journal() makes
	 * a step durable before it is taken: state is an enum jstate, then
	 * the domain's name and domid (-1: none yet).  reserve() holds the
	 * memory a restore needs (name, config JSON); release() gives it
	 * back.  A failing journal() or reserve() stops the job.
	 */
	int			(*journal)(struct file_job *, int, const char *,
				    int, struct mig_err *);
	int			(*reserve)(struct file_job *, const char *,
				    const char *, struct mig_err *);
	void			(*release)(struct file_job *);
	void			 *arg;
	/*
	 * With journal(): a save's temporary file (libmig/image.h), named
	 * and journaled before it is created, "" once it is gone (renamed
	 * to the image or removed), so that a reconciliation removes it
	 * after a crash.  Every journal() call is to record it.
	 */
	char			  tmp[CTL_PATH_MAX + 17];
	/* progress and outcome, for the callbacks and after the end */
	uint32_t		  round;
	uint64_t		  mem_kib;	/* the saved domain's */
	uint64_t		  pages_total;
	uint64_t		  pages_sent;
	uint64_t		  dirty_left;
	uint64_t		  bytes;	/* libxl stream moved */
	uint64_t		  suspended_ms;	/* guest stopped (now_ms) */
	uint64_t		  resumed_ms;	/* guest runs again */
	uint64_t		  reported_ms;	/* last progress passed on */
	uint32_t		  result_domid;	/* MIG_HV_INVALID_DOMID: none */
	char			  followed[MIG_ERRLEN];	/* what the cause of a
						 * failure brought on */
};

/* Zeroes j and sets what every job needs. */
void		file_job_init(struct file_job *, struct mig_hv *,
		    struct mig_hv_op **);
uint16_t	file_save(struct file_job *, const struct ctl_save *,
		    struct mig_err *);
uint16_t	file_restore(struct file_job *, const struct ctl_save *,
		    struct mig_err *);

#endif
