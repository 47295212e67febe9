/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>

#include "extents.h"

int
extents_add(struct extents *e, uint64_t off, uint64_t len)
{
	struct extent	*last, *nx;
	size_t		 cap;

	if (len == 0)
		return 0;
	if (off + len < off) {
		errno = EINVAL;
		return -1;
	}
	last = e->n > 0 ? &e->x[e->n - 1] : NULL;
	if (last != NULL && off < last->off + last->len) {
		errno = EINVAL;		/* out of order or overlapping */
		return -1;
	}
	if (last != NULL && off == last->off + last->len) {
		last->len += len;
		e->bytes += len;
		return 0;
	}
	if (e->n == e->cap) {
		cap = e->cap == 0 ? 64 : e->cap * 2;
		if ((nx = reallocarray(e->x, cap, sizeof(*nx))) == NULL)
			return -1;
		e->x = nx;
		e->cap = cap;
	}
	e->x[e->n].off = off;
	e->x[e->n].len = len;
	e->n++;
	e->bytes += len;
	return 0;
}

void
extents_clip(struct extents *e, uint64_t size)
{
	size_t	i, n = 0;

	e->bytes = 0;
	for (i = 0; i < e->n; i++) {
		if (e->x[i].off >= size)
			break;
		if (e->x[i].off + e->x[i].len > size)
			e->x[i].len = size - e->x[i].off;
		e->bytes += e->x[i].len;
		n++;
	}
	e->n = n;
}

void
extents_free(struct extents *e)
{
	free(e->x);
	e->x = NULL;
	e->n = e->cap = 0;
	e->bytes = 0;
}
