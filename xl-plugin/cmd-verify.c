/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc verify [--key FILE] FILE: checks a save image end to end (the
 * stream, the trailer, the decryption) without restoring it.  It reads
 * only the file, so it needs no relocd.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "image.h"
#include "xl-reloc.h"

enum { O_KEY = 0x100, O_DIRECT, O_HELP };

struct verify_args {
	char	path[CTL_PATH_MAX + 1];
	char	key[CTL_PATH_MAX + 1];
	bool	help;
};

static int
verify_parse(int argc, char **argv, struct verify_args *a,
    struct mig_err *err)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, O_KEY },
		/* Always direct: accepted so that scripts can say it. */
		{ "direct", no_argument, NULL, O_DIRECT },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	int	c;

	memset(a, 0, sizeof(*a));
	args_begin();
	while ((c = args_next("verify", argc, argv, "", longopts,
	    err)) != -1) {
		switch (c) {
		case O_KEY:
			if (args_path("verify", optarg, a->key,
			    sizeof(a->key), err) == -1)
				return -1;
			break;
		case O_DIRECT:
			break;
		case O_HELP:
			a->help = true;
			return 0;
		default:
			return -1;
		}
	}
	if (argc - optind != 1)
		return mig_seterr(err, MIG_E_INVAL, "verify: expected FILE, "
		    "got %d arguments", argc - optind);
	return args_path("verify", argv[optind], a->path, sizeof(a->path),
	    err);
}

int
cmd_verify(const struct xr_global *g, int argc, char **argv)
{
	struct verify_args		a;
	struct mig_image_key		key;
	struct mig_image_summary	sum;
	struct mig_err			err;
	int				rc;

	if (verify_parse(argc, argv, &a, &err) == -1)
		return cmd_usage_error("verify", err.msg);
	if (a.help) {
		cmd_usage(stdout, cmd_find("verify"));
		return CTL_ST_OK;
	}
	if (a.key[0] != '\0' && mig_image_key_load(a.key, &key, &err) == -1) {
		fprintf(stderr, "xl-reloc: verify %s: %s\n", a.path, err.msg);
		return CTL_ST_FAILED;
	}
	rc = mig_image_verify(a.path, a.key[0] != '\0' ? &key : NULL, 0, &sum,
	    &err);
	explicit_bzero(&key, sizeof(key));
	if (rc == -1) {
		fprintf(stderr, "xl-reloc: verify %s: %s\n", a.path, err.msg);
		return err.code == MIG_E_NOTFOUND ? CTL_ST_NOTFOUND :
		    CTL_ST_FAILED;
	}
	printf("%s: OK: domain %s, %" PRIu64 " pages, %" PRIu64 " bytes%s%s"
	    "%s%s\n", a.path, sum.name[0] ? sum.name : "(unnamed)", sum.pages,
	    sum.file_bytes, sum.compressed ? ", compressed" : "",
	    sum.encrypted ? ", encrypted" : "",
	    sum.trailer ? "" : "; ", sum.trailer ? "" : sum.note);
	return CTL_ST_OK;
}
