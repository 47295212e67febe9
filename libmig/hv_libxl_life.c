/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libxl backend's half of a domain's life: libxl's domain death
 * events (libxl_evenable_domain_death, as xl's create_domain uses) and
 * the calls with which xl's handle_domain_death acts on a shutdown.
 *
 * Events are taken by callback (libxl_event_register_callbacks) rather
 * than polled with libxl_event_check: libxl then never queues an event
 * nobody collects, and the callback only hands each event on to hv
 * (mig_hv_watch_note), which delivers it from our own loop.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl_utils.h>

#include "mig/error.h"
#include "mig/hv.h"
#include "hv_libxl.h"
#include "mig/log.h"

static struct hvx_watch *
watch_byid(struct hvx *x, uint64_t id)
{
	struct hvx_watch	*hw;

	for (hw = x->watches; hw != NULL; hw = hw->next)
		if (hw->id == id)
			return hw;
	return NULL;
}

static void
event_occurs(void *user, libxl_event *ev)
{
	struct hvx		*x = user;
	struct hvx_watch	*hw;
	struct mig_hv_domevent	 de;
	int			 r;

	memset(&de, 0, sizeof(de));
	de.domid = ev->domid;
	if ((hw = watch_byid(x, (uint64_t)ev->for_user)) == NULL)
		goto out;	/* its watch was stopped meanwhile */
	switch (ev->type) {
	case LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN:
		r = ev->u.domain_shutdown.shutdown_reason;
		de.kind = MIG_HV_EV_SHUTDOWN;
		de.reason = r >= 0 && r < (int)MIG_HV_SHUTDOWN_UNKNOWN ? r :
		    MIG_HV_SHUTDOWN_UNKNOWN;
		break;
	case LIBXL_EVENT_TYPE_DOMAIN_DEATH:
		de.kind = MIG_HV_EV_DEATH;
		break;
	default:
		goto out;
	}
	mig_hv_watch_note(hw->w, &de);
 out:
	libxl_event_free(x->ctx, ev);
}

/* libxl cannot report events any more: a watched domain may shut down
 * unseen.  Only logging is allowed here (no libxl call). */
static void
disaster(void *user, libxl_event_type type, const char *msg, int errnoval)
{
	mig_log_warnx("libxl cannot deliver domain events any more (%s, errno "
	    "%d): domains may shut down unnoticed; restart relocd", msg,
	    errnoval);
}

static const libxl_event_hooks hvx_event_hooks = {
	.event_occurs_mask = (1ULL << LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) |
	    (1ULL << LIBXL_EVENT_TYPE_DOMAIN_DEATH),
	.event_occurs = event_occurs,
	.disaster = disaster,
};

void
hvx_life_open(struct hvx *x)
{
	libxl_event_register_callbacks(x->ctx, &hvx_event_hooks, x);
}

int
hvx_watch_start(struct mig_hv *hv, struct mig_hv_watch *w, uint32_t domid,
    struct mig_err *err)
{
	struct hvx		*x = hvx_begin(hv);
	struct hvx_watch	*hw;
	int			 rc;

	if ((hw = calloc(1, sizeof(*hw))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "domain watch");
	hw->id = ++x->next_watch;
	hw->w = w;
	/* Linked first: libxl may report a domain that is shut down
	 * already from inside the enable call. */
	hw->next = x->watches;
	x->watches = hw;
	if ((rc = libxl_evenable_domain_death(x->ctx, domid,
	    (libxl_ev_user)hw->id, &hw->evgen)) != 0) {
		x->watches = hw->next;
		free(hw);
		return hvx_seterr(x, err, rc, "cannot watch domain %u", domid);
	}
	mig_hv_watch_set_priv(w, hw);
	return 0;
}

void
hvx_watch_stop(struct mig_hv *hv, struct mig_hv_watch *w)
{
	struct hvx		*x = hvx_begin(hv);
	struct hvx_watch	*hw = mig_hv_watch_priv(w), **pp;

	if (hw == NULL)
		return;
	for (pp = &x->watches; *pp != NULL; pp = &(*pp)->next)
		if (*pp == hw) {
			*pp = hw->next;
			break;
		}
	libxl_evdisable_domain_death(x->ctx, hw->evgen);
	free(hw);
	mig_hv_watch_set_priv(w, NULL);
}

int
hvx_config_actions(struct mig_hv *hv, const char *json,
    struct mig_hv_actions *a, struct mig_err *err)
{
	struct hvx		*x = hvx_begin(hv);
	libxl_domain_config	 dc;

	if (hvx_config_parse(x, json, &dc, err) == -1)
		return -1;
	/* Same numbers, 0 for unset: hv fills in xl's defaults. */
	a->on[MIG_HV_SHUTDOWN_POWEROFF] = dc.on_poweroff;
	a->on[MIG_HV_SHUTDOWN_REBOOT] = dc.on_reboot;
	a->on[MIG_HV_SHUTDOWN_CRASH] = dc.on_crash;
	a->on[MIG_HV_SHUTDOWN_WATCHDOG] = dc.on_watchdog;
	a->on[MIG_HV_SHUTDOWN_SOFT_RESET] = dc.on_soft_reset;
	libxl_domain_config_dispose(&dc);
	return 0;
}

int
hvx_create(struct mig_hv *hv, const char *json, uint32_t *domid,
    struct mig_err *err)
{
	struct hvx		*x = hvx_begin(hv);
	libxl_domain_config	 dc;
	uint32_t		 id = INVALID_DOMID;
	int			 rc;

	if (hvx_config_parse(x, json, &dc, err) == -1)
		return -1;
	/* Synchronous (ao_how NULL), as the other short calls; libxl
	 * leaves the new domain paused, as for xl create -p. */
	rc = libxl_domain_create_new(x->ctx, &dc, &id, NULL, NULL);
	if (rc != 0) {
		hvx_seterr(x, err, rc, "cannot create domain %s",
		    dc.c_info.name != NULL ? dc.c_info.name : "(unnamed)");
		libxl_domain_config_dispose(&dc);
		/* ERROR_ABORTED may leave a half-built domain: ours. */
		if (libxl_domid_valid_guest(id))
			(void)libxl_domain_destroy(x->ctx, id, NULL);
		return -1;
	}
	libxl_domain_config_dispose(&dc);
	*domid = id;
	return 0;
}

int
hvx_preserve(struct mig_hv *hv, uint32_t domid, const char *suffix,
    struct mig_err *err)
{
	struct hvx			*x = hvx_begin(hv);
	libxl_domain_create_info	 ci;
	libxl_uuid			 fresh;
	int				 rc;

	libxl_domain_create_info_init(&ci);
	if ((ci.name = libxl_domid_to_name(x->ctx, domid)) == NULL) {
		libxl_domain_create_info_dispose(&ci);
		return mig_seterr(err, MIG_E_NOTFOUND, "no domain %u", domid);
	}
	/* A new uuid, as xl: the preserved copy is no longer the domain
	 * that restarts under the old one. */
	libxl_uuid_generate(&fresh);
	rc = libxl_domain_preserve(x->ctx, domid, &ci, suffix, fresh);
	libxl_domain_create_info_dispose(&ci);
	if (rc != 0)
		return hvx_seterr(x, err, rc, "cannot preserve domain %u",
		    domid);
	return 0;
}

int
hvx_core_dump(struct mig_hv *hv, uint32_t domid, const char *path,
    struct mig_err *err)
{
	struct hvx	*x = hvx_begin(hv);
	int		 rc;

	if ((rc = libxl_domain_core_dump(x->ctx, domid, path, NULL)) != 0)
		return hvx_seterr(x, err, rc, "cannot dump the core of domain "
		    "%u to %s", domid, path);
	return 0;
}

int
hvx_soft_reset(struct mig_hv *hv, uint32_t domid, const char *json,
    struct mig_err *err)
{
	struct hvx		*x = hvx_begin(hv);
	libxl_domain_config	 dc;
	int			 rc;

	if (hvx_config_parse(x, json, &dc, err) == -1)
		return -1;
	rc = libxl_domain_soft_reset(x->ctx, &dc, domid, NULL, NULL);
	libxl_domain_config_dispose(&dc);
	if (rc != 0)
		return hvx_seterr(x, err, rc, "cannot soft-reset domain %u",
		    domid);
	return 0;
}
