/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xl-reloc save [options] DOMAIN FILE */
#include <stdio.h>
#include <string.h>

#include "xl-reloc.h"

int
save_parse(const struct xr_cmd *self, int argc, char **argv,
    struct save_args *a, struct mig_err *err)
{
	int	i;

	memset(a, 0, sizeof(*a));
	if ((i = args_parse(self, argc, argv, a, &a->help,
	    err)) == -1)
		return -1;
	if (a->help)
		return 0;
	if (args_copy("save", argv[i], a->req.domain,
	    sizeof(a->req.domain), err) == -1 ||
	    args_path("save", argv[i + 1], a->req.path,
	    sizeof(a->req.path), err) == -1 ||
	    (argc - i == 3 && args_path("save: CONFIG", argv[i + 2],
	    a->req.config, sizeof(a->req.config), err) == -1))
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
	if (a->debug)
		view_debug(&v);
	return client_run_job(g, &m, &v, what);
}

int
cmd_save(const struct xr_cmd *self, const struct xr_global *g, int argc,
    char **argv)
{
	struct save_args	a;
	struct mig_err		err;
	char			what[CTL_DOMAIN_MAX + CTL_PATH_MAX + 16];
	int			st;

	if ((st = cmd_parsed(self, save_parse(self, argc, argv, &a, &err),
	    &a.help, &err)) != -1)
		return st;
	snprintf(what, sizeof(what), "save %s to %s", a.req.domain,
	    a.req.path);
	return save_run(g, CTL_SAVE, &a, what);
}
