/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The end-to-end digest STREAM_END carries: SHA-256, or XXH3-128 when both
 * ends agree (MIG_FEAT_XXH3).  The digest is there to catch a stream that
 * arrived different from what libxl wrote (a relay, compression or memory
 * fault), not an attacker: on the TLS port the AEAD of every record already
 * does that, and on the plain port an attacker could rewrite STREAM_END as
 * easily as the data.  A non-cryptographic 128-bit hash is enough for that
 * job and runs at memory speed, where SHA-256 (even with SHA-NI) was a
 * third of the relay's CPU (bench/RESULTS.md).  The digest itself is the
 * one image trailers use (image_digest.c).
 */
#include <string.h>

#include "relay_int.h"

int
relay_digest_init(struct mig_relay *r)
{
	struct mig_err	e;

	if (img_digest_init(&r->digest, (r->conf.flags & MIG_RELAY_F_XXH3) ?
	    MIG_IMAGE_DIGEST_XXH3 : MIG_IMAGE_DIGEST_SHA256, &e) == -1)
		return mig_seterr(&r->err, e.code, "%s: %s", r->name, e.msg);
	return 0;
}

void
relay_digest_free(struct mig_relay *r)
{
	img_digest_free(&r->digest);
}

const char *
relay_digest_name(const struct mig_relay *r)
{
	return img_digest_name(r->digest.alg);
}

int
relay_digest_update(struct mig_relay *r, const void *p, size_t n)
{
	struct mig_err	e;

	if (img_digest_update(&r->digest, p, n, &e) == -1)
		return mig_seterr(&r->err, e.code, "%s: %s", r->name, e.msg);
	return 0;
}

/* out: MIG_DIGEST_LEN bytes, zero-padded after a shorter digest. */
int
relay_digest_final(struct mig_relay *r, uint8_t out[MIG_DIGEST_LEN])
{
	uint8_t		d[IMG_DIGEST_MAX];
	struct mig_err	e;

	memset(out, 0, MIG_DIGEST_LEN);
	if (img_digest_final(&r->digest, d, &e) == -1)
		return mig_seterr(&r->err, e.code, "%s: %s", r->name, e.msg);
	memcpy(out, d, MIG_DIGEST_LEN < sizeof(d) ? MIG_DIGEST_LEN :
	    sizeof(d));
	/* Kept for mig_relay_stats(): what a caller compares with what
	 * it reads back (a disk written at the target). */
	memcpy(r->final_digest, out, MIG_DIGEST_LEN);
	return 0;
}
