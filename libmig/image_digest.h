/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The digest an image's trailer carries (private to libmig): XXH3-128
 * by default, SHA-256 for encrypted images or when asked.  Neither is a
 * defence against whoever can write the file (an unkeyed digest can be
 * recomputed); the key's AES-GCM is.  So the default is the one that
 * costs a few per cent of a save instead of doubling it.
 * doc/image-format.md, "Trailer", is the reference.
 *
 * XXH3 runs as libxxhash's vector code or as its scalar build
 * (xxh3_scalar.c), whichever is faster on the CPU at hand: the same
 * digest either way.
 */
#ifndef MIG_IMAGE_DIGEST_H
#define MIG_IMAGE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <xxhash.h>

#include "mig/error.h"
#include "mig/image.h"
#include "xxh3_scalar.h"

#define IMG_DIGEST_MAX	32	/* the trailer's field; shorter ones padded */

struct img_digest {
	enum mig_image_digest	 alg;	/* SHA256 or XXH3, never DEFAULT */
	EVP_MD_CTX		*md;
	XXH3_state_t		*xxh;	/* libxxhash's code, or */
	struct img_xxh3s	*xs;	/* the scalar build */
};

int	img_digest_init(struct img_digest *, enum mig_image_digest,
	    struct mig_err *);
int	img_digest_update(struct img_digest *, const void *, size_t,
	    struct mig_err *);
/* IMG_DIGEST_MAX bytes, zero after a 16-byte XXH3-128. */
int	img_digest_final(struct img_digest *, uint8_t *, struct mig_err *);
void	img_digest_free(struct img_digest *);
const char *img_digest_name(enum mig_image_digest);

#endif
