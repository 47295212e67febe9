/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xl-reloc save [options] DOMAIN FILE */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "xl-reloc.h"

enum { O_COMPRESS = 0x100, O_KEY, O_KEEP, O_JSON, O_DIRECT, O_HELP };

int
save_parse(int argc, char **argv, struct save_args *a, struct mig_err *err)
{
	static const struct option longopts[] = {
		{ "compress", no_argument, NULL, O_COMPRESS },
		{ "encrypt-key", required_argument, NULL, O_KEY },
		{ "keep-running", no_argument, NULL, O_KEEP },
		{ "json", no_argument, NULL, O_JSON },
		{ "direct", no_argument, NULL, O_DIRECT },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	int	c;

	memset(a, 0, sizeof(*a));
	args_begin();
	while ((c = args_next("save", argc, argv, "", longopts, err)) != -1) {
		switch (c) {
		case O_COMPRESS:
			a->req.flags |= CTL_SF_COMPRESS;
			break;
		case O_KEY:
			if (args_path("save", optarg, a->req.key,
			    sizeof(a->req.key), err) == -1)
				return -1;
			break;
		case O_KEEP:
			a->req.flags |= CTL_SF_KEEP_RUNNING;
			break;
		case O_JSON:
			a->json = true;
			break;
		case O_DIRECT:
			a->direct = true;
			break;
		case O_HELP:
			a->help = true;
			return 0;
		default:
			return -1;
		}
	}
	if (argc - optind != 2)
		return mig_seterr(err, MIG_E_INVAL, "save: expected DOMAIN and "
		    "FILE, got %d argument%s", argc - optind,
		    argc - optind == 1 ? "" : "s");
	if (args_copy("save", argv[optind], a->req.domain,
	    sizeof(a->req.domain), err) == -1 ||
	    args_path("save", argv[optind + 1], a->req.path,
	    sizeof(a->req.path), err) == -1)
		return -1;
	return 0;
}

int
save_run(const struct xr_global *g, uint16_t type, const struct save_args *a,
    const char *what)
{
	struct ctl_msg	m;
	struct view	v;

	if (a->direct)
		return direct_run(g, type, a, what);
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.u.save = a->req;
	view_init(&v, stdout, a->json);
	return client_run_job(g, &m, &v, what);
}

int
cmd_save(const struct xr_global *g, int argc, char **argv)
{
	struct save_args	a;
	struct mig_err		err;
	char			what[CTL_DOMAIN_MAX + CTL_PATH_MAX + 16];

	if (save_parse(argc, argv, &a, &err) == -1)
		return cmd_usage_error("save", err.msg);
	if (a.help) {
		cmd_usage(stdout, cmd_find("save"));
		return CTL_ST_OK;
	}
	snprintf(what, sizeof(what), "save %s to %s", a.req.domain,
	    a.req.path);
	return save_run(g, CTL_SAVE, &a, what);
}
