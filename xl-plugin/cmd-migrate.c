/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xl-reloc migrate [options] DOMAIN HOST */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "xl-reloc.h"

enum {
	O_TLS = 0x100, O_PLAIN, O_PORT, O_BANDWIDTH, O_MAXDOWN, O_AUTOCONV,
	O_DTABORT, O_COMPRESS, O_PAUSED, O_NONLIVE, O_LOCALHOST, O_JSON,
	O_HELP
};

int
migrate_parse(int argc, char **argv, struct migrate_args *a,
    struct mig_err *err)
{
	static const struct option longopts[] = {
		{ "tls", no_argument, NULL, O_TLS },
		{ "plain", no_argument, NULL, O_PLAIN },
		{ "port", required_argument, NULL, O_PORT },
		{ "bandwidth", required_argument, NULL, O_BANDWIDTH },
		{ "max-downtime", required_argument, NULL, O_MAXDOWN },
		{ "auto-converge", no_argument, NULL, O_AUTOCONV },
		{ "downtime-abort", no_argument, NULL, O_DTABORT },
		{ "compress", no_argument, NULL, O_COMPRESS },
		{ "paused", no_argument, NULL, O_PAUSED },
		{ "non-live", no_argument, NULL, O_NONLIVE },
		{ "localhost", no_argument, NULL, O_LOCALHOST },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl_migrate	*r = &a->req;
	uint64_t		 v;
	int			 c;

	memset(a, 0, sizeof(*a));
	/* TLS by default: a domain's memory holds its secrets. */
	r->flags = CTL_MF_TLS | CTL_MF_LIVE;
	args_begin();
	while ((c = args_next("migrate", argc, argv, "", longopts,
	    err)) != -1) {
		switch (c) {
		case O_TLS:
			r->flags |= CTL_MF_TLS;
			break;
		case O_PLAIN:
			r->flags &= ~CTL_MF_TLS;
			break;
		case O_PORT:
			if (args_port("migrate", optarg, &r->port, err) == -1)
				return -1;
			break;
		case O_BANDWIDTH:
			if (args_rate("migrate", optarg, &r->bandwidth,
			    err) == -1)
				return -1;
			break;
		case O_MAXDOWN:
			if (args_uint("migrate", "max-downtime", optarg, 1,
			    600000, &v, err) == -1)
				return -1;
			r->max_downtime_ms = (uint32_t)v;
			break;
		case O_AUTOCONV:
			r->flags |= CTL_MF_AUTO_CONVERGE;
			break;
		case O_DTABORT:
			r->flags |= CTL_MF_DOWNTIME_ABORT;
			break;
		case O_COMPRESS:
			r->flags |= CTL_MF_COMPRESS;
			break;
		case O_PAUSED:
			r->flags |= CTL_MF_PAUSED;
			break;
		case O_NONLIVE:
			r->flags &= ~CTL_MF_LIVE;
			break;
		case O_LOCALHOST:
			r->flags |= CTL_MF_LOCALHOST;
			break;
		case O_JSON:
			a->json = true;
			break;
		case O_HELP:
			a->help = true;
			return 0;
		default:
			return -1;
		}
	}
	if (argc - optind != 2)
		return mig_seterr(err, MIG_E_INVAL, "migrate: expected DOMAIN "
		    "and HOST, got %d argument%s", argc - optind,
		    argc - optind == 1 ? "" : "s");
	if (args_copy("migrate", argv[optind], r->domain, sizeof(r->domain),
	    err) == -1 || args_copy("migrate", argv[optind + 1], r->host,
	    sizeof(r->host), err) == -1)
		return -1;
	return 0;
}

int
cmd_migrate(const struct xr_global *g, int argc, char **argv)
{
	struct migrate_args	a;
	struct ctl_msg		m;
	struct mig_err		err;
	struct view		v;
	char			what[CTL_DOMAIN_MAX + CTL_HOST_MAX + 32];

	if (migrate_parse(argc, argv, &a, &err) == -1)
		return cmd_usage_error("migrate", err.msg);
	if (a.help) {
		cmd_usage(stdout, cmd_find("migrate"));
		return CTL_ST_OK;
	}
	memset(&m, 0, sizeof(m));
	m.type = CTL_MIGRATE;
	m.u.migrate = a.req;
	snprintf(what, sizeof(what), "migrate %s to %s", a.req.domain,
	    a.req.host);
	view_init(&v, stdout, a.json);
	return client_run_job(g, &m, &v, what);
}
