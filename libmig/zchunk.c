/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zstd_errors.h>

#include "mig/relay.h"
#include "zchunk.h"

ZSTD_CCtx *
zchunk_cctx(const char *name, int level, struct mig_err *err)
{
	ZSTD_CCtx	*cctx;

	if (level == 0)
		level = MIG_RELAY_ZSTD_LEVEL_DEFAULT;
	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
		mig_seterr(err, MIG_E_INVAL, "%s: zstd level %d out of range "
		    "%d..%d", name, level, ZSTD_minCLevel(), ZSTD_maxCLevel());
		return NULL;
	}
	if ((cctx = ZSTD_createCCtx()) == NULL) {
		mig_seterr(err, MIG_E_NOMEM, "%s: zstd context", name);
		return NULL;
	}
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx,
	    ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx,
	    ZSTD_c_checksumFlag, 0))) {
		ZSTD_freeCCtx(cctx);
		mig_seterr(err, MIG_E_INVAL, "%s: zstd level %d refused", name,
		    level);
		return NULL;
	}
	return cctx;
}

size_t
zchunk_compress(ZSTD_CCtx *cctx, void *dst, size_t cap, const void *src,
    size_t n)
{
	size_t	zn;

	zn = ZSTD_compress2(cctx, dst, cap, src, n);
	if (ZSTD_isError(zn) || zn >= n)
		return 0;
	return zn;
}

ssize_t
zchunk_decompress(ZSTD_DCtx *dctx, void *dst, size_t cap, const void *src,
    size_t n, const char *what, struct mig_err *err)
{
	size_t	dn;

	dn = ZSTD_decompressDCtx(dctx, dst, cap, src, n);
	if (!ZSTD_isError(dn))
		return (ssize_t)dn;
	if (ZSTD_getErrorCode(dn) == ZSTD_error_dstSize_tooSmall)
		return mig_seterr(err, MIG_E_TOOBIG, "%s decompresses to more "
		    "than %zu bytes", what, cap);
	return mig_seterr(err, MIG_E_CORRUPT, "bad %s: %s", what,
	    ZSTD_getErrorName(dn));
}
