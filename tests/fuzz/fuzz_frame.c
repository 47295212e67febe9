/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A byte stream as a peer sends it: a preamble, then frames of any type,
 * as mig_frame_split cuts them.  Each accepted message must round-trip.
 */
#include <stddef.h>
#include <stdint.h>

#include "proto_roundtrip.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_preamble	 pre;
	struct mig_frame_hdr	 h;
	struct mig_msg		 m;
	const uint8_t		*body;
	size_t			 used;

	if (size >= MIG_PREAMBLE_LEN &&
	    mig_preamble_decode(data, &pre, NULL) == 0) {
		data += MIG_PREAMBLE_LEN;
		size -= MIG_PREAMBLE_LEN;
	}
	while (mig_frame_split(data, size, &h, &body, &used, NULL) == 1) {
		if (used > size || used != MIG_FRAME_HDR_LEN + (size_t)h.len)
			abort();
		/* An unknown optional type is skipped, as a receiver does. */
		if (mig_msg_known(h.type) &&
		    mig_msg_decode(&h, body, &m, NULL) == 0)
			fuzz_roundtrip(&h, body, &m);
		data += used;
		size -= used;
	}
	return 0;
}
