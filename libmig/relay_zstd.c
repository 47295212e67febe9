/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One zstd frame per DATA frame, with one reused context per relay: the
 * receiver learns chunk boundaries from the framing and can bound what one
 * frame decompresses to.  No zstd checksum: STREAM_END carries a SHA-256
 * of the whole uncompressed stream.
 */
#include <stdlib.h>

#include <zstd_errors.h>

#include "relay_int.h"

int
relay_zstd_init(struct mig_relay *r)
{
	int	level = r->conf.zstd_level;

	if (r->conf.dir == MIG_RELAY_SEND &&
	    (r->conf.flags & MIG_RELAY_F_ZSTD)) {
		if (level == 0)
			level = MIG_RELAY_ZSTD_LEVEL_DEFAULT;
		if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
			return mig_seterr(&r->err, MIG_E_INVAL, "%s: zstd level "
			    "%d out of range %d..%d", r->name, level,
			    ZSTD_minCLevel(), ZSTD_maxCLevel());
		if ((r->cctx = ZSTD_createCCtx()) == NULL)
			return mig_seterr(&r->err, MIG_E_NOMEM, "%s: zstd "
			    "context", r->name);
		if (ZSTD_isError(ZSTD_CCtx_setParameter(r->cctx,
		    ZSTD_c_compressionLevel, level)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(r->cctx,
		    ZSTD_c_checksumFlag, 0)))
			return mig_seterr(&r->err, MIG_E_INVAL, "%s: zstd "
			    "level %d refused", r->name, level);
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
	size_t	zn;

	zn = ZSTD_compress2(r->cctx, dst, cap, src, n);
	if (ZSTD_isError(zn) || zn >= n)
		return 0;
	return zn;
}

/* Decompresses one DATA body into dst (at most cap bytes); -1 on error. */
ssize_t
relay_zstd_decompress(struct mig_relay *r, uint8_t *dst, size_t cap,
    const uint8_t *src, size_t n)
{
	size_t	dn;

	dn = ZSTD_decompressDCtx(r->dctx, dst, cap, src, n);
	if (!ZSTD_isError(dn))
		return (ssize_t)dn;
	if (ZSTD_getErrorCode(dn) == ZSTD_error_dstSize_tooSmall)
		return mig_seterr(&r->err, MIG_E_TOOBIG, "%s: a zstd DATA frame "
		    "from %s decompresses to more than %u bytes", r->name,
		    mig_conn_peer(r->conf.conn), MIG_RELAY_CHUNK_MAX);
	return mig_seterr(&r->err, MIG_E_CORRUPT, "%s: bad zstd DATA frame "
	    "from %s: %s", r->name, mig_conn_peer(r->conf.conn),
	    ZSTD_getErrorName(dn));
}
