/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The save thread: what libxl_domain_suspend and libxl-save-helper do,
 * writing the same bytes (libxl stream v2, no xl header: xl writes that
 * itself) with the same shape of rounds and progress reports:
 *
 *   live:     round 0 sends every page, then each round sends what the
 *             guest dirtied during the one before, until fewer than 50
 *             pages are dirty or 5 rounds have been sent (libxenguest's
 *             policy); then suspend and send the rest.
 *   non-live: suspend, then send every page once.
 *
 * The guest dirties rate x round-time pages (scaled by its cap) picked
 * by a PRNG seeded from domid and round, so a run is reproducible when
 * the host's round_ms fixes the round time.
 */
#include <sys/file.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"
#include "mig/stream.h"
#include "streamgen.h"

#define MAX_ITERATIONS	5	/* libxenguest's SPP_MAX_ITERATIONS */
#define TARGET_DIRTY	50	/* and its SPP_TARGET_DIRTY_COUNT */

struct saver {
	struct sim_job		*j;
	struct sg		 g;
	struct hv_sim_dom	 d;
	uint32_t		 round_ms;
	int			 logdirty;
	int			 memfd;
	int			 memerr;
	uint64_t		 npages;
	uint8_t			*dirty;		/* one byte per pfn */
	uint64_t		*pfns;
};

static int
sg_out(void *arg, const void *p, size_t len)
{
	return sim_job_write(arg, p, len);
}

static void
page_in(void *arg, uint64_t pfn, uint8_t *page)
{
	struct saver	*s = arg;

	if (sim_mem_read(s->memfd, pfn, page) == -1) {
		memset(page, 0, SIM_PAGE);
		s->memerr = 1;
	}
}

/* The failure of a streamgen call: the writer's error, or its own. */
static int
sg_failed(struct saver *s)
{
	if (s->j->err.code == MIG_OK)
		mig_seterr(&s->j->err, s->memerr ? MIG_E_IO : MIG_E_NOMEM,
		    "save of domain %" PRIu32 ": %s", s->d.domid, s->memerr ?
		    "cannot read its memory" : "stream writer failed");
	return -1;
}

/* The domain and the host as they are now: rate and cap may change
 * between rounds (simctl, auto-converge). */
static int
refresh(struct saver *s)
{
	struct sim_txn		 t;
	struct hv_sim_dom	*d;

	if (sim_begin(&t, s->j->dir, 0, &s->j->err) == -1)
		return -1;
	if ((d = sim_dom(t.h, s->d.domid)) == NULL) {
		sim_end(&t);
		return mig_seterr(&s->j->err, MIG_E_NOTFOUND, "domain %"
		    PRIu32 " vanished during its save", s->d.domid);
	}
	s->d = *d;
	s->round_ms = t.h->round_ms;
	s->logdirty = t.h->pv_logdirty;
	sim_end(&t);
	return 0;
}

static void
progress(struct saver *s, int kind, unsigned round, uint64_t done,
    uint64_t total)
{
	struct mig_hv_progress	p;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	p.round = round;
	p.pages_done = done;
	p.pages_total = total;
	p.dirty_left = total - done;
	sim_job_progress(s->j, &p);
}

/* Sends the dirty pages (and cleans them), reporting every batch as
 * libxenguest reports every 4 MiB. */
static int
send_round(struct saver *s, unsigned round)
{
	uint64_t	pfn, n = 0, done, k;

	for (pfn = 0; pfn < s->npages; pfn++)
		if (s->dirty[pfn]) {
			s->pfns[n++] = pfn;
			s->dirty[pfn] = 0;
		}
	progress(s, MIG_HV_PROGRESS_ROUND, round, 0, n);
	for (done = 0; done < n; done += k) {
		k = n - done < MIG_PAGE_BATCH_MAX ? n - done :
		    MIG_PAGE_BATCH_MAX;
		if (sg_pages(&s->g, s->pfns + done, k, page_in, s) == -1 ||
		    s->memerr)
			return sg_failed(s);
		progress(s, MIG_HV_PROGRESS_ROUND, round, done + k, n);
	}
	return sim_job_flush(s->j);
}

static uint64_t
rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* What the running guest wrote while the round took elapsed_ns;
 * returns how many pages are dirty now. */
static int64_t
guest_runs(struct saver *s, unsigned round, uint64_t elapsed_ns)
{
	uint64_t	rng, i, n, pfn, ndirty = 0;
	double		want;

	if (s->d.state == MIG_HV_DOM_RUNNING) {
		if (s->j->faults.never_converge)
			n = s->npages;
		else {
			want = (double)s->d.dirty_rate * (double)elapsed_ns /
			    1e9;
			if (s->d.cap > 0 && s->d.cap < 100)
				want = want * s->d.cap / 100;
			n = want >= (double)s->npages * 4 ? s->npages * 4 :
			    (uint64_t)want;
		}
		rng = ((uint64_t)s->d.domid << 32 | round) ^
		    0x9e3779b97f4a7c15ULL;
		for (i = 0; i < n; i++) {
			pfn = s->j->faults.never_converge ? i :
			    rng_next(&rng) % s->npages;
			if (sim_mem_touch(s->memfd, pfn) == -1)
				return mig_seterrno(&s->j->err, MIG_E_IO,
				    "memory of domain %" PRIu32, s->d.domid);
			s->dirty[pfn] = 1;
		}
	}
	for (i = 0; i < s->npages; i++)
		ndirty += s->dirty[i];
	return (int64_t)ndirty;
}

static int
precopy(struct saver *s, unsigned *round)
{
	uint64_t	t0, elapsed;
	int64_t		ndirty;
	char		point[16];

	for (*round = 0;; (*round)++) {
		/* "roundN": a test's abort lands before round N, however
		 * fast the rounds before it ran. */
		snprintf(point, sizeof(point), "round%u", *round);
		sim_hold_until(s->j->dir, point, &s->j->aborted);
		if (sim_job_aborted(s->j))
			return sim_job_cancelled(s->j);
		t0 = mig_now_ns();
		if (send_round(s, *round) == -1 || refresh(s) == -1)
			return -1;
		elapsed = s->round_ms > 0 ? s->round_ms * 1000000ULL :
		    mig_now_ns() - t0;
		if ((ndirty = guest_runs(s, *round, elapsed)) == -1)
			return -1;
		if (ndirty < TARGET_DIRTY || *round + 1 >= MAX_ITERATIONS)
			break;
	}
	(*round)++;
	return 0;
}

static int
suspend(struct saver *s)
{
	struct sim_job	*j = s->j;

	if (sim_job_aborted(j))
		return sim_job_cancelled(j);
	if (j->faults.fail_suspend)
		return mig_seterr(&j->err, MIG_E_HV, "domain %" PRIu32 ": "
		    "guest did not suspend (simulated failure)", s->d.domid);
	if (sim_dom_set_state(j->dir, s->d.domid,
	    SIM_ST(MIG_HV_DOM_RUNNING) | SIM_ST(MIG_HV_DOM_PAUSED),
	    MIG_HV_DOM_SUSPENDED, &j->err) == -1)
		return -1;
	j->suspended = 1;
	progress(s, MIG_HV_PROGRESS_SUSPENDED, 0, 0, 0);
	sim_hold(j->dir, "suspended");
	return 0;
}

static int
save(struct saver *s)
{
	struct sim_job	*j = s->j;
	struct sg_opts	 o;
	unsigned	 round = 0;

	if (refresh(s) == -1)
		return -1;
	if (j->live && !s->logdirty && s->d.type == MIG_HV_TYPE_PV)
		return mig_seterr(&j->err, MIG_E_NOTSUP, "this hypervisor "
		    "cannot track dirty pages for PV guests (simulated)");
	s->npages = s->d.mem_kib / (SIM_PAGE / 1024);
	if ((s->memfd = sim_mem_open(j->dir, s->d.domid, &j->err)) == -1)
		return -1;
	if ((s->dirty = malloc(s->npages ? s->npages : 1)) == NULL ||
	    (s->pfns = calloc(s->npages ? s->npages : 1, 8)) == NULL)
		return mig_seterrno(&j->err, MIG_E_NOMEM, "save of domain %"
		    PRIu32, s->d.domid);
	memset(s->dirty, 1, s->npages);
	memset(&o, 0, sizeof(o));
	o.no_xl_header = true;
	o.nr_vcpus = s->d.vcpus;
	o.p2m_size = s->npages;
	o.hvm = s->d.type == MIG_HV_TYPE_PVH || s->d.type == MIG_HV_TYPE_HVM;
	if (sg_begin(&s->g, &o, sg_out, j) == -1)
		return sg_failed(s);
	if (j->live && precopy(s, &round) == -1)
		return -1;
	if (suspend(s) == -1 || send_round(s, round) == -1)
		return -1;
	progress(s, MIG_HV_PROGRESS_END, round, 0, 0);
	if (sg_end(&s->g) == -1)
		return sg_failed(s);
	return sim_job_flush(j);
}

void *
sim_save_main(void *arg)
{
	struct saver	s;

	memset(&s, 0, sizeof(s));
	s.j = arg;
	s.memfd = -1;
	s.d.domid = s.j->domid;
	(void)save(&s);
	if (s.memfd != -1)
		close(s.memfd);
	free(s.dirty);
	free(s.pfns);
	sim_job_done(s.j, MIG_HV_INVALID_DOMID);
	return NULL;
}
