/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real hypervisor backend: libxl (Xen 4.17).
 *
 * One libxl_ctx per handle, driven by the caller's libevent loop through
 * the osevent hooks (hv_libxl_ev.c).  Save and restore are libxl
 * asynchronous operations so they can report progress and be aborted;
 * the short operations are libxl's synchronous form (ao_how NULL),
 * which libxl runs in its own inner loop and which is therefore safe
 * from inside any of our callbacks.  That last point is what decides
 * the SIGCHLD mode (libxl_sigchld_owner_libxl_always_selective_reap,
 * see doc/architecture.md): libxl must be able to reap its children
 * (save helper, hotplug scripts of a destroy) without our loop running.
 */
#include <sys/utsname.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libxl_utils.h>

#include "mig/error.h"
#include "mig/hv.h"
#include "hv_libxl.h"
#include "mig/log.h"

#define NOXEN_MSG "cannot open the Xen control interface (/dev/xen/privcmd)" \
	" \xe2\x80\x94 is this dom0 with xenstored running?"
#define NOLOGDIRTY_MSG "this hypervisor cannot track dirty pages for PV " \
	"guests; use a stop-and-copy migration or a hypervisor with shadow " \
	"paging"

enum { XOP_SAVE, XOP_RESTORE };

/* What libxl needs to stay valid for the life of an async operation. */
struct hvx_op {
	struct hvx			*x;
	struct mig_hv_op		*op;
	int				 kind;
	libxl_asyncop_how		 how;
	uint32_t			 domid;
	libxl_domain_config		 dc;		/* restore */
	libxl_domain_restore_params	 params;	/* restore */
};

static const libxl_childproc_hooks hvx_child_hooks = {
	.chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};

/* --- errors --- */

/* "ERROR_GUEST_TIMEDOUT" for -8: the name a Xen person will search. */
const char *
hvx_errname(int rc, char *buf, size_t len)
{
	const char	*s = libxl_error_to_string(rc);
	size_t		 i, n;

	if (s == NULL) {
		snprintf(buf, len, "ERROR_%d", rc);
		return buf;
	}
	n = (size_t)snprintf(buf, len, "ERROR_%s", s);
	for (i = 0; i < n && i < len; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	return buf;
}

static int
map_code(int rc)
{
	switch (rc) {
	case ERROR_ABORTED:		return MIG_E_CANCELLED;
	case ERROR_GUEST_TIMEDOUT:	return MIG_E_TIMEOUT;
	case ERROR_DOMAIN_NOTFOUND:
	case ERROR_NOTFOUND:		return MIG_E_NOTFOUND;
	case ERROR_NOMEM:		return MIG_E_NOMEM;
	case ERROR_INVAL:		return MIG_E_INVAL;
	case ERROR_NI:
	case ERROR_FEATURE_REMOVED:	return MIG_E_NOTSUP;
	default:			return MIG_E_HV;
	}
}

/* "<what>: libxl ERROR_X (rc)[: last libxl error line]" */
int
hvx_seterr(struct hvx *x, struct mig_err *err, int rc, const char *fmt, ...)
{
	char	what[160], name[48];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	hvx_errname(rc, name, sizeof(name));
	if (x != NULL && x->lasterr[0] != '\0')
		return mig_seterr(err, map_code(rc), "%s: libxl %s (%d): %s",
		    what, name, rc, x->lasterr);
	return mig_seterr(err, map_code(rc), "%s: libxl %s (%d)", what, name,
	    rc);
}

static struct hvx *
X(struct mig_hv *hv)
{
	return mig_hv_priv(hv);
}

/* Every operation starts here: an error message quotes libxl's last
 * error line, which must be this operation's and not an older one. */
struct hvx *
hvx_begin(struct mig_hv *hv)
{
	struct hvx	*x = X(hv);

	x->lasterr[0] = '\0';
	return x;
}

/* --- open / close --- */

/* libxl writes streams to pipes and sockets whose reader may vanish:
 * that must be EPIPE, not a dead process.  Only the default action is
 * replaced, so a program's own SIGPIPE handler stays. */
static void
ignore_sigpipe(void)
{
	struct sigaction	sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0;
		(void)sigaction(SIGPIPE, &sa, NULL);
	}
}

static int
hvx_open(struct mig_hv *hv, void *arg, struct mig_err *err)
{
	const struct mig_hv_libxl_conf	*conf = arg;
	struct sigaction		 sa;
	struct hvx			*x;
	int				 rc;

	/* libxl is about to own SIGCHLD for good: refuse to steal it from
	 * a program (relocd's parent) that reaps its own children. */
	if (sigaction(SIGCHLD, NULL, &sa) == 0 &&
	    sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
		return mig_seterr(err, MIG_E_INVAL, "the libxl backend must "
		    "own SIGCHLD, but this process already handles it: open "
		    "it in a worker process");
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "libxl backend");
	x->hv = hv;
	x->base = mig_hv_base(hv);
	hvx_logger_init(x, conf != NULL ? conf->log_min : MIG_HV_LOG_DEFAULT);
	rc = libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, &x->lg.vt);
	if (rc != 0 || x->ctx == NULL) {
		/* Without Xen this is the usual outcome: say what to check. */
		free(x);
		return mig_seterr(err, MIG_E_HV, NOXEN_MSG);
	}
	libxl_osevent_register_hooks(x->ctx, &hvx_osevent_hooks, x);
	libxl_childproc_setmode(x->ctx, &hvx_child_hooks, x);
	hvx_life_open(x);
	ignore_sigpipe();
	mig_hv_set_priv(hv, x);
	return 0;
}

static void
hvx_close(struct mig_hv *hv)
{
	struct hvx		*x = X(hv);
	struct hvx_watch	*hw;

	if (x == NULL)
		return;
	libxl_ctx_free(x->ctx);
	/* Watches are to be stopped before close; the ctx took any left
	 * with it, only our records of them remain. */
	while ((hw = x->watches) != NULL) {
		x->watches = hw->next;
		free(hw);
	}
	free(x);
	mig_hv_set_priv(hv, NULL);
}

/* --- host --- */

/* "xen-3.0-x86_64 hvm-3.0-x86_32 ..." -> "x86_64" */
static void
arch_from_caps(const char *caps, char *arch, size_t len)
{
	struct utsname	 u;
	const char	*s;
	size_t		 n;

	if (caps != NULL && strncmp(caps, "xen-", 4) == 0 &&
	    (s = strchr(caps + 4, '-')) != NULL) {
		s++;
		n = strcspn(s, " ");
		if (n > 0 && n < len) {
			memcpy(arch, s, n);
			arch[n] = '\0';
			return;
		}
	}
	if (uname(&u) == 0) {
		n = strnlen(u.machine, len - 1);
		memcpy(arch, u.machine, n);
		arch[n] = '\0';
	}
}

static int
hvx_hostinfo(struct mig_hv *hv, struct mig_hv_hostinfo *hi,
    struct mig_err *err)
{
	struct hvx			*x = hvx_begin(hv);
	const libxl_version_info	*vi;
	libxl_physinfo			 pi;
	uint64_t			 pagekib;
	int				 rc;

	if ((vi = libxl_get_version_info(x->ctx)) == NULL)
		return mig_seterr(err, MIG_E_HV, "cannot read the Xen version%s%s",
		    x->lasterr[0] ? ": " : "", x->lasterr);
	hi->xen_major = vi->xen_version_major;
	hi->xen_minor = vi->xen_version_minor;
	snprintf(hi->xen_extra, sizeof(hi->xen_extra), "%s",
	    vi->xen_version_extra != NULL ? vi->xen_version_extra : "");
	arch_from_caps(vi->capabilities, hi->arch, sizeof(hi->arch));
	hi->page_size = vi->pagesize > 0 ? (uint32_t)vi->pagesize : 4096;

	libxl_physinfo_init(&pi);
	if ((rc = libxl_get_physinfo(x->ctx, &pi)) != 0) {
		libxl_physinfo_dispose(&pi);
		return hvx_seterr(x, err, rc, "cannot read host information");
	}
	pagekib = hi->page_size / 1024;
	hi->total_kib = pi.total_pages * pagekib;
	hi->free_kib = (pi.free_pages + pi.scrub_pages) * pagekib;
	hi->nr_cpus = pi.nr_cpus;
	/* PV log-dirty is done by shadow paging; without it Xen answers
	 * EOPNOTSUPP when the save starts. */
	hi->pv_logdirty = pi.cap_pv ? pi.cap_shadow : 0;
	if (gethostname(hi->hostname, sizeof(hi->hostname) - 1) == -1)
		snprintf(hi->hostname, sizeof(hi->hostname), "unknown");
	libxl_physinfo_dispose(&pi);
	return 0;
}

/* --- domains --- */

static void
dominfo_from_libxl(struct hvx *x, const libxl_dominfo *li,
    struct mig_hv_dominfo *di)
{
	char	*name;

	memset(di, 0, sizeof(*di));
	di->domid = li->domid;
	memcpy(di->uuid, libxl_uuid_bytearray_const(&li->uuid), 16);
	if (li->dying)
		di->state = MIG_HV_DOM_DYING;
	else if (li->shutdown)
		di->state = li->shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND
		    ? MIG_HV_DOM_SUSPENDED : MIG_HV_DOM_SHUTDOWN;
	else if (li->paused)
		di->state = MIG_HV_DOM_PAUSED;
	else
		di->state = MIG_HV_DOM_RUNNING;
	switch (li->domain_type) {
	case LIBXL_DOMAIN_TYPE_PV:	di->type = MIG_HV_TYPE_PV; break;
	case LIBXL_DOMAIN_TYPE_PVH:	di->type = MIG_HV_TYPE_PVH; break;
	case LIBXL_DOMAIN_TYPE_HVM:	di->type = MIG_HV_TYPE_HVM; break;
	default:			di->type = MIG_HV_TYPE_UNKNOWN; break;
	}
	/* Ours has libxl's numbers, UNKNOWN (-1) apart. */
	di->shutdown_reason = (int)li->shutdown_reason >= 0 &&
	    (int)li->shutdown_reason < (int)MIG_HV_SHUTDOWN_UNKNOWN ?
	    (int)li->shutdown_reason : MIG_HV_SHUTDOWN_UNKNOWN;
	di->mem_kib = li->current_memkb;
	di->maxmem_kib = li->max_memkb;
	di->vcpus = li->vcpu_online;
	/* The name lives in xenstore, not in the hypervisor's info. */
	if ((name = libxl_domid_to_name(x->ctx, li->domid)) != NULL) {
		if (strlen(name) >= sizeof(di->name))
			mig_log_warnx("domain %u: name longer than %zu characters "
			    "truncated", li->domid, sizeof(di->name) - 1);
		snprintf(di->name, sizeof(di->name), "%s", name);
		free(name);
	}
}

static int
hvx_dominfo(struct mig_hv *hv, uint32_t domid, struct mig_hv_dominfo *di,
    struct mig_err *err)
{
	struct hvx	*x = hvx_begin(hv);
	libxl_dominfo	 li;
	int		 rc;

	libxl_dominfo_init(&li);
	if ((rc = libxl_domain_info(x->ctx, &li, domid)) != 0) {
		libxl_dominfo_dispose(&li);
		if (rc == ERROR_DOMAIN_NOTFOUND)
			return mig_seterr(err, MIG_E_NOTFOUND,
			    "no domain %u", domid);
		return hvx_seterr(x, err, rc, "domain %u", domid);
	}
	dominfo_from_libxl(x, &li, di);
	libxl_dominfo_dispose(&li);
	return 0;
}

static int
hvx_list(struct mig_hv *hv, struct mig_hv_dominfo **list, int *n,
    struct mig_err *err)
{
	struct hvx		*x = hvx_begin(hv);
	struct mig_hv_dominfo	*out;
	libxl_dominfo		*li;
	int			 i, nb;

	if ((li = libxl_list_domain(x->ctx, &nb)) == NULL)
		return mig_seterr(err, MIG_E_HV, "cannot list domains: %s",
		    x->lasterr[0] ? x->lasterr : "libxl failed");
	if ((out = calloc(nb > 0 ? nb : 1, sizeof(*out))) == NULL) {
		libxl_dominfo_list_free(li, nb);
		return mig_seterrno(err, MIG_E_NOMEM, "domain list");
	}
	for (i = 0; i < nb; i++)
		dominfo_from_libxl(x, &li[i], &out[i]);
	libxl_dominfo_list_free(li, nb);
	*list = out;
	*n = nb;
	return 0;
}

/* --- configuration --- */

static char *
hvx_config_json(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	struct hvx		*x = hvx_begin(hv);
	libxl_domain_config	 dc;
	char			*json;
	int			 rc;

	libxl_domain_config_init(&dc);
	rc = libxl_retrieve_domain_configuration(x->ctx, domid, &dc, NULL);
	if (rc != 0) {
		libxl_domain_config_dispose(&dc);
		hvx_seterr(x, err, rc, "cannot read the configuration of "
		    "domain %u", domid);
		return NULL;
	}
	if ((json = libxl_domain_config_to_json(x->ctx, &dc)) == NULL)
		mig_seterr(err, MIG_E_HV, "cannot write the configuration of "
		    "domain %u as JSON", domid);
	libxl_domain_config_dispose(&dc);
	return json;
}

int
hvx_config_parse(struct hvx *x, const char *json, libxl_domain_config *dc,
    struct mig_err *err)
{
	int	rc;

	libxl_domain_config_init(dc);
	if ((rc = libxl_domain_config_from_json(x->ctx, dc, json)) != 0) {
		libxl_domain_config_dispose(dc);
		return hvx_seterr(x, err, rc, "bad domain configuration JSON");
	}
	return 0;
}

static int
hvx_config_memory(struct mig_hv *hv, const char *json, uint64_t *kib,
    struct mig_err *err)
{
	struct hvx		*x = hvx_begin(hv);
	libxl_domain_config	 dc;
	int			 rc;

	if (hvx_config_parse(x, json, &dc, err) == -1)
		return -1;
	rc = libxl_domain_need_memory(x->ctx, &dc, INVALID_DOMID, kib);
	libxl_domain_config_dispose(&dc);
	if (rc != 0)
		return hvx_seterr(x, err, rc, "cannot compute the memory a "
		    "domain needs");
	return 0;
}

static char *
hvx_config_set_uuid(struct mig_hv *hv, const char *json,
    const uint8_t uuid[16], struct mig_err *err)
{
	struct hvx		*x = hvx_begin(hv);
	libxl_domain_config	 dc;
	char			*out;

	if (hvx_config_parse(x, json, &dc, err) == -1)
		return NULL;
	memcpy(libxl_uuid_bytearray(&dc.c_info.uuid), uuid, 16);
	if ((out = libxl_domain_config_to_json(x->ctx, &dc)) == NULL)
		mig_seterr(err, MIG_E_HV, "cannot write a domain "
		    "configuration as JSON");
	libxl_domain_config_dispose(&dc);
	return out;
}

static char *
hvx_config_set_disks(struct mig_hv *hv, const char *json,
    const struct mig_hv_disk_path *d, size_t n, struct mig_err *err)
{
	struct hvx		*x = hvx_begin(hv);
	libxl_domain_config	 dc;
	libxl_device_disk	*disk;
	char			*out = NULL, *p;
	size_t			 i;

	if (hvx_config_parse(x, json, &dc, err) == -1)
		return NULL;
	for (i = 0; i < n; i++) {
		if (d[i].index >= (unsigned)dc.num_disks) {
			mig_seterr(err, MIG_E_INVAL, "disks[%u]: the "
			    "configuration has %d disks", d[i].index,
			    dc.num_disks);
			goto out;
		}
		if ((p = strdup(d[i].path)) == NULL) {
			mig_seterrno(err, MIG_E_NOMEM, "disk path");
			goto out;
		}
		disk = &dc.disks[d[i].index];
		free(disk->pdev_path);
		disk->pdev_path = p;
	}
	if ((out = libxl_domain_config_to_json(x->ctx, &dc)) == NULL)
		mig_seterr(err, MIG_E_HV, "cannot write a domain "
		    "configuration as JSON");
 out:
	libxl_domain_config_dispose(&dc);
	return out;
}

static int
hvx_config_describe(struct mig_hv *hv, const char *json,
    struct mig_domcfg *c, struct mig_err *err)
{
	struct hvx		*x = hvx_begin(hv);
	libxl_domain_config	 dc;
	int			 rc;

	if (hvx_config_parse(x, json, &dc, err) == -1)
		return -1;
	rc = hvx_domcfg(&dc, c, err);
	libxl_domain_config_dispose(&dc);
	return rc;
}

/* --- save / restore --- */

static void
xop_free(struct hvx_op *xop)
{
	if (xop->kind == XOP_RESTORE) {
		libxl_domain_config_dispose(&xop->dc);
		libxl_domain_restore_params_dispose(&xop->params);
	}
	free(xop);
}

/* libxl's completion: called inside libxl (its lock held), so only
 * record and queue; hv.c delivers from the event loop. */
static void
hvx_ao_done(libxl_ctx *ctx, int rc, void *arg)
{
	struct hvx_op		*xop = arg;
	struct hvx		*x = xop->x;
	struct mig_hv_op	*op = xop->op;
	struct mig_err		 e;

	mig_clearerr(&e);
	if (xop->kind == XOP_SAVE) {
		if (x->progress_op == op)
			x->progress_op = NULL;
		if (rc != 0 && x->logdirty_unsupported)
			mig_seterr(&e, MIG_E_NOTSUP, NOLOGDIRTY_MSG);
		else if (rc != 0)
			hvx_seterr(x, &e, rc, "save of domain %u failed",
			    xop->domid);
	} else {
		/* Usually libxl has destroyed what it had built by now, and
		 * says INVALID_DOMID; after ERROR_ABORTED the domain may be
		 * left half-built, with its id: hv.c destroys it. */
		mig_hv_op_set_domid(op, xop->domid);
		if (rc != 0)
			hvx_seterr(x, &e, rc, "restore failed");
	}
	xop_free(xop);
	mig_hv_op_complete(op, &e);
}

static struct hvx_op *
xop_new(struct hvx *x, struct mig_hv_op *op, int kind, struct mig_err *err)
{
	struct hvx_op	*xop;

	if ((xop = calloc(1, sizeof(*xop))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "libxl operation"), NULL;
	xop->x = x;
	xop->op = op;
	xop->kind = kind;
	xop->domid = INVALID_DOMID;
	/* libxl_ao_abort finds the operation by this very how. */
	xop->how.callback = hvx_ao_done;
	xop->how.u.for_callback = xop;
	return xop;
}

static int
hvx_save_start(struct mig_hv *hv, struct mig_hv_op *op, uint32_t domid,
    int fd, int flags, struct mig_err *err)
{
	struct hvx	*x = hvx_begin(hv);
	struct hvx_op	*xop;
	int		 rc;

	if ((xop = xop_new(x, op, XOP_SAVE, err)) == NULL)
		return -1;
	xop->domid = domid;
	x->logdirty_unsupported = 0;
	mig_hv_op_set_priv(op, xop);
	x->progress_op = op;
	rc = libxl_domain_suspend(x->ctx, domid, fd,
	    (flags & MIG_HV_SAVE_LIVE) ? LIBXL_SUSPEND_LIVE : 0, &xop->how);
	if (rc != 0) {
		/* Failed to start: libxl will not call back. */
		x->progress_op = NULL;
		mig_hv_op_set_priv(op, NULL);
		xop_free(xop);
		return hvx_seterr(x, err, rc, "cannot start the save of "
		    "domain %u", domid);
	}
	return 0;
}

static int
hvx_restore_start(struct mig_hv *hv, struct mig_hv_op *op, int fd,
    const char *json, const char *name, struct mig_err *err)
{
	struct hvx	*x = hvx_begin(hv);
	struct hvx_op	*xop;
	char		*dup;
	int		 rc;

	if ((xop = xop_new(x, op, XOP_RESTORE, err)) == NULL)
		return -1;
	if (hvx_config_parse(x, json, &xop->dc, err) == -1) {
		free(xop);
		return -1;
	}
	libxl_domain_restore_params_init(&xop->params);
	if (name != NULL) {
		/* The container's name (NAME--incoming) is set before the
		 * domain exists, so no other toolstack ever sees NAME. */
		if ((dup = strdup(name)) == NULL) {
			xop_free(xop);
			return mig_seterrno(err, MIG_E_NOMEM, "restore");
		}
		free(xop->dc.c_info.name);
		xop->dc.c_info.name = dup;
	}
	/* _init says 1; what libxl_domain_suspend writes is 2. */
	xop->params.stream_version = 2;
	xop->params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
	mig_hv_op_set_priv(op, xop);
	/* send_back_fd is for COLO only. */
	rc = libxl_domain_create_restore(x->ctx, &xop->dc, &xop->domid, fd,
	    -1, &xop->params, &xop->how, NULL);
	if (rc != 0) {
		mig_hv_op_set_priv(op, NULL);
		xop_free(xop);
		return hvx_seterr(x, err, rc, "cannot start the restore");
	}
	return 0;
}

static int
hvx_abort(struct mig_hv *hv, struct mig_hv_op *op, struct mig_err *err)
{
	struct hvx	*x = hvx_begin(hv);
	struct hvx_op	*xop = mig_hv_op_priv(op);
	int		 rc;

	if (xop == NULL)
		return 0;
	rc = libxl_ao_abort(x->ctx, &xop->how);
	/* NOTFOUND: already ending; ABORTED: asked before.  Either way
	 * the completion is on its way. */
	if (rc == 0 || rc == ERROR_NOTFOUND || rc == ERROR_ABORTED)
		return 0;
	return hvx_seterr(x, err, rc, "cannot abort the operation");
}

/* --- domain control --- */

static int
hvx_rename(struct mig_hv *hv, uint32_t domid, const char *old,
    const char *new, struct mig_err *err)
{
	struct hvx	*x = hvx_begin(hv);
	int		 rc;

	if ((rc = libxl_domain_rename(x->ctx, domid, old, new)) != 0)
		return hvx_seterr(x, err, rc, "cannot rename domain %u to %s",
		    domid, new);
	return 0;
}

static int
hvx_pause(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	struct hvx	*x = hvx_begin(hv);
	int		 rc;

	if ((rc = libxl_domain_pause(x->ctx, domid, NULL)) != 0)
		return hvx_seterr(x, err, rc, "cannot pause domain %u", domid);
	return 0;
}

static int
hvx_unpause(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	struct hvx	*x = hvx_begin(hv);
	int		 rc;

	if ((rc = libxl_domain_unpause(x->ctx, domid, NULL)) != 0)
		return hvx_seterr(x, err, rc, "cannot unpause domain %u",
		    domid);
	return 0;
}

static int
hvx_destroy(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	struct hvx	*x = hvx_begin(hv);
	int		 rc;

	if ((rc = libxl_domain_destroy(x->ctx, domid, NULL)) != 0)
		return hvx_seterr(x, err, rc, "cannot destroy domain %u",
		    domid);
	return 0;
}

static int
hvx_resume(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	struct hvx	*x = hvx_begin(hv);
	int		 rc;

	/* suspend_cancel: the guest sees its suspend hypercall fail and
	 * carries on where it was, with its devices still connected. */
	if ((rc = libxl_domain_resume(x->ctx, domid, 1, NULL)) != 0)
		return hvx_seterr(x, err, rc, "cannot resume domain %u",
		    domid);
	return 0;
}

static int
sched_get(struct hvx *x, uint32_t domid, libxl_domain_sched_params *p,
    struct mig_err *err)
{
	int	rc;

	libxl_domain_sched_params_init(p);
	if ((rc = libxl_domain_sched_params_get(x->ctx, domid, p)) != 0) {
		libxl_domain_sched_params_dispose(p);
		return hvx_seterr(x, err, rc, "cannot read the scheduler "
		    "parameters of domain %u", domid);
	}
	/* Both credit schedulers have a cap in percent of one cpu;
	 * credit2 is Xen 4.17's default. */
	if (p->sched != LIBXL_SCHEDULER_CREDIT &&
	    p->sched != LIBXL_SCHEDULER_CREDIT2) {
		mig_seterr(err, MIG_E_NOTSUP, "domain %u runs under the %s "
		    "scheduler; a cpu cap needs credit or credit2", domid,
		    libxl_scheduler_to_string(p->sched));
		libxl_domain_sched_params_dispose(p);
		return -1;
	}
	return 0;
}

static int
hvx_cap_get(struct mig_hv *hv, uint32_t domid, int *cap, struct mig_err *err)
{
	libxl_domain_sched_params	p;

	if (sched_get(hvx_begin(hv), domid, &p, err) == -1)
		return -1;
	*cap = p.cap;
	libxl_domain_sched_params_dispose(&p);
	return 0;
}

static int
hvx_cap_set(struct mig_hv *hv, uint32_t domid, int cap, struct mig_err *err)
{
	struct hvx			*x = hvx_begin(hv);
	libxl_domain_sched_params	 p;
	libxl_scheduler			 sched;
	int				 rc;

	if (sched_get(x, domid, &p, err) == -1)
		return -1;
	sched = p.sched;
	libxl_domain_sched_params_dispose(&p);
	/* Only the cap changes: everything else stays at "default",
	 * which libxl reads as "leave as it is". */
	libxl_domain_sched_params_init(&p);
	p.sched = sched;
	p.cap = cap;
	rc = libxl_domain_sched_params_set(x->ctx, domid, &p);
	libxl_domain_sched_params_dispose(&p);
	if (rc != 0)
		return hvx_seterr(x, err, rc, "cannot set the cpu cap of "
		    "domain %u to %d%%", domid, cap);
	return 0;
}

const struct mig_hv_ops mig_hv_libxl_ops = {
	.name = "libxl",
	.open = hvx_open,
	.close = hvx_close,
	.hostinfo = hvx_hostinfo,
	.dominfo = hvx_dominfo,
	.list = hvx_list,
	.config_json = hvx_config_json,
	.config_memory = hvx_config_memory,
	.config_describe = hvx_config_describe,
	.config_set_uuid = hvx_config_set_uuid,
	.config_set_disks = hvx_config_set_disks,
	.save_start = hvx_save_start,
	.restore_start = hvx_restore_start,
	.abort = hvx_abort,
	.rename = hvx_rename,
	.pause = hvx_pause,
	.unpause = hvx_unpause,
	.destroy = hvx_destroy,
	.resume = hvx_resume,
	.cap_get = hvx_cap_get,
	.cap_set = hvx_cap_set,
	.watch_start = hvx_watch_start,
	.watch_stop = hvx_watch_stop,
	.config_actions = hvx_config_actions,
	.create = hvx_create,
	.preserve = hvx_preserve,
	.core_dump = hvx_core_dump,
	.soft_reset = hvx_soft_reset,
};
