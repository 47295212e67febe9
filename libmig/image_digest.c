/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "image_digest.h"

const char *
img_digest_name(enum mig_image_digest alg)
{
	return alg == MIG_IMAGE_DIGEST_SHA256 ? "SHA-256" : "XXH3-128";
}

int
img_digest_init(struct img_digest *d, enum mig_image_digest alg,
    struct mig_err *err)
{
	memset(d, 0, sizeof(*d));
	d->alg = alg;
	if (alg == MIG_IMAGE_DIGEST_SHA256) {
		if ((d->md = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1)
			return mig_seterr(err, MIG_E_NOMEM,
			    "SHA-256 context");
		return 0;
	}
	if ((d->xxh = XXH3_createState()) == NULL ||
	    XXH3_128bits_reset(d->xxh) != XXH_OK)
		return mig_seterr(err, MIG_E_NOMEM, "XXH3 state");
	return 0;
}

int
img_digest_update(struct img_digest *d, const void *p, size_t len,
    struct mig_err *err)
{
	if (len == 0)
		return 0;
	if (d->xxh != NULL ? XXH3_128bits_update(d->xxh, p, len) == XXH_OK :
	    EVP_DigestUpdate(d->md, p, len) == 1)
		return 0;
	return mig_seterr(err, MIG_E_IO, "%s failed", img_digest_name(d->alg));
}

int
img_digest_final(struct img_digest *d, uint8_t *out, struct mig_err *err)
{
	XXH128_canonical_t	c;
	unsigned int		len;

	memset(out, 0, IMG_DIGEST_MAX);
	if (d->xxh != NULL) {
		XXH128_canonicalFromHash(&c, XXH3_128bits_digest(d->xxh));
		memcpy(out, c.digest, sizeof(c.digest));
		return 0;
	}
	if (d->md != NULL && EVP_DigestFinal_ex(d->md, out, &len) == 1 &&
	    len == IMG_DIGEST_MAX)
		return 0;
	return mig_seterr(err, MIG_E_IO, "%s failed", img_digest_name(d->alg));
}

void
img_digest_free(struct img_digest *d)
{
	EVP_MD_CTX_free(d->md);
	XXH3_freeState(d->xxh);
	d->md = NULL;
	d->xxh = NULL;
}
