/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulated host as a hypervisor backend (struct mig_hv_ops), and
 * the calls simctl and tests use to set a host up.  Semantics and error
 * codes follow the libxl backend: MIG_E_NOTFOUND for a missing domain,
 * MIG_E_INVAL for what libxl calls ERROR_INVAL (a name clash, a stale
 * old name in a rename), MIG_E_HV for a state that forbids the call.
 */
#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"


static unsigned
sim_name_hash(const char *s)
{
	unsigned	h = 2166136261u;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static const char *
D(struct mig_hv *hv)
{
	return sim_dir(hv);
}

static void
to_dominfo(const struct hv_sim_dom *d, struct mig_hv_dominfo *di)
{
	memset(di, 0, sizeof(*di));
	di->domid = d->domid;
	memcpy(di->name, d->name, sizeof(di->name));
	memcpy(di->uuid, d->uuid, 16);
	di->state = d->state;
	di->type = d->type;
	di->mem_kib = di->maxmem_kib = d->mem_kib;
	di->vcpus = d->vcpus;
	di->shutdown_reason = d->reason;
}

/* --- open / close --- */

static int
sim_open(struct mig_hv *hv, void *arg, struct mig_err *err)
{
	const struct hv_sim_conf	*conf = arg;
	struct sigaction		 sa;
	struct sim_txn			 t;
	struct hv_sim			*s;
	const char			*dir;

	dir = conf != NULL && conf->dir != NULL ? conf->dir :
	    getenv(HV_SIM_ENV);
	if (dir == NULL || *dir == '\0')
		return mig_seterr(err, MIG_E_INVAL, "simulated host: no "
		    "directory given and %s is not set", HV_SIM_ENV);
	if (strlen(dir) >= sizeof(s->dir) - 32)
		return mig_seterr(err, MIG_E_TOOBIG, "simulated host: "
		    "directory name too long");
	if (sim_begin(&t, dir, 0, err) == -1)
		return -1;
	sim_end(&t);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "simulated host");
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	/* As the libxl backend: a reader that vanishes is EPIPE. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		(void)sigaction(SIGPIPE, &sa, NULL);
	}
	mig_hv_set_priv(hv, s);
	return 0;
}

static void
sim_close(struct mig_hv *hv)
{
	struct hv_sim	*s = mig_hv_priv(hv);

	sim_hold(s->dir, "close");	/* a worker past its result, not yet gone */
	sim_life_close(s);
	free(s);
	mig_hv_set_priv(hv, NULL);
}

/* --- host and domains --- */

static int
sim_hostinfo(struct mig_hv *hv, struct mig_hv_hostinfo *hi,
    struct mig_err *err)
{
	struct sim_txn	t;

	if (sim_begin(&t, D(hv), 0, err) == -1)
		return -1;
	hi->xen_major = t.h->xen_major;
	hi->xen_minor = t.h->xen_minor;
	memcpy(hi->xen_extra, t.h->xen_extra, sizeof(hi->xen_extra));
	memcpy(hi->arch, t.h->arch, sizeof(hi->arch));
	hi->page_size = t.h->page_size;
	hi->total_kib = t.h->total_kib;
	hi->free_kib = t.h->free_kib;
	hi->nr_cpus = t.h->nr_cpus;
	hi->pv_logdirty = t.h->pv_logdirty;
	sim_end(&t);
	/* Each simulated host is a host of its own, whatever this machine
	 * is called: its name is derived from its directory. */
	snprintf(hi->hostname, sizeof(hi->hostname), "sim-%08x",
	    sim_name_hash(D(hv)));
	return 0;
}

static int
sim_dominfo(struct mig_hv *hv, uint32_t domid, struct mig_hv_dominfo *di,
    struct mig_err *err)
{
	struct hv_sim_dom	d;

	if (sim_dom_get(D(hv), domid, &d, err) == -1)
		return -1;
	to_dominfo(&d, di);
	return 0;
}

static int
sim_list(struct mig_hv *hv, struct mig_hv_dominfo **list, int *n,
    struct mig_err *err)
{
	struct sim_txn	t;
	int		i;

	if (sim_begin(&t, D(hv), 0, err) == -1)
		return -1;
	if ((*list = calloc(t.h->ndoms + 1, sizeof(**list))) == NULL) {
		sim_end(&t);
		return mig_seterrno(err, MIG_E_NOMEM, "domain list");
	}
	for (i = 0; i < t.h->ndoms; i++)
		to_dominfo(&t.h->doms[i], &(*list)[i]);
	*n = t.h->ndoms;
	sim_end(&t);
	return 0;
}

/* As libxl_retrieve_domain_configuration: the config as the domain is
 * now (its current name, after any rename). */
static char *
sim_config_json(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	struct hv_sim_dom	 d;
	struct sim_cfg		 dk;
	char			*json;

	if (sim_dom_get(D(hv), domid, &d, err) == -1)
		return NULL;
	if (sim_disks_load(D(hv), domid, &dk) == -1) {
		mig_seterrno(err, MIG_E_IO, "disks of domain %" PRIu32, domid);
		return NULL;
	}
	if ((json = sim_json_write(&d, &dk)) == NULL)
		mig_seterrno(err, MIG_E_NOMEM, "configuration of domain %"
		    PRIu32, domid);
	return json;
}

static int
sim_config_memory(struct mig_hv *hv, const char *json, uint64_t *kib,
    struct mig_err *err)
{
	struct sim_cfg	c;

	if (sim_json_parse(json, &c, err) == -1)
		return -1;
	*kib = c.max_memkb;
	return 0;
}

static int
sim_config_describe(struct mig_hv *hv, const char *json,
    struct mig_domcfg *c, struct mig_err *err)
{
	(void)hv;
	return sim_json_describe(json, c, err);
}

static char *
sim_config_set_uuid(struct mig_hv *hv, const char *json,
    const uint8_t uuid[16], struct mig_err *err)
{
	(void)hv;
	return sim_json_set_uuid(json, uuid, err);
}

static char *
sim_config_set_disks(struct mig_hv *hv, const char *json,
    const struct mig_hv_disk_path *d, size_t n, struct mig_err *err)
{
	(void)hv;
	return sim_json_set_disks(json, d, n, err);
}

/* --- save / restore --- */

static int
save_lock(struct sim_job *j, uint32_t domid, struct mig_err *err)
{
	char	name[32], path[PATH_MAX];

	snprintf(name, sizeof(name), "save.%" PRIu32, domid);
	sim_path(j->dir, name, path, sizeof(path));
	if ((j->savelock = open(path, O_RDWR | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	if (flock(j->savelock, LOCK_EX | LOCK_NB) == -1)
		return mig_seterr(err, MIG_E_HV, "domain %" PRIu32 " is "
		    "already being saved", domid);
	return 0;
}

static int
sim_save_start(struct mig_hv *hv, struct mig_hv_op *op, uint32_t domid,
    int fd, int flags, struct mig_err *err)
{
	struct hv_sim_dom	 d;
	struct sim_job		*j;

	sim_hold(D(hv), "save");
	if (sim_dom_get(D(hv), domid, &d, err) == -1)
		return -1;
	if (d.state != MIG_HV_DOM_RUNNING && d.state != MIG_HV_DOM_PAUSED)
		return mig_seterr(err, MIG_E_HV, "cannot save domain %" PRIu32
		    ": it is %s", domid, mig_hv_domstate_name(d.state));
	if ((j = sim_job_new(op, D(hv), fd, err)) == NULL)
		return -1;
	j->domid = domid;
	j->live = (flags & MIG_HV_SAVE_LIVE) != 0;
	if (save_lock(j, domid, err) == -1) {
		sim_job_free(j);
		return -1;
	}
	return sim_job_start(j, sim_save_main, err);
}

static int
sim_restore_start(struct mig_hv *hv, struct mig_hv_op *op, int fd,
    const char *json, const char *name, struct mig_err *err)
{
	struct sim_cfg	 c;
	struct sim_job	*j;

	if (sim_json_parse(json, &c, err) == -1)
		return -1;
	if (name != NULL)
		snprintf(c.name, sizeof(c.name), "%s", name);
	if (c.name[0] == '\0')
		return mig_seterr(err, MIG_E_INVAL,
		    "restore: the configuration names no domain");
	if ((j = sim_job_new(op, D(hv), fd, err)) == NULL)
		return -1;
	j->cfg = c;
	return sim_job_start(j, sim_restore_main, err);
}

static int
sim_abort(struct mig_hv *hv, struct mig_hv_op *op, struct mig_err *err)
{
	struct sim_job	*j = mig_hv_op_priv(op);

	if (j != NULL)
		sim_job_abort(j);
	return 0;
}

/* --- domain control --- */

static int
sim_rename(struct mig_hv *hv, uint32_t domid, const char *old,
    const char *new, struct mig_err *err)
{
	struct sim_txn		 t;
	struct hv_sim_dom	*d, *other;

	if (strchr(new, '\n') != NULL)
		return mig_seterr(err, MIG_E_INVAL, "bad domain name");
	sim_hold(D(hv), "rename");
	if (sim_begin(&t, D(hv), 1, err) == -1)
		return -1;
	if ((d = sim_dom(t.h, domid)) == NULL) {
		mig_seterr(err, MIG_E_NOTFOUND, "no domain %" PRIu32, domid);
		goto fail;
	}
	if (old != NULL && strcmp(d->name, old) != 0) {
		mig_seterr(err, MIG_E_INVAL, "cannot rename domain %" PRIu32
		    " to %s: it is called %s, not %s", domid, new, d->name,
		    old);
		goto fail;
	}
	if ((other = sim_dom_byname(t.h, new)) != NULL && other != d) {
		mig_seterr(err, MIG_E_INVAL, "cannot rename domain %" PRIu32
		    " to %s: domain %" PRIu32 " has that name", domid, new,
		    other->domid);
		goto fail;
	}
	snprintf(d->name, sizeof(d->name), "%s", new);
	if (sim_commit(&t, err) == -1)
		return -1;
	sim_hold(D(hv), "renamed");
	return 0;
fail:
	sim_end(&t);
	return -1;
}

static int
sim_pause(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	return sim_dom_set_state(D(hv), domid, SIM_ST(MIG_HV_DOM_RUNNING) |
	    SIM_ST(MIG_HV_DOM_PAUSED), MIG_HV_DOM_PAUSED, err);
}

static int
sim_unpause(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	struct sim_faults	f;

	sim_hold(D(hv), "unpause");
	if (sim_faults_load(D(hv), &f, err) == -1)
		return -1;
	if (f.fail_unpause)
		return mig_seterr(err, MIG_E_HV, "cannot unpause domain %"
		    PRIu32 " (fault fail_unpause)", domid);
	return sim_dom_set_state(D(hv), domid, SIM_ST(MIG_HV_DOM_RUNNING) |
	    SIM_ST(MIG_HV_DOM_PAUSED), MIG_HV_DOM_RUNNING, err);
}

static int
sim_resume(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	return sim_dom_set_state(D(hv), domid, SIM_ST(MIG_HV_DOM_SUSPENDED),
	    MIG_HV_DOM_RUNNING, err);
}

static int
sim_destroy_op(struct mig_hv *hv, uint32_t domid, struct mig_err *err)
{
	sim_hold(D(hv), "destroy");
	return hv_sim_destroy(D(hv), domid, err);
}

static int
sim_cap_get(struct mig_hv *hv, uint32_t domid, int *cap, struct mig_err *err)
{
	struct hv_sim_dom	d;

	if (sim_dom_get(D(hv), domid, &d, err) == -1)
		return -1;
	*cap = d.cap;
	return 0;
}

static int
sim_cap_set(struct mig_hv *hv, uint32_t domid, int cap, struct mig_err *err)
{
	return hv_sim_set_cap(D(hv), domid, cap, err);
}

const struct mig_hv_ops hv_sim_ops = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.hostinfo = sim_hostinfo,
	.dominfo = sim_dominfo,
	.list = sim_list,
	.config_json = sim_config_json,
	.config_memory = sim_config_memory,
	.config_describe = sim_config_describe,
	.config_set_uuid = sim_config_set_uuid,
	.config_set_disks = sim_config_set_disks,
	.save_start = sim_save_start,
	.restore_start = sim_restore_start,
	.abort = sim_abort,
	.rename = sim_rename,
	.pause = sim_pause,
	.unpause = sim_unpause,
	.destroy = sim_destroy_op,
	.resume = sim_resume,
	.cap_get = sim_cap_get,
	.cap_set = sim_cap_set,
	.watch_start = sim_watch_start,
	.watch_stop = sim_watch_stop,
	.config_actions = sim_config_actions,
	.create = sim_create,
	.preserve = sim_preserve,
	.core_dump = sim_core_dump,
	.soft_reset = sim_soft_reset,
};

/* --- setting a host up (simctl, tests) --- */

int
hv_sim_init(const char *dir, uint64_t mem_mib, int xen_major, int xen_minor,
    struct mig_err *err)
{
	return sim_state_init(dir, mem_mib, xen_major, xen_minor, err);
}

int
hv_sim_host_set(const char *dir, const char *key, const char *value,
    struct mig_err *err)
{
	struct sim_txn	t;

	if (sim_begin(&t, dir, 1, err) == -1)
		return -1;
	if (sim_host_set(t.h, key, value, err) == -1) {
		sim_end(&t);
		return -1;
	}
	return sim_commit(&t, err);
}

int
hv_sim_create(const char *dir, const char *name, uint64_t mem_mib,
    uint64_t rate, const char *uuid, const char *type, uint32_t *domid,
    struct mig_err *err)
{
	struct sim_txn		 t;
	struct hv_sim_dom	*d;
	uint8_t			 u[16];
	int			 ty = MIG_HV_TYPE_PV;

	if (uuid != NULL && mig_hv_uuid_parse(uuid, u) == -1)
		return mig_seterr(err, MIG_E_INVAL, "bad uuid %s", uuid);
	if (uuid == NULL)
		sim_uuid_random(u);
	if (type != NULL && (ty = sim_type_parse(type)) <= MIG_HV_TYPE_UNKNOWN)
		return mig_seterr(err, MIG_E_INVAL, "domain %s: bad type %s",
		    name, type);
	if (mem_mib == 0 || mem_mib > (1ULL << 30))
		return mig_seterr(err, MIG_E_INVAL, "domain %s: bad memory "
		    "size", name);
	if (sim_begin(&t, dir, 1, err) == -1)
		return -1;
	if ((d = sim_dom_add(t.h, name, mem_mib * 1024, err)) == NULL) {
		sim_end(&t);
		return -1;
	}
	d->dirty_rate = rate;
	d->type = ty;
	memcpy(d->uuid, u, 16);
	if (sim_mem_create(dir, d, 1, err) == -1) {
		sim_end(&t);
		return -1;
	}
	if (domid != NULL)
		*domid = d->domid;
	if (sim_commit(&t, err) == -1) {
		if (domid != NULL)
			sim_mem_unlink(dir, *domid);
		return -1;
	}
	return 0;
}

int
hv_sim_lookup(const char *dir, const char *spec, struct hv_sim_dom *out,
    struct mig_err *err)
{
	struct sim_txn		 t;
	struct hv_sim_dom	*d;
	char			*end;
	unsigned long		 id;
	int			 rc = 0;

	if (sim_begin(&t, dir, 0, err) == -1)
		return -1;
	errno = 0;
	id = strtoul(spec, &end, 10);
	if (*spec >= '0' && *spec <= '9' && *end == '\0' && errno == 0 &&
	    id <= UINT32_MAX)
		d = sim_dom(t.h, (uint32_t)id);
	else
		d = sim_dom_byname(t.h, spec);
	if (d != NULL)
		*out = *d;
	else
		rc = mig_seterr(err, MIG_E_NOTFOUND, "no domain %s", spec);
	sim_end(&t);
	return rc;
}

int
hv_sim_set_rate(const char *dir, uint32_t domid, uint64_t rate,
    struct mig_err *err)
{
	struct sim_txn		 t;
	struct hv_sim_dom	*d;

	if (sim_begin(&t, dir, 1, err) == -1)
		return -1;
	if ((d = sim_dom(t.h, domid)) == NULL) {
		sim_end(&t);
		return mig_seterr(err, MIG_E_NOTFOUND, "no domain %" PRIu32,
		    domid);
	}
	d->dirty_rate = rate;
	return sim_commit(&t, err);
}

int
hv_sim_set_cap(const char *dir, uint32_t domid, int cap, struct mig_err *err)
{
	struct sim_txn		 t;
	struct hv_sim_dom	*d;

	if (sim_begin(&t, dir, 1, err) == -1)
		return -1;
	if ((d = sim_dom(t.h, domid)) == NULL) {
		sim_end(&t);
		return mig_seterr(err, MIG_E_NOTFOUND, "no domain %" PRIu32,
		    domid);
	}
	d->cap = cap;
	return sim_commit(&t, err);
}

int
hv_sim_destroy(const char *dir, uint32_t domid, struct mig_err *err)
{
	struct sim_txn		 t;
	struct hv_sim_dom	*d;
	char			 name[32], path[PATH_MAX];

	if (sim_begin(&t, dir, 1, err) == -1)
		return -1;
	if ((d = sim_dom(t.h, domid)) == NULL) {
		sim_end(&t);
		return mig_seterr(err, MIG_E_NOTFOUND, "no domain %" PRIu32,
		    domid);
	}
	sim_dom_remove(t.h, d);
	if (sim_commit(&t, err) == -1)
		return -1;
	sim_mem_unlink(dir, domid);
	sim_disks_unlink(dir, domid);
	/* Domids are never reused: no save can want this lock again. */
	snprintf(name, sizeof(name), "save.%" PRIu32, domid);
	(void)unlink(sim_path(dir, name, path, sizeof(path)));
	return 0;
}

int
hv_sim_fault(const char *dir, const char *knob, const char *value,
    struct mig_err *err)
{
	return sim_faults_set(dir, knob, value, err);
}

int
hv_sim_checksum(const char *dir, uint32_t domid, char hex[65],
    struct mig_err *err)
{
	return sim_mem_sha256(dir, domid, hex, err);
}
