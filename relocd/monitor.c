/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor (relocd -W monitor): for every domain relocd brought up
 * here -- received, restored, or restarted by this monitor -- what the
 * xl process left behind by "xl create" is for its domain.  It watches
 * each for its shutdown and acts as xl's handle_domain_death does, with
 * the domain's own on_poweroff / on_reboot / on_crash / on_watchdog /
 * on_soft_reset actions, read when the shutdown happens
 * (libxl_retrieve_domain_configuration, so with what changed since).
 *
 * One long-lived worker, one libxl ctx for all of them: the parent
 * never calls the hypervisor, and a job worker lives only as long as
 * its job.  The set it watches is the files of owned.c; a job adds one
 * and this process notices (inotify), and a restarted relocd's monitor
 * reads them all again and acts on a domain that shut down meanwhile
 * (a watch reports a shutdown that is already there).  Before anything
 * irreversible the entry says what is under way, so a monitor killed
 * in the middle of a restart finishes it when it starts again.
 */
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/hv.h"
#include "mig/log.h"
#include "relocd.h"

#define RETRY_MAX_S	60	/* longest wait between two create attempts */

struct mdom;

struct monitor {
	struct worker		*w;
	const char		*state_dir;
	int			 ino_fd;
	struct event		*ino_ev;
	TAILQ_HEAD(, mdom)	 doms;
};

struct mdom {
	struct monitor		*m;
	char			 uuid[37];
	char			 name[MIG_HV_NAMELEN];
	uint32_t		 domid;
	int			 state;		/* enum owned_state */
	struct mig_hv_watch	*watch;
	struct event		*timer;		/* suspended: look again;
						 * restarting: try again */
	unsigned		 retry_s;
	char			*json;		/* restarting */
	int			 seen;		/* in this scan */
	TAILQ_ENTRY(mdom)	 entry;
};

static void	on_event(struct mig_hv_watch *, const struct mig_hv_domevent *,
		    void *);
static void	restart_create(struct mdom *);
static int	find_by_uuid(struct mig_hv *, const char *, uint32_t,
		    struct mig_hv_dominfo *);

static struct mdom *
find(struct monitor *m, const char *uuid)
{
	struct mdom	*d;

	TAILQ_FOREACH(d, &m->doms, entry)
		if (strcmp(d->uuid, uuid) == 0)
			return d;
	return NULL;
}

static void
release(struct mdom *d)
{
	TAILQ_REMOVE(&d->m->doms, d, entry);
	mig_hv_unwatch(d->watch);
	if (d->timer != NULL)
		event_free(d->timer);
	free(d->json);
	free(d);
}

static void
timer_in(struct mdom *d, unsigned sec)
{
	struct timeval	tv = { sec, 0 };

	evtimer_add(d->timer, &tv);
}

/* The entry as d now is. */
static int
save(struct mdom *d)
{
	struct owned	o;
	struct mig_err	err;

	memset(&o, 0, sizeof(o));
	memcpy(o.uuid, d->uuid, sizeof(o.uuid));
	snprintf(o.name, sizeof(o.name), "%s", d->name);
	o.domid = d->domid;
	o.state = d->state;
	o.json = d->json;
	if (owned_put(d->m->state_dir, &o, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		return -1;
	}
	return 0;
}

/* No longer ours: the entry goes, unless a job has put a new one (the
 * domain came back under another domid) meanwhile. */
static void
forget(struct mdom *d)
{
	struct owned	o;
	struct mig_err	err;

	if (owned_get(d->m->state_dir, d->uuid, &o, &err) == 0) {
		if (o.domid == d->domid && owned_drop(d->m->state_dir, d->uuid, &err) == -1)
			mig_log_warnx("%s", err.msg);
		owned_clear(&o);
	}
	release(d);
}

static int
watch(struct mdom *d)
{
	struct mig_err	err;

	mig_hv_unwatch(d->watch);
	if ((d->watch = mig_hv_watch(d->m->w->hv, d->domid, on_event, d,
	    &err)) == NULL) {
		mig_log_warnx("%s (domain %u): %s", d->name, d->domid, err.msg);
		return -1;
	}
	return 0;
}

/* A suspended domain (saved, or migrating away) either goes or runs
 * again (a failed or --keep-running save); libxl reports a shutdown
 * once per watch, so a domain that runs again needs a new one. */
static void
look_again(struct mdom *d)
{
	struct mig_hv_dominfo	di;
	struct mig_err		err;

	if (mig_hv_dominfo(d->m->w->hv, d->domid, &di, &err) == -1) {
		if (err.code == MIG_E_NOTFOUND) {
			mig_log_info("%s (domain %u) is gone (saved or migrated "
			    "away): no longer watched", d->name, d->domid);
			forget(d);
		} else
			timer_in(d, 1);
		return;
	}
	if (di.state == MIG_HV_DOM_SUSPENDED || di.state == MIG_HV_DOM_DYING) {
		timer_in(d, 1);
		return;
	}
	snprintf(d->name, sizeof(d->name), "%s", di.name);
	mig_log_info("%s (domain %u) runs again after its suspend: watching it",
	    d->name, d->domid);
	if (watch(d) == -1)
		timer_in(d, 1);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct mdom	*d = arg;

	if (d->state == OWNED_RESTARTING)
		restart_create(d);
	else
		look_again(d);
}

/* "-20261206T1703Z", as xl names a preserved copy. */
static void
preserve_suffix(char *buf, size_t len)
{
	time_t		now = time(NULL);
	struct tm	tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(buf, len, "-%Y%m%dT%H%MZ", &tm) == 0)
		snprintf(buf, len, "-%lld", (long long)now);
}

/* Create it again from d->json; on failure try again later (the entry
 * keeps the configuration, so a restart of relocd tries too). */
static void
restart_create(struct mdom *d)
{
	struct mig_hv_dominfo	di;
	struct mig_err		err;
	uint32_t		domid;

	/* Someone else (an operator, a cluster) brought it back meanwhile:
	 * that one is it, a second copy would not be. */
	if (find_by_uuid(d->m->w->hv, d->uuid, d->domid, &di) == 0) {
		mig_log_info("%s is back as domain %u, not by relocd: watching "
		    "it", d->name, di.domid);
		domid = di.domid;
	} else if (mig_hv_create(d->m->w->hv, d->json, 0, &domid,
	    &err) == 0)
		mig_log_info("%s restarted as domain %u", d->name, domid);
	else {
		d->retry_s = d->retry_s == 0 ? 1 : d->retry_s * 2;
		if (d->retry_s > RETRY_MAX_S)
			d->retry_s = RETRY_MAX_S;
		mig_log_warnx("%s: restart failed, trying again in %u s: %s",
		    d->name, d->retry_s, err.msg);
		timer_in(d, d->retry_s);
		return;
	}
	d->retry_s = 0;
	d->domid = domid;
	d->state = OWNED_WATCHING;
	free(d->json);
	d->json = NULL;
	(void)save(d);
	(void)watch(d);
}

/* destroy-then-create, or (rename) preserve-then-create, as xl. */
static void
restart(struct mdom *d, char *json, int rename)
{
	struct mig_hv	*hv = d->m->w->hv;
	struct mig_err	 err;
	char		 suffix[32];
	uint32_t	 old = d->domid;

	free(d->json);
	d->json = json;
	d->state = OWNED_RESTARTING;
	if (save(d) == -1) {
		/* Without the entry a crash now would lose the domain's
		 * configuration with the domain: do nothing rather. */
		mig_log_warnx("%s (domain %u): not restarted; it stays shut "
		    "down", d->name, old);
		d->state = OWNED_PRESERVED;
		return;
	}
	mig_hv_unwatch(d->watch);
	d->watch = NULL;
	if (rename) {
		preserve_suffix(suffix, sizeof(suffix));
		if (mig_hv_preserve(hv, old, suffix, &err) == -1) {
			mig_log_warnx("%s; it stays as it is, no longer watched",
			    err.msg);
			d->state = OWNED_WATCHING;
			forget(d);
			return;
		}
		mig_log_info("%s (domain %u) preserved as %s%s", d->name, old,
		    d->name, suffix);
	} else if (mig_hv_destroy(hv, old, &err) == -1 &&
	    err.code != MIG_E_NOTFOUND) {
		mig_log_warnx("%s; it stays as it is", err.msg);
		d->state = OWNED_PRESERVED;
		free(d->json);
		d->json = NULL;
		(void)save(d);
		(void)watch(d);
		return;
	}
	restart_create(d);
}

static void
dump_core(struct mdom *d)
{
	struct mig_err	err;
	char		path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", d->m->w->conf.dump_dir,
	    d->name);
	mig_log_info("%s (domain %u): dumping its core to %s", d->name, d->domid,
	    path);
	/* As xl: a failed dump does not stop the action. */
	if (mig_hv_core_dump(d->m->w->hv, d->domid, path, &err) == -1)
		mig_log_warnx("%s", err.msg);
}

static void
act(struct mdom *d, int reason)
{
	struct mig_hv		*hv = d->m->w->hv;
	struct mig_hv_actions	 acts;
	struct mig_hv_dominfo	 di;
	struct mig_err		 err;
	char			*json;
	int			 a;

	if (mig_hv_dominfo(hv, d->domid, &di, &err) == 0) {
		snprintf(d->name, sizeof(d->name), "%s", di.name);
		if (di.state == MIG_HV_DOM_SUSPENDED) {
			/* Whatever the event said: a save, never a reason
			 * to destroy. */
			timer_in(d, 1);
			return;
		}
	}
	if ((json = mig_hv_config_json(hv, d->domid, &err)) == NULL ||
	    mig_hv_config_actions(hv, json, &acts, &err) == -1) {
		mig_log_warnx("%s (domain %u) shut down (%s) but its configuration "
		    "cannot be read, so it is left as it is: %s", d->name,
		    d->domid, mig_hv_shutdown_name(reason), err.msg);
		free(json);
		return;
	}
	a = acts.on[reason];
	/* The one line per event an operator looks for. */
	mig_log_info("%s (domain %u): %s, action %s", d->name, d->domid,
	    mig_hv_shutdown_name(reason), mig_hv_action_name(a));
	if (a == MIG_HV_ACT_COREDUMP_DESTROY || a == MIG_HV_ACT_COREDUMP_RESTART) {
		dump_core(d);
		a = a == MIG_HV_ACT_COREDUMP_DESTROY ? MIG_HV_ACT_DESTROY :
		    MIG_HV_ACT_RESTART;
	}
	switch (a) {
	case MIG_HV_ACT_RESTART:
	case MIG_HV_ACT_RESTART_RENAME:
		restart(d, json, a == MIG_HV_ACT_RESTART_RENAME);
		return;		/* json is d's now */
	case MIG_HV_ACT_SOFT_RESET:
		if (mig_hv_soft_reset(hv, d->domid, json, &err) == -1)
			mig_log_warnx("%s; it stays as it is", err.msg);
		else
			(void)watch(d);
		break;
	case MIG_HV_ACT_PRESERVE:
		d->state = OWNED_PRESERVED;
		(void)save(d);
		break;
	case MIG_HV_ACT_DESTROY:
	default:
		mig_hv_unwatch(d->watch);
		d->watch = NULL;
		if (mig_hv_destroy(hv, d->domid, &err) == -1 &&
		    err.code != MIG_E_NOTFOUND) {
			mig_log_warnx("%s", err.msg);
			(void)watch(d);
			break;
		}
		forget(d);
		break;
	}
	free(json);
}

static void
on_event(struct mig_hv_watch *wa, const struct mig_hv_domevent *ev,
    void *arg)
{
	struct mdom	*d = arg;

	if (ev->kind == MIG_HV_EV_DEATH) {
		mig_log_info("%s (domain %u) is gone (destroyed, saved or migrated "
		    "away): no longer watched", d->name, d->domid);
		forget(d);
		return;
	}
	if (d->state == OWNED_PRESERVED)
		return;		/* left shut down on purpose */
	if (ev->reason == MIG_HV_SHUTDOWN_SUSPEND) {
		mig_log_info("%s (domain %u) suspended: watching for it to run "
		    "again or go", d->name, d->domid);
		timer_in(d, 1);
		return;
	}
	act(d, ev->reason);
}

/* The domain with that uuid, other than domid not, that is neither a
 * copy in transit nor dying, if any. */
static int
find_by_uuid(struct mig_hv *hv, const char *uuid, uint32_t not,
    struct mig_hv_dominfo *out)
{
	struct mig_hv_dominfo	*list;
	struct mig_err		 err;
	char			 u[37];
	int			 i, n, found = -1;

	if (mig_hv_list(hv, &list, &n, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		return -1;
	}
	for (i = 0; i < n && found == -1; i++) {
		mig_hv_uuid_format(list[i].uuid, u);
		if (strcmp(u, uuid) == 0 && list[i].domid != not &&
		    list[i].state != MIG_HV_DOM_DYING &&
		    temp_suffix(list[i].name) == NULL)
			found = i;
	}
	if (found != -1)
		*out = list[found];
	free(list);
	return found == -1 ? -1 : 0;
}

/* Takes an entry on: a new domain, or one relocd left while it was
 * away (it may have shut down, or be half-way through a restart). */
static void
attach(struct monitor *m, const struct owned *o)
{
	struct mig_hv_dominfo	 di;
	struct mig_err		 err;
	struct mdom		*d;
	char			 u[37];

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->timer = evtimer_new(m->w->base, on_timer, d)) == NULL) {
		free(d);
		mig_log_warnx("%s: out of memory: not watched", o->name);
		return;
	}
	d->m = m;
	memcpy(d->uuid, o->uuid, sizeof(d->uuid));
	snprintf(d->name, sizeof(d->name), "%s", o->name);
	d->domid = o->domid;
	d->state = o->state;
	d->seen = 1;
	TAILQ_INSERT_TAIL(&m->doms, d, entry);
	if (o->state == OWNED_RESTARTING) {
		if ((d->json = strdup(o->json)) == NULL) {
			mig_log_warnx("%s: out of memory: not watched", o->name);
			release(d);
			return;
		}
		/* Either the old domain is still there (the restart never
		 * got to destroy it: it reports its shutdown again) or the
		 * new one is (created, not yet recorded) or neither. */
		if (find_by_uuid(m->w->hv, d->uuid, MIG_HV_INVALID_DOMID,
		    &di) == 0) {
			d->domid = di.domid;
			d->state = OWNED_WATCHING;
			free(d->json);
			d->json = NULL;
			(void)save(d);
			(void)watch(d);
			return;
		}
		mig_log_info("%s: finishing its restart", d->name);
		restart_create(d);
		return;
	}
	if (mig_hv_dominfo(m->w->hv, d->domid, &di, &err) == -1) {
		if (err.code != MIG_E_NOTFOUND) {
			mig_log_warnx("%s", err.msg);
			release(d);	/* the next scan tries again */
			return;
		}
		u[0] = '\0';
	} else
		mig_hv_uuid_format(di.uuid, u);
	if (strcmp(u, d->uuid) != 0) {
		mig_log_info("%s (domain %u) went while relocd was away: no "
		    "longer watched", d->name, d->domid);
		forget(d);
		return;
	}
	mig_log_debug("watching %s (domain %u)", d->name, d->domid);
	(void)watch(d);
}

static int
scan_one(const struct owned *o, void *arg)
{
	struct monitor	*m = arg;
	struct mdom	*d;

	if ((d = find(m, o->uuid)) != NULL) {
		if (d->domid == o->domid || d->state == OWNED_RESTARTING) {
			d->seen = 1;
			return 0;
		}
		/* Put again by a job: the domain came back here. */
		release(d);
	}
	attach(m, o);
	return 0;
}

static void
scan(struct monitor *m)
{
	struct mdom	*d, *next;
	struct mig_err	 err;

	TAILQ_FOREACH(d, &m->doms, entry)
		d->seen = 0;
	if (owned_scan(m->state_dir, scan_one, m, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		return;
	}
	/* An entry an operator removed: the domain is theirs again. */
	for (d = TAILQ_FIRST(&m->doms); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (!d->seen) {
			mig_log_info("%s (domain %u): its entry was removed: no "
			    "longer watched", d->name, d->domid);
			release(d);
		}
	}
}

static void
on_inotify(evutil_socket_t fd, short what, void *arg)
{
	char	buf[4096];

	/* What changed does not matter: the folder is read again whole. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	scan(arg);
}

static int
inotify_start(struct monitor *m, struct mig_err *err)
{
	char	dir[PATH_MAX];

	if (owned_path(m->state_dir, NULL, dir, sizeof(dir)) == -1)
		return mig_seterr(err, MIG_E_INVAL, "state directory %s: path "
		    "too long", m->state_dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return mig_seterrno(err, MIG_E_IO, "%s", dir);
	if ((m->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return mig_seterrno(err, MIG_E_IO, "inotify");
	/* owned_put renames into place; owned_drop unlinks. */
	if (inotify_add_watch(m->ino_fd, dir, IN_MOVED_TO | IN_DELETE |
	    IN_CLOSE_WRITE) == -1)
		return mig_seterrno(err, MIG_E_IO, "inotify %s", dir);
	if ((m->ino_ev = event_new(m->w->base, m->ino_fd, EV_READ | EV_PERSIST,
	    on_inotify, m)) == NULL || event_add(m->ino_ev, NULL) == -1)
		return mig_seterr(err, MIG_E_NOMEM, "event loop");
	return 0;
}

/* One monitor per state directory: a new relocd's waits here for the
 * one a killed relocd left, which ends when it sees its pipe close. */
static int
lock_single(const char *state_dir, struct mig_err *err)
{
	char	path[PATH_MAX];
	int	fd;

	snprintf(path, sizeof(path), "%s/monitor.lock", state_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR) {
			close(fd);
			return mig_seterrno(err, MIG_E_IO, "%s", path);
		}
	return fd;
}

int
monitor_run(struct worker *w)
{
	struct monitor	 m;
	struct mdom	*d;
	struct mig_err	 err;
	int		 lock, n;

	memset(&m, 0, sizeof(m));
	m.w = w;
	m.state_dir = w->conf.state_dir;
	m.ino_fd = -1;
	TAILQ_INIT(&m.doms);
	if ((lock = lock_single(m.state_dir, &err)) == -1) {
		mig_log_warnx("%s", err.msg);
		return 1;
	}
	if (inotify_start(&m, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		goto out;
	}
	w->stop_on_cancel = 1;
	scan(&m);
	n = 0;
	TAILQ_FOREACH(d, &m.doms, entry)
		n++;
	mig_log_info("looking after %d domain(s)", n);
	if (!w->cancelled)
		event_base_dispatch(w->base);
	mig_log_info("stopping: the domains run on, unwatched until relocd is "
	    "back");
 out:
	while ((d = TAILQ_FIRST(&m.doms)) != NULL)
		release(d);
	if (m.ino_ev != NULL)
		event_free(m.ino_ev);
	if (m.ino_fd != -1)
		close(m.ino_fd);
	close(lock);
	return 0;
}
