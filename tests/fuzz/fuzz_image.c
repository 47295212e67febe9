/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes the save image reader on an in-memory file: open, config, read
 * everything, verify the trailer.  A fixed key lets encrypted inputs get
 * as far as the first chunk; it is given only for those (a key refuses
 * an image that is not encrypted).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mig/image.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mig_image_key key = { { 0x42 } };
	static uint8_t			buf[16384];
	struct mig_image_reader		*r;
	struct mig_image_summary	 sum;
	struct mig_err			 err;
	const char			*cfg;
	size_t				 len, off = 0;
	ssize_t				 n;
	int				 fd;

	if ((fd = memfd_create("fuzz_image", MFD_CLOEXEC)) == -1)
		abort();
	while (off < size) {
		if ((n = write(fd, data + off, size - off)) <= 0)
			abort();
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	/* The mandatory flags, little-endian at 36: bit 31 encrypted. */
	if ((r = mig_image_reader_fdopen(fd, "fuzz", size >= 40 &&
	    (data[39] & 0x80) ? &key : NULL, 0, &err)) == NULL)
		return 0;
	cfg = mig_image_reader_config(r, &len);
	if (strlen(cfg) > len)
		abort();
	while ((n = mig_image_reader_read(r, buf, sizeof(buf), &err)) > 0)
		;
	(void)mig_image_reader_verify_end(r, &err);
	mig_image_reader_summary(r, &sum);
	if (sum.name[sizeof(sum.name) - 1] != '\0')
		abort();
	mig_image_reader_close(r);
	return 0;
}
