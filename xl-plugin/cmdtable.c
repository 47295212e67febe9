/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The commands, their synopses and their options, in one table as xl keeps
 * them (xl_cmdtable.c): "xl-reloc help", "CMD --help", usage errors and the
 * option parser (args.c) all read from here.  tests/unit/test_xlargs.c
 * checks the man page's SYNOPSIS and the bash completion against it.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "mig/image.h"
#include "xl-reloc.h"

#define MIG	struct migrate_args
static const struct xr_opt migrate_opts[] = {
	{ .name = "tls", .set = XR_TLS, .clear = XR_PLAIN,
	  XR_AT(MIG, transport),
	  .help = "connect to HOST's TLS port (the default)" },
	{ .name = "plain", .set = XR_PLAIN, .clear = XR_TLS,
	  XR_AT(MIG, transport),
	  .help = "connect to HOST's plaintext port" },
	{ .name = "port", .kind = XA_PORT, .arg = "N", XR_AT(MIG, req.port),
	  .help = "HOST's relocation port (default 8003, 8002 plain)" },
	{ .name = "bandwidth", .kind = XA_RATE, .arg = "RATE",
	  XR_AT(MIG, req.bandwidth),
	  .help = "limit to RATE bytes/s (K, M, G suffixes)" },
	{ .name = "max-downtime", .kind = XA_MS, .arg = "MS",
	  XR_AT(MIG, req.max_downtime_ms), .min = 1, .max = 600000,
	  .help = "longest acceptable pause of the guest" },
	{ .name = "auto-converge", .set = CTL_MF_AUTO_CONVERGE,
	  XR_AT(MIG, req.flags),
	  .help = "slow a guest that dirties memory too fast" },
	{ .name = "downtime-abort", .set = CTL_MF_DOWNTIME_ABORT,
	  XR_AT(MIG, req.flags),
	  .help = "give up rather than exceed --max-downtime" },
	{ .name = "compress", .set = CTL_MF_COMPRESS, XR_AT(MIG, req.flags),
	  .help = "compress the stream (zstd)" },
	{ .name = "paused", .letter = 'p', .set = CTL_MF_PAUSED,
	  XR_AT(MIG, req.flags),
	  .help = "leave the domain paused on HOST (xl migrate -p)" },
	{ .name = "non-live", .clear = CTL_MF_LIVE, XR_AT(MIG, req.flags),
	  .help = "pause first, then copy (no pre-copy)" },
	/* xl keeps --live for xm's users; so do we. */
	{ .name = "live", .set = CTL_MF_LIVE, XR_AT(MIG, req.flags),
	  .help = "live, with pre-copy: the default (as xl and xm take it)" },
	{ .name = "localhost", .set = CTL_MF_LOCALHOST, XR_AT(MIG, req.flags),
	  .help = "allow HOST to be this host" },
	{ .name = "with-storage", .set = CTL_MF_STORAGE,
	  XR_AT(MIG, req.flags),
	  .help = "copy its local disks to HOST too (live: while it runs)" },
	{ .name = "remove-source-storage", .set = CTL_MF_STORAGE_REMOVE,
	  XR_AT(MIG, req.flags),
	  .help = "with --with-storage: remove them here once HOST has it" },
	{ .name = "config", .letter = 'C', .kind = XA_FILE, .arg = "FILE",
	  XR_AT(MIG, req.config),
	  .help = "send FILE (libxl JSON) as the domain's configuration" },
	{ .name = "no-monitor", .letter = 'e', .set = CTL_MF_NO_ADOPT,
	  XR_AT(MIG, req.flags),
	  .help = "HOST's relocd does not act on its shutdown (xl -e)" },
	XR_OPT_DEBUG(MIG, 0),
	/* xl's, which relocd cannot honour: taken, to say why. */
	{ .name = "ssh-command", .letter = 's', .kind = XA_STRING,
	  .arg = "CMD", .take = migrate_take_ssh,
	  .help = "xl's transport: see xl-reloc tunnel instead" },
	{ .name = "preserve-domid", .letter = 'D', .take = migrate_take_domid,
	  .help = "xl's -D: refused, relocd cannot keep a domain id" },
	XR_OPT_JSON(MIG, "one JSON object per event on stdout"),
	{ .name = NULL }
};
#undef MIG

#define SAV	struct save_args
static const struct xr_opt save_opts[] = {
	{ .name = "compress", .set = CTL_SF_COMPRESS, XR_AT(SAV, req.flags),
	  .help = "compress the image (zstd); xl cannot read it" },
	{ .name = "encrypt-key", .kind = XA_FILE, .arg = "FILE",
	  XR_AT(SAV, req.key),
	  .help = "encrypt the image with the key in FILE" },
	{ .name = "keep-running", .letter = 'c', .set = CTL_SF_KEEP_RUNNING,
	  XR_AT(SAV, req.flags),
	  .help = "leave the domain running after the save (xl save -c)" },
	{ .name = "paused", .letter = 'p', .set = CTL_SF_PAUSED,
	  XR_AT(SAV, req.flags),
	  .help = "leave the domain paused after the save (xl save -p)" },
	{ .name = "sha256", .set = CTL_SF_SHA256, XR_AT(SAV, req.flags),
	  .help = "check the image with SHA-256, not XXH3-128 (slower)" },
	{ .name = "split", .kind = XA_SIZE, .arg = "SIZE", XR_AT(SAV, req.split),
	  .min = MIG_IMAGE_SPLIT_MIN, .max = UINT64_MAX / 2,
	  .help = "write FILE.000, FILE.001, ... of SIZE each (FAT: 4000M)" },
	XR_OPT_DIRECT(SAV, "save in this process, without relocd"),
	XR_OPT_JSON(SAV, "one JSON object per event on stdout"),
	{ .name = NULL }
};

static const struct xr_opt restore_opts[] = {
	{ .name = "paused", .letter = 'p', .set = CTL_SF_PAUSED,
	  XR_AT(SAV, req.flags),
	  .help = "leave the domain paused (xl restore -p)" },
	{ .name = "key", .kind = XA_FILE, .arg = "FILE", XR_AT(SAV, req.key),
	  .help = "the key FILE was encrypted with" },
	{ .name = "no-monitor", .letter = 'e', .set = CTL_SF_NO_ADOPT,
	  XR_AT(SAV, req.flags),
	  .help = "relocd does not act on its shutdown (xl restore -e)" },
	XR_OPT_DEBUG(SAV, 'd'),
	XR_OPT_DIRECT(SAV, "restore in this process, without relocd"),
	XR_OPT_JSON(SAV, "one JSON object per event on stdout"),
	{ .name = NULL }
};
#undef SAV

static const struct xr_opt verify_opts[] = {
	{ .name = "key", .kind = XA_FILE, .arg = "FILE",
	  XR_AT(struct verify_args, key),
	  .help = "the key FILE was encrypted with" },
	XR_OPT_DIRECT(struct verify_args,
	    "accepted; verify never needs relocd"),
	XR_OPT_JSON(struct verify_args, "the outcome as a JSON object on stdout"),
	{ .name = NULL }
};

static const struct xr_opt cancel_opts[] = {
	XR_OPT_JSON(struct cancel_args, "the outcome as a JSON object on stdout"),
	{ .name = NULL }
};

static const struct xr_opt jobs_opts[] = {
	{ .name = "history", .set = 1, XR_AT(struct jobs_args, history),
	  .help = "the jobs that finished in the last day (relocd's journal)" },
	XR_OPT_JSON(struct jobs_args, "one JSON object per job on stdout"),
	XR_OPT_FORMAT(struct jobs_args),
	{ .name = NULL }
};

static const struct xr_opt list_opts[] = {
	XR_OPT_JSON(struct list_args, "one JSON object per domain on stdout"),
	XR_OPT_FORMAT(struct list_args),
	{ .name = NULL }
};

#define EVA	struct evacuate_args
static const struct xr_opt evacuate_opts[] = {
	{ .name = "to", .kind = XA_STRING, .arg = "HOST[,HOST...]",
	  .take = evacuate_take_to,
	  .help = "the hosts that may receive (required)" },
	{ .name = "parallel", .kind = XA_COUNT, .arg = "N",
	  XR_AT(EVA, parallel), .min = 1, .max = EVAC_PARALLEL_MAX,
	  .help = "at most N migrations at once (default 1)" },
	{ .name = "tls", .set = XR_TLS, .clear = XR_PLAIN,
	  XR_AT(EVA, transport),
	  .help = "use the targets' TLS port (the default)" },
	{ .name = "plain", .set = XR_PLAIN, .clear = XR_TLS,
	  XR_AT(EVA, transport),
	  .help = "use the targets' plaintext port" },
	{ .name = "port", .kind = XA_PORT, .arg = "N", XR_AT(EVA, port),
	  .help = "the targets' relocation port" },
	{ .name = "dry-run", .set = 1, XR_AT(EVA, dry_run),
	  .help = "show the plan, move nothing" },
	XR_OPT_JSON(EVA, "the plan and outcomes as JSON on stdout"),
	{ .name = NULL }
};
#undef EVA

#define TUN	struct tunnel_args
static const struct xr_opt tunnel_opts[] = {
	{ .name = "tls", .clear = 1, XR_AT(TUN, plain),
	  .help = "connect to HOST's TLS port (the default)" },
	{ .name = "plain", .set = 1, XR_AT(TUN, plain),
	  .help = "connect to HOST's plaintext port" },
	{ .name = "port", .kind = XA_PORT, .arg = "N", XR_AT(TUN, port),
	  .help = "HOST's relocation port (default 8003, 8002 plain)" },
	{ .name = "name", .kind = XA_STRING, .arg = "NAME",
	  .take = tunnel_take_name,
	  .help = "receive the domain under NAME" },
	{ .name = "no-reasons", .set = 1, XR_AT(TUN, no_reasons),
	  .help = "do not ask relocd why it refuses (as older tunnels)" },
	{ .name = NULL }
};
#undef TUN

const struct xr_cmd xr_cmds[] = {
	{ "migrate", cmd_migrate,
	  "[options] DOMAIN HOST",
	  "move a running domain to HOST through relocd",
	  migrate_opts, false,
	  2, 2, "DOMAIN and HOST" },
	{ "save", cmd_save,
	  "[options] DOMAIN FILE [CONFIG]",
	  "save a domain to FILE (xl save format) through relocd",
	  save_opts, false,
	  2, 3, "DOMAIN, FILE and maybe CONFIG" },
	{ "restore", cmd_restore,
	  "[options] [CONFIG] FILE",
	  "restore a domain from FILE through relocd",
	  restore_opts, false,
	  1, 2, "FILE or CONFIG FILE" },
	{ "verify", cmd_verify,
	  "[--key FILE] [--direct] [--json] FILE",
	  "check that a save image is whole (no relocd needed)",
	  verify_opts, false,
	  1, 1, "FILE" },
	{ "jobs", cmd_jobs,
	  "[--history] [--json | --format FIELDS]",
	  "list relocd's running jobs, or those that finished",
	  jobs_opts, false,
	  0, -1, NULL },
	{ "list", cmd_list,
	  "[--json | --format FIELDS]",
	  "list the domains relocd looks after here (reboot, poweroff, "
	  "crash)",
	  list_opts, false,
	  0, -1, NULL },
	{ "cancel", cmd_cancel,
	  "[--json] JOB",
	  "cancel a job (before its commit point); the domain stays where "
	  "it was",
	  cancel_opts, false,
	  1, 1, "one JOB number" },
	{ "evacuate", cmd_evacuate,
	  "--to HOST[,HOST...] [options] [DOMAIN...]",
	  "migrate every domain (or those named) away from this host",
	  evacuate_opts, false,
	  0, -1, NULL },
	/* In order: xl's own options follow HOST and are not ours. */
	{ "tunnel", cmd_tunnel,
	  "[--tls | --plain] [--port N] [--name NAME] [--no-reasons] HOST "
	  "xl [...] "
	  "migrate-receive [-d] [-p] [-e]",
	  "transport for xl migrate -s \"xl-reloc tunnel\" DOMAIN HOST",
	  tunnel_opts, true,
	  0, -1, NULL },
	{ "help", cmd_help,
	  "[COMMAND]",
	  "show the commands, or one command's options",
	  NULL, false,
	  0, -1, NULL },
	{ NULL, NULL, NULL, NULL, NULL, false, 0, 0, NULL }
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
	if (c->opts != NULL && c->opts[0].name != NULL) {
		fprintf(f, "\noptions:\n");
		args_help(f, c->opts);
	}
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

int
cmd_parsed(const struct xr_cmd *self, int rc, const bool *help,
    const struct mig_err *err)
{
	if (rc == -1)
		return cmd_usage_error(self->name, err->msg);
	if (*help) {
		cmd_usage(stdout, self);
		return CTL_ST_OK;
	}
	return -1;
}
