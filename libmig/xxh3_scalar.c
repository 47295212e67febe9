/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxxhash's header compiled here with XXH_INLINE_ALL, its vector code
 * switched off: every xxhash name in this file is static and prefixed,
 * so it lives beside the shared library's without a clash.
 */
#define XXH_INLINE_ALL
#define XXH_VECTOR	XXH_SCALAR
#include <xxhash.h>

#include <string.h>

#include "xxh3_scalar.h"

struct img_xxh3s {
	XXH3_state_t	*st;
};

struct img_xxh3s *
img_xxh3s_new(void)
{
	struct img_xxh3s	*s;

	if ((s = malloc(sizeof(*s))) == NULL)
		return NULL;
	if ((s->st = XXH3_createState()) == NULL ||
	    XXH3_128bits_reset(s->st) != XXH_OK) {
		XXH3_freeState(s->st);
		free(s);
		return NULL;
	}
	return s;
}

void
img_xxh3s_update(struct img_xxh3s *s, const void *p, size_t len)
{
	(void)XXH3_128bits_update(s->st, p, len);
}

void
img_xxh3s_final(struct img_xxh3s *s, uint8_t *out)
{
	XXH128_canonical_t	c;

	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(s->st));
	memcpy(out, c.digest, sizeof(c.digest));
}

void
img_xxh3s_free(struct img_xxh3s *s)
{
	if (s == NULL)
		return;
	XXH3_freeState(s->st);
	free(s);
}
