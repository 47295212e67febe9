/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xl-reloc restore [options] FILE */
#include <stdio.h>
#include <string.h>

#include "xl-reloc.h"

int
restore_parse(const struct xr_cmd *self, int argc, char **argv,
    struct save_args *a, struct mig_err *err)
{
	int	i;

	memset(a, 0, sizeof(*a));
	if ((i = args_parse(self, argc, argv, a, &a->help, err)) == -1)
		return -1;
	if (a->help)
		return 0;
	/* xl's order: the configuration comes first. */
	if (argc - i == 2 && args_path("restore: CONFIG", argv[i],
	    a->req.config, sizeof(a->req.config), err) == -1)
		return -1;
	return args_path("restore", argv[argc - 1], a->req.path,
	    sizeof(a->req.path), err);
}

int
cmd_restore(const struct xr_cmd *self, const struct xr_global *g, int argc,
    char **argv)
{
	struct save_args	a;
	struct mig_err		err;
	char			what[CTL_PATH_MAX + 16];
	int			st;

	if ((st = cmd_parsed(self, restore_parse(self, argc, argv, &a, &err),
	    &a.help, &err)) != -1)
		return st;
	snprintf(what, sizeof(what), "restore %s", a.req.path);
	return save_run(g, CTL_RESTORE, &a, what);
}
