/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A simulated domain's life: the guest shuts itself down (simctl
 * shutdown), a watch sees it, and a monitor acts as the libxl backend
 * would let it -- create again, preserve, dump core, soft reset.
 *
 * Other processes change the host (simctl, relocd's workers), so a
 * watch cannot be told; it looks.  Each handle with watches reads the
 * host every WATCH_POLL_MS and reports, as libxl's domain death events
 * do, a shutdown once per watch (at once for a domain already shut
 * down) and the domain's end.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "sim.h"

#define WATCH_POLL_MS	50

struct sim_watch {
	struct mig_hv_watch	*w;
	uint32_t		 domid;
	int			 shutdown_seen;
	int			 gone;
	struct sim_watch	*next;
};

/* Domain domid, under the host's lock for a change (sim_commit or
 * sim_end), or NULL with err set and no lock held. */
static struct hv_sim_dom *
change(struct sim_txn *t, const char *dir, uint32_t domid,
    struct mig_err *err)
{
	struct hv_sim_dom	*d;

	if (sim_begin(t, dir, 1, err) == -1)
		return NULL;
	if ((d = sim_dom(t->h, domid)) == NULL) {
		sim_end(t);
		mig_seterr(err, MIG_E_NOTFOUND, "no domain %" PRIu32, domid);
	}
	return d;
}

const char *
sim_dir(struct mig_hv *hv)
{
	return ((struct hv_sim *)mig_hv_priv(hv))->dir;
}

/* Reports what changed for sw, from the host as h has it (NULL: the
 * host could not be read, look again next time). */
static void
look(struct sim_host *h, struct sim_watch *sw)
{
	struct hv_sim_dom	*d;
	struct mig_hv_domevent	 ev;

	if (sw->gone || h == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.domid = sw->domid;
	if ((d = sim_dom(h, sw->domid)) == NULL) {
		sw->gone = 1;
		ev.kind = MIG_HV_EV_DEATH;
		mig_hv_watch_note(sw->w, &ev);
		return;
	}
	if (sw->shutdown_seen || (d->state != MIG_HV_DOM_SHUTDOWN &&
	    d->state != MIG_HV_DOM_SUSPENDED))
		return;
	sw->shutdown_seen = 1;
	ev.kind = MIG_HV_EV_SHUTDOWN;
	ev.reason = d->reason;
	mig_hv_watch_note(sw->w, &ev);
}

/* One read of the host for every watch of the handle. */
static void
poll_all(evutil_socket_t fd, short what, void *arg)
{
	struct hv_sim		*s = arg;
	struct sim_watch	*sw;
	struct sim_txn		 t;
	struct mig_err		 err;
	int			 ok;

	ok = sim_begin(&t, s->dir, 0, &err) == 0;
	for (sw = s->watches; sw != NULL; sw = sw->next)
		look(ok ? t.h : NULL, sw);
	if (ok)
		sim_end(&t);
}

void
sim_life_close(struct hv_sim *s)
{
	struct sim_watch	*sw;

	if (s == NULL)
		return;
	while ((sw = s->watches) != NULL) {
		s->watches = sw->next;
		free(sw);
	}
	if (s->poll_ev != NULL)
		event_free(s->poll_ev);
	s->poll_ev = NULL;
}

int
sim_watch_start(struct mig_hv *hv, struct mig_hv_watch *w, uint32_t domid,
    struct mig_err *err)
{
	struct hv_sim		*s = mig_hv_priv(hv);
	struct sim_watch	*sw;
	struct timeval		 tv = { 0, WATCH_POLL_MS * 1000 };

	if (s->poll_ev == NULL) {
		if ((s->poll_ev = event_new(mig_hv_base(hv), -1, EV_PERSIST,
		    poll_all, s)) == NULL || event_add(s->poll_ev, &tv) == -1)
			return mig_seterr(err, MIG_E_NOMEM, "simulated host: "
			    "cannot watch domains");
	}
	if ((sw = calloc(1, sizeof(*sw))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "domain watch");
	sw->w = w;
	sw->domid = domid;
	sw->next = s->watches;
	s->watches = sw;
	mig_hv_watch_set_priv(w, sw);
	/* As libxl: a domain shut down already is reported at once (it is
	 * delivered from the loop, as every event). */
	poll_all(-1, 0, s);
	return 0;
}

void
sim_watch_stop(struct mig_hv *hv, struct mig_hv_watch *w)
{
	struct hv_sim		*s = mig_hv_priv(hv);
	struct sim_watch	*sw = mig_hv_watch_priv(w), **pp;

	for (pp = &s->watches; *pp != NULL; pp = &(*pp)->next)
		if (*pp == sw) {
			*pp = sw->next;
			free(sw);
			break;
		}
	mig_hv_watch_set_priv(w, NULL);
	if (s->watches == NULL && s->poll_ev != NULL) {
		event_free(s->poll_ev);
		s->poll_ev = NULL;
	}
}

int
sim_config_actions(struct mig_hv *hv, const char *json,
    struct mig_hv_actions *a, struct mig_err *err)
{
	struct sim_cfg	c;

	if (sim_json_parse(json, &c, err) == -1)
		return -1;
	memcpy(a->on, c.on, sizeof(a->on));
	return 0;
}

/* A new boot: fresh memory, paused, as libxl_domain_create_new. */
int
sim_create(struct mig_hv *hv, const char *json, uint32_t *domid,
    struct mig_err *err)
{
	struct sim_cfg		 c;
	struct sim_txn		 t;
	struct hv_sim_dom	*d;

	if (sim_json_parse(json, &c, err) == -1)
		return -1;
	if (c.name[0] == '\0')
		return mig_seterr(err, MIG_E_INVAL, "create: the "
		    "configuration names no domain");
	if (sim_begin(&t, sim_dir(hv), 1, err) == -1)
		return -1;
	if ((d = sim_dom_add(t.h, c.name, c.max_memkb, err)) == NULL) {
		sim_end(&t);
		return -1;
	}
	d->state = MIG_HV_DOM_PAUSED;
	d->type = c.type;
	d->vcpus = c.vcpus;
	d->cap = c.cap;
	memcpy(d->on, c.on, sizeof(d->on));
	if (c.has_uuid)
		memcpy(d->uuid, c.uuid, 16);
	else
		sim_uuid_random(d->uuid);
	*domid = d->domid;
	if (sim_mem_create(sim_dir(hv), d, 1, err) == -1) {
		sim_end(&t);
		return -1;
	}
	if (sim_commit(&t, err) == -1) {
		sim_mem_unlink(sim_dir(hv), *domid);
		return -1;
	}
	return 0;
}

int
sim_preserve(struct mig_hv *hv, uint32_t domid, const char *suffix,
    struct mig_err *err)
{
	struct sim_txn		 t;
	struct hv_sim_dom	*d;
	char			 name[MIG_HV_NAMELEN];

	if ((d = change(&t, sim_dir(hv), domid, err)) == NULL)
		return -1;
	if ((size_t)snprintf(name, sizeof(name), "%s%s", d->name, suffix) >=
	    sizeof(name) || sim_dom_byname(t.h, name) != NULL) {
		sim_end(&t);
		return mig_seterr(err, MIG_E_INVAL, "cannot preserve domain %"
		    PRIu32 " as %s%s", domid, d->name, suffix);
	}
	memcpy(d->name, name, sizeof(name));
	sim_uuid_random(d->uuid);
	return sim_commit(&t, err);
}

/* The core is the memory file, copied whole. */
int
sim_core_dump(struct mig_hv *hv, uint32_t domid, const char *path,
    struct mig_err *err)
{
	char	 src[PATH_MAX], buf[65536];
	ssize_t	 n;
	int	 in, out, rc = 0;

	if ((in = open(sim_mem_path(sim_dir(hv), domid, src, sizeof(src)),
	    O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? mig_seterr(err, MIG_E_NOTFOUND,
		    "no domain %" PRIu32, domid) : mig_seterrno(err, MIG_E_IO,
		    "%s", src);
	if ((out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		close(in);
		return mig_seterrno(err, MIG_E_IO, "cannot dump the core of "
		    "domain %" PRIu32 " to %s", domid, path);
	}
	while (rc == 0 && (n = read(in, buf, sizeof(buf))) != 0)
		if (n < 0 || write(out, buf, (size_t)n) != n)
			rc = mig_seterrno(err, MIG_E_IO, "core dump %s", path);
	close(in);
	if (close(out) == -1 && rc == 0)
		rc = mig_seterrno(err, MIG_E_IO, "core dump %s", path);
	return rc;
}

/* In place: same domid, memory kept (the guest kexecs), paused. */
int
sim_soft_reset(struct mig_hv *hv, uint32_t domid, const char *json,
    struct mig_err *err)
{
	struct sim_cfg		 c;
	struct sim_txn		 t;
	struct hv_sim_dom	*d;

	if (sim_json_parse(json, &c, err) == -1)
		return -1;
	if ((d = change(&t, sim_dir(hv), domid, err)) == NULL)
		return -1;
	if (d->state != MIG_HV_DOM_SHUTDOWN) {
		sim_end(&t);
		return mig_seterr(err, MIG_E_HV, "domain %" PRIu32 " is not "
		    "shut down", domid);
	}
	d->state = MIG_HV_DOM_PAUSED;
	d->reason = MIG_HV_SHUTDOWN_UNKNOWN;
	memcpy(d->on, c.on, sizeof(d->on));
	return sim_commit(&t, err);
}

/* --- the guest's side (simctl) --- */

int
hv_sim_shutdown(const char *dir, uint32_t domid, int reason,
    struct mig_err *err)
{
	struct sim_txn		 t;
	struct hv_sim_dom	*d;

	if (reason < 0 || reason >= MIG_HV_SHUTDOWN_UNKNOWN)
		return mig_seterr(err, MIG_E_INVAL, "bad shutdown reason");
	if ((d = change(&t, dir, domid, err)) == NULL)
		return -1;
	/* Only a running guest can ask. */
	if (d->state != MIG_HV_DOM_RUNNING) {
		sim_end(&t);
		return mig_seterr(err, MIG_E_HV, "domain %" PRIu32 " is %s: "
		    "its guest cannot shut down", domid,
		    mig_hv_domstate_name(d->state));
	}
	d->state = reason == MIG_HV_SHUTDOWN_SUSPEND ? MIG_HV_DOM_SUSPENDED :
	    MIG_HV_DOM_SHUTDOWN;
	d->reason = reason;
	return sim_commit(&t, err);
}

int
hv_sim_set_action(const char *dir, uint32_t domid, int reason, int action,
    struct mig_err *err)
{
	struct sim_txn		 t;
	struct hv_sim_dom	*d;

	if (reason < 0 || reason >= MIG_HV_SHUTDOWN__MAX ||
	    action <= MIG_HV_ACT_UNSET || action >= MIG_HV_ACT__MAX)
		return mig_seterr(err, MIG_E_INVAL, "bad shutdown reason or "
		    "action");
	if ((d = change(&t, dir, domid, err)) == NULL)
		return -1;
	d->on[reason] = action;
	return sim_commit(&t, err);
}
