/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes the save-stream parser and checks its key property: feeding the
 * same bytes in any split gives the same result (status, message, counters
 * and callbacks) as feeding them whole.  The first byte picks the parser
 * flags; the split sizes come from a PRNG seeded by the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mig/stream.h"

struct run {
	struct mig_stream	s;
	struct mig_err		err;
	int			rc;
	size_t			consumed;
	uint64_t		digest;
};

static void
fold(struct run *r, uint64_t v)
{
	r->digest = (r->digest ^ v) * 0x100000001b3ULL;
}

static int
on_record(void *arg, const struct mig_stream_rec *rec)
{
	struct run	*r = arg;

	fold(r, rec->layer);
	fold(r, rec->type);
	fold(r, rec->length);
	fold(r, rec->offset);
	return 0;
}

static int
on_page(void *arg, uint64_t pfn, unsigned type, const void *page)
{
	struct run	*r = arg;

	fold(r, pfn);
	fold(r, type);
	if (page != NULL)
		fold(r, ((const uint8_t *)page)[0] ^
		    ((const uint8_t *)page)[4095] << 8);
	return 0;
}

static int
on_config(void *arg, const void *p, size_t len)
{
	struct run	*r = arg;
	size_t		 i;

	for (i = 0; i < len; i++)
		fold(r, ((const uint8_t *)p)[i]);
	return 0;
}

static void
run(struct run *r, unsigned flags, const uint8_t *p, size_t len,
    uint64_t seed)
{
	struct mig_stream_cbs	cbs = { on_record, on_page, on_config, r };
	size_t			n;
	ssize_t			c;

	memset(r, 0, sizeof(*r));
	mig_stream_init(&r->s, flags);
	mig_stream_set_cbs(&r->s, &cbs);
	while (r->consumed < len) {
		if (seed == 0) {
			n = len - r->consumed;
		} else {
			seed = seed * 6364136223846793005ULL +
			    1442695040888963407ULL;
			n = 1 + (size_t)(seed >> 33) % 9000;
			if (n > len - r->consumed)
				n = len - r->consumed;
		}
		if ((c = mig_stream_feed(&r->s, p + r->consumed, n,
		    &r->err)) == -1) {
			r->rc = -1;
			return;
		}
		r->consumed += (size_t)c;
		if ((size_t)c < n)
			break;		/* END reached, a trailer follows */
	}
	r->rc = mig_stream_finish(&r->s, &r->err);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run	whole, split;
	unsigned		flags;
	uint64_t		seed = 0x9e3779b97f4a7c15ULL;
	size_t			i;

	if (size < 1)
		return 0;
	flags = data[0] & (MIG_STREAM_NO_XL_HEADER | MIG_STREAM_TRAILER);
	for (i = 0; i < size && i < 64; i++)
		seed = (seed ^ data[i]) * 0x100000001b3ULL;
	run(&whole, flags, data + 1, size - 1, 0);
	run(&split, flags, data + 1, size - 1, seed | 1);
	/* On an error feed reports -1, not how far it got: skip consumed. */
	if (whole.rc != split.rc ||
	    (whole.rc == 0 && whole.consumed != split.consumed) ||
	    whole.digest != split.digest ||
	    memcmp(&whole.s.stats, &split.s.stats, sizeof(whole.s.stats)) ||
	    (whole.rc == -1 && strcmp(whole.err.msg, split.err.msg) != 0))
		abort();
	return 0;
}
