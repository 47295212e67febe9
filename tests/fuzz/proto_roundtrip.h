/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The round-trip property every protocol fuzz target checks: whatever the
 * decoder accepts, the encoder writes back as exactly the bytes the decoder
 * used (the encoding is canonical), and those decode to the same message.
 */
#ifndef PROTO_ROUNDTRIP_H
#define PROTO_ROUNDTRIP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/error.h"
#include "mig/proto.h"
#include "msg_equal.h"

static void
fuzz_die(const char *what, const struct mig_msg *m, const struct mig_err *e)
{
	fprintf(stderr, "round trip of %s: %s%s%s\n", mig_msg_name(m->type),
	    what, e != NULL ? ": " : "", e != NULL ? e->msg : "");
	abort();
}

static void
fuzz_roundtrip(const struct mig_frame_hdr *h, const uint8_t *body,
    const struct mig_msg *m)
{
	struct mig_frame_hdr	 h2;
	struct mig_msg		 m2;
	struct mig_err		 err;
	uint8_t			*buf;
	size_t			 cap, len;

	cap = MIG_FRAME_HDR_LEN + (size_t)h->len + 64;
	if ((buf = malloc(cap)) == NULL)
		abort();
	if (mig_msg_encode(m, buf, cap, &len, &err) == -1)
		fuzz_die("re-encode failed", m, &err);
	if (mig_frame_hdr_decode(buf, &h2, &err) == -1)
		fuzz_die("re-encoded header refused", m, &err);
	if (h2.type != h->type || h2.flags != h->flags)
		fuzz_die("header type or flags changed", m, NULL);
	/* Bytes past this version's fields are ignored, so a prefix. */
	if (h2.len > h->len || memcmp(buf + MIG_FRAME_HDR_LEN, body,
	    h2.len) != 0)
		fuzz_die("encoding is not the decoded bytes", m, NULL);
	if (mig_msg_decode(&h2, buf + MIG_FRAME_HDR_LEN, &m2, &err) == -1)
		fuzz_die("re-decode failed", m, &err);
	if (!test_msg_equal(m, &m2))
		fuzz_die("decodes to a different message", m, NULL);
	free(buf);
}

/* Decodes body as a frame of the given type; round-trips what is accepted. */
static void
fuzz_one_type(uint16_t type, const uint8_t *data, size_t size)
{
	struct mig_frame_hdr	h;
	struct mig_msg		m;

	if (size > MIG_FRAME_CTRL_MAX)
		return;
	h.len = size;
	h.type = type;
	h.flags = mig_msg_mandatory(type) ? MIG_FRAME_F_MANDATORY : 0;
	if (mig_msg_decode(&h, data, &m, NULL) == 0)
		fuzz_roundtrip(&h, data, &m);
}

#endif
