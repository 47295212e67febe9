/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zstd for self-contained chunks (private to libmig): one frame per chunk,
 * no zstd checksum (the relay's STREAM_END and the image trailer carry a
 * SHA-256), and a chunk that does not shrink is best kept as it is.  Used
 * by the relay (DATA frames) and the image format (compressed chunks).
 */
#ifndef MIG_ZCHUNK_H
#define MIG_ZCHUNK_H

#include <stddef.h>
#include <sys/types.h>

#include <zstd.h>

#include "mig/error.h"

/* A compression context at level (0: MIG_RELAY_ZSTD_LEVEL_DEFAULT). */
ZSTD_CCtx	*zchunk_cctx(const char *, int, struct mig_err *);
/* The compressed size, or 0 when the chunk is best stored as it is. */
size_t		 zchunk_compress(ZSTD_CCtx *, void *, size_t, const void *,
		    size_t);
/*
 * Decompresses one frame into dst (at most cap bytes); -1 with
 * MIG_E_TOOBIG or MIG_E_CORRUPT and a message naming what (e.g. "a zstd
 * DATA frame from HOST").
 */
ssize_t		 zchunk_decompress(ZSTD_DCtx *, void *, size_t, const void *,
		    size_t, const char *, struct mig_err *);

#endif
