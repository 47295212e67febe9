/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "image_digest.h"
#include "mig/clock.h"

/*
 * Which XXH3 code digests.  libxxhash's vector loop (SSE2, AVX2, NEON)
 * is two to three times faster than its scalar one on real hardware;
 * where the vector instructions are emulated (a dom0 in QEMU's TCG, the
 * lab's) it is two and a half times slower.  So the first XXH3 digest
 * of a process times both on 128 KiB, best of three each (well under a
 * millisecond on hardware, a few under TCG), and takes the scalar code
 * only when it is clearly the faster.  The digest is the same either
 * way: the choice moves time, never a verdict.  MIG_XXH3=vector or
 * =scalar in the environment decides instead (tests, diagnosis).
 */
#define TIME_LEN	(128U << 10)
#define TIME_ROUNDS	3

static pthread_once_t	timed = PTHREAD_ONCE_INIT;
static bool		scalar_faster;

static void
time_both(void)
{
	struct img_xxh3s	*s;
	XXH3_state_t		*v;
	uint8_t			*buf, out[16];
	uint64_t		 t, tv = UINT64_MAX, ts = UINT64_MAX;
	size_t			 i;
	int			 r;

	if ((buf = malloc(TIME_LEN)) == NULL)
		return;
	for (i = 0; i < TIME_LEN; i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 9));
	for (r = 0; r < TIME_ROUNDS; r++) {
		t = mig_now_ns();
		if ((v = XXH3_createState()) != NULL &&
		    XXH3_128bits_reset(v) == XXH_OK &&
		    XXH3_128bits_update(v, buf, TIME_LEN) == XXH_OK)
			(void)XXH3_128bits_digest(v);
		XXH3_freeState(v);
		if ((t = mig_now_ns() - t) < tv)
			tv = t;
		t = mig_now_ns();
		if ((s = img_xxh3s_new()) != NULL) {
			img_xxh3s_update(s, buf, TIME_LEN);
			img_xxh3s_final(s, out);
		}
		img_xxh3s_free(s);
		if ((t = mig_now_ns() - t) < ts)
			ts = t;
	}
	free(buf);
	scalar_faster = ts < tv / 4 * 3;
}

static bool
use_scalar(void)
{
	const char	*e = getenv("MIG_XXH3");

	if (e != NULL && strcmp(e, "scalar") == 0)
		return true;
	if (e != NULL && strcmp(e, "vector") == 0)
		return false;
	pthread_once(&timed, time_both);
	return scalar_faster;
}

void
mig_image_prepare(void)
{
	(void)use_scalar();
}

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
	if (use_scalar()) {
		if ((d->xs = img_xxh3s_new()) == NULL)
			return mig_seterr(err, MIG_E_NOMEM, "XXH3 state");
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
	if (d->xs != NULL) {
		img_xxh3s_update(d->xs, p, len);
		return 0;
	}
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
	if (d->xs != NULL) {
		img_xxh3s_final(d->xs, out);
		return 0;
	}
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
	img_xxh3s_free(d->xs);
	d->md = NULL;
	d->xxh = NULL;
	d->xs = NULL;
}
