/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backend-independent half of the hypervisor interface: the handle,
 * the life of an asynchronous operation, and the deferred delivery of
 * its progress and completion.
 *
 * Backends report from deep inside the hypervisor library (libxl calls
 * its logger and its ao callbacks with its own lock held), where calling
 * back into the library is unsafe.  So reports are queued here and
 * delivered from an event of our own, in the order they happened, with
 * no library frame below them.
 */
#include <sys/queue.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "hex.h"
#include "mig/error.h"
#include "mig/hv.h"
#include "mig/log.h"

enum { OP_SAVE, OP_RESTORE };

struct note {
	TAILQ_ENTRY(note)	 entry;
	struct mig_hv_op	*op;
	int			 is_done;
	struct mig_hv_progress	 p;
};
TAILQ_HEAD(notes, note);

struct mig_hv_op {
	TAILQ_ENTRY(mig_hv_op)	 entry;		/* hv->ops_live */
	TAILQ_ENTRY(mig_hv_op)	 all_entry;	/* hv->ops_all */
	struct mig_hv		*hv;
	int			 kind;
	uint32_t		 domid;
	int			 paused;	/* restore: leave paused */
	char			 name[MIG_HV_NAMELEN];	/* restore: or "" */
	mig_hv_progress_cb	 progress_cb;
	mig_hv_done_cb		 done_cb;
	void			*arg;
	void			*priv;		/* the backend's */
	int			 finished;	/* backend has completed it */
	int			 delivered;	/* done_cb has run (or none) */
	int			 orphan;	/* freed by the caller early */
	struct mig_err		 result;
	struct note		 done_note;	/* never fails to queue */
};
TAILQ_HEAD(ops_live, mig_hv_op);
TAILQ_HEAD(ops_all, mig_hv_op);

struct mig_hv {
	const struct mig_hv_ops	*ops;
	void			*priv;
	struct event_base	*base;
	struct event		*flush_ev;
	struct notes		 notes;
	struct ops_live		 ops_live;	/* not yet finished */
	struct ops_all		 ops_all;	/* not yet freed */
};

static void	flush_notes(evutil_socket_t, short, void *);

struct mig_hv *
mig_hv_open(const struct mig_hv_ops *ops, void *arg, struct event_base *base,
    struct mig_err *err)
{
	struct mig_hv	*hv;

	if (ops == NULL || base == NULL)
		return mig_seterr(err, MIG_E_INVAL,
		    "hypervisor backend or event base missing"), NULL;
	if ((hv = calloc(1, sizeof(*hv))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "hypervisor handle"),
		    NULL;
	hv->ops = ops;
	hv->base = base;
	TAILQ_INIT(&hv->notes);
	TAILQ_INIT(&hv->ops_live);
	TAILQ_INIT(&hv->ops_all);
	if ((hv->flush_ev = event_new(base, -1, 0, flush_notes, hv)) == NULL) {
		free(hv);
		return mig_seterr(err, MIG_E_NOMEM,
		    "hypervisor handle: cannot create an event"), NULL;
	}
	if (ops->open(hv, arg, err) == -1) {
		event_free(hv->flush_ev);
		free(hv);
		return NULL;
	}
	return hv;
}

static void
drop_notes(struct mig_hv *hv, struct mig_hv_op *op)
{
	struct note	*n, *next;

	for (n = TAILQ_FIRST(&hv->notes); n != NULL; n = next) {
		next = TAILQ_NEXT(n, entry);
		if (n->op != op)
			continue;
		TAILQ_REMOVE(&hv->notes, n, entry);
		if (!n->is_done)
			free(n);
	}
}

static void
op_destroy(struct mig_hv_op *op)
{
	drop_notes(op->hv, op);
	TAILQ_REMOVE(&op->hv->ops_all, op, all_entry);
	free(op);
}

void
mig_hv_close(struct mig_hv *hv)
{
	struct mig_hv_op	*op;
	struct note		*n;

	if (hv == NULL)
		return;
	/* The library must not be torn down under a running operation:
	 * abort each and let the loop run until all have ended.  No
	 * callback is called any more (all become orphans): the caller is
	 * closing, and hv frees them as they end. */
	TAILQ_FOREACH(op, &hv->ops_all, all_entry) {
		if (!op->finished && !op->orphan && hv->ops->abort != NULL)
			(void)hv->ops->abort(hv, op, NULL);
		op->orphan = 1;
	}
	while (!TAILQ_EMPTY(&hv->ops_live))
		if (event_base_loop(hv->base, EVLOOP_ONCE) != 0) {
			mig_log_warnx("hypervisor: closing with %s operations "
			    "still running", hv->ops->name);
			break;
		}
	flush_notes(-1, 0, hv);		/* orphans' ends: restores cleaned */
	while ((op = TAILQ_FIRST(&hv->ops_all)) != NULL) {
		if (!op->finished) {
			/* Still in libxl's hands: leak rather than crash. */
			TAILQ_REMOVE(&hv->ops_all, op, all_entry);
			continue;
		}
		op_destroy(op);
	}
	while ((n = TAILQ_FIRST(&hv->notes)) != NULL) {
		TAILQ_REMOVE(&hv->notes, n, entry);
		if (!n->is_done)
			free(n);
	}
	hv->ops->close(hv);
	event_free(hv->flush_ev);
	free(hv);
}

struct event_base *
mig_hv_base(struct mig_hv *hv)
{
	return hv->base;
}

const struct mig_hv_ops *
mig_hv_backend(struct mig_hv *hv)
{
	return hv->ops;
}

const char *
mig_hv_backend_name(const struct mig_hv *hv)
{
	return hv->ops->name;
}

/* --- host and domains --- */

int
mig_hv_hostinfo(struct mig_hv *hv, struct mig_hv_hostinfo *hi,
    struct mig_err *err)
{
	memset(hi, 0, sizeof(*hi));
	hi->pv_logdirty = -1;
	return hv->ops->hostinfo(hv, hi, err);
}

int
mig_hv_dominfo(struct mig_hv *hv, uint32_t domid, struct mig_hv_dominfo *di,
    struct mig_err *err)
{
	memset(di, 0, sizeof(*di));
	return hv->ops->dominfo(hv, domid, di, err);
}

int
mig_hv_list(struct mig_hv *hv, struct mig_hv_dominfo **list, int *n,
    struct mig_err *err)
{
	*list = NULL;
	*n = 0;
	return hv->ops->list(hv, list, n, err);
}

/* A domid as xl takes it: decimal digits only, below the special ids. */
static int
parse_domid(const char *s, uint32_t *domid)
{
	unsigned long	 v;
	char		*end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= 0x7ff0)	/* DOMID_FIRST_RESERVED */
		return -1;
	*domid = (uint32_t)v;
	return 0;
}

int
mig_hv_find(struct mig_hv *hv, const char *spec, struct mig_hv_dominfo *di,
    struct mig_err *err)
{
	struct mig_hv_dominfo	*list;
	struct mig_err		 e;
	uint8_t			 uuid[16];
	uint32_t		 domid;
	int			 n, i, byuuid, found = -1;

	if (spec == NULL || *spec == '\0')
		return mig_seterr(err, MIG_E_INVAL, "empty domain name");
	/* A domid first, then (as xl does) the same string as a name. */
	if (parse_domid(spec, &domid) == 0) {
		if (mig_hv_dominfo(hv, domid, di, &e) == 0)
			return 0;
		if (e.code != MIG_E_NOTFOUND) {
			if (err != NULL)
				*err = e;
			return -1;
		}
	}
	if (strlen(spec) >= MIG_HV_NAMELEN)
		return mig_seterr(err, MIG_E_TOOBIG,
		    "domain name longer than %d characters", MIG_HV_NAMELEN - 1);
	byuuid = mig_hv_uuid_parse(spec, uuid) == 0;
	if (mig_hv_list(hv, &list, &n, err) == -1)
		return -1;
	for (i = 0; i < n && found == -1; i++)
		if (byuuid ? memcmp(list[i].uuid, uuid, 16) == 0 :
		    strcmp(list[i].name, spec) == 0)
			found = i;
	if (found != -1)
		*di = list[found];
	free(list);
	if (found == -1)
		return mig_seterr(err, MIG_E_NOTFOUND, "no domain %s", spec);
	return 0;
}

/* --- configuration --- */

char *
mig_hv_config_json(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	return hv->ops->config_json(hv, domid, err);
}

int
mig_hv_config_memory(struct mig_hv *hv, const char *json, uint64_t *kib,
    struct mig_err *err)
{
	if (json == NULL)
		return mig_seterr(err, MIG_E_INVAL, "no domain configuration");
	return hv->ops->config_memory(hv, json, kib, err);
}

int
mig_hv_config_describe(struct mig_hv *hv, const char *json,
    struct mig_domcfg *c, struct mig_err *err)
{
	if (json == NULL)
		return mig_seterr(err, MIG_E_INVAL, "no domain configuration");
	return hv->ops->config_describe(hv, json, c, err);
}

char *
mig_hv_config_set_uuid(struct mig_hv *hv, const char *json,
    const uint8_t uuid[16], struct mig_err *err)
{
	if (json == NULL) {
		mig_seterr(err, MIG_E_INVAL, "no domain configuration");
		return NULL;
	}
	return hv->ops->config_set_uuid(hv, json, uuid, err);
}

char *
mig_hv_config_set_disks(struct mig_hv *hv, const char *json,
    const struct mig_hv_disk_path *d, size_t n, struct mig_err *err)
{
	if (json == NULL) {
		mig_seterr(err, MIG_E_INVAL, "no domain configuration");
		return NULL;
	}
	if (hv->ops->config_set_disks == NULL) {
		mig_seterr(err, MIG_E_NOTSUP, "the %s backend cannot move "
		    "disks", hv->ops->name);
		return NULL;
	}
	return hv->ops->config_set_disks(hv, json, d, n, err);
}

/* --- asynchronous operations --- */

static struct mig_hv_op *
op_new(struct mig_hv *hv, int kind, mig_hv_progress_cb pcb,
    mig_hv_done_cb dcb, void *arg, struct mig_err *err)
{
	struct mig_hv_op	*op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "hypervisor operation"),
		    NULL;
	op->hv = hv;
	op->kind = kind;
	op->domid = MIG_HV_INVALID_DOMID;
	op->progress_cb = pcb;
	op->done_cb = dcb;
	op->arg = arg;
	op->done_note.op = op;
	op->done_note.is_done = 1;
	TAILQ_INSERT_TAIL(&hv->ops_all, op, all_entry);
	return op;
}

struct mig_hv_op *
mig_hv_save(struct mig_hv *hv, uint32_t domid, int fd, int flags,
    mig_hv_progress_cb pcb, mig_hv_done_cb dcb, void *arg,
    struct mig_err *err)
{
	struct mig_hv_op	*op;

	if (fd < 0)
		return mig_seterr(err, MIG_E_INVAL,
		    "save of domain %u: no stream fd", domid), NULL;
	if ((op = op_new(hv, OP_SAVE, pcb, dcb, arg, err)) == NULL)
		return NULL;
	op->domid = domid;
	TAILQ_INSERT_TAIL(&hv->ops_live, op, entry);
	if (hv->ops->save_start(hv, op, domid, fd, flags, err) == -1) {
		TAILQ_REMOVE(&hv->ops_live, op, entry);
		op_destroy(op);
		return NULL;
	}
	return op;
}

struct mig_hv_op *
mig_hv_restore(struct mig_hv *hv, int fd, const char *json, const char *name,
    int paused, mig_hv_done_cb dcb, void *arg, struct mig_err *err)
{
	struct mig_hv_op	*op;

	if (fd < 0 || json == NULL)
		return mig_seterr(err, MIG_E_INVAL,
		    "restore: no stream fd or no configuration"), NULL;
	if (name != NULL && (*name == '\0' || strlen(name) >= MIG_HV_NAMELEN))
		return mig_seterr(err, MIG_E_INVAL,
		    "restore: bad domain name"), NULL;
	if ((op = op_new(hv, OP_RESTORE, NULL, dcb, arg, err)) == NULL)
		return NULL;
	op->paused = paused;
	if (name != NULL)
		snprintf(op->name, sizeof(op->name), "%s", name);
	TAILQ_INSERT_TAIL(&hv->ops_live, op, entry);
	if (hv->ops->restore_start(hv, op, fd, json, name, err) == -1) {
		TAILQ_REMOVE(&hv->ops_live, op, entry);
		op_destroy(op);
		return NULL;
	}
	return op;
}

int
mig_hv_abort(struct mig_hv_op *op, struct mig_err *err)
{
	if (op->finished)
		return 0;	/* too late: it ends as it ends */
	if (op->hv->ops->abort == NULL)
		return mig_seterr(err, MIG_E_NOTSUP,
		    "the %s backend cannot abort an operation",
		    op->hv->ops->name);
	return op->hv->ops->abort(op->hv, op, err);
}

int
mig_hv_wait(struct mig_hv_op *op, struct mig_err *err)
{
	int	r;

	while (!op->delivered) {
		r = event_base_loop(op->hv->base, EVLOOP_ONCE);
		if (r == -1)
			return mig_seterr(err, MIG_E_INVAL, "cannot wait for a "
			    "hypervisor operation from inside the event loop");
		if (r == 1 && !op->delivered)
			return mig_seterr(err, MIG_E_HV, "hypervisor operation "
			    "stalled: nothing left in the event loop");
	}
	return mig_hv_op_result(op, err);
}

int
mig_hv_op_done(const struct mig_hv_op *op)
{
	return op->delivered;
}

int
mig_hv_op_result(const struct mig_hv_op *op, struct mig_err *err)
{
	if (!op->delivered)
		return mig_seterr(err, MIG_E_INVAL,
		    "hypervisor operation still running");
	if (op->result.code == MIG_OK)
		return 0;
	if (err != NULL)
		*err = op->result;
	return -1;
}

uint32_t
mig_hv_op_domid(const struct mig_hv_op *op)
{
	return op->domid;
}

void
mig_hv_op_free(struct mig_hv_op *op)
{
	if (op == NULL)
		return;
	if (op->delivered || (op->finished && op->kind != OP_RESTORE)) {
		op_destroy(op);
		return;
	}
	/* Its end is still to come or still queued: let it come, without
	 * callbacks.  libxl holds a pointer to a running op, and a restore
	 * nobody will hear of must not leave its domain behind. */
	op->orphan = 1;
	if (!op->finished && op->hv->ops->abort != NULL)
		(void)op->hv->ops->abort(op->hv, op, NULL);
}

static void
queue_note(struct mig_hv *hv, struct note *n)
{
	TAILQ_INSERT_TAIL(&hv->notes, n, entry);
	event_active(hv->flush_ev, 0, 0);
}

void
mig_hv_op_complete(struct mig_hv_op *op, const struct mig_err *err)
{
	struct mig_hv	*hv = op->hv;

	if (op->finished)
		return;
	op->finished = 1;
	op->priv = NULL;
	TAILQ_REMOVE(&hv->ops_live, op, entry);
	if (op->orphan && op->kind != OP_RESTORE) {
		op_destroy(op);
		return;
	}
	if (err != NULL && err->code != MIG_OK)
		op->result = *err;
	else
		mig_clearerr(&op->result);
	queue_note(hv, &op->done_note);
}

void
mig_hv_op_progress(struct mig_hv_op *op, const struct mig_hv_progress *p)
{
	struct note	*n;

	if (op->finished || op->orphan || op->progress_cb == NULL)
		return;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		mig_log_debug("hypervisor: progress report dropped: out of memory");
		return;
	}
	n->op = op;
	n->p = *p;
	queue_note(op->hv, n);
}

/* A failed restore may leave a half-built domain (libxl: after an
 * abort).  It is ours -- it has the name we gave it -- and must go: the
 * target's half of the failure rule. */
static void
discard_restore(struct mig_hv_op *op)
{
	struct mig_hv_dominfo	di;
	struct mig_err		e;
	size_t			n;

	if (op->domid == MIG_HV_INVALID_DOMID)
		return;
	if (mig_hv_dominfo(op->hv, op->domid, &di, &e) == 0 &&
	    (op->name[0] == '\0' || strcmp(di.name, op->name) == 0) &&
	    mig_hv_destroy(op->hv, op->domid, &e) == -1) {
		n = strlen(op->result.msg);
		snprintf(op->result.msg + n, sizeof(op->result.msg) - n,
		    "; and the half-built domain %u remains: %s", op->domid,
		    e.msg);
		mig_log_warnx("%s", op->result.msg);
	}
	op->domid = MIG_HV_INVALID_DOMID;
}

/* A restore leaves the domain paused; unpausing is ours, so that it
 * happens the same way for every backend and outside the library. */
static void
finish_restore(struct mig_hv_op *op)
{
	struct mig_err	e;

	if (op->kind != OP_RESTORE)
		return;
	if (op->result.code != MIG_OK) {
		discard_restore(op);
		return;
	}
	if (op->paused)
		return;
	if (mig_hv_unpause(op->hv, op->domid, &e) == -1)
		mig_seterr(&op->result, e.code, "restored domain %u but left "
		    "it paused: %s", op->domid, e.msg);
}

static void
flush_notes(evutil_socket_t fd, short what, void *arg)
{
	struct mig_hv		*hv = arg;
	struct note		*n;
	struct mig_hv_op	*op;

	while ((n = TAILQ_FIRST(&hv->notes)) != NULL) {
		TAILQ_REMOVE(&hv->notes, n, entry);
		op = n->op;
		if (!n->is_done) {
			if (!op->orphan)
				op->progress_cb(op, &n->p, op->arg);
			free(n);
			continue;
		}
		if (op->orphan) {
			/* Abandoned: a restored domain is unwanted too. */
			if (op->kind == OP_RESTORE) {
				if (op->result.code == MIG_OK)
					mig_seterr(&op->result,
					    MIG_E_CANCELLED, "restore "
					    "abandoned by its caller");
				discard_restore(op);
			}
			op_destroy(op);
			continue;
		}
		finish_restore(op);
		op->delivered = 1;
		/* Last use of op: the callback may free it. */
		if (op->done_cb != NULL)
			op->done_cb(op, &op->result, op->arg);
	}
}

/* --- recovery --- */

int
mig_hv_recover_source(struct mig_hv *hv, uint32_t domid,
    const struct mig_err *save_err, struct mig_err *err)
{
	struct mig_hv_dominfo	di;

	if (save_err != NULL && save_err->code == MIG_E_TIMEOUT)
		return mig_seterr(err, MIG_E_HV, "domain %u did not answer "
		    "the suspend request in time; its state is unknown, so it "
		    "is left as it is for an operator", domid);
	if (mig_hv_dominfo(hv, domid, &di, err) == -1)
		return -1;
	switch (di.state) {
	case MIG_HV_DOM_RUNNING:
	case MIG_HV_DOM_PAUSED:
		/* Never got suspended: nothing to undo.  A paused domain
		 * was paused by someone else (a save never pauses without
		 * suspending) and stays so. */
		return 0;
	case MIG_HV_DOM_SUSPENDED:
		return mig_hv_resume(hv, domid, err);
	default:
		return mig_seterr(err, MIG_E_HV, "domain %u is %s and cannot "
		    "be resumed", domid, mig_hv_domstate_name(di.state));
	}
}

/* --- domain control --- */

int
mig_hv_rename(struct mig_hv *hv, uint32_t domid, const char *old,
    const char *new, struct mig_err *err)
{
	if (new == NULL || *new == '\0' || strlen(new) >= MIG_HV_NAMELEN)
		return mig_seterr(err, MIG_E_INVAL,
		    "rename of domain %u: bad new name", domid);
	return hv->ops->rename(hv, domid, old, new, err);
}

int
mig_hv_pause(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	return hv->ops->pause(hv, domid, err);
}

int
mig_hv_unpause(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	return hv->ops->unpause(hv, domid, err);
}

int
mig_hv_destroy(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	return hv->ops->destroy(hv, domid, err);
}

int
mig_hv_resume(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	return hv->ops->resume(hv, domid, err);
}

int
mig_hv_cap_get(struct mig_hv *hv, uint32_t domid, int *cap,
    struct mig_err *err)
{
	return hv->ops->cap_get(hv, domid, cap, err);
}

int
mig_hv_cap_set(struct mig_hv *hv, uint32_t domid, int cap,
    struct mig_err *err)
{
	if (cap < 0 || cap > 100 * 512)
		return mig_seterr(err, MIG_E_INVAL,
		    "cpu cap %d%% for domain %u out of range", cap, domid);
	return hv->ops->cap_set(hv, domid, cap, err);
}

/* --- helpers --- */

const char *
mig_hv_domstate_name(int s)
{
	switch (s) {
	case MIG_HV_DOM_RUNNING:	return "running";
	case MIG_HV_DOM_PAUSED:		return "paused";
	case MIG_HV_DOM_SUSPENDED:	return "suspended";
	case MIG_HV_DOM_SHUTDOWN:	return "shut down";
	case MIG_HV_DOM_DYING:		return "dying";
	default:			return "unknown";
	}
}

/*
 * A 128 MiB PVH guest's first pass reports ~1M pfns (4 GiB), of which
 * 32K hold memory: shown as is, a progress bar would stop at 3% and an
 * ETA promise hours.  What the pass sends is at most the guest's memory;
 * past it (RAM comes first) the pass only walks holes.  Later rounds
 * count dirty pages, which are all memory.
 */
void
mig_hv_progress_cap(struct mig_hv_progress *p, uint64_t mem_kib,
    uint32_t page_size)
{
	uint64_t	pages;

	if (p->kind != MIG_HV_PROGRESS_ROUND || p->round != 0 ||
	    page_size < 1024 || mem_kib == 0)
		return;
	pages = mem_kib / (page_size / 1024);
	if (p->pages_total > pages)
		p->pages_total = pages;
	if (p->pages_done > p->pages_total)
		p->pages_done = p->pages_total;
	p->dirty_left = p->pages_total - p->pages_done;
}

const char *
mig_hv_domtype_name(int t)
{
	switch (t) {
	case MIG_HV_TYPE_PV:	return "pv";
	case MIG_HV_TYPE_PVH:	return "pvh";
	case MIG_HV_TYPE_HVM:	return "hvm";
	default:		return "unknown";
	}
}

int
mig_hv_uuid_parse(const char *s, uint8_t uuid[16])
{
	int	i, b = 0, hi, lo;

	if (strlen(s) != 36)
		return -1;
	for (i = 0; i < 36; ) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return -1;
			continue;
		}
		if ((hi = hex_digit((unsigned char)s[i])) < 0 ||
		    (lo = hex_digit((unsigned char)s[i + 1])) < 0)
			return -1;
		uuid[b++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

void
mig_hv_uuid_format(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
	    u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* --- for backends --- */

void *
mig_hv_priv(struct mig_hv *hv)
{
	return hv->priv;
}

void
mig_hv_set_priv(struct mig_hv *hv, void *p)
{
	hv->priv = p;
}

void *
mig_hv_op_priv(struct mig_hv_op *op)
{
	return op->priv;
}

void
mig_hv_op_set_priv(struct mig_hv_op *op, void *p)
{
	op->priv = p;
}

struct mig_hv *
mig_hv_op_hv(struct mig_hv_op *op)
{
	return op->hv;
}

void
mig_hv_op_set_domid(struct mig_hv_op *op, uint32_t domid)
{
	op->domid = domid;
}
