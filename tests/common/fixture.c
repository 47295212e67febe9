/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "fixture.h"

int
fixture_load(const char *name, struct sg_buf *out)
{
	const char	*srcdir = getenv("srcdir");
	char		 path[4096];
	uint8_t		 in[65536], buf[65536];
	ZSTD_DStream	*z;
	ZSTD_inBuffer	 ib;
	ZSTD_outBuffer	 ob;
	FILE		*f;
	size_t		 n, rc = 0;
	int		 ok = -1;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/tests/unit/data/%s",
	    srcdir != NULL ? srcdir : ".", name);
	if ((f = fopen(path, "re")) == NULL) {
		perror(path);
		return -1;
	}
	if ((z = ZSTD_createDStream()) == NULL) {
		fclose(f);
		return -1;
	}
	while ((n = fread(in, 1, sizeof(in), f)) > 0) {
		ib = (ZSTD_inBuffer){ in, n, 0 };
		while (ib.pos < ib.size) {
			ob = (ZSTD_outBuffer){ buf, sizeof(buf), 0 };
			rc = ZSTD_decompressStream(z, &ob, &ib);
			if (ZSTD_isError(rc)) {
				fprintf(stderr, "%s: %s\n", path,
				    ZSTD_getErrorName(rc));
				goto out;
			}
			if (sg_buf_write(out, buf, ob.pos) == -1)
				goto out;
		}
	}
	if (ferror(f) || rc != 0)
		fprintf(stderr, "%s: read error or truncated\n", path);
	else
		ok = 0;
out:
	ZSTD_freeDStream(z);
	fclose(f);
	if (ok == -1)
		sg_buf_free(out);
	return ok;
}
