/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imgcut [-k N] < IMAGE > SKELETON: a save image written by xl save with
 * its memory cut out, small enough to keep as a test fixture.  Every byte
 * of it is as xl wrote it (xl header and config, libxl and libxc headers,
 * every record and its padding) except that PAGE_DATA records after the
 * first N (default 2) are left out and the pages of the ones kept are
 * zeroed.  What stays is the layout of a real stream of that guest type:
 * its HVM_CONTEXT, HVM_PARAMS, TSC, CPUID and MSR records, its emulator
 * records, and real pfn lists.  The tests/lab capture-images scenario runs
 * it in dom0 on images of real guests.
 *
 * It reads and writes one record at a time, and stops with a message at
 * the first thing it does not understand: it cuts streams it can parse,
 * it is not a parser.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/stream.h"
#include "mig/wire.h"

static unsigned long	keep = 2;	/* PAGE_DATA records kept */
static unsigned long	seen;		/* PAGE_DATA records read */

static void
die(const char *what)
{
	fprintf(stderr, "imgcut: %s\n", what);
	exit(1);
}

static void
get(void *p, size_t len)
{
	if (len > 0 && fread(p, 1, len, stdin) != len)
		die(ferror(stdin) ? strerror(errno) : "truncated image");
}

static void
put(const void *p, size_t len)
{
	if (len > 0 && fwrite(p, 1, len, stdout) != len)
		die(strerror(errno));
}

static void
copy(size_t len)
{
	uint8_t	b[65536];
	size_t	n;

	while (len > 0) {
		n = len < sizeof(b) ? len : sizeof(b);
		get(b, n);
		put(b, n);
		len -= n;
	}
}

static uint32_t
le32(const uint8_t *p)
{
	struct wire_rd	r;

	wire_rd_init(&r, p, 4);
	return wire_get_le32(&r);
}

/* One PAGE_DATA record whose 8-byte header is in hdr. */
static void
page_data(const uint8_t hdr[8], uint32_t len)
{
	uint8_t		*body;
	uint32_t	 count, off, i, ndata = 0;
	struct wire_rd	 r;

	if (len < 8 || (body = malloc(len)) == NULL)
		die("bad PAGE_DATA record");
	get(body, len);
	count = le32(body);
	if (count == 0 || len < 8 + (uint64_t)count * 8)
		die("bad PAGE_DATA count");
	wire_rd_init(&r, body + 8, (size_t)count * 8);
	for (i = 0; i < count; i++)
		if (mig_pfinfo_has_data(wire_get_le64(&r) >>
		    MIG_PFN_TYPE_SHIFT))
			ndata++;
	off = 8 + count * 8;
	if (len != off + (uint64_t)ndata * MIG_PAGE_SIZE)
		die("PAGE_DATA length does not match its pfn types");
	if (seen++ < keep) {
		memset(body + off, 0, len - off);
		put(hdr, 8);
		put(body, len);
	}
	free(body);
}

/* Records of one layer until its END; libxc's nested in LIBXC_CONTEXT. */
static void
records(int libxc)
{
	uint8_t		hdr[8], img[24 + 16];
	uint32_t	type, len;

	for (;;) {
		get(hdr, 8);
		type = le32(hdr);
		len = le32(hdr + 4);
		if (len > MIG_REC_LEN_MAX)
			die("record above the length limit");
		if (libxc && type == MIG_LIBXC_PAGE_DATA) {
			page_data(hdr, len);	/* lengths are 8-aligned */
			continue;
		}
		put(hdr, 8);
		copy(len + ((8 - (len & 7)) & 7));
		if (!libxc && type == MIG_LIBXL_LIBXC_CONTEXT) {
			get(img, sizeof(img));	/* image + domain headers */
			put(img, sizeof(img));
			records(1);
		}
		if (type == 0)			/* END, in either layer */
			return;
	}
}

int
main(int argc, char **argv)
{
	uint8_t			 xl[MIG_XLHDR_SIZE], lx[16];
	struct mig_xlhdr	 h;
	struct mig_err		 err;
	int			 c;
	char			*end;

	while ((c = getopt(argc, argv, "k:")) != -1) {
		if (c != 'k')
			goto usage;
		errno = 0;
		keep = strtoul(optarg, &end, 10);
		if (errno != 0 || *end != '\0')
			goto usage;
	}
	if (optind != argc)
		goto usage;
	get(xl, sizeof(xl));
	if (mig_xlhdr_decode(xl, &h, &err) == -1)
		die(err.msg);
	put(xl, sizeof(xl));
	copy(h.optional_data_len);		/* the config */
	get(lx, sizeof(lx));
	if (memcmp(lx, "LibxlFmt", 8) != 0)
		die("no libxl stream after the xl header");
	put(lx, sizeof(lx));
	records(0);
	if (fflush(stdout) == EOF)
		die(strerror(errno));
	fprintf(stderr, "imgcut: %lu of %lu PAGE_DATA records kept\n",
	    seen < keep ? seen : keep, seen);
	return 0;
usage:
	fprintf(stderr, "usage: imgcut [-k N] < IMAGE > SKELETON\n");
	return 2;
}
