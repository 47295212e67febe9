/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxl's osevent hooks on libevent: libxl tells us which fds and
 * timeouts it cares about, we tell it when they fire.  The rules are
 * libxl_event.h's:
 *  - register/modify may fail, and must then leave the registration as
 *    it was; events == 0 is a valid registration that never fires;
 *  - an fd may be registered more than once (libevent allows that);
 *  - a timeout is deregistered implicitly when it fires, before
 *    libxl_osevent_occurred_timeout is called, and libxl never calls
 *    timeout_deregister; timeout_modify is only ever "fire now";
 *  - libxl may call the hooks from inside libxl_osevent_occurred_*, so
 *    a registration can be modified or deregistered while its own
 *    callback runs: it is freed only once that callback has returned;
 *  - libxl_osevent_occurred_* must never be called from inside a hook,
 *    so the hooks only arm and disarm events.
 * Everything runs on the thread of the event loop; the hooks take no
 * lock of their own, so the lock-hierarchy rule is trivially kept.
 *
 * epoll (libevent's backend on Linux) refuses regular files with EPERM,
 * while poll(2), which libxl's own loop uses, calls them always ready.
 * Such an fd (a save to a plain file) gets the poll answer: a timer
 * of zero re-armed on every loop pass while libxl wants it.  (A timer,
 * not event_active(): an event activated from its own callback runs
 * again in the same pass, and the loop would never get past it.)
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <poll.h>
#include <stdlib.h>

#include <event2/event.h>

#include "mig/error.h"
#include "mig/hv.h"
#include "hv_libxl.h"
#include "mig/log.h"

struct hvx_fd {
	struct hvx	*x;
	struct event	*ev;		/* NULL while events == 0 */
	int		 fd;
	short		 events;	/* poll(2) flags libxl asked for */
	int		 always_ready;	/* not pollable by epoll */
	int		 busy;		/* inside its callback */
	int		 dead;		/* deregistered while busy */
	void		*for_libxl;
};

struct hvx_timeout {
	struct hvx	*x;
	struct event	*ev;
	void		*for_libxl;
};

static void
fd_free(struct hvx_fd *r)
{
	if (r->ev != NULL)
		event_free(r->ev);
	free(r);
}

static void
ready_soon(struct hvx_fd *r)
{
	static const struct timeval	zero = { 0, 0 };

	evtimer_add(r->ev, &zero);
}

static void
fd_fire(evutil_socket_t fd, short what, void *arg)
{
	struct hvx_fd	*r = arg;
	short		 revents = 0;

	if (r->always_ready)
		revents = r->events & (POLLIN | POLLOUT);
	else {
		if (what & EV_READ)
			revents |= r->events & (POLLIN | POLLPRI);
		if (what & EV_WRITE)
			revents |= r->events & POLLOUT;
	}
	if (revents == 0)
		return;
	r->busy = 1;
	/* libxl polls the fd again itself, and learns HUP/ERR there. */
	libxl_osevent_occurred_fd(r->x->ctx, r->for_libxl, r->fd, r->events,
	    revents);
	r->busy = 0;
	if (r->dead) {
		fd_free(r);
		return;
	}
	if (r->always_ready && r->events != 0 && r->ev != NULL)
		ready_soon(r);
}

/* Points r at a new set of events; on failure r is as it was. */
static int
fd_arm(struct hvx_fd *r, short events)
{
	struct event	*ev;
	short		 what = 0;

	if (r->always_ready) {
		if (r->ev == NULL &&
		    (r->ev = evtimer_new(r->x->base, fd_fire, r)) == NULL)
			return ERROR_OSEVENT_REG_FAIL;
		event_del(r->ev);
		r->events = events;
		if (events & (POLLIN | POLLOUT))
			ready_soon(r);
		return 0;
	}
	if (events & (POLLIN | POLLPRI))
		what |= EV_READ;
	if (events & POLLOUT)
		what |= EV_WRITE;
	ev = NULL;
	if (what != 0) {
		ev = event_new(r->x->base, r->fd, what | EV_PERSIST, fd_fire,
		    r);
		if (ev == NULL)
			return ERROR_OSEVENT_REG_FAIL;
		if (event_add(ev, NULL) == -1) {
			mig_log_warnx("libxl: cannot watch fd %d", r->fd);
			event_free(ev);
			return ERROR_OSEVENT_REG_FAIL;
		}
	}
	/* Freeing the event whose callback is running is allowed. */
	if (r->ev != NULL)
		event_free(r->ev);
	r->ev = ev;
	r->events = events;
	return 0;
}

static int
hvx_fd_register(void *user, int fd, void **reg_out, short events,
    void *for_libxl)
{
	struct hvx_fd	*r;
	struct stat	 st;
	int		 rc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ERROR_OSEVENT_REG_FAIL;
	r->x = user;
	r->fd = fd;
	r->for_libxl = for_libxl;
	if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) ||
	    S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode)))
		r->always_ready = 1;
	if ((rc = fd_arm(r, events)) != 0) {
		fd_free(r);
		return rc;
	}
	*reg_out = r;
	return 0;
}

static int
hvx_fd_modify(void *user, int fd, void **reg_upd, short events)
{
	return fd_arm(*reg_upd, events);
}

static void
hvx_fd_deregister(void *user, int fd, void *reg)
{
	struct hvx_fd	*r = reg;

	if (r->busy) {
		/* Stop it now, free it when its callback returns. */
		if (r->ev != NULL)
			event_free(r->ev);
		r->ev = NULL;
		r->dead = 1;
		return;
	}
	fd_free(r);
}

static void
timeout_fire(evutil_socket_t fd, short what, void *arg)
{
	struct hvx_timeout	*t = arg;
	struct hvx		*x = t->x;
	void			*for_libxl = t->for_libxl;

	/* Deregistered implicitly before libxl hears of it. */
	event_free(t->ev);
	free(t);
	libxl_osevent_occurred_timeout(x->ctx, for_libxl);
}

static void
rel_time(struct timeval abs, struct timeval *rel)
{
	struct timeval	now;

	/* libxl computes abs with gettimeofday(). */
	gettimeofday(&now, NULL);
	if (timercmp(&abs, &now, <))
		timerclear(rel);
	else
		timersub(&abs, &now, rel);
}

static int
hvx_timeout_register(void *user, void **reg_out, struct timeval abs,
    void *for_libxl)
{
	struct hvx_timeout	*t;
	struct hvx		*x = user;
	struct timeval		 rel;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ERROR_OSEVENT_REG_FAIL;
	t->x = x;
	t->for_libxl = for_libxl;
	if ((t->ev = evtimer_new(x->base, timeout_fire, t)) == NULL) {
		free(t);
		return ERROR_OSEVENT_REG_FAIL;
	}
	rel_time(abs, &rel);
	if (evtimer_add(t->ev, &rel) == -1) {
		event_free(t->ev);
		free(t);
		return ERROR_OSEVENT_REG_FAIL;
	}
	*reg_out = t;
	return 0;
}

/* Only ever "fire as soon as possible" (abs == {0,0}).  A single
 * thread cannot race with the firing: once fired, libxl forgets t. */
static int
hvx_timeout_modify(void *user, void **reg_upd, struct timeval abs)
{
	struct hvx_timeout	*t = *reg_upd;
	struct timeval		 rel;

	rel_time(abs, &rel);
	if (evtimer_add(t->ev, &rel) == -1)
		return ERROR_OSEVENT_REG_FAIL;
	return 0;
}

/* Never called by libxl (deprecated mode); harmless if it ever is. */
static void
hvx_timeout_deregister(void *user, void *reg)
{
	struct hvx_timeout	*t = reg;

	event_free(t->ev);
	free(t);
}

const libxl_osevent_hooks hvx_osevent_hooks = {
	.fd_register = hvx_fd_register,
	.fd_modify = hvx_fd_modify,
	.fd_deregister = hvx_fd_deregister,
	.timeout_register = hvx_timeout_register,
	.timeout_modify = hvx_timeout_modify,
	.timeout_deregister = hvx_timeout_deregister,
};
