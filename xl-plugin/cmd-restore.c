/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xl-reloc restore [options] FILE */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "xl-reloc.h"

enum { O_PAUSED = 0x100, O_KEY, O_JSON, O_DIRECT, O_HELP };

int
restore_parse(int argc, char **argv, struct save_args *a,
    struct mig_err *err)
{
	static const struct option longopts[] = {
		{ "paused", no_argument, NULL, O_PAUSED },
		{ "key", required_argument, NULL, O_KEY },
		{ "json", no_argument, NULL, O_JSON },
		{ "direct", no_argument, NULL, O_DIRECT },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	int	c;

	memset(a, 0, sizeof(*a));
	args_begin();
	while ((c = args_next("restore", argc, argv, "", longopts,
	    err)) != -1) {
		switch (c) {
		case O_PAUSED:
			a->req.flags |= CTL_SF_PAUSED;
			break;
		case O_KEY:
			if (args_path("restore", optarg, a->req.key,
			    sizeof(a->req.key), err) == -1)
				return -1;
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
	if (argc - optind != 1)
		return mig_seterr(err, MIG_E_INVAL, "restore: expected FILE, "
		    "got %d arguments", argc - optind);
	return args_path("restore", argv[optind], a->req.path,
	    sizeof(a->req.path), err);
}

int
cmd_restore(const struct xr_global *g, int argc, char **argv)
{
	struct save_args	a;
	struct mig_err		err;
	char			what[CTL_PATH_MAX + 16];

	if (restore_parse(argc, argv, &a, &err) == -1)
		return cmd_usage_error("restore", err.msg);
	if (a.help) {
		cmd_usage(stdout, cmd_find("restore"));
		return CTL_ST_OK;
	}
	snprintf(what, sizeof(what), "restore %s", a.req.path);
	return save_run(g, CTL_RESTORE, &a, what);
}
