/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backend-independent half of a domain's life: watches on its
 * shutdown and death, and the calls a monitor needs to act on them as
 * xl does (create again, preserve, dump core, soft reset).
 *
 * A backend reports a watch's events from wherever it learns of them
 * (libxl: its event callback, with libxl frames below); they are queued
 * per watch and delivered from an event of the watch's own, so the
 * callback may call the hypervisor, or unwatch, freely.
 */
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "mig/error.h"
#include "mig/hv.h"
#include "mig/log.h"

struct wnote {
	TAILQ_ENTRY(wnote)	 entry;
	struct mig_hv_domevent	 ev;
};

struct mig_hv_watch {
	struct mig_hv		*hv;
	uint32_t		 domid;
	mig_hv_watch_cb		 cb;
	void			*arg;
	void			*priv;		/* the backend's */
	struct event		*ev;
	TAILQ_HEAD(, wnote)	 notes;
	int			 delivering;
	int			 dead;		/* unwatched from its callback */
};

static void	deliver(evutil_socket_t, short, void *);

/*
 * A domain's configuration leaves an action unset only when no xl made
 * it (xl always sets all five); those are xl's defaults.
 */
static const int xl_default[MIG_HV_SHUTDOWN__MAX] = {
	[MIG_HV_SHUTDOWN_POWEROFF] = MIG_HV_ACT_DESTROY,
	[MIG_HV_SHUTDOWN_REBOOT] = MIG_HV_ACT_RESTART,
	[MIG_HV_SHUTDOWN_SUSPEND] = MIG_HV_ACT_UNSET,
	[MIG_HV_SHUTDOWN_CRASH] = MIG_HV_ACT_DESTROY,
	[MIG_HV_SHUTDOWN_WATCHDOG] = MIG_HV_ACT_DESTROY,
	[MIG_HV_SHUTDOWN_SOFT_RESET] = MIG_HV_ACT_SOFT_RESET,
	/* xl: "Unknown shutdown reason code ... Destroying domain." */
	[MIG_HV_SHUTDOWN_UNKNOWN] = MIG_HV_ACT_DESTROY,
};

static int
unsupported(struct mig_hv *hv, const char *what, struct mig_err *err)
{
	return mig_seterr(err, MIG_E_NOTSUP, "the %s backend cannot %s",
	    mig_hv_backend_name(hv), what);
}

struct mig_hv_watch *
mig_hv_watch(struct mig_hv *hv, uint32_t domid, mig_hv_watch_cb cb,
    void *arg, struct mig_err *err)
{
	const struct mig_hv_ops	*ops = mig_hv_backend(hv);
	struct mig_hv_watch	*w;

	if (ops->watch_start == NULL)
		return unsupported(hv, "watch a domain", err), NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "domain watch"), NULL;
	w->hv = hv;
	w->domid = domid;
	w->cb = cb;
	w->arg = arg;
	TAILQ_INIT(&w->notes);
	if ((w->ev = event_new(mig_hv_base(hv), -1, 0, deliver, w)) == NULL) {
		free(w);
		return mig_seterr(err, MIG_E_NOMEM, "domain watch: cannot "
		    "create an event"), NULL;
	}
	if (ops->watch_start(hv, w, domid, err) == -1) {
		event_free(w->ev);
		free(w);
		return NULL;
	}
	return w;
}

static void
watch_free(struct mig_hv_watch *w)
{
	struct wnote	*n;

	while ((n = TAILQ_FIRST(&w->notes)) != NULL) {
		TAILQ_REMOVE(&w->notes, n, entry);
		free(n);
	}
	event_free(w->ev);
	free(w);
}

void
mig_hv_unwatch(struct mig_hv_watch *w)
{
	const struct mig_hv_ops	*ops;

	if (w == NULL || w->dead)
		return;
	ops = mig_hv_backend(w->hv);
	ops->watch_stop(w->hv, w);
	if (w->delivering) {
		/* Freed when its callback returns. */
		w->dead = 1;
		return;
	}
	watch_free(w);
}

uint32_t
mig_hv_watch_domid(const struct mig_hv_watch *w)
{
	return w->domid;
}

void
mig_hv_watch_note(struct mig_hv_watch *w, const struct mig_hv_domevent *ev)
{
	struct wnote	*n;

	if (w->dead)
		return;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		/* A lost death would leave a domain unwatched for good. */
		mig_log_warnx("domain %u: out of memory queueing its %s event",
		    w->domid, ev->kind == MIG_HV_EV_DEATH ? "death" :
		    "shutdown");
		return;
	}
	n->ev = *ev;
	TAILQ_INSERT_TAIL(&w->notes, n, entry);
	event_active(w->ev, 0, 0);
}

static void
deliver(evutil_socket_t fd, short what, void *arg)
{
	struct mig_hv_watch	*w = arg;
	struct wnote		*n;

	w->delivering = 1;
	while (!w->dead && (n = TAILQ_FIRST(&w->notes)) != NULL) {
		TAILQ_REMOVE(&w->notes, n, entry);
		w->cb(w, &n->ev, w->arg);
		free(n);
	}
	w->delivering = 0;
	if (w->dead)
		watch_free(w);
}

void *
mig_hv_watch_priv(struct mig_hv_watch *w)
{
	return w->priv;
}

void
mig_hv_watch_set_priv(struct mig_hv_watch *w, void *p)
{
	w->priv = p;
}

struct mig_hv *
mig_hv_watch_hv(struct mig_hv_watch *w)
{
	return w->hv;
}

/* --- acting on a shutdown --- */

int
mig_hv_config_actions(struct mig_hv *hv, const char *json,
    struct mig_hv_actions *a, struct mig_err *err)
{
	const struct mig_hv_ops	*ops = mig_hv_backend(hv);
	int			 i;

	memset(a, 0, sizeof(*a));
	if (json == NULL)
		return mig_seterr(err, MIG_E_INVAL, "no domain configuration");
	if (ops->config_actions == NULL)
		return unsupported(hv, "read a domain's actions", err);
	if (ops->config_actions(hv, json, a, err) == -1)
		return -1;
	for (i = 0; i < MIG_HV_SHUTDOWN__MAX; i++)
		if (a->on[i] <= MIG_HV_ACT_UNSET || a->on[i] >= MIG_HV_ACT__MAX)
			a->on[i] = xl_default[i];
	return 0;
}

int
mig_hv_create(struct mig_hv *hv, const char *json, int paused,
    uint32_t *domid, struct mig_err *err)
{
	const struct mig_hv_ops	*ops = mig_hv_backend(hv);
	struct mig_err		 e2;

	*domid = MIG_HV_INVALID_DOMID;
	if (json == NULL)
		return mig_seterr(err, MIG_E_INVAL, "no domain configuration");
	if (ops->create == NULL)
		return unsupported(hv, "create a domain", err);
	if (ops->create(hv, json, domid, err) == -1)
		return -1;
	if (paused || mig_hv_unpause(hv, *domid, err) == 0)
		return 0;
	/* Built but it will not run: a paused copy nobody asked for is
	 * worse than none, and the caller still holds the configuration. */
	if (mig_hv_destroy(hv, *domid, &e2) == -1)
		mig_log_warnx("%s", e2.msg);
	*domid = MIG_HV_INVALID_DOMID;
	return -1;
}

int
mig_hv_preserve(struct mig_hv *hv, uint32_t domid, const char *suffix,
    struct mig_err *err)
{
	const struct mig_hv_ops	*ops = mig_hv_backend(hv);

	if (suffix == NULL || *suffix == '\0')
		return mig_seterr(err, MIG_E_INVAL, "preserve: no suffix");
	if (ops->preserve == NULL)
		return unsupported(hv, "preserve a domain", err);
	return ops->preserve(hv, domid, suffix, err);
}

int
mig_hv_core_dump(struct mig_hv *hv, uint32_t domid, const char *path,
    struct mig_err *err)
{
	const struct mig_hv_ops	*ops = mig_hv_backend(hv);

	if (ops->core_dump == NULL)
		return unsupported(hv, "dump a domain's core", err);
	return ops->core_dump(hv, domid, path, err);
}

int
mig_hv_soft_reset(struct mig_hv *hv, uint32_t domid, const char *json,
    struct mig_err *err)
{
	const struct mig_hv_ops	*ops = mig_hv_backend(hv);

	if (json == NULL)
		return mig_seterr(err, MIG_E_INVAL, "no domain configuration");
	if (ops->soft_reset == NULL)
		return unsupported(hv, "soft-reset a domain", err);
	if (ops->soft_reset(hv, domid, json, err) == -1)
		return -1;
	return mig_hv_unpause(hv, domid, err);
}

/* --- names --- */

static const char *const shutdown_names[MIG_HV_SHUTDOWN__MAX] = {
	"poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset",
	"unknown",
};

/* xl's spelling first (what a configuration file says), then libxl's. */
static const char *const action_names[MIG_HV_ACT__MAX][2] = {
	[MIG_HV_ACT_DESTROY] = { "destroy", "destroy" },
	[MIG_HV_ACT_RESTART] = { "restart", "restart" },
	[MIG_HV_ACT_RESTART_RENAME] = { "rename-restart", "restart_rename" },
	[MIG_HV_ACT_PRESERVE] = { "preserve", "preserve" },
	[MIG_HV_ACT_COREDUMP_DESTROY] = { "coredump-destroy",
	    "coredump_destroy" },
	[MIG_HV_ACT_COREDUMP_RESTART] = { "coredump-restart",
	    "coredump_restart" },
	[MIG_HV_ACT_SOFT_RESET] = { "soft-reset", "soft_reset" },
};

const char *
mig_hv_shutdown_name(int r)
{
	return r >= 0 && r < MIG_HV_SHUTDOWN__MAX ? shutdown_names[r] :
	    "unknown";
}

const char *
mig_hv_action_name(int a)
{
	return a > MIG_HV_ACT_UNSET && a < MIG_HV_ACT__MAX ?
	    action_names[a][0] : "unset";
}

int
mig_hv_action_parse(const char *s)
{
	int	a;

	for (a = MIG_HV_ACT_DESTROY; a < MIG_HV_ACT__MAX; a++)
		if (strcmp(s, action_names[a][0]) == 0 ||
		    strcmp(s, action_names[a][1]) == 0)
			return a;
	return -1;
}
