/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc verify [--key FILE] FILE: checks a save image end to end (the
 * stream, the trailer, the decryption) without restoring it.  It reads
 * only the file, so it needs no relocd.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mig/image.h"
#include "xl-reloc.h"

/* A path of control characters escapes to six times its length. */
#define VERIFY_JSON_MAX	(2 * XR_LINE_MAX)

int
verify_parse(const struct xr_cmd *self, int argc, char **argv,
    struct verify_args *a, struct mig_err *err)
{
	int	i;

	if ((i = args_command(self, argc, argv, a, sizeof(*a), &a->help,
	    err)) <= 0)
		return i;
	return args_path("verify", argv[i], a->path, sizeof(a->path), err);
}

/* The trailer's digest; NULL without a trailer. */
static const char *
digest_name(const struct mig_image_summary *sum)
{
	switch (sum->digest) {
	case MIG_IMAGE_DIGEST_SHA256:
		return "SHA-256";
	case MIG_IMAGE_DIGEST_XXH3:
		return "XXH3-128";
	default:
		return NULL;
	}
}

int
verify_json(char *buf, size_t len, const char *path,
    const struct mig_image_summary *sum, const char *why)
{
	char	file[CTL_PATH_MAX * 6 + 3], name[sizeof(sum->name) * 6 + 3];
	char	note[sizeof(sum->note) * 6 + 3], text[MIG_ERRLEN * 6 + 3];
	char	digest[16] = "null";

	json_string(file, sizeof(file), path);
	if (sum == NULL) {
		json_string(text, sizeof(text), why);
		return snprintf(buf, len, XR_JSON_OPEN "\"file\":%s,"
		    "\"ok\":false,\"error\":%s}", file, text);
	}
	json_string(name, sizeof(name), sum->name);
	json_string(note, sizeof(note), sum->trailer ? "" : sum->note);
	if (digest_name(sum) != NULL)
		json_string(digest, sizeof(digest), digest_name(sum));
	return snprintf(buf, len, XR_JSON_OPEN "\"file\":%s,\"ok\":true,"
	    "\"domain\":%s,\"type\":\"%s\",\"pages\":%" PRIu64 ",\"bytes\":%"
	    PRIu64 ",\"compressed\":%s,\"encrypted\":%s,\"trailer\":%s,"
	    "\"digest\":%s,\"note\":%s}", file, name, sum->type[0] ?
	    sum->type : mig_stream_guest_type_name(sum->guest_type),
	    sum->pages, sum->file_bytes, sum->compressed ? "true" : "false",
	    sum->encrypted ? "true" : "false", sum->trailer ? "true" : "false",
	    digest, note);
}

/* A failure: its line on stderr, and with --json its object on stdout. */
static int
verify_failed(const struct verify_args *a, const struct mig_err *err,
    int st)
{
	char	line[VERIFY_JSON_MAX];

	fprintf(stderr, "xl-reloc: verify %s: %s\n", a->path, err->msg);
	if (a->json) {
		verify_json(line, sizeof(line), a->path, NULL, err->msg);
		printf("%s\n", line);
	}
	return st;
}

int
cmd_verify(const struct xr_cmd *self, const struct xr_global *g, int argc,
    char **argv)
{
	struct verify_args		a;
	struct mig_image_key		key;
	struct mig_image_summary	sum;
	struct mig_err			err;
	char				line[VERIFY_JSON_MAX];
	char				parts[24] = "";
	int				rc, st;

	if ((st = cmd_parsed(self, verify_parse(self, argc, argv, &a, &err),
	    &a.help, &err)) != -1)
		return st;
	if (a.key[0] != '\0' && mig_image_key_load(a.key, &key, &err) == -1)
		return verify_failed(&a, &err, CTL_ST_FAILED);
	rc = mig_image_verify(a.path, a.key[0] != '\0' ? &key : NULL, 0, &sum,
	    &err);
	explicit_bzero(&key, sizeof(key));
	if (rc == -1)
		return verify_failed(&a, &err, ctl_status_of(&err, 1));
	if (a.json) {
		verify_json(line, sizeof(line), a.path, &sum, NULL);
		printf("%s\n", line);
		return CTL_ST_OK;
	}
	if (sum.parts > 0)
		snprintf(parts, sizeof(parts), " in %u parts", sum.parts);
	printf("%s: OK: domain %s, %s guest, %" PRIu64 " pages, %" PRIu64
	    " bytes%s%s%s%s%s%s\n", a.path, sum.name[0] ? sum.name :
	    "(unnamed)", sum.type[0] ? sum.type :
	    mig_stream_guest_type_name(sum.guest_type),
	    sum.pages, sum.file_bytes, parts,
	    sum.compressed ? ", compressed" : "",
	    sum.encrypted ? ", encrypted" : "",
	    sum.trailer ? ", checked by " : "; ",
	    sum.trailer ? digest_name(&sum) : sum.note,
	    sum.trailer ? " trailer" : "");
	return CTL_ST_OK;
}
