/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd's save and restore jobs: the request from the parent, the core
 * in file_job.c, and its progress and outcome reported back up the pipe.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mig/domcfg.h"
#include "file_job.h"
#include "mig/hv.h"
#include "mig/log.h"
#include "mig/proto.h"
#include "relocd.h"

/* The core's progress, as the worker reports it. */
static void
sync_progress(struct worker *w, const struct file_job *j)
{
	w->round = j->round;
	w->pages_total = j->pages_total;
	w->pages_sent = j->pages_sent;
	w->dirty_left = j->dirty_left;
	w->bytes_wire = w->bytes_stream = j->bytes;
	w->suspended_ms = j->suspended_ms;
	w->resumed_ms = j->resumed_ms;
	w->result_domid = j->result_domid;
}

static void
on_event(struct file_job *j, uint16_t phase, const char *text)
{
	struct worker	*w = j->arg;

	sync_progress(w, j);
	worker_event(w, phase, text);
}

static int
on_journal(struct file_job *j, int st, const char *name, int domid,
    struct mig_err *err)
{
	struct worker	*w = j->arg;

	snprintf(w->rec.name, sizeof(w->rec.name), "%s", name);
	w->rec.domid = domid;
	snprintf(w->rec.tmp, sizeof(w->rec.tmp), "%s", j->tmp);
	if (worker_journal(w, (enum jstate)st, err) == -1)
		return -1;
	/* A restore's commit point: the domain is ours from here. */
	if (st == J_COMMITTED && domid >= 0)
		worker_adopt(w, (uint32_t)domid, name);
	return 0;
}

/* An image may come from anywhere: its configuration answers to the
 * receive policy as a migrating domain's does. */
static int
restore_policy(struct worker *w, const char *name, const char *json,
    struct mig_err *err)
{
	struct mig_domcfg	dc;
	char			why[MIG_TEXT_MAX + 1];
	int			bad;

	if (mig_hv_config_describe(w->hv, json, &dc, err) == -1)
		return -1;
	bad = policy_name(name, why, sizeof(why)) ||
	    policy_check(&w->conf.recv, &dc, why, sizeof(why));
	mig_domcfg_free(&dc);
	if (bad)
		return mig_seterr(err, MIG_E_DENIED, "cannot restore %s here: "
		    "%s", name, why);
	return 0;
}

/* The ledger holds a restore's memory as it does an arriving domain's. */
static int
on_reserve(struct file_job *j, const char *name, const char *json,
    struct mig_err *err)
{
	static const uint8_t	 nil[16];	/* the ledger skips it */
	struct worker		*w = j->arg;
	struct mig_hv_hostinfo	 hi;
	uint64_t		 need;

	if (restore_policy(w, name, json, err) == -1 ||
	    mig_hv_config_memory(w->hv, json, &need, err) == -1 ||
	    mig_hv_hostinfo(w->hv, &hi, err) == -1 ||
	    worker_reserve(w, name, nil, need, hi.free_kib, err) == -1)
		return -1;
	if (w->reserve_ans.refusal != 0)
		return mig_seterr(err, MIG_E_DENIED, "cannot restore %s here: "
		    "%s (%" PRIu64 " KiB needed, %" PRIu64 " KiB free)", name,
		    w->reserve_ans.text, need, hi.free_kib);
	return worker_reserve_hold(w, w->reserve_ans.id, name, nil, err);
}

static void
on_release(struct file_job *j)
{
	worker_reserve_msg(j->arg, CTL_RESERVE_RELEASE);
}

static void
on_describe(struct file_job *j, const char *domain, const char *path)
{
	worker_describe(j->arg, domain, path);
}

int
worker_file(struct worker *w, int restore)
{
	struct ctl_msg	m;
	struct file_job	j;
	struct mig_err	err;
	uint16_t	want = restore ? CTL_RESTORE : CTL_SAVE, st;

	if (ctl_recv(w->pipe, &m, &err) == -1 || m.type != want) {
		mig_log_warnx("no %s request from the parent",
		    restore ? "restore" : "save");
		return 1;
	}
	if (m.u.save.flags & ~CTL_SF_ALL) {
		mig_seterr(&err, MIG_E_INVAL, "unknown save flags %#x",
		    m.u.save.flags);
		return worker_result(w, CTL_ST_FAILED, &err);
	}
	file_job_init(&j, w->hv, &w->op);
	j.cancelled = &w->cancelled;
	j.zstd_level = (int)w->conf.compression_level;
	j.event = on_event;
	j.describe = on_describe;
	j.journal = on_journal;
	if (restore) {
		j.reserve = on_reserve;
		j.release = on_release;
	}
	j.arg = w;
	w->rec.job = w->job;
	w->rec.role = restore ? JR_TARGET : JR_SOURCE;
	w->rec.domid = -1;
	/* The image, for people reading the journal (it names a peer). */
	snprintf(w->rec.peer, sizeof(w->rec.peer), "%.*s",
	    (int)sizeof(w->rec.peer) - 1, m.u.save.path);
	if (restore && (m.u.save.flags & CTL_SF_PAUSED))
		w->rec.flags |= JF_START_PAUSED;
	if (restore && (m.u.save.flags & CTL_SF_NO_ADOPT))
		w->rec.flags |= JF_NO_ADOPT;
	st = restore ? file_restore(&j, &m.u.save, &err) :
	    file_save(&j, &m.u.save, &err);
	sync_progress(w, &j);
	return worker_result(w, st, st == CTL_ST_OK ? NULL : &err);
}
