/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc verify [--key FILE] FILE: checks a save image end to end (the
 * stream, the trailer, the decryption) without restoring it.  It reads
 * only the file, so it needs no relocd.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "image.h"
#include "xl-reloc.h"

int
verify_parse(int argc, char **argv, struct verify_args *a,
    struct mig_err *err)
{
	int	i;

	memset(a, 0, sizeof(*a));
	if ((i = args_parse(cmd_find("verify"), argc, argv, a, &a->help,
	    err)) == -1)
		return -1;
	if (a->help)
		return 0;
	if (argc - i != 1)
		return mig_seterr(err, MIG_E_INVAL, "verify: expected FILE, "
		    "got %d arguments", argc - i);
	return args_path("verify", argv[i], a->path, sizeof(a->path), err);
}

int
cmd_verify(const struct xr_global *g, int argc, char **argv)
{
	struct verify_args		a;
	struct mig_image_key		key;
	struct mig_image_summary	sum;
	struct mig_err			err;
	char				parts[24] = "";
	int				rc, st;

	if ((st = cmd_parsed("verify", verify_parse(argc, argv, &a, &err),
	    &a.help, &err)) != -1)
		return st;
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
	if (sum.parts > 0)
		snprintf(parts, sizeof(parts), " in %u parts", sum.parts);
	printf("%s: OK: domain %s, %s guest, %" PRIu64 " pages, %" PRIu64
	    " bytes%s%s%s%s%s\n", a.path, sum.name[0] ? sum.name : "(unnamed)",
	    sum.type[0] ? sum.type : mig_stream_guest_type_name(sum.guest_type),
	    sum.pages, sum.file_bytes, parts,
	    sum.compressed ? ", compressed" : "",
	    sum.encrypted ? ", encrypted" : "",
	    sum.trailer ? "" : "; ", sum.trailer ? "" : sum.note);
	return CTL_ST_OK;
}
