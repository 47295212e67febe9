/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host file: host facts and the domain table in one small text file,
 * so that one rename() changes both at once.  Every process that opens
 * the host (relocd's parent, its workers, simctl) reads and writes it
 * under flock() on HOSTDIR/lock: several workers of one daemon share a
 * host and must never lose each other's changes.
 */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#define HOSTFILE	"host"
#define LOCKFILE	"lock"

const char *
sim_path(const char *dir, const char *file, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, file);
	return buf;
}

void
sim_uuid_random(uint8_t u[16])
{
	size_t	i;

	if (getrandom(u, 16, 0) != 16)
		for (i = 0; i < 16; i++)	/* uniqueness is enough here */
			u[i] = (uint8_t)(rand() ^ getpid() ^ i);
	u[6] = (u[6] & 0x0f) | 0x40;	/* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char	*end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int
state_parse(const char *s)
{
	int	i;

	for (i = MIG_HV_DOM_RUNNING; i <= MIG_HV_DOM_DYING; i++)
		if (strcmp(s, mig_hv_domstate_name(i)) == 0)
			return i;
	return -1;
}

int
sim_type_parse(const char *s)
{
	int	i;

	for (i = MIG_HV_TYPE_UNKNOWN; i <= MIG_HV_TYPE_HVM; i++)
		if (strcmp(s, mig_hv_domtype_name(i)) == 0)
			return i;
	return -1;
}

/* LIFE is "R:AAAAAAA": the shutdown reason, then one action digit per
 * reason (enum mig_hv_action). */
static int
life_parse(const char *s, struct hv_sim_dom *d)
{
	int	i;

	if (strlen(s) != 2 + MIG_HV_SHUTDOWN__MAX || s[1] != ':' ||
	    s[0] < '0' || s[0] >= '0' + MIG_HV_SHUTDOWN__MAX)
		return -1;
	d->reason = s[0] - '0';
	for (i = 0; i < MIG_HV_SHUTDOWN__MAX; i++) {
		if (s[2 + i] < '0' || s[2 + i] >= '0' + MIG_HV_ACT__MAX)
			return -1;
		d->on[i] = s[2 + i] - '0';
	}
	return 0;
}

/* "dom ID STATE TYPE MEMKIB VCPUS RATE CAP LIFE UUID NAME": the name
 * last, as the rest of the line.  "shut down" is stored as "shutdown". */
static int
dom_parse(char *line, struct hv_sim_dom *d)
{
	char		*f[10], *name, *save = NULL;
	uint64_t	 v[6];
	int		 i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < 10; i++)
		if ((f[i] = strtok_r(i == 0 ? line : NULL, " ", &save)) == NULL)
			return -1;
	if ((name = strtok_r(NULL, "", &save)) == NULL ||
	    strlen(name) >= sizeof(d->name))
		return -1;
	if (parse_u64(f[1], &v[0]) == -1 || parse_u64(f[4], &v[1]) == -1 ||
	    parse_u64(f[5], &v[2]) == -1 || parse_u64(f[6], &v[3]) == -1 ||
	    parse_u64(f[7], &v[4]) == -1 || v[0] > UINT32_MAX ||
	    v[2] > UINT32_MAX || v[4] > INT32_MAX)
		return -1;
	if (strcmp(f[2], "shutdown") == 0)
		d->state = MIG_HV_DOM_SHUTDOWN;
	else if ((d->state = state_parse(f[2])) == -1)
		return -1;
	if ((d->type = sim_type_parse(f[3])) == -1 || life_parse(f[8], d) == -1 ||
	    mig_hv_uuid_parse(f[9], d->uuid) == -1)
		return -1;
	d->domid = (uint32_t)v[0];
	d->mem_kib = v[1];
	d->vcpus = (uint32_t)v[2];
	d->dirty_rate = v[3];
	d->cap = (int)v[4];
	memcpy(d->name, name, strlen(name) + 1);
	return 0;
}

int
sim_host_set(struct sim_host *h, const char *key, const char *val,
    struct mig_err *err)
{
	uint64_t	v = 0;
	int		num;

	num = parse_u64(val, &v) == 0;
	if (strcmp(key, "xen_extra") == 0 || strcmp(key, "arch") == 0) {
		char	*dst = key[0] == 'x' ? h->xen_extra : h->arch;

		if (strlen(val) >= sizeof(h->arch) || strchr(val, ' '))
			return mig_seterr(err, MIG_E_INVAL,
			    "host fact %s: bad value \"%s\"", key, val);
		strcpy(dst, val);
		return 0;
	}
	if (!num)
		return mig_seterr(err, MIG_E_INVAL,
		    "host fact %s: \"%s\" is not a number", key, val);
#define SETU(field, max)						\
	if (strcmp(key, #field) == 0) {					\
		if (v > (max))						\
			return mig_seterr(err, MIG_E_INVAL,		\
			    "host fact %s: %s out of range", key, val);	\
		h->field = (__typeof__(h->field))v;			\
		return 0;						\
	}
	SETU(xen_major, 255)
	SETU(xen_minor, 255)
	SETU(page_size, 1 << 20)
	SETU(total_kib, 1ULL << 50)
	SETU(free_kib, 1ULL << 50)
	SETU(nr_cpus, 4096)
	SETU(pv_logdirty, 1)
	SETU(round_ms, 3600000)
	SETU(attach_disks, 1)
	SETU(next_domid, 0x7fef)
#undef SETU
	return mig_seterr(err, MIG_E_INVAL, "unknown host fact %s", key);
}

static int
host_parse(FILE *f, struct sim_host *h, const char *path, struct mig_err *err)
{
	char	 line[512], *key, *val;
	int	 lineno = 0;
	size_t	 n;

	memset(h, 0, sizeof(*h));
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		n = strlen(line);
		if (n == 0 || line[n - 1] != '\n')
			goto bad;
		line[n - 1] = '\0';
		if (strncmp(line, "dom ", 4) == 0) {
			if (h->ndoms == SIM_MAXDOMS ||
			    dom_parse(line, &h->doms[h->ndoms]) == -1)
				goto bad;
			h->ndoms++;
			continue;
		}
		key = line;
		if ((val = strchr(line, ' ')) == NULL)
			goto bad;
		*val++ = '\0';
		if (sim_host_set(h, key, val, NULL) == -1)
			goto bad;
	}
	if (ferror(f))
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	if (h->next_domid == 0)
		return mig_seterr(err, MIG_E_CORRUPT, "%s: not a simulated "
		    "host (no next_domid)", path);
	return 0;
bad:
	return mig_seterr(err, MIG_E_CORRUPT, "%s: line %d is malformed",
	    path, lineno);
}

static void
host_print(FILE *f, const struct sim_host *h)
{
	const struct hv_sim_dom	*d;
	char			 u[37];
	int			 i, k;

	fprintf(f, "xen_major %d\nxen_minor %d\n", h->xen_major, h->xen_minor);
	if (h->xen_extra[0] != '\0')
		fprintf(f, "xen_extra %s\n", h->xen_extra);
	fprintf(f, "arch %s\npage_size %" PRIu32 "\ntotal_kib %" PRIu64
	    "\nfree_kib %" PRIu64 "\nnr_cpus %" PRIu32 "\npv_logdirty %d\n"
	    "round_ms %" PRIu32 "\nattach_disks %d\nnext_domid %" PRIu32 "\n",
	    h->arch, h->page_size, h->total_kib, h->free_kib, h->nr_cpus,
	    h->pv_logdirty, h->round_ms, h->attach_disks, h->next_domid);
	for (i = 0; i < h->ndoms; i++) {
		d = &h->doms[i];
		mig_hv_uuid_format(d->uuid, u);
		fprintf(f, "dom %" PRIu32 " %s %s %" PRIu64 " %" PRIu32 " %"
		    PRIu64 " %d %d:", d->domid,
		    d->state == MIG_HV_DOM_SHUTDOWN ? "shutdown" :
		    mig_hv_domstate_name(d->state),
		    mig_hv_domtype_name(d->type), d->mem_kib, d->vcpus,
		    d->dirty_rate, d->cap, d->reason);
		for (k = 0; k < MIG_HV_SHUTDOWN__MAX; k++)
			fputc('0' + d->on[k], f);
		fprintf(f, " %s %s\n", u, d->name);
	}
}

static int
host_load(const char *dir, struct sim_host *h, struct mig_err *err)
{
	char	 path[PATH_MAX];
	FILE	*f;
	int	 rc;

	sim_path(dir, HOSTFILE, path, sizeof(path));
	if ((f = fopen(path, "re")) == NULL)
		return mig_seterrno(err, errno == ENOENT ? MIG_E_NOTFOUND :
		    MIG_E_IO, "simulated host %s", path);
	rc = host_parse(f, h, path, err);
	fclose(f);
	return rc;
}

/* Write a temporary file and rename it over: readers never see half. */
static int
host_store(const char *dir, const struct sim_host *h, struct mig_err *err)
{
	char	 path[PATH_MAX], tmp[PATH_MAX + 32];
	FILE	*f;
	int	 fd;

	sim_path(dir, HOSTFILE, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)gettid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", tmp);
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		return mig_seterrno(err, MIG_E_IO, "%s", tmp);
	}
	host_print(f, h);
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0) {
		unlink(tmp);
		return mig_seterrno(err, MIG_E_IO, "%s", tmp);
	}
	if (rename(tmp, path) == -1) {
		unlink(tmp);
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	}
	return 0;
}

int
sim_begin(struct sim_txn *t, const char *dir, int excl, struct mig_err *err)
{
	char	path[PATH_MAX];

	t->dir = dir;
	t->h = NULL;
	sim_path(dir, LOCKFILE, path, sizeof(path));
	/* A lock per open: threads of one process exclude each other too. */
	if ((t->lockfd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return mig_seterrno(err, errno == ENOENT ? MIG_E_NOTFOUND :
		    MIG_E_IO, "simulated host %s", path);
	while (flock(t->lockfd, excl ? LOCK_EX : LOCK_SH) == -1)
		if (errno != EINTR) {
			mig_seterrno(err, MIG_E_IO, "lock %s", path);
			goto fail;
		}
	if ((t->h = malloc(sizeof(*t->h))) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "simulated host");
		goto fail;
	}
	if (host_load(dir, t->h, err) == -1)
		goto fail;
	return 0;
fail:
	sim_end(t);
	return -1;
}

int
sim_commit(struct sim_txn *t, struct mig_err *err)
{
	int	rc;

	rc = host_store(t->dir, t->h, err);
	sim_end(t);
	return rc;
}

void
sim_end(struct sim_txn *t)
{
	free(t->h);
	t->h = NULL;
	if (t->lockfd != -1)
		close(t->lockfd);	/* drops the flock */
	t->lockfd = -1;
}

struct hv_sim_dom *
sim_dom(struct sim_host *h, uint32_t domid)
{
	int	i;

	for (i = 0; i < h->ndoms; i++)
		if (h->doms[i].domid == domid)
			return &h->doms[i];
	return NULL;
}

struct hv_sim_dom *
sim_dom_byname(struct sim_host *h, const char *name)
{
	int	i;

	for (i = 0; i < h->ndoms; i++)
		if (strcmp(h->doms[i].name, name) == 0)
			return &h->doms[i];
	return NULL;
}

struct hv_sim_dom *
sim_dom_add(struct sim_host *h, const char *name, uint64_t mem_kib,
    struct mig_err *err)
{
	struct hv_sim_dom	*d;

	if (*name == '\0' || strlen(name) >= MIG_HV_NAMELEN ||
	    strchr(name, '\n') != NULL)
		return mig_seterr(err, MIG_E_INVAL, "bad domain name"), NULL;
	if (sim_dom_byname(h, name) != NULL)
		return mig_seterr(err, MIG_E_INVAL, "a domain called %s "
		    "already exists", name), NULL;
	if (mem_kib > h->free_kib)
		return mig_seterr(err, MIG_E_NOMEM, "domain %s: not enough "
		    "free memory (needs %" PRIu64 " KiB, %" PRIu64 " KiB free)",
		    name, mem_kib, h->free_kib), NULL;
	if (h->ndoms == SIM_MAXDOMS || h->next_domid >= 0x7ff0)
		return mig_seterr(err, MIG_E_HV, "domain %s: no domain id "
		    "left on the simulated host", name), NULL;
	d = &h->doms[h->ndoms++];
	memset(d, 0, sizeof(*d));
	d->domid = h->next_domid++;
	d->state = MIG_HV_DOM_RUNNING;
	d->type = MIG_HV_TYPE_PV;
	d->reason = MIG_HV_SHUTDOWN_UNKNOWN;
	d->mem_kib = mem_kib;
	d->vcpus = 1;
	memcpy(d->name, name, strlen(name) + 1);
	h->free_kib -= mem_kib;
	return d;
}

void
sim_dom_remove(struct sim_host *h, struct hv_sim_dom *d)
{
	h->free_kib += d->mem_kib;
	if (h->free_kib > h->total_kib)
		h->free_kib = h->total_kib;
	*d = h->doms[--h->ndoms];
}

int
sim_state_init(const char *dir, uint64_t mem_mib, int major, int minor,
    struct mig_err *err)
{
	struct sim_host	*h;
	char		 path[PATH_MAX];
	int		 fd, rc;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return mig_seterrno(err, MIG_E_IO, "%s", dir);
	sim_path(dir, HOSTFILE, path, sizeof(path));
	if (access(path, F_OK) == 0)
		return mig_seterr(err, MIG_E_INVAL, "%s: a simulated host "
		    "is already there", dir);
	sim_path(dir, LOCKFILE, path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	close(fd);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "simulated host");
	h->xen_major = major;
	h->xen_minor = minor;
	strcpy(h->arch, "x86_64");
	h->page_size = SIM_PAGE;
	h->total_kib = h->free_kib = mem_mib * 1024;
	h->nr_cpus = 2;
	h->pv_logdirty = 1;
	h->next_domid = 1;
	rc = host_store(dir, h, err);
	free(h);
	return rc;
}

int
sim_dom_get(const char *dir, uint32_t domid, struct hv_sim_dom *out,
    struct mig_err *err)
{
	struct sim_txn		 t;
	struct hv_sim_dom	*d;
	int			 rc = 0;

	if (sim_begin(&t, dir, 0, err) == -1)
		return -1;
	if ((d = sim_dom(t.h, domid)) != NULL)
		*out = *d;
	else
		rc = mig_seterr(err, MIG_E_NOTFOUND, "no domain %" PRIu32,
		    domid);
	sim_end(&t);
	return rc;
}

int
sim_dom_set_state(const char *dir, uint32_t domid, unsigned from, int to,
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
	if ((SIM_ST(d->state) & from) == 0) {
		mig_seterr(err, MIG_E_HV, "domain %" PRIu32 " is %s, cannot "
		    "become %s", domid, mig_hv_domstate_name(d->state),
		    mig_hv_domstate_name(to));
		sim_end(&t);
		return -1;
	}
	if (d->state == to) {
		sim_end(&t);
		return 0;
	}
	d->state = to;
	/* As Xen: a suspend is a shutdown for that reason, and a domain
	 * that runs again has none. */
	d->reason = to == MIG_HV_DOM_SUSPENDED ? MIG_HV_SHUTDOWN_SUSPEND :
	    MIG_HV_SHUTDOWN_UNKNOWN;
	return sim_commit(&t, err);
}
