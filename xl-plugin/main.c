/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc [-c FILE] COMMAND [ARGS...]: global options, then the command
 * table does the rest.  Kept apart from main() so that a test build can
 * run it on the simulated host (tests/sim/xl-reloc-sim.c).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "reloc.h"
#include "xl-reloc.h"

int
xlreloc_main(int argc, char **argv, const struct mig_hv_ops *hv_ops)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct xr_global	 g = { RELOCD_CONF_FILE, false, hv_ops };
	const struct xr_cmd	*cmd;
	struct mig_err		 err;
	char			 msg[MIG_ERRLEN];
	int			 c;

	/* A closed pipe is an error to report (the tunnel's xl went away),
	 * not a reason to die silently. */
	signal(SIGPIPE, SIG_IGN);
	/* Likewise a save --direct past the largest file the file system
	 * or RLIMIT_FSIZE allows: EFBIG, and the guest resumed. */
	signal(SIGXFSZ, SIG_IGN);
	args_begin();
	while ((c = args_next("xl-reloc", argc, argv, "+c:hV", longopts,
	    &err)) != -1) {
		switch (c) {
		case 'c':
			g.conf = optarg;
			g.conf_given = true;
			break;
		case 'h':
			help_list(stdout);
			return CTL_ST_OK;
		case 'V':
			printf("xl-reloc (%s) %s\n", PACKAGE_NAME,
			    PACKAGE_VERSION);
			return CTL_ST_OK;
		default:
			fprintf(stderr, "xl-reloc: %s\nTry 'xl-reloc help'.\n",
			    err.msg + strlen("xl-reloc: "));
			return CTL_ST_USAGE;
		}
	}
	if (optind >= argc) {
		help_list(stderr);
		return CTL_ST_USAGE;
	}
	if ((cmd = cmd_find(argv[optind])) == NULL) {
		snprintf(msg, sizeof(msg), "no command '%s'", argv[optind]);
		fprintf(stderr, "xl-reloc: %s\nTry 'xl-reloc help'.\n", msg);
		return CTL_ST_USAGE;
	}
	argv += optind;
	argc -= optind;
	return cmd->exec(cmd, &g, argc, argv);
}
