/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * XXH3-128 built from libxxhash's own header with its portable scalar
 * loop (private to libmig, image_digest.c's): the same digest, bit for
 * bit, as the library's vector code, and the faster of the two where
 * vector instructions are emulated (QEMU's TCG runs XXH3's SSE2 loop at
 * well under half the speed of this one).  image_digest.c decides which
 * runs.
 */
#ifndef MIG_XXH3_SCALAR_H
#define MIG_XXH3_SCALAR_H

#include <stddef.h>
#include <stdint.h>

struct img_xxh3s;

/* NULL when out of memory. */
struct img_xxh3s *img_xxh3s_new(void);
void	img_xxh3s_update(struct img_xxh3s *, const void *, size_t);
/* The canonical (big-endian) 16 bytes, as XXH128_canonicalFromHash. */
void	img_xxh3s_final(struct img_xxh3s *, uint8_t *);
void	img_xxh3s_free(struct img_xxh3s *);

#endif
