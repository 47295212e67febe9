/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xl-reloc help [COMMAND] */
#include <stdio.h>
#include <string.h>

#include "xl-reloc.h"

void
help_list(FILE *f)
{
	const struct xr_cmd	*c;

	fprintf(f, "usage: xl-reloc [-c FILE] COMMAND [ARGS...]\n\n"
	    "  -c FILE             relocd.conf to read (default "
	    "/etc/xen/relocd.conf)\n\ncommands:\n");
	for (c = xr_cmds; c->name != NULL; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n'xl-reloc help COMMAND' or 'xl-reloc COMMAND --help' "
	    "shows a command's options.\nrelocd must be running for every "
	    "command but tunnel and help.\n");
}

int
cmd_help(const struct xr_cmd *self, const struct xr_global *g, int argc,
    char **argv)
{
	const struct xr_cmd	*c;
	char			 msg[MIG_ERRLEN];

	if (argc < 2) {
		help_list(stdout);
		return CTL_ST_OK;
	}
	if (strcmp(argv[1], "--help") == 0) {
		cmd_usage(stdout, self);
		return CTL_ST_OK;
	}
	if (argc > 2)
		return cmd_usage_error("help", "help: one COMMAND at most");
	if ((c = cmd_find(argv[1])) == NULL) {
		snprintf(msg, sizeof(msg), "help: no command '%s'", argv[1]);
		return cmd_usage_error("help", msg);
	}
	cmd_usage(stdout, c);
	return CTL_ST_OK;
}
