/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pass a direct save makes over the stream libxl writes into the
 * image's file (private to libmig, image_write.c's): every byte fed to
 * the stream parser and the trailer's digest, in order, exactly once.
 * A thread follows the file while libxl writes it, so that on a host
 * with a core to spare the pass is done when libxl is; the end, known
 * once libxl has returned, is read to exactly.  Which bytes are read
 * never depends on when: only the time it takes does.
 */
#ifndef MIG_IMAGE_FOLLOW_H
#define MIG_IMAGE_FOLLOW_H

#include <stdint.h>

#include "image_digest.h"
#include "mig/error.h"
#include "mig/stream.h"

struct img_follow;

/*
 * Follows fd from offset off (the stream's first byte) into parser and
 * digest, which are the follower's until img_follow_end or
 * img_follow_free.  NULL only when out of memory; without a thread the
 * whole pass is made by img_follow_end.
 */
struct img_follow *img_follow_start(int, uint64_t, struct mig_stream *,
	    struct img_digest *, const char *, long, struct mig_err *);
/*
 * libxl is done and the stream ends at end: reads what is left up to
 * it and stops.  0 with bytes, the stream's length; -1 with the first
 * failure (the file's, the parser's, a stream shorter than end).
 */
int	img_follow_end(struct img_follow *, uint64_t, uint64_t *,
	    struct mig_err *);
/* Stops the thread if it runs and frees; NULL is a no-op. */
void	img_follow_free(struct img_follow *);

#endif
