/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc save/restore --direct: the job in this process, through the
 * same core relocd's worker runs (relocd/file_job.c), for when no relocd
 * is running (a rescue shell saving to a USB disk).  The progress and the
 * outcome are shown exactly as for a job followed through relocd.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "file_job.h"
#include "reloc.h"
#include "xl-reloc.h"

struct direct {
	struct file_job		 j;
	struct mig_hv_op	*op;
	volatile int		 cancelled;
	struct view		*view;
	uint64_t		 started_ms;
};

static void
on_event(struct file_job *j, uint16_t phase, const char *text)
{
	struct direct	*d = j->arg;
	struct ctl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.phase = phase;
	ev.round = j->round;
	ev.pages_sent = j->pages_sent;
	ev.pages_total = j->pages_total;
	ev.dirty_left = j->dirty_left;
	ev.bytes_wire = j->bytes;
	ev.elapsed_ms = mig_now_ms() - d->started_ms;
	ctl_text_set(ev.text, text != NULL ? text : "");
	view_event(d->view, &ev);
}

/* Ctrl-C: the operation is aborted and the core rolls back. */
static void
on_sigint(evutil_socket_t sig, short what, void *arg)
{
	struct direct	*d = arg;

	d->cancelled = 1;
	if (d->op != NULL && !mig_hv_op_done(d->op))
		mig_hv_abort(d->op, NULL);
}

static void
show_result(struct direct *d, const char *what, uint16_t st,
    const struct mig_err *err)
{
	struct ctl_result	r;
	struct file_job		*j = &d->j;

	memset(&r, 0, sizeof(r));
	r.status = st;
	r.code = st == CTL_ST_OK ? MIG_OK : err->code;
	ctl_text_set(r.text, st == CTL_ST_OK ? "" : err->msg);
	r.domid = j->result_domid;
	r.total_ms = mig_now_ms() - d->started_ms;
	if (j->suspended_ms != 0)
		r.paused_ms = (j->resumed_ms ? j->resumed_ms : mig_now_ms()) -
		    j->suspended_ms;
	r.bytes_wire = r.bytes_stream = j->bytes;
	r.rounds = j->round;
	view_result(d->view, what, &r);
}

static uint16_t
run(struct direct *d, struct event_base *base, const struct xr_global *g,
    uint16_t type, const struct save_args *a, struct mig_err *err)
{
	struct mig_hv_libxl_conf hvc = { MIG_HV_LOG_DEFAULT };
	struct relocd_conf	 conf;
	struct mig_hv		*hv;
	struct event		*sig;
	int			 st;

	if ((st = client_conf(g, &conf, err)) != CTL_ST_OK)
		return (uint16_t)st;
	d->j.zstd_level = (int)conf.compression_level;
	config_free(&conf);
	if ((hv = mig_hv_open(g->hv_ops, g->hv_ops == &mig_hv_libxl_ops ?
	    &hvc : NULL, base, err)) == NULL)
		return CTL_ST_FAILED;
	d->j.hv = hv;
	if ((sig = evsignal_new(base, SIGINT, on_sigint, d)) == NULL ||
	    evsignal_add(sig, NULL) == -1) {
		if (sig != NULL)
			event_free(sig);
		mig_hv_close(hv);
		mig_seterr(err, MIG_E_NOMEM, "event loop");
		return CTL_ST_FAILED;
	}
	st = type == CTL_RESTORE ? file_restore(&d->j, &a->req, err) :
	    file_save(&d->j, &a->req, err);
	event_free(sig);
	mig_hv_close(hv);
	return (uint16_t)st;
}

int
direct_run(const struct xr_global *g, uint16_t type,
    const struct save_args *a, const char *what)
{
	struct direct		 d;
	struct view		 v;
	struct event_base	*base;
	struct mig_err		 err;
	uint16_t		 st;

	memset(&d, 0, sizeof(d));
	view_init(&v, stdout, a->json);
	if (a->debug)
		view_debug(&v);
	d.view = &v;
	d.started_ms = mig_now_ms();
	file_job_init(&d.j, NULL, &d.op);
	d.j.cancelled = &d.cancelled;
	d.j.event = on_event;
	d.j.arg = &d;
	mig_clearerr(&err);
	if ((base = event_base_new()) == NULL) {
		mig_seterr(&err, MIG_E_NOMEM, "event loop");
		st = CTL_ST_FAILED;
	} else {
		st = run(&d, base, g, type, a, &err);
		event_base_free(base);
	}
	if (st == CTL_ST_USAGE) {
		fprintf(stderr, "xl-reloc: %s\n", err.msg);
		return st;
	}
	show_result(&d, what, st, &err);
	return st;
}
