/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xl-reloc jobs [--history] [--json] */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mig/proto.h"
#include "xl-reloc.h"

#define ROW_FMT	"%-6s %-12s %-16s %-24s %-13s %8s %9s"
#define HIST_FMT "%-6s %-12s %-16s %-24s %-8s %s"

int
jobs_parse(const struct xr_cmd *self, int argc, char **argv,
    struct jobs_args *a, struct mig_err *err)
{
	int	i;

	memset(a, 0, sizeof(*a));
	if ((i = args_parse(self, argc, argv, a, &a->help,
	    err)) == -1)
		return -1;
	if (a->help)
		return 0;
	if (i != argc)
		return mig_seterr(err, MIG_E_INVAL, "jobs: unexpected argument "
		    "'%s'", argv[i]);
	if (a->format[0] != '\0' && a->json)
		return mig_seterr(err, MIG_E_INVAL, "jobs: --json or --format, "
		    "not both");
	if (a->format[0] != '\0')
		return format_check("jobs", a->format, jobs_fields, err);
	return 0;
}

const char *const jobs_fields[] = { "job", "kind", "domain", "peer",
    "phase", "elapsed_ms", "bytes_wire", "pid", "outcome", "ended_ms",
    NULL };

/* The values of jobs_fields for j; the numbers in buf. */
void
jobs_values(const struct ctl_job *j, char buf[][64], const char **v)
{
	snprintf(buf[0], 64, "%" PRIu64, j->job);
	snprintf(buf[1], 64, "%" PRIu64, j->elapsed_ms);
	snprintf(buf[2], 64, "%" PRIu64, j->bytes_wire);
	snprintf(buf[3], 64, "%" PRId32, j->pid);
	snprintf(buf[4], 64, "%" PRIu64, j->ended_ms);
	v[0] = buf[0];
	v[1] = ctl_job_kind_name(j->kind);
	v[2] = j->domain;
	v[3] = j->peer;
	/* a finished job has no phase any more: its outcome says */
	v[4] = j->outcome[0] != '\0' ? "" : mig_phase_name(j->phase);
	v[5] = buf[1];
	v[6] = buf[2];
	v[7] = buf[3];
	v[8] = j->outcome;
	v[9] = buf[4];
}

int
jobs_header(char *buf, size_t len, bool history)
{
	if (history)
		return snprintf(buf, len, HIST_FMT, "JOB", "KIND", "DOMAIN",
		    "PEER", "OUTCOME", "ENDED");
	return snprintf(buf, len, ROW_FMT, "JOB", "KIND", "DOMAIN", "PEER",
	    "PHASE", "ELAPSED", "MiB");
}

int
jobs_row(char *buf, size_t len, const struct ctl_job *j)
{
	char		id[24], el[32], mib[32], when[32];
	time_t		t;
	struct tm	tm;

	snprintf(id, sizeof(id), "%" PRIu64, j->job);
	if (j->outcome[0] != '\0') {
		/* local time, as the journal's readers (people) expect */
		t = (time_t)(j->ended_ms / 1000);
		if (localtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
			snprintf(when, sizeof(when), "?");
		return snprintf(buf, len, HIST_FMT, id,
		    ctl_job_kind_name(j->kind), j->domain, j->peer, j->outcome,
		    when);
	}
	fmt_duration(el, sizeof(el), j->elapsed_ms);
	fmt_mib(mib, sizeof(mib), j->bytes_wire);
	return snprintf(buf, len, ROW_FMT, id, ctl_job_kind_name(j->kind),
	    j->domain, j->peer, mig_phase_name(j->phase), el, mib);
}

int
jobs_json_row(char *buf, size_t len, const struct ctl_job *j)
{
	char	dom[CTL_DOMAIN_MAX * 6 + 3], peer[CTL_HOST_MAX * 6 + 3];

	json_string(dom, sizeof(dom), j->domain);
	json_string(peer, sizeof(peer), j->peer);
	if (j->outcome[0] != '\0')
		return snprintf(buf, len, XR_JSON_OPEN "\"job\":%" PRIu64
		    ",\"kind\":\"%s\",\"domain\":%s,\"peer\":%s,"
		    "\"outcome\":\"%s\",\"ended_ms\":%" PRIu64 "}", j->job,
		    ctl_job_kind_name(j->kind), dom, peer, j->outcome,
		    j->ended_ms);
	return snprintf(buf, len, XR_JSON_OPEN "\"job\":%" PRIu64 ",\"kind\":\"%s\","
	    "\"domain\":%s,\"peer\":%s,\"phase\":\"%s\",\"elapsed_ms\":%"
	    PRIu64 ",\"bytes_wire\":%" PRIu64 ",\"pid\":%" PRId32 "}", j->job,
	    ctl_job_kind_name(j->kind), dom, peer, mig_phase_name(j->phase),
	    j->elapsed_ms, j->bytes_wire, j->pid);
}

static int
print_row(const struct ctl_msg *m, void *arg)
{
	const struct jobs_args	*a = arg;
	char			 line[XR_LINE_MAX];

	if (m->type == CTL_JOBS_END)
		return 1;
	if (m->type != CTL_JOB)
		return 0;
	if (a->format[0] != '\0') {
		char		 num[5][64];
		const char	*v[10];

		jobs_values(&m->u.jobrow, num, v);
		format_row(stdout, a->format, jobs_fields, v);
		return 0;
	}
	if (a->json)
		jobs_json_row(line, sizeof(line), &m->u.jobrow);
	else
		jobs_row(line, sizeof(line), &m->u.jobrow);
	printf("%s\n", line);
	return 0;
}

int
cmd_jobs(const struct xr_cmd *self, const struct xr_global *g, int argc,
    char **argv)
{
	struct jobs_args	a;
	struct xr_client	cl;
	struct ctl_msg		m;
	struct mig_err		err;
	char			line[XR_LINE_MAX];
	int			st;

	if ((st = cmd_parsed(self, jobs_parse(self, argc, argv, &a, &err),
	    &a.help, &err)) != -1)
		return st;
	if ((st = client_open(g, &cl, &err)) != CTL_ST_OK) {
		fprintf(stderr, "xl-reloc: %s\n", err.msg);
		return st;
	}
	if (!a.json && a.format[0] == '\0') {
		jobs_header(line, sizeof(line), a.history);
		printf("%s\n", line);
	}
	memset(&m, 0, sizeof(m));
	m.type = a.history ? CTL_HISTORY : CTL_JOBS;
	if ((st = client_ask(&cl, &m, print_row, &a, &err)) != CTL_ST_OK)
		fprintf(stderr, "xl-reloc: jobs: %s\n", err.msg);
	client_close(&cl);
	return st;
}
