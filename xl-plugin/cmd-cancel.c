/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xl-reloc cancel JOB */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "xl-reloc.h"

int
cancel_parse(const struct xr_cmd *self, int argc, char **argv,
    struct cancel_args *a, struct mig_err *err)
{
	int	i;

	memset(a, 0, sizeof(*a));
	if ((i = args_parse(self, argc, argv, a, &a->help, err)) == -1)
		return -1;
	if (a->help)
		return 0;
	return args_uint("cancel: JOB", argv[i], 1, UINT64_MAX, &a->job, err);
}

int
cancel_json(char *buf, size_t len, uint64_t job, int st, const char *why)
{
	char	text[MIG_ERRLEN * 6 + 3];

	if (why == NULL)
		return snprintf(buf, len, XR_JSON_OPEN "\"job\":%" PRIu64
		    ",\"cancel\":\"delivered\"}", job);
	json_string(text, sizeof(text), why);
	return snprintf(buf, len, XR_JSON_OPEN "\"job\":%" PRIu64
	    ",\"cancel\":\"failed\",\"exit\":%d,\"error\":%s}", job, st,
	    text);
}

static int
accepted(const struct ctl_msg *m, void *arg)
{
	return m->type == CTL_ACCEPTED && m->u.job == *(uint64_t *)arg;
}

int
cmd_cancel(const struct xr_cmd *self, const struct xr_global *g, int argc,
    char **argv)
{
	struct cancel_args	a;
	struct xr_client	cl;
	struct ctl_msg		m;
	struct mig_err		err;
	char			line[XR_LINE_MAX];
	int			st;

	if ((st = cmd_parsed(self, cancel_parse(self, argc, argv, &a, &err),
	    &a.help, &err)) != -1)
		return st;
	if ((st = client_open(g, &cl, &err)) != CTL_ST_OK) {
		fprintf(stderr, "xl-reloc: %s\n", err.msg);
		return st;
	}
	memset(&m, 0, sizeof(m));
	m.type = CTL_CANCEL;
	m.u.job = a.job;
	st = client_ask(&cl, &m, accepted, &a.job, &err);
	client_close(&cl);
	if (st != CTL_ST_OK)
		fprintf(stderr, "xl-reloc: cancel job %" PRIu64 ": %s\n", a.job,
		    err.msg);
	if (a.json) {
		cancel_json(line, sizeof(line), a.job, st,
		    st == CTL_ST_OK ? NULL : err.msg);
		printf("%s\n", line);
	} else if (st == CTL_ST_OK)
		/* The outcome goes to the client that started the job. */
		printf("job %" PRIu64 ": cancel delivered; 'xl-reloc jobs' "
		    "shows when it has rolled back\n", a.job);
	return st;
}
