/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A worker process ("relocd -W KIND -j ID ..."), re-executed from the
 * parent (job.c, worker_exec) for one job or one question, or started
 * ahead as the spare and handed that argv (spare.c): it owns the
 * job's hypervisor handle, connection, relay and journal records, runs
 * the one phase machine its kind names and reports to the parent over its
 * pipe (fd 3).  Cancel comes as a CTL_CANCEL on the pipe or as SIGTERM,
 * and only ever sets a flag and aborts what is in flight: the phase
 * machine itself decides what cancelling means at that point.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/hv.h"
#include "mig/log.h"
#include "relocd.h"

/* What sets a kind of worker apart, besides its phase machine. */
#define WK_CONN		0x1	/* fd 4 is its connection (an incoming job) */
#define WK_ANSWER	0x2	/* a question: a failure is its CTL_ERROR
				 * answer, not a job's RESULT */
#define WK_SERVICE	0x4	/* not a job: its log lines carry its kind */
#define WK_SANDBOX	0x8	/* no hypervisor, no journal (preauth.c) */

static int	worker_save(struct worker *);
static int	worker_restore(struct worker *);

static const struct worker_kind {
	const char	*name;
	int		(*run)(struct worker *);
	unsigned	 flags;			/* WK_* */
} worker_kinds[] = {
	{ "out",	worker_out,	0 },		/* worker_out.c */
	{ "in",		worker_in,	WK_CONN },	/* worker_in.c */
	{ "preauth",	preauth_child,	WK_CONN | WK_SANDBOX },
	{ "save",	worker_save,	0 },		/* worker_file.c */
	{ "restore",	worker_restore,	0 },
	{ "query",	worker_query,	WK_ANSWER },	/* worker_query.c */
	{ "reconcile",	reconcile_run,	WK_SERVICE },	/* reconcile.c */
	{ "monitor",	monitor_run,	WK_SERVICE },	/* monitor.c */
};

static int
worker_save(struct worker *w)
{
	return worker_file(w, 0);
}

static int
worker_restore(struct worker *w)
{
	return worker_file(w, 1);
}

static const struct worker_kind *
worker_kind(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(worker_kinds) / sizeof(worker_kinds[0]); i++)
		if (strcmp(worker_kinds[i].name, name) == 0)
			return &worker_kinds[i];
	return NULL;
}

static void
worker_usage(void)
{
	fprintf(stderr, "usage: relocd -W kind -j job -c file [-fvTR] "
	    "[-P peer]\n");
	exit(1);
}

static void
on_pipe(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;
	struct ctl_msg	 m;
	struct mig_err	 err;

	if (ctl_recv(fd, &m, &err) == -1) {
		/* The parent is gone: nobody to report to, but the job
		 * still finishes or cancels cleanly. */
		event_del(w->pipe_ev);
		if (err.code == MIG_E_EOF && !w->cancelled) {
			mig_log_warnx("parent gone; cancelling");
			worker_interrupt(w);
		}
		return;
	}
	if (m.type == CTL_CANCEL) {
		mig_log_info("cancel requested");
		worker_interrupt(w);
	} else if (m.type == CTL_RESERVE_ANS) {
		w->reserve_ans = m.u.reserve_ans;
		w->reserve_answered = 1;
	} else
		mig_log_warnx("unexpected %s from parent", ctl_type_name(m.type));
}

static void
on_sigterm(evutil_socket_t sig, short ev, void *arg)
{
	mig_log_info("SIGTERM: cancelling");
	worker_interrupt(arg);
}

/* What every worker opens first; a spare (spare.c) before its job. */
int
worker_open(struct worker *w, const struct mig_hv_ops *ops,
    struct mig_err *err)
{
	struct mig_hv_libxl_conf	hvc = { MIG_HV_LOG_DEFAULT };

	config_defaults(&w->conf);
	if (config_load(w->conf_path, &w->conf, err) == -1)
		return -1;
	if ((w->base = event_base_new()) == NULL)
		return mig_seterr(err, MIG_E_NOMEM, "event loop");
	if ((w->pipe_ev = event_new(w->base, w->pipe, EV_READ | EV_PERSIST,
	    on_pipe, w)) == NULL || event_add(w->pipe_ev, NULL) == -1 ||
	    (w->sig_ev = evsignal_new(w->base, SIGTERM, on_sigterm, w)) ==
	    NULL || evsignal_add(w->sig_ev, NULL) == -1)
		return mig_seterr(err, MIG_E_NOMEM, "event loop");
	if ((w->hv = mig_hv_open(ops, ops == &mig_hv_libxl_ops ? &hvc : NULL,
	    w->base, err)) == NULL)
		return -1;
	if ((w->journal = journal_open(w->conf.state_dir, err)) == NULL)
		return -1;
	return 0;
}

static void
worker_close(struct worker *w)
{
	if (w->hv != NULL)
		mig_hv_close(w->hv);
	if (w->lock_fd >= 0)
		journal_unlock_job(w->conf.state_dir, w->rec.job, w->lock_fd,
		    journal_state_final(w->rec.state));
	journal_close(w->journal);
	if (w->pipe_ev != NULL)
		event_free(w->pipe_ev);
	if (w->sig_ev != NULL)
		event_free(w->sig_ev);
	if (w->base != NULL)
		event_base_free(w->base);
	config_free(&w->conf);
	/* A spare whose job names another configuration opens again. */
	w->hv = NULL;
	w->lock_fd = -1;
	w->journal = NULL;
	w->pipe_ev = w->sig_ev = NULL;
	w->base = NULL;
}

/* The options of "relocd -W KIND ...", into w (argv[2] is the kind). */
static void
worker_args(struct worker *w, int argc, char **argv, int *foreground,
    int *verbose)
{
	int	ch;

	w->argv = argv;
	*foreground = *verbose = 0;
	optind = 3;
	while ((ch = getopt(argc, argv, "j:c:fvTRP:")) != -1) {
		switch (ch) {
		case 'j':
			w->job = strtoull(optarg, NULL, 10);
			break;
		case 'c':
			w->conf_path = optarg;
			break;
		case 'f':
			*foreground = 1;
			break;
		case 'v':
			(*verbose)++;
			break;
		case 'T':
			w->tls = 1;
			break;
		case 'P':
			w->peer = optarg;
			break;
		case 'R':
			w->retry = 1;
			break;
		default:
			worker_usage();
		}
	}
}

/* Logs as the job (or the service) the worker is. */
static void
worker_log(const struct worker *w, const char *kind, unsigned flags,
    int foreground, int verbose)
{
	static char	name[32];

	mig_log_init(foreground, LOG_DAEMON);
	mig_log_setverbose(verbose);
	snprintf(name, sizeof(name), "job %" PRIu64, w->job);
	mig_log_procname(flags & WK_SERVICE ? kind : name);
	if (w->job != 0)
		mig_log_field("JOB_ID", "%" PRIu64, w->job);
}

/* A worker that could not open: a question's one answer is then the
 * reason; a job's result says it failed before touching anything. */
static int
worker_failed(struct worker *w, const struct worker_kind *kind,
    struct mig_err *err)
{
	struct ctl_msg	m;

	mig_log_warnx("%s", err->msg);
	if (!(kind->flags & WK_ANSWER))
		return worker_result(w, CTL_ST_FAILED, err);
	memset(&m, 0, sizeof(m));
	m.type = CTL_ERROR;
	m.u.error.status = CTL_ST_FAILED;
	ctl_text_set(m.u.error.text, err->msg);
	worker_send(w, &m);
	return 1;
}

/*
 * A spare (spare.c): set up ahead, then handed its job's argv, which
 * makes it the worker that argv names.  The kind, with w open and the
 * job's options taken; NULL to exit with *rc (retired, or failed).
 */
static const struct worker_kind *
worker_from_spare(struct worker *w, int spare_argc, char **spare_argv,
    const struct mig_hv_ops *ops, int *foreground, int *verbose, int *rc)
{
	const struct worker_kind	*kind;
	const char			*conf = w->conf_path;	/* the
					 * spare's: read before retitling */
	struct mig_err			 err;
	char				**argv;
	int				 argc, same, opened;

	worker_log(w, "spare", WK_SERVICE, *foreground, *verbose);
	switch (opened = spare_wait(w, ops, &argc, &argv, &err)) {
	case 0:
	case -1:
		if (opened == -1)
			mig_log_warnx("%s", err.msg);
		*rc = opened == -1;
		return NULL;
	}
	if ((kind = worker_kind(argv[2])) == NULL ||
	    (kind->flags & WK_SANDBOX)) {
		mig_log_warnx("spare: handed a job of kind %s", argv[2]);
		*rc = 1;
		return NULL;
	}
	worker_args(w, argc, argv, foreground, verbose);
	same = strcmp(conf, w->conf_path) == 0;
	spare_retitle(spare_argc, spare_argv, argc, argv);
	/* The job's clock starts at the handoff, as a fresh one's at exec. */
	w->started_ms = w->rate_ms = mig_now_ms();
	if (opened != 1) {
		/* Handed the job as it failed to open, after which it hears
		 * nothing more on its pipe: the job fails, as a fresh
		 * worker's would have. */
		worker_log(w, kind->name, kind->flags, *foreground, *verbose);
		*rc = worker_failed(w, kind, &err);
		if (kind->flags & WK_CONN)
			close(RELOCD_WORKER_FD_CONN);
		return NULL;
	}
	/* The parent retires its spare on reload, so the job names the
	 * configuration the spare read: never otherwise, but never wrong. */
	if (!same)
		worker_close(w);	/* worker_main opens it again */
	return kind;
}

int
worker_main(int argc, char **argv, const struct mig_hv_ops *ops)
{
	const struct worker_kind	*kind = NULL;
	struct worker			 w;
	struct mig_err			 err;
	int				 foreground, verbose, rc;

	if (argc < 3)
		worker_usage();
	if (strcmp(argv[2], "spare") != 0 &&
	    (kind = worker_kind(argv[2])) == NULL) {
		fprintf(stderr, "relocd: unknown worker kind %s\n", argv[2]);
		return 1;
	}
	memset(&w, 0, sizeof(w));
	w.pipe = RELOCD_WORKER_FD_PIPE;
	w.conn_fd = -1;
	w.lock_fd = -1;
	w.result_domid = MIG_HV_INVALID_DOMID;
	w.started_ms = w.rate_ms = mig_now_ms();
	w.page_size = 4096;
	w.conf_path = RELOCD_CONF_FILE;
	worker_args(&w, argc, argv, &foreground, &verbose);
	if (kind == NULL) {
		if ((kind = worker_from_spare(&w, argc, argv, ops,
		    &foreground, &verbose, &rc)) == NULL) {
			worker_close(&w);
			return rc;
		}
	}
	worker_log(&w, kind->name, kind->flags, foreground, verbose);
	if (kind->flags & WK_CONN)
		w.conn_fd = RELOCD_WORKER_FD_CONN;

	if (kind->flags & WK_SANDBOX)
		return kind->run(&w);	/* opens nothing of the worker's */
	if (w.base != NULL || worker_open(&w, ops, &err) == 0)
		rc = kind->run(&w);
	else
		rc = worker_failed(&w, kind, &err);
	if (w.conn_fd != -1)
		close(w.conn_fd);
	worker_close(&w);
	return rc;
}
