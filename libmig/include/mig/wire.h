/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bounded cursors over byte buffers, shared by every codec in libmig.
 *
 * A reader never reads past its end: the first short read sets "bad" and
 * every later get returns zero, so a decoder can read a whole structure and
 * check once.  Big-endian helpers serve the relocation protocol (network
 * order); little-endian helpers serve Xen's save streams, which are in the
 * byte order of the (x86) host that wrote them.
 */
#ifndef MIG_WIRE_H
#define MIG_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wire_rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	bool		 bad;
};

struct wire_wr {
	uint8_t		*p;
	size_t		 cap;
	size_t		 off;
	bool		 bad;		/* set when a put did not fit */
};

static inline void
wire_rd_init(struct wire_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = false;
}

static inline size_t
wire_rd_left(const struct wire_rd *r)
{
	return r->bad ? 0 : r->len - r->off;
}

/* Returns a pointer to the next n bytes and advances, or NULL (and bad). */
static inline const uint8_t *
wire_get_bytes(struct wire_rd *r, size_t n)
{
	const uint8_t	*q;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	q = r->p + r->off;
	r->off += n;
	return q;
}

static inline uint64_t
wire_get_be(struct wire_rd *r, size_t n)
{
	const uint8_t	*q = wire_get_bytes(r, n);
	uint64_t	 v = 0;
	size_t		 i;

	if (q == NULL)
		return 0;
	for (i = 0; i < n; i++)
		v = (v << 8) | q[i];
	return v;
}

static inline uint64_t
wire_get_le(struct wire_rd *r, size_t n)
{
	const uint8_t	*q = wire_get_bytes(r, n);
	uint64_t	 v = 0;
	size_t		 i;

	if (q == NULL)
		return 0;
	for (i = n; i > 0; i--)
		v = (v << 8) | q[i - 1];
	return v;
}

#define wire_get_u8(r)		((uint8_t)wire_get_be((r), 1))
#define wire_get_be16(r)	((uint16_t)wire_get_be((r), 2))
#define wire_get_be32(r)	((uint32_t)wire_get_be((r), 4))
#define wire_get_be64(r)	((uint64_t)wire_get_be((r), 8))
#define wire_get_le16(r)	((uint16_t)wire_get_le((r), 2))
#define wire_get_le32(r)	((uint32_t)wire_get_le((r), 4))
#define wire_get_le64(r)	((uint64_t)wire_get_le((r), 8))

static inline void
wire_wr_init(struct wire_wr *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->off = 0;
	w->bad = false;
}

static inline uint8_t *
wire_put_space(struct wire_wr *w, size_t n)
{
	uint8_t	*q;

	if (w->bad || n > w->cap - w->off) {
		w->bad = true;
		return NULL;
	}
	q = w->p + w->off;
	w->off += n;
	return q;
}

static inline void
wire_put_bytes(struct wire_wr *w, const void *src, size_t n)
{
	uint8_t	*q = wire_put_space(w, n);

	if (q != NULL && n > 0)
		memcpy(q, src, n);
}

static inline void
wire_put_be(struct wire_wr *w, uint64_t v, size_t n)
{
	uint8_t	*q = wire_put_space(w, n);
	size_t	 i;

	if (q == NULL)
		return;
	for (i = n; i > 0; i--) {
		q[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

static inline void
wire_put_le(struct wire_wr *w, uint64_t v, size_t n)
{
	uint8_t	*q = wire_put_space(w, n);
	size_t	 i;

	if (q == NULL)
		return;
	for (i = 0; i < n; i++) {
		q[i] = (uint8_t)v;
		v >>= 8;
	}
}

#define wire_put_u8(w, v)	wire_put_be((w), (v), 1)
#define wire_put_be16(w, v)	wire_put_be((w), (v), 2)
#define wire_put_be32(w, v)	wire_put_be((w), (v), 4)
#define wire_put_be64(w, v)	wire_put_be((w), (v), 8)
#define wire_put_le16(w, v)	wire_put_le((w), (v), 2)
#define wire_put_le32(w, v)	wire_put_le((w), (v), 4)
#define wire_put_le64(w, v)	wire_put_le((w), (v), 8)

#endif
