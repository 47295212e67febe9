/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control connection to relocd: find the socket through relocd.conf,
 * send requests, and follow jobs to their RESULT, with Ctrl-C turned into
 * a CANCEL rather than an abandoned job.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "reloc.h"
#include "xl-reloc.h"

static volatile sig_atomic_t	 got_sigint;
static bool			 sigint_armed;
static sigset_t			 wait_mask;	/* SIGINT open in ppoll */

int
client_conf(const struct xr_global *g, struct relocd_conf *c,
    struct mig_err *err)
{
	config_defaults(c);
	if (config_load(g->conf, c, err) == 0)
		return CTL_ST_OK;
	/* A host that only sends need not have relocd.conf at all. */
	if (err->code == MIG_E_NOTFOUND && !g->conf_given) {
		config_free(c);
		config_defaults(c);
		if (c->control_socket != NULL)
			return CTL_ST_OK;
		mig_seterr(err, MIG_E_NOMEM, "out of memory");
		return CTL_ST_FAILED;
	}
	config_free(c);
	return CTL_ST_USAGE;
}

bool
client_tls_default(const struct xr_global *g)
{
	struct relocd_conf	c;
	struct mig_err		err;
	bool			tls;

	if (client_conf(g, &c, &err) != CTL_ST_OK)
		return true;
	tls = c.tls_client;
	config_free(&c);
	return tls;
}

int
client_socket_path(const struct xr_global *g, char **path,
    struct mig_err *err)
{
	struct relocd_conf	c;
	int			st;

	if ((st = client_conf(g, &c, err)) != CTL_ST_OK)
		return st;
	*path = c.control_socket;
	c.control_socket = NULL;
	config_free(&c);
	return CTL_ST_OK;
}

int
client_open(const struct xr_global *g, struct xr_client *cl,
    struct mig_err *err)
{
	struct sockaddr_un	sun;
	int			st;

	cl->fd = -1;
	cl->path = NULL;
	if ((st = client_socket_path(g, &cl->path, err)) != CTL_ST_OK)
		return st;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(cl->path) >= sizeof(sun.sun_path)) {
		mig_seterr(err, MIG_E_INVAL, "%s: control socket path too long",
		    cl->path);
		client_close(cl);
		return CTL_ST_USAGE;
	}
	strcpy(sun.sun_path, cl->path);
	cl->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (cl->fd == -1) {
		mig_seterrno(err, MIG_E_IO, "control socket");
		client_close(cl);
		return CTL_ST_FAILED;
	}
	if (connect(cl->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return CTL_ST_OK;
	if (errno == ENOENT || errno == ECONNREFUSED) {
		mig_seterr(err, MIG_E_NOTFOUND, "relocd is not running "
		    "(%s %s): start it with 'systemctl start relocd' or "
		    "'relocd'", errno == ENOENT ? "no" : "nothing listens on", cl->path);
		st = CTL_ST_NODAEMON;
	} else {
		mig_seterrno(err, MIG_E_IO, "%s", cl->path);
		st = CTL_ST_FAILED;
	}
	client_close(cl);
	return st;
}

void
client_close(struct xr_client *cl)
{
	if (cl->fd != -1)
		close(cl->fd);
	free(cl->path);
	cl->fd = -1;
	cl->path = NULL;
}

int
client_exit_status(uint16_t st)
{
	return st < CTL_ST__MAX ? st : CTL_ST_UNDEFINED;
}

int
client_ask(struct xr_client *cl, const struct ctl_msg *req,
    int (*row)(const struct ctl_msg *, void *), void *arg,
    struct mig_err *err)
{
	struct ctl_msg	m;
	int		rc;

	if (ctl_send(cl->fd, req, err) == -1)
		return CTL_ST_FAILED;
	for (;;) {
		if (ctl_recv(cl->fd, &m, err) == -1)
			return CTL_ST_FAILED;
		if (m.type == CTL_ERROR) {
			mig_seterr(err, MIG_E_PROTO, "%s", m.u.error.text);
			return m.u.error.status == CTL_ST_OK ? CTL_ST_FAILED :
			    client_exit_status(m.u.error.status);
		}
		if ((rc = row(&m, arg)) != 0)
			return rc > 0 ? CTL_ST_OK : CTL_ST_FAILED;
	}
}

static void
on_sigint(int sig)
{
	got_sigint = 1;
}

void
client_sigint_setup(void)
{
	struct sigaction	sa;
	sigset_t		block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;	/* no SA_RESTART: ppoll must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	/* Blocked except inside ppoll, so no Ctrl-C falls between a check
	 * of the flag and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	got_sigint = 0;
	sigint_armed = true;
}

bool
client_sigint_armed(void)
{
	return sigint_armed;
}

void
client_sigint_restore(void)
{
	sigset_t	block;

	if (!sigint_armed)
		return;
	signal(SIGINT, SIG_DFL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	sigint_armed = false;
}

static void
watch_fail(struct job_watch *w, int status, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
	w->done = true;
	w->status = status;
	if (w->view == NULL || w->view->mode != VIEW_QUIET)
		fprintf(stderr, "xl-reloc: %s\n", w->why);
}

static void
watch_send_cancel(struct job_watch *w)
{
	struct ctl_msg	m;
	struct mig_err	err;

	w->cancel_wanted = true;
	if (w->done || w->job == 0 || w->cancel_sent)
		return;
	memset(&m, 0, sizeof(m));
	m.type = CTL_CANCEL;
	m.u.job = w->job;
	if (ctl_send(w->c.fd, &m, &err) == -1)
		fprintf(stderr, "xl-reloc: %s: cancel: %s\n", w->what, err.msg);
	w->cancel_sent = true;
}

int
watch_start(struct job_watch *w, const struct xr_global *g,
    const struct ctl_msg *req, struct view *view, const char *what)
{
	memset(w, 0, sizeof(*w));
	w->view = view;
	w->what = what;
	w->c.fd = -1;
	if ((w->status = client_open(g, &w->c, &w->err)) != CTL_ST_OK) {
		if (w->status == CTL_ST_NODAEMON && (req->type == CTL_SAVE ||
		    req->type == CTL_RESTORE))
			watch_fail(w, w->status, "%s, or add --direct to run "
			    "the %s in xl-reloc itself", w->err.msg,
			    req->type == CTL_SAVE ? "save" : "restore");
		else
			watch_fail(w, w->status, "%s", w->err.msg);
		return w->status;
	}
	if (ctl_send(w->c.fd, req, &w->err) == -1) {
		watch_fail(w, CTL_ST_FAILED, "%s: %s", what, w->err.msg);
		return w->status;
	}
	return CTL_ST_OK;
}

void
watch_handle(struct job_watch *w, const struct ctl_msg *m)
{
	switch (m->type) {
	case CTL_ACCEPTED:
		/* A second ACCEPTED acknowledges our CANCEL. */
		if (w->job != 0)
			break;
		w->job = m->u.job;
		if (w->view != NULL)
			view_accepted(w->view, w->job);
		if (w->cancel_wanted)
			watch_send_cancel(w);
		break;
	case CTL_EVENT:
		if (w->view != NULL && m->u.event.job == w->job)
			view_event(w->view, &m->u.event);
		break;
	case CTL_RESULT:
		w->res = m->u.result;
		w->done = true;
		w->status = client_exit_status(w->res.status);
		snprintf(w->why, sizeof(w->why), "%s", w->res.text);
		if (w->view != NULL)
			view_result(w->view, w->what, &w->res);
		break;
	case CTL_ERROR:
		if (w->job != 0) {
			/* The job runs on; only our cancel was refused. */
			fprintf(stderr, "xl-reloc: %s: cancel refused: %s\n",
			    w->what, m->u.error.text);
			break;
		}
		watch_fail(w, m->u.error.status == CTL_ST_OK ? CTL_ST_FAILED :
		    client_exit_status(m->u.error.status), "%s: %s", w->what,
		    m->u.error.text);
		break;
	default:
		/* A later relocd may say more; what we do not know, skip. */
		break;
	}
}

static void
watch_input(struct job_watch *w)
{
	struct ctl_msg	m;

	if (ctl_recv(w->c.fd, &m, &w->err) == 0) {
		watch_handle(w, &m);
		return;
	}
	if (w->job == 0)
		watch_fail(w, CTL_ST_FAILED, "%s: relocd: %s", w->what,
		    w->err.msg);
	else
		watch_fail(w, CTL_ST_UNDEFINED, "%s: lost relocd during job "
		    "%" PRIu64 " (%s): relocd journals every step and "
		    "reconciles when it restarts; check 'xl-reloc jobs' and "
		    "'xl list' on both hosts", w->what, w->job, w->err.msg);
}

size_t
watch_poll(struct job_watch **ws, size_t n)
{
	struct pollfd	pfd[EVAC_PARALLEL_MAX + 1];
	size_t		i, np = 0, running = 0;
	int		rc;

	if (n > EVAC_PARALLEL_MAX + 1)
		n = EVAC_PARALLEL_MAX + 1;
	for (i = 0; i < n; i++)
		if (!ws[i]->done) {
			pfd[np].fd = ws[i]->c.fd;
			pfd[np++].events = POLLIN;
		}
	if (np == 0)
		return 0;
	rc = ppoll(pfd, np, NULL, sigint_armed ? &wait_mask : NULL);
	if (rc == -1 && errno == EINTR && got_sigint) {
		got_sigint = 0;
		for (i = 0; i < n; i++)
			if (!ws[i]->done) {
				fprintf(stderr, "xl-reloc: %s: cancelling, "
				    "waiting for relocd to roll back (Ctrl-C "
				    "again stops waiting; the rollback goes "
				    "on)\n", ws[i]->what);
				watch_send_cancel(ws[i]);
			}
		client_sigint_restore();
	}
	for (i = 0, np = 0; i < n; i++) {
		if (ws[i]->done)
			continue;
		if (rc > 0 && pfd[np].revents != 0)
			watch_input(ws[i]);
		np++;
		if (!ws[i]->done)
			running++;
	}
	return running;
}

void
watch_end(struct job_watch *w)
{
	client_close(&w->c);
}

int
client_run_job(const struct xr_global *g, const struct ctl_msg *req,
    struct view *view, const char *what)
{
	struct job_watch	 w, *ws[1] = { &w };
	int			 st;

	client_sigint_setup();
	if (watch_start(&w, g, req, view, what) == CTL_ST_OK)
		while (watch_poll(ws, 1) > 0)
			;
	client_sigint_restore();
	st = w.status;
	watch_end(&w);
	return st;
}
