/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fakes behind test_hv_libxl.  Each __wrap_ records its arguments in
 * the global "fake" and answers what the test scripted; asynchronous
 * ones complete later, from the event loop, as libxl would.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libxl.h>
#include <libxl_event.h>
#include <libxl_utils.h>
#include <xenctrl.h>
#include <xenstore.h>

#include "hv_libxl_wrap.h"

struct fake_libxl fake;

/* Prototypes for the linker-made names, to keep -Wmissing-prototypes. */
int	__real_libxl_ctx_alloc(libxl_ctx **, int, unsigned,
	    xentoollog_logger *);
void	__real_libxl_osevent_occurred_fd(libxl_ctx *, void *, int, short,
	    short);
void	__real_libxl_osevent_occurred_timeout(libxl_ctx *, void *);
int	__wrap_libxl_ctx_alloc(libxl_ctx **, int, unsigned,
	    xentoollog_logger *);
int	__wrap_libxl_domain_suspend(libxl_ctx *, uint32_t, int, int,
	    const libxl_asyncop_how *);
int	__wrap_libxl_domain_resume(libxl_ctx *, uint32_t, int,
	    const libxl_asyncop_how *);
int	__wrap_libxl_retrieve_domain_configuration(libxl_ctx *, uint32_t,
	    libxl_domain_config *, const libxl_asyncop_how *);
int	__wrap_libxl_domain_create_restore(libxl_ctx *, libxl_domain_config *,
	    uint32_t *, int, int, const libxl_domain_restore_params *,
	    const libxl_asyncop_how *, const libxl_asyncprogress_how *);
int	__wrap_libxl_domain_rename(libxl_ctx *, uint32_t, const char *,
	    const char *);
int	__wrap_libxl_domain_pause(libxl_ctx *, uint32_t,
	    const libxl_asyncop_how *);
int	__wrap_libxl_domain_unpause(libxl_ctx *, uint32_t,
	    const libxl_asyncop_how *);
int	__wrap_libxl_domain_destroy(libxl_ctx *, uint32_t,
	    const libxl_asyncop_how *);
int	__wrap_libxl_ao_abort(libxl_ctx *, const libxl_asyncop_how *);
int	__wrap_libxl_domain_info(libxl_ctx *, libxl_dominfo *, uint32_t);
libxl_dominfo *__wrap_libxl_list_domain(libxl_ctx *, int *);
char	*__wrap_libxl_domid_to_name(libxl_ctx *, uint32_t);
int	__wrap_libxl_get_physinfo(libxl_ctx *, libxl_physinfo *);
const libxl_version_info *__wrap_libxl_get_version_info(libxl_ctx *);
int	__wrap_libxl_domain_need_memory(libxl_ctx *, libxl_domain_config *,
	    uint32_t, uint64_t *);
int	__wrap_libxl_domain_sched_params_get(libxl_ctx *, uint32_t,
	    libxl_domain_sched_params *);
int	__wrap_libxl_domain_sched_params_set(libxl_ctx *, uint32_t,
	    const libxl_domain_sched_params *);
void	__wrap_libxl_osevent_occurred_fd(libxl_ctx *, void *, int, short,
	    short);
void	__wrap_libxl_osevent_occurred_timeout(libxl_ctx *, void *);

/*
 * Interposed over libxenctrl and libxenstore (libxenlight calls them
 * through the PLT, and the executable's definitions come first): a
 * dummy handle is all libxl_ctx_alloc needs to succeed.
 */
static char	dummy_xc, dummy_xs;

xc_interface *
xc_interface_open(xentoollog_logger *l, xentoollog_logger *d, unsigned f)
{
	return (xc_interface *)&dummy_xc;
}

int
xc_interface_close(xc_interface *xch)
{
	return 0;
}

struct xs_handle *
xs_open(unsigned long flags)
{
	return (struct xs_handle *)&dummy_xs;
}

void
xs_close(struct xs_handle *h)
{
}

void
fake_reset(struct event_base *base)
{
	memset(&fake, 0, sizeof(fake));
	fake.base = base;
	fake.sched = LIBXL_SCHEDULER_CREDIT;
	fake.cap_pv = 1;
	fake.cap_shadow = 1;
	fake.restore_domid = 12;
	fake.restore_send_back_fd = 99;
}

void
fake_add_dom(uint32_t domid, const char *name, const char *uuid, int type)
{
	struct fake_dom	*d = &fake.doms[fake.ndoms++];

	memset(d, 0, sizeof(*d));
	d->domid = domid;
	d->name = name;
	d->uuid = uuid;
	d->type = type;
}

static struct fake_dom *
find_dom(uint32_t domid)
{
	int	i;

	for (i = 0; i < fake.ndoms; i++)
		if (fake.doms[i].domid == domid)
			return &fake.doms[i];
	return NULL;
}

int
__wrap_libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags,
    xentoollog_logger *lg)
{
	fake.lg = lg;
	if (fake.ctx_alloc_rc != 0) {
		/* What libxl says on a machine without Xen. */
		xtl_log(lg, XTL_ERROR, 2, "libxl",
		    "cannot open libxc handle");
		*pctx = NULL;
		return fake.ctx_alloc_rc;
	}
	return __real_libxl_ctx_alloc(pctx, version, flags, lg);
}

/* --- asynchronous completion, from the loop --- */

static void
complete_cb(evutil_socket_t fd, short what, void *arg)
{
	int			 rc = (int)(intptr_t)arg;
	libxl_asyncop_how	 how = fake.how;

	if (!fake.inflight)
		return;
	fake.inflight = 0;
	how.callback(NULL, rc, how.u.for_callback);
}

static void
complete_later(int rc)
{
	struct timeval	zero = { 0, 0 };

	event_base_once(fake.base, -1, EV_TIMEOUT, complete_cb,
	    (void *)(intptr_t)rc, &zero);
}

/* The save helper's reports, then the end, as the loop runs. */
static void
save_run(evutil_socket_t fd, short what, void *arg)
{
	int	i;

	for (i = 0; i < fake.nsteps; i++) {
		if (fake.steps[i].is_log)
			xtl_log(fake.lg, XTL_ERROR, -1, "xc", "%s",
			    fake.steps[i].what);
		else
			xtl_progress(fake.lg, "xc", fake.steps[i].what,
			    fake.steps[i].done, fake.steps[i].total);
	}
	if (!fake.save_hold)
		complete_later(fake.save_rc);
}

int
__wrap_libxl_domain_suspend(libxl_ctx *ctx, uint32_t domid, int fd,
    int flags, const libxl_asyncop_how *how)
{
	struct timeval	zero = { 0, 0 };

	fake.suspend_calls++;
	fake.suspend_domid = domid;
	fake.suspend_fd = fd;
	fake.suspend_flags = flags;
	if (fake.suspend_start_rc != 0)
		return fake.suspend_start_rc;
	fake.how = *how;
	fake.inflight = 1;
	event_base_once(fake.base, -1, EV_TIMEOUT, save_run, NULL, &zero);
	return 0;
}

int
__wrap_libxl_domain_create_restore(libxl_ctx *ctx, libxl_domain_config *dc,
    uint32_t *domid, int restore_fd, int send_back_fd,
    const libxl_domain_restore_params *params, const libxl_asyncop_how *how,
    const libxl_asyncprogress_how *aop)
{
	fake.restore_calls++;
	snprintf(fake.restore_name, sizeof(fake.restore_name), "%s",
	    dc->c_info.name != NULL ? dc->c_info.name : "");
	fake.restore_stream_version = params->stream_version;
	fake.restore_checkpointed = params->checkpointed_stream;
	fake.restore_send_back_fd = send_back_fd;
	fake.restore_fd = restore_fd;
	fake.restore_maxmem = dc->b_info.max_memkb;
	/* libxl writes *domid as soon as the domain exists. */
	*domid = fake.restore_rc == 0 || fake.restore_leaves ?
	    fake.restore_domid : INVALID_DOMID;
	fake.how = *how;
	fake.inflight = 1;
	complete_later(fake.restore_rc);
	return 0;
}

int
__wrap_libxl_ao_abort(libxl_ctx *ctx, const libxl_asyncop_how *how)
{
	fake.abort_calls++;
	if (!fake.inflight || how->callback != fake.how.callback ||
	    how->u.for_callback != fake.how.u.for_callback)
		return ERROR_NOTFOUND;
	complete_later(ERROR_ABORTED);
	return 0;
}

/* --- synchronous control --- */

int
__wrap_libxl_domain_resume(libxl_ctx *ctx, uint32_t domid, int cancel,
    const libxl_asyncop_how *how)
{
	fake.resume_calls++;
	fake.resume_domid = domid;
	fake.resume_cancel = cancel;
	return fake.resume_rc;
}

int
__wrap_libxl_domain_rename(libxl_ctx *ctx, uint32_t domid, const char *old,
    const char *new)
{
	fake.rename_calls++;
	snprintf(fake.rename_old, sizeof(fake.rename_old), "%s",
	    old != NULL ? old : "(any)");
	snprintf(fake.rename_new, sizeof(fake.rename_new), "%s", new);
	return fake.control_rc;
}

int
__wrap_libxl_domain_pause(libxl_ctx *ctx, uint32_t domid,
    const libxl_asyncop_how *how)
{
	fake.pause_calls++;
	return fake.control_rc;
}

int
__wrap_libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid,
    const libxl_asyncop_how *how)
{
	fake.unpause_calls++;
	fake.unpause_domid = domid;
	return fake.control_rc;
}

int
__wrap_libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid,
    const libxl_asyncop_how *how)
{
	fake.destroy_calls++;
	fake.destroy_domid = domid;
	return find_dom(domid) == NULL ? ERROR_DOMAIN_NOTFOUND :
	    fake.control_rc;
}

/* --- domains --- */

static void
fill_info(libxl_dominfo *li, const struct fake_dom *d)
{
	libxl_dominfo_init(li);
	li->domid = d->domid;
	if (d->uuid != NULL)
		libxl_uuid_from_string(&li->uuid, d->uuid);
	li->paused = d->paused;
	li->shutdown = d->shutdown;
	li->dying = d->dying;
	li->shutdown_reason = d->reason;
	li->running = !d->paused && !d->shutdown && !d->dying;
	li->current_memkb = 524288;
	li->max_memkb = 1048576;
	li->vcpu_online = 2;
	li->domain_type = d->type;
}

int
__wrap_libxl_domain_info(libxl_ctx *ctx, libxl_dominfo *li, uint32_t domid)
{
	struct fake_dom	*d;

	if ((d = find_dom(domid)) == NULL)
		return ERROR_DOMAIN_NOTFOUND;
	if (li != NULL)
		fill_info(li, d);
	return 0;
}

libxl_dominfo *
__wrap_libxl_list_domain(libxl_ctx *ctx, int *nb)
{
	libxl_dominfo	*li;
	int		 i;

	if ((li = calloc(fake.ndoms + 1, sizeof(*li))) == NULL)
		return NULL;
	for (i = 0; i < fake.ndoms; i++)
		fill_info(&li[i], &fake.doms[i]);
	*nb = fake.ndoms;
	return li;
}

char *
__wrap_libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid)
{
	struct fake_dom	*d = find_dom(domid);

	return d != NULL && d->name != NULL ? strdup(d->name) : NULL;
}

int
__wrap_libxl_retrieve_domain_configuration(libxl_ctx *ctx, uint32_t domid,
    libxl_domain_config *dc, const libxl_asyncop_how *how)
{
	if (find_dom(domid) == NULL)
		return ERROR_DOMAIN_NOTFOUND;
	/* The real parser, on the real (Xen-less) ctx. */
	return libxl_domain_config_from_json(ctx, dc, fake.config_json);
}

/* --- host --- */

int
__wrap_libxl_get_physinfo(libxl_ctx *ctx, libxl_physinfo *pi)
{
	if (fake.physinfo_rc != 0)
		return fake.physinfo_rc;
	pi->nr_cpus = 8;
	pi->total_pages = 262144;	/* 1 GiB */
	pi->free_pages = 1000;
	pi->scrub_pages = 24;
	pi->cap_pv = fake.cap_pv;
	pi->cap_hvm = 1;
	pi->cap_shadow = fake.cap_shadow;
	return 0;
}

const libxl_version_info *
__wrap_libxl_get_version_info(libxl_ctx *ctx)
{
	static char		extra[] = ".3-pre", caps[] =
	    "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64";
	static libxl_version_info vi;

	if (fake.version_null)
		return NULL;
	vi.xen_version_major = 4;
	vi.xen_version_minor = 17;
	vi.xen_version_extra = extra;
	vi.capabilities = caps;
	vi.pagesize = 4096;
	return &vi;
}

int
__wrap_libxl_domain_need_memory(libxl_ctx *ctx, libxl_domain_config *dc,
    uint32_t domid, uint64_t *need)
{
	snprintf(fake.need_name, sizeof(fake.need_name), "%s",
	    dc->c_info.name != NULL ? dc->c_info.name : "");
	*need = dc->b_info.max_memkb + 1024;
	fake.need_kib = *need;
	return 0;
}

int
__wrap_libxl_domain_sched_params_get(libxl_ctx *ctx, uint32_t domid,
    libxl_domain_sched_params *p)
{
	if (find_dom(domid) == NULL)
		return ERROR_DOMAIN_NOTFOUND;
	p->sched = fake.sched;
	p->cap = fake.cap;
	return 0;
}

int
__wrap_libxl_domain_sched_params_set(libxl_ctx *ctx, uint32_t domid,
    const libxl_domain_sched_params *p)
{
	fake.cap_set_calls++;
	/* libxl refuses parameters of another scheduler than the domain's */
	if ((int)p->sched != fake.sched)
		return ERROR_INVAL;
	fake.cap = p->cap;
	return 0;
}

/* --- osevents: ours are recorded, libxl's own go to libxl --- */

void
__wrap_libxl_osevent_occurred_fd(libxl_ctx *ctx, void *for_libxl, int fd,
    short events, short revents)
{
	if (fake.token == NULL || for_libxl != fake.token) {
		__real_libxl_osevent_occurred_fd(ctx, for_libxl, fd, events,
		    revents);
		return;
	}
	fake.fd_calls++;
	fake.last_fd = fd;
	fake.last_revents = revents;
	if (fake.on_fd != NULL)
		fake.on_fd();
}

void
__wrap_libxl_osevent_occurred_timeout(libxl_ctx *ctx, void *for_libxl)
{
	if (fake.token == NULL || for_libxl != fake.token) {
		__real_libxl_osevent_occurred_timeout(ctx, for_libxl);
		return;
	}
	fake.timeout_calls++;
}
