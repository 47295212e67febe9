/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xl-reloc migrate [options] DOMAIN HOST */
#include <stdio.h>
#include <string.h>

#include "xl-reloc.h"

int
migrate_take_ssh(void *a, const char *cmd, struct mig_err *err)
{
	(void)a;
	return mig_seterr(err, MIG_E_INVAL, "migrate: -s %s: relocd carries "
	    "the stream itself; for xl's own migration through relocd, run: "
	    "xl migrate -s \"xl-reloc tunnel\" DOMAIN HOST", cmd);
}

/* A domain id is the target hypervisor's to give: libxl would have to
 * create the domain with it, and relocd's receiver never asks for one. */
int
migrate_take_domid(void *a, const char *unused, struct mig_err *err)
{
	(void)a;
	(void)unused;
	return mig_seterr(err, MIG_E_INVAL, "migrate: -D: relocd cannot keep "
	    "the domain id; the domain gets the id HOST gives it (its name and "
	    "uuid stay)");
}

int
migrate_parse(const struct xr_cmd *self, int argc, char **argv,
    struct migrate_args *a, struct mig_err *err)
{
	struct ctl_migrate	*r = &a->req;
	int			 i;

	memset(a, 0, sizeof(*a));
	r->flags = CTL_MF_LIVE;
	if ((i = args_parse(self, argc, argv, a, &a->help, err)) == -1)
		return -1;
	/* TLS unless asked otherwise: a domain's memory holds its secrets
	 * (relocd.conf's relocation_ssl = 0 is asking, cmd_migrate). */
	if (a->transport != XR_PLAIN)
		r->flags |= CTL_MF_TLS;
	if (a->help)
		return 0;
	if ((r->flags & CTL_MF_STORAGE_REMOVE) && !(r->flags & CTL_MF_STORAGE))
		return mig_seterr(err, MIG_E_INVAL, "migrate: "
		    "--remove-source-storage needs --with-storage");
	if (args_copy("migrate", argv[i], r->domain, sizeof(r->domain),
	    err) == -1 || args_copy("migrate", argv[i + 1], r->host,
	    sizeof(r->host), err) == -1)
		return -1;
	return 0;
}

int
cmd_migrate(const struct xr_cmd *self, const struct xr_global *g, int argc,
    char **argv)
{
	struct migrate_args	a;
	struct ctl_msg		m;
	struct mig_err		err;
	struct view		v;
	char			what[CTL_DOMAIN_MAX + CTL_HOST_MAX + 32];
	int			st;

	if ((st = cmd_parsed(self, migrate_parse(self, argc, argv, &a, &err),
	    &a.help, &err)) != -1)
		return st;
	if (a.transport == 0 && !client_tls_default(g))
		a.req.flags &= ~CTL_MF_TLS;
	memset(&m, 0, sizeof(m));
	m.type = CTL_MIGRATE;
	m.u.migrate = a.req;
	snprintf(what, sizeof(what), "migrate %s to %s", a.req.domain,
	    a.req.host);
	view_init(&v, stdout, a.json);
	if (a.debug)
		view_debug(&v);
	return client_run_job(g, &m, &v, what);
}
