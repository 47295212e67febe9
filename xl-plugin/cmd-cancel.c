/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xl-reloc cancel JOB */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "xl-reloc.h"

enum { O_HELP = 0x100 };

int
cancel_parse(int argc, char **argv, struct cancel_args *a,
    struct mig_err *err)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	int	c;

	memset(a, 0, sizeof(*a));
	args_begin();
	while ((c = args_next("cancel", argc, argv, "", longopts, err)) != -1) {
		if (c != O_HELP)
			return -1;
		a->help = true;
		return 0;
	}
	if (argc - optind != 1)
		return mig_seterr(err, MIG_E_INVAL, "cancel: expected one JOB "
		    "number, got %d arguments", argc - optind);
	return args_uint("cancel", "JOB", argv[optind], 1, UINT64_MAX, &a->job,
	    err);
}

static int
accepted(const struct ctl_msg *m, void *arg)
{
	return m->type == CTL_ACCEPTED && m->u.job == *(uint64_t *)arg;
}

int
cmd_cancel(const struct xr_global *g, int argc, char **argv)
{
	struct cancel_args	a;
	struct xr_client	cl;
	struct ctl_msg		m;
	struct mig_err		err;
	int			st;

	if (cancel_parse(argc, argv, &a, &err) == -1)
		return cmd_usage_error("cancel", err.msg);
	if (a.help) {
		cmd_usage(stdout, cmd_find("cancel"));
		return CTL_ST_OK;
	}
	if ((st = client_open(g, &cl, &err)) != CTL_ST_OK) {
		fprintf(stderr, "xl-reloc: %s\n", err.msg);
		return st;
	}
	memset(&m, 0, sizeof(m));
	m.type = CTL_CANCEL;
	m.u.job = a.job;
	st = client_ask(&cl, &m, accepted, &a.job, &err);
	client_close(&cl);
	if (st != CTL_ST_OK) {
		fprintf(stderr, "xl-reloc: cancel job %" PRIu64 ": %s\n", a.job,
		    err.msg);
		return st;
	}
	/* The outcome goes to the client that started the job. */
	printf("job %" PRIu64 ": cancel delivered; 'xl-reloc jobs' shows when "
	    "it has rolled back\n", a.job);
	return CTL_ST_OK;
}
