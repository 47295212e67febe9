/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One zstd frame per DATA frame (zchunk.c), with one reused context per
 * relay: the receiver learns chunk boundaries from the framing and can
 * bound what one frame decompresses to.  STREAM_END carries a SHA-256 of
 * the whole uncompressed stream.
 */
#include <stdio.h>
#include <stdlib.h>

#include "relay_int.h"
#include "zchunk.h"

int
relay_zstd_init(struct mig_relay *r)
{
	if (r->conf.dir == MIG_RELAY_SEND &&
	    (r->conf.flags & MIG_RELAY_F_ZSTD)) {
		if ((r->cctx = zchunk_cctx(r->name, r->conf.zstd_level,
		    &r->err)) == NULL)
			return -1;
		r->zcap = MIG_FRAME_HDR_LEN +
		    ZSTD_compressBound(r->conf.chunk);
	} else if (r->conf.dir == MIG_RELAY_RECV) {
		if ((r->dctx = ZSTD_createDCtx()) == NULL)
			return mig_seterr(&r->err, MIG_E_NOMEM, "%s: zstd "
			    "context", r->name);
		r->zcap = MIG_RELAY_CHUNK_MAX;
	} else
		return 0;
	if ((r->zbuf = malloc(r->zcap)) == NULL)
		return mig_seterrno(&r->err, MIG_E_NOMEM, "%s: zstd buffer",
		    r->name);
	return 0;
}

void
relay_zstd_free(struct mig_relay *r)
{
	ZSTD_freeCCtx(r->cctx);
	ZSTD_freeDCtx(r->dctx);
	free(r->zbuf);
}

/* The compressed size, or 0 when the chunk is best sent as it is. */
size_t
relay_zstd_compress(struct mig_relay *r, uint8_t *dst, size_t cap,
    const uint8_t *src, size_t n)
{
	return zchunk_compress(r->cctx, dst, cap, src, n);
}

/* Decompresses one DATA body into dst (at most cap bytes); -1 on error. */
ssize_t
relay_zstd_decompress(struct mig_relay *r, uint8_t *dst, size_t cap,
    const uint8_t *src, size_t n)
{
	char	what[160];
	struct mig_err	e;
	ssize_t	dn;

	snprintf(what, sizeof(what), "zstd DATA frame from %s",
	    mig_conn_peer(r->conf.conn));
	/* The peer's fault, whatever zstd says: a frame that does not
	 * decompress, or to more than a DATA frame may hold (a bomb), breaks
	 * the protocol, and is the cause of what libxl then sees. */
	if ((dn = zchunk_decompress(r->dctx, dst, cap, src, n, what,
	    &e)) == -1)
		return mig_seterr(&r->err, MIG_E_PROTO, "%s: %s", r->name,
		    e.msg);
	return dn;
}
