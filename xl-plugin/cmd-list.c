/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc list [--json]: the domains relocd looks after on this host
 * (received, restored, or restarted by relocd), from its state
 * directory.  relocd need not be running: these are also the domains a
 * relocd starting now would attach to again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reloc.h"
#include "xl-reloc.h"

#define ROW_FMT	"%-24s %6s %-36s %s"

static const char *const list_fields[] = { "domain", "domid", "uuid",
    "state", NULL };

int
list_parse(const struct xr_cmd *self, int argc, char **argv,
    struct list_args *a, struct mig_err *err)
{
	int	i;

	memset(a, 0, sizeof(*a));
	if ((i = args_parse(self, argc, argv, a, &a->help,
	    err)) == -1)
		return -1;
	if (a->help)
		return 0;
	if (i != argc)
		return mig_seterr(err, MIG_E_INVAL, "list: unexpected argument "
		    "'%s'", argv[i]);
	if (a->format[0] != '\0' && a->json)
		return mig_seterr(err, MIG_E_INVAL, "list: --json or --format, "
		    "not both");
	if (a->format[0] != '\0')
		return format_check("list", a->format, list_fields, err);
	return 0;
}

static int
print_row(const struct owned *o, void *arg)
{
	const struct list_args	*a = arg;
	char			 name[sizeof(o->name) * 6 + 3], id[16];
	const char		*v[4];

	snprintf(id, sizeof(id), "%" PRIu32, o->domid);
	if (a->format[0] != '\0') {
		v[0] = o->name;
		v[1] = id;
		v[2] = o->uuid;
		v[3] = owned_state_name(o->state);
		format_row(stdout, a->format, list_fields, v);
		return 0;
	}
	if (a->json) {
		json_string(name, sizeof(name), o->name);
		printf(XR_JSON_OPEN "\"domain\":%s,\"domid\":%" PRIu32 ",\"uuid\":\"%s\","
		    "\"state\":\"%s\"}\n", name, o->domid, o->uuid,
		    owned_state_name(o->state));
		return 0;
	}
	printf(ROW_FMT "\n", o->name, id, o->uuid, owned_state_name(o->state));
	return 0;
}

int
cmd_list(const struct xr_cmd *self, const struct xr_global *g, int argc,
    char **argv)
{
	struct list_args	a;
	struct relocd_conf	c;
	struct mig_err		err;
	int			st;

	if ((st = cmd_parsed(self, list_parse(self, argc, argv, &a, &err),
	    &a.help, &err)) != -1)
		return st;
	if ((st = client_conf(g, &c, &err)) != CTL_ST_OK) {
		fprintf(stderr, "xl-reloc: %s\n", err.msg);
		return st;
	}
	if (!a.json && a.format[0] == '\0')
		printf(ROW_FMT "\n", "DOMAIN", "DOMID", "UUID", "STATE");
	if (owned_scan(c.state_dir, print_row, &a, &err) == -1) {
		fprintf(stderr, "xl-reloc: list: %s\n", err.msg);
		st = CTL_ST_FAILED;
	}
	config_free(&c);
	return st;
}
