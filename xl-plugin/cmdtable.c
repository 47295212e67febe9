/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The commands, their synopses and their options' help, in one table as xl
 * keeps them (xl_cmdtable.c): "xl-reloc help", "CMD --help", usage errors
 * and the man page's SYNOPSIS all read from here.
 */
#include <stdio.h>
#include <string.h>

#include "xl-reloc.h"

const struct xr_cmd xr_cmds[] = {
	{ "migrate", cmd_migrate,
	  "[options] DOMAIN HOST",
	  "move a running domain to HOST through relocd",
	  "  --tls               connect to HOST's TLS port (the default)\n"
	  "  --plain             connect to HOST's plaintext port\n"
	  "  --port N            HOST's relocation port (default 8003, "
	  "8002 plain)\n"
	  "  --bandwidth RATE    limit to RATE bytes/s (K, M, G suffixes)\n"
	  "  --max-downtime MS   longest acceptable pause of the guest\n"
	  "  --auto-converge     slow a guest that dirties memory too fast\n"
	  "  --downtime-abort    give up rather than exceed --max-downtime\n"
	  "  --compress          compress the stream (zstd)\n"
	  "  --paused            leave the domain paused on HOST\n"
	  "  --non-live          pause first, then copy (no pre-copy)\n"
	  "  --localhost         allow HOST to be this host\n"
	  "  --json              one JSON object per event on stdout\n" },
	{ "save", cmd_save,
	  "[options] DOMAIN FILE",
	  "save a domain to FILE (xl save format) through relocd",
	  "  --compress          compress the image (zstd); xl cannot read it\n"
	  "  --encrypt-key FILE  encrypt the image with the key in FILE\n"
	  "  --keep-running      leave the domain running after the save\n"
	  "  --direct            save in this process, without relocd\n"
	  "  --json              one JSON object per event on stdout\n" },
	{ "restore", cmd_restore,
	  "[options] FILE",
	  "restore a domain from FILE through relocd",
	  "  --paused            leave the domain paused\n"
	  "  --key FILE          the key FILE was encrypted with\n"
	  "  --direct            restore in this process, without relocd\n"
	  "  --json              one JSON object per event on stdout\n" },
	{ "verify", cmd_verify,
	  "[--key FILE] [--direct] FILE",
	  "check that a save image is whole (no relocd needed)",
	  "  --key FILE          the key FILE was encrypted with\n"
	  "  --direct            accepted; verify never needs relocd\n" },
	{ "jobs", cmd_jobs,
	  "[--json]",
	  "list relocd's running jobs",
	  "  --json              one JSON object per job on stdout\n" },
	{ "cancel", cmd_cancel,
	  "JOB",
	  "cancel a job (before its commit point); the domain stays where "
	  "it was",
	  "" },
	{ "evacuate", cmd_evacuate,
	  "--to HOST[,HOST...] [options] [DOMAIN...]",
	  "migrate every domain (or those named) away from this host",
	  "  --to HOST[,HOST...] the hosts that may receive (required)\n"
	  "  --parallel N        at most N migrations at once (default 1)\n"
	  "  --plain             use the targets' plaintext port\n"
	  "  --port N            the targets' relocation port\n"
	  "  --dry-run           show the plan, move nothing\n"
	  "  --json              the plan and outcomes as JSON on stdout\n" },
	{ "tunnel", cmd_tunnel,
	  "[--plain] [--port N] [--name NAME] [--no-reasons] HOST xl [...] "
	  "migrate-receive [-d] [-p] [-e]",
	  "transport for xl migrate -s \"xl-reloc tunnel\" DOMAIN HOST",
	  "  --plain             connect to HOST's plaintext port (default "
	  "TLS)\n"
	  "  --port N            HOST's relocation port\n"
	  "  --name NAME         receive the domain under NAME\n"
	  "  --no-reasons        do not ask relocd why it refuses (as older "
	  "tunnels)\n" },
	{ "help", cmd_help,
	  "[COMMAND]",
	  "show the commands, or one command's options",
	  "" },
	{ NULL, NULL, NULL, NULL, NULL }
};

const struct xr_cmd *
cmd_find(const char *name)
{
	const struct xr_cmd	*c;

	for (c = xr_cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void
cmd_usage(FILE *f, const struct xr_cmd *c)
{
	fprintf(f, "usage: xl-reloc %s %s\n\n%s.\n", c->name, c->synopsis,
	    c->summary);
	if (c->options[0] != '\0')
		fprintf(f, "\noptions:\n%s", c->options);
	fprintf(f, "  --help              show this help\n");
}

int
cmd_usage_error(const char *name, const char *msg)
{
	const struct xr_cmd	*c = cmd_find(name);

	fprintf(stderr, "xl-reloc: %s\n", msg);
	if (c != NULL)
		fprintf(stderr, "usage: xl-reloc %s %s\nTry 'xl-reloc help "
		    "%s'.\n", c->name, c->synopsis, c->name);
	return CTL_ST_USAGE;
}
