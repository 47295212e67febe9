/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The end-to-end digest STREAM_END carries: SHA-256, or XXH3-128 when both
 * ends agree (MIG_FEAT_XXH3).  The digest is there to catch a stream that
 * arrived different from what libxl wrote (a relay, compression or memory
 * fault), not an attacker: on the TLS port the AEAD of every record already
 * does that, and on the plain port an attacker could rewrite STREAM_END as
 * easily as the data.  A non-cryptographic 128-bit hash is enough for that
 * job and runs at memory speed, where SHA-256 (even with SHA-NI) was a
 * third of the relay's CPU (bench/RESULTS.md).  Image files keep SHA-256:
 * their trailer is a stored claim checked much later, by other programs.
 */
#include <string.h>

#include "relay_int.h"

int
relay_digest_init(struct mig_relay *r)
{
	if (r->conf.flags & MIG_RELAY_F_XXH3) {
		if ((r->xxh = XXH3_createState()) == NULL ||
		    XXH3_128bits_reset(r->xxh) != XXH_OK)
			return mig_seterr(&r->err, MIG_E_NOMEM, "%s: XXH3 "
			    "state", r->name);
		return 0;
	}
	if ((r->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
		return mig_seterr(&r->err, MIG_E_NOMEM, "%s: SHA-256 context",
		    r->name);
	return 0;
}

void
relay_digest_free(struct mig_relay *r)
{
	XXH3_freeState(r->xxh);
	EVP_MD_CTX_free(r->md);
	r->xxh = NULL;
	r->md = NULL;
}

const char *
relay_digest_name(const struct mig_relay *r)
{
	return r->xxh != NULL ? "XXH3-128" : "SHA-256";
}

int
relay_digest_update(struct mig_relay *r, const void *p, size_t n)
{
	if (r->xxh != NULL ? XXH3_128bits_update(r->xxh, p, n) == XXH_OK :
	    EVP_DigestUpdate(r->md, p, n) == 1)
		return 0;
	return mig_seterr(&r->err, MIG_E_NOMEM, "%s: %s failed", r->name,
	    relay_digest_name(r));
}

/* out: MIG_DIGEST_LEN bytes, zero-padded after a shorter digest. */
int
relay_digest_final(struct mig_relay *r, uint8_t out[MIG_DIGEST_LEN])
{
	XXH128_canonical_t	c;
	unsigned int		len;

	memset(out, 0, MIG_DIGEST_LEN);
	if (r->xxh != NULL) {
		XXH128_canonicalFromHash(&c, XXH3_128bits_digest(r->xxh));
		memcpy(out, c.digest, sizeof(c.digest));
		return 0;
	}
	if (EVP_DigestFinal_ex(r->md, out, &len) == 1 && len == MIG_SHA256_LEN)
		return 0;
	return mig_seterr(&r->err, MIG_E_NOMEM, "%s: SHA-256 failed",
	    r->name);
}
