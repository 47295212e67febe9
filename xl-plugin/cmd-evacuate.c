/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc evacuate --to HOST[,HOST...] [options] [DOMAIN...]: empty this
 * host.  relocd says which domains run here (DOMAINS) and how much memory
 * each target has free (PROBE); a pure planner assigns domains to targets;
 * then at most --parallel migrations run at once, each a MIGRATE job on its
 * own control connection.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/proto.h"
#include "xl-reloc.h"

struct evac_run {
	struct evac_dom		*doms;
	size_t			 ndoms;
	struct evac_target	 tgt[EVAC_TARGETS_MAX];
	size_t			 ntgt;
	const struct evacuate_args *a;
	int			 worst;		/* highest exit status seen */
};

int
evacuate_take_to(void *args, const char *list, struct mig_err *err)
{
	struct evacuate_args	*a = args;
	const char		*p = list, *e;
	size_t			 n;

	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n > CTL_HOST_MAX)
			return mig_seterr(err, MIG_E_INVAL, "evacuate: bad "
			    "--to list '%s'", list);
		if (a->nto == EVAC_TARGETS_MAX)
			return mig_seterr(err, MIG_E_INVAL, "evacuate: more "
			    "than %d targets", EVAC_TARGETS_MAX);
		memcpy(a->to[a->nto], p, n);
		a->to[a->nto++][n] = '\0';
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

int
evacuate_parse(const struct xr_cmd *self, int argc, char **argv,
    struct evacuate_args *a, struct mig_err *err)
{
	int	i, first;

	memset(a, 0, sizeof(*a));
	a->parallel = 1;
	if ((first = args_parse(self, argc, argv, a, &a->help, err)) == -1)
		return -1;
	if (a->help)
		return 0;
	a->plain = a->transport == XR_PLAIN;
	/* relocd.conf names no peers, so there is nowhere to guess. */
	if (a->nto == 0)
		return mig_seterr(err, MIG_E_INVAL, "evacuate: --to "
		    "HOST[,HOST...] is required");
	for (i = first; i < argc; i++)
		if (strlen(argv[i]) > CTL_DOMAIN_MAX)
			return mig_seterr(err, MIG_E_INVAL, "evacuate: domain "
			    "name longer than %d bytes", CTL_DOMAIN_MAX);
	a->domains = argv + first;
	a->ndomains = (size_t)(argc - first);
	return 0;
}

size_t
evac_plan(struct evac_dom *d, size_t nd, struct evac_target *t, size_t nt)
{
	bool	*placed;
	size_t	 i, j, k, unplaced = 0;
	int	 best, big;

	if ((placed = calloc(nd + 1, sizeof(*placed))) == NULL)
		return nd;
	for (i = 0; i < nd; i++)
		d[i].target = -1;
	/* Largest first: the big ones are the hard ones to fit. */
	for (k = 0; k < nd; k++) {
		big = -1;
		for (i = 0; i < nd; i++)
			if (!placed[i] && (big == -1 ||
			    d[i].mem_kib > d[big].mem_kib))
				big = (int)i;
		placed[big] = true;
		best = -1;
		for (j = 0; j < nt; j++)
			if (t[j].free_kib >= d[big].mem_kib && (best == -1 ||
			    t[j].free_kib > t[best].free_kib))
				best = (int)j;
		if (best == -1) {
			unplaced++;
			continue;
		}
		d[big].target = best;
		t[best].free_kib -= d[big].mem_kib;
	}
	free(placed);
	return unplaced;
}

static void
note(struct evac_run *r, int status)
{
	if (status > r->worst)
		r->worst = status;
}

static bool
named(const struct evacuate_args *a, const char *name)
{
	size_t	i;

	if (a->ndomains == 0)
		return true;
	for (i = 0; i < a->ndomains; i++)
		if (strcmp(a->domains[i], name) == 0)
			return true;
	return false;
}

struct domlist {
	struct evac_run	*r;
	bool		*seen;		/* per named domain */
};

static int
take_domain(const struct ctl_msg *m, void *arg)
{
	struct domlist		*dl = arg;
	struct evac_run		*r = dl->r;
	const struct ctl_domain	*d = &m->u.domain;
	struct evac_dom		*nd;
	size_t			 i;

	if (m->type == CTL_DOMAINS_END)
		return 1;
	if (m->type != CTL_DOMAIN || d->domid == 0 || !named(r->a, d->name))
		return 0;
	for (i = 0; i < r->a->ndomains; i++)
		if (strcmp(r->a->domains[i], d->name) == 0)
			dl->seen[i] = true;
	if (d->state != CTL_DS_RUNNING && d->state != CTL_DS_PAUSED) {
		fprintf(stderr, "xl-reloc: evacuate: %s is %s: skipped\n",
		    d->name, ctl_dom_state_name(d->state));
		note(r, CTL_ST_REFUSED);
		return 0;
	}
	if ((nd = reallocarray(r->doms, r->ndoms + 1, sizeof(*nd))) == NULL)
		return -1;
	r->doms = nd;
	memset(&nd[r->ndoms], 0, sizeof(*nd));
	snprintf(nd[r->ndoms].name, sizeof(nd->name), "%s", d->name);
	nd[r->ndoms++].mem_kib = d->mem_kib;
	return 0;
}

static int
list_domains(struct evac_run *r, struct xr_client *cl, struct mig_err *err)
{
	struct domlist	dl = { r, NULL };
	struct ctl_msg	m;
	size_t		i;
	int		st;

	if ((dl.seen = calloc(r->a->ndomains + 1, sizeof(bool))) == NULL) {
		mig_seterr(err, MIG_E_NOMEM, "evacuate: out of memory");
		return CTL_ST_FAILED;
	}
	memset(&m, 0, sizeof(m));
	m.type = CTL_DOMAINS;
	st = client_ask(cl, &m, take_domain, &dl, err);
	for (i = 0; st == CTL_ST_OK && i < r->a->ndomains; i++)
		if (!dl.seen[i]) {
			fprintf(stderr, "xl-reloc: evacuate: no domain '%s' "
			    "here\n", r->a->domains[i]);
			note(r, CTL_ST_NOTFOUND);
		}
	free(dl.seen);
	return st;
}

static int
take_probed(const struct ctl_msg *m, void *arg)
{
	if (m->type != CTL_PROBED)
		return 0;
	*(struct ctl_probed *)arg = m->u.probed;
	return 1;
}

static int
probe_targets(struct evac_run *r, struct xr_client *cl, struct mig_err *err)
{
	struct ctl_msg		m;
	struct ctl_probed	p;
	size_t			i;
	int			st;

	for (i = 0; i < r->a->nto; i++) {
		memset(&m, 0, sizeof(m));
		m.type = CTL_PROBE;
		snprintf(m.u.probe.host, sizeof(m.u.probe.host), "%s",
		    r->a->to[i]);
		m.u.probe.port = r->a->port;
		m.u.probe.flags = r->a->plain ? 0 : CTL_PF_TLS;
		st = client_ask(cl, &m, take_probed, &p, err);
		if (st != CTL_ST_OK)
			return st;
		snprintf(r->tgt[i].host, sizeof(r->tgt[i].host), "%s",
		    r->a->to[i]);
		/* An unreachable target takes nothing, but is not fatal. */
		r->tgt[i].free_kib = p.status == CTL_ST_OK ? p.mem_free_kib : 0;
		if (p.status != CTL_ST_OK)
			fprintf(stderr, "xl-reloc: evacuate: target %s %s: "
			    "%s\n", r->a->to[i], p.status == CTL_ST_REFUSED ?
			    "refused us" : "is unreachable", p.text);
	}
	r->ntgt = r->a->nto;
	return CTL_ST_OK;
}

static void
print_plan(const struct evac_run *r)
{
	char	name[CTL_DOMAIN_MAX * 6 + 3], host[CTL_HOST_MAX * 6 + 3];
	size_t	i;

	if (!r->a->json)
		printf("%-24s %10s  %s\n", "DOMAIN", "MiB", "TARGET");
	for (i = 0; i < r->ndoms; i++) {
		const struct evac_dom *d = &r->doms[i];
		const char *t = d->target >= 0 ? r->tgt[d->target].host : NULL;

		if (r->a->json) {
			json_string(name, sizeof(name), d->name);
			if (t != NULL)
				json_string(host, sizeof(host), t);
			printf(XR_JSON_OPEN "\"event\":\"plan\",\"domain\":%s,\"mem_kib\":"
			    "%" PRIu64 ",\"target\":%s}\n", name, d->mem_kib,
			    t != NULL ? host : "null");
		} else
			printf("%-24s %10.1f  %s\n", d->name,
			    (double)d->mem_kib / 1024, t != NULL ? t :
			    "(fits nowhere: stays)");
	}
	fflush(stdout);
}

static void
print_outcome(const struct evac_run *r, const struct evac_dom *d,
    int status, const char *text, uint64_t ms)
{
	char	name[CTL_DOMAIN_MAX * 6 + 3], host[CTL_HOST_MAX * 6 + 3];
	char	t[CTL_TEXT_MAX * 6 + 3], el[32];
	const char *target = d->target >= 0 ? r->tgt[d->target].host : "-";

	if (r->a->json) {
		json_string(name, sizeof(name), d->name);
		json_string(host, sizeof(host), target);
		json_string(t, sizeof(t), text);
		printf(XR_JSON_OPEN "\"event\":\"outcome\",\"domain\":%s,\"target\":%s,"
		    "\"status\":\"%s\",\"exit\":%d,\"text\":%s,\"total_ms\":%"
		    PRIu64 "}\n", name, host, ctl_status_name(status), status,
		    t, ms);
	} else {
		fmt_duration(el, sizeof(el), ms);
		printf("%-24s %-24s %-26s %8s  %s\n", d->name, target,
		    ctl_status_name(status), el, text);
	}
	fflush(stdout);
}

static void
run_migrations(struct evac_run *r, const struct xr_global *g)
{
	struct job_watch	 w[EVAC_PARALLEL_MAX], *act[EVAC_PARALLEL_MAX];
	size_t			 idx[EVAC_PARALLEL_MAX];
	char			 what[EVAC_PARALLEL_MAX][CTL_DOMAIN_MAX +
				    CTL_HOST_MAX + 32];
	struct view		 quiet = { .mode = VIEW_QUIET, .out = stdout,
				    .last_phase = -1 };
	struct ctl_msg		 m;
	size_t			 next = 0, nact = 0, i, j;

	if (!r->a->json)
		printf("\n%-24s %-24s %-26s %8s  %s\n", "DOMAIN", "TARGET",
		    "RESULT", "TIME", "REASON");
	client_sigint_setup();
	for (;;) {
		/* Start more while there are free slots and no Ctrl-C. */
		while (nact < r->a->parallel && next < r->ndoms &&
		    client_sigint_armed()) {
			const struct evac_dom *d = &r->doms[next];

			if (d->target < 0) {
				print_outcome(r, d, CTL_ST_REFUSED, "no target "
				    "has the memory", 0);
				note(r, CTL_ST_REFUSED);
				next++;
				continue;
			}
			memset(&m, 0, sizeof(m));
			m.type = CTL_MIGRATE;
			snprintf(m.u.migrate.domain, sizeof(m.u.migrate.domain),
			    "%s", d->name);
			snprintf(m.u.migrate.host, sizeof(m.u.migrate.host),
			    "%s", r->tgt[d->target].host);
			m.u.migrate.port = r->a->port;
			m.u.migrate.flags = CTL_MF_LIVE |
			    (r->a->plain ? 0 : CTL_MF_TLS);
			/* Slot nact is free: finished ones are compacted. */
			snprintf(what[nact], sizeof(what[nact]), "migrate %s "
			    "to %s", d->name, r->tgt[d->target].host);
			watch_start(&w[nact], g, &m, &quiet, what[nact]);
			act[nact] = &w[nact];
			idx[nact++] = next++;
		}
		if (nact == 0)
			break;
		watch_poll(act, nact);
		for (i = 0; i < nact; ) {
			if (!act[i]->done) {
				i++;
				continue;
			}
			print_outcome(r, &r->doms[idx[i]], act[i]->status,
			    act[i]->why, act[i]->res.total_ms);
			note(r, act[i]->status);
			watch_end(act[i]);
			/* Keep w[] and act[] the same order: move the last
			 * slot into this one. */
			for (j = i; j + 1 < nact; j++) {
				w[j] = w[j + 1];
				idx[j] = idx[j + 1];
				memcpy(what[j], what[j + 1], sizeof(what[j]));
				w[j].what = what[j];
				act[j] = &w[j];
			}
			nact--;
		}
	}
	for (; next < r->ndoms; next++) {
		print_outcome(r, &r->doms[next], CTL_ST_CANCELLED, "not "
		    "started (interrupted)", 0);
		note(r, CTL_ST_CANCELLED);
	}
	client_sigint_restore();
}

int
cmd_evacuate(const struct xr_cmd *self, const struct xr_global *g, int argc,
    char **argv)
{
	struct evacuate_args	a;
	struct evac_run		r;
	struct xr_client	cl;
	struct mig_err		err;
	size_t			unplaced;
	int			st;

	if ((st = cmd_parsed(self, evacuate_parse(self, argc, argv, &a, &err),
	    &a.help, &err)) != -1)
		return st;
	if (a.transport == 0)
		a.plain = !client_tls_default(g);
	memset(&r, 0, sizeof(r));
	r.a = &a;
	if ((st = client_open(g, &cl, &err)) != CTL_ST_OK) {
		fprintf(stderr, "xl-reloc: %s\n", err.msg);
		return st;
	}
	if ((st = list_domains(&r, &cl, &err)) != CTL_ST_OK ||
	    (st = probe_targets(&r, &cl, &err)) != CTL_ST_OK) {
		fprintf(stderr, "xl-reloc: evacuate: %s\n", err.msg);
		client_close(&cl);
		free(r.doms);
		return st;
	}
	client_close(&cl);
	unplaced = evac_plan(r.doms, r.ndoms, r.tgt, r.ntgt);
	print_plan(&r);
	if (unplaced > 0) {
		fprintf(stderr, "xl-reloc: evacuate: %zu domain%s fit%s on no "
		    "target and stay%s here\n", unplaced, unplaced == 1 ? "" :
		    "s", unplaced == 1 ? "s" : "", unplaced == 1 ? "s" : "");
		note(&r, CTL_ST_REFUSED);
	}
	if (!a.dry_run)
		run_migrations(&r, g);
	free(r.doms);
	return r.worst;
}
