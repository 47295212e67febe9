/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mig/error.h"
#include "mig/stream.h"
#include "streamgen.h"
#include "mig/wire.h"

#define CONFIG	"{\"c_info\": {\"type\": \"pv\", \"name\": \"guest1\"}}"
#define MAXRECS	256

/* What the callbacks saw, folded so two parses can be compared. */
struct seen {
	uint64_t		digest;
	size_t			nrec;
	struct mig_stream_rec	recs[MAXRECS];
	char			config[256];
	size_t			config_len;
	uint64_t		pages_ok;
	uint64_t		nodata;
	int			refuse_at;	/* refuse the Nth record */
};

static void
fold(struct seen *sn, uint64_t v)
{
	sn->digest = (sn->digest ^ v) * 0x100000001b3ULL;
}

static int
on_record(void *arg, const struct mig_stream_rec *r)
{
	struct seen	*sn = arg;

	fold(sn, r->layer);
	fold(sn, r->type);
	fold(sn, r->length);
	fold(sn, r->offset);
	if (sn->nrec < MAXRECS)
		sn->recs[sn->nrec] = *r;
	sn->nrec++;
	return sn->refuse_at != 0 && (int)sn->nrec == sn->refuse_at;
}

static int
on_page(void *arg, uint64_t pfn, unsigned type, const void *page)
{
	struct seen	*sn = arg;
	uint8_t		 want[MIG_PAGE_SIZE];

	fold(sn, pfn);
	fold(sn, type);
	if (page == NULL) {
		sn->nodata++;
		return 0;
	}
	sg_pattern_page(NULL, pfn, want);
	if (memcmp(page, want, sizeof(want)) == 0)
		sn->pages_ok++;
	return 0;
}

static int
on_config(void *arg, const void *p, size_t len)
{
	struct seen	*sn = arg;

	if (sn->config_len + len < sizeof(sn->config))
		memcpy(sn->config + sn->config_len, p, len);
	sn->config_len += len;
	return 0;
}

static void
attach(struct mig_stream *s, struct seen *sn)
{
	struct mig_stream_cbs	cbs = { on_record, on_page, on_config, sn };

	mig_stream_set_cbs(s, &cbs);
}

/* The standard stream: 2 vcpus, a 3000-pfn round and a 3-pfn round. */
static void
gen(struct sg_buf *b, bool xlhdr)
{
	struct sg_opts	o = { .no_xl_header = !xlhdr, .config = CONFIG,
	    .config_len = sizeof(CONFIG), .nr_vcpus = 2, .p2m_size = 4096 };
	struct sg	g;
	uint64_t	pfns[3000], round2[3];
	size_t		i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < 3000; i++)
		pfns[i] = i;
	round2[0] = 7;
	round2[1] = 9 | ((uint64_t)MIG_PFINFO_XTAB << MIG_PFN_TYPE_SHIFT);
	round2[2] = 11 | (1ULL << MIG_PFN_TYPE_SHIFT);	/* L1TAB: data */
	assert_int_equal(sg_begin(&g, &o, sg_buf_write, b), 0);
	assert_int_equal(sg_pages(&g, pfns, 3000, sg_pattern_page, NULL), 0);
	assert_int_equal(sg_pages(&g, round2, 3, sg_pattern_page, NULL), 0);
	assert_int_equal(sg_end(&g), 0);
	assert_int_equal(g.bytes, b->len);
}

/* Parses buf in chunks of the given sizes (cycled); returns feed/finish rc. */
static int
parse(const uint8_t *p, size_t len, unsigned flags, const size_t *chunks,
    size_t nchunks, struct mig_stream *s, struct seen *sn,
    struct mig_err *err)
{
	size_t	off = 0, n, k = 0;

	memset(sn, 0, sizeof(*sn));
	mig_stream_init(s, flags);
	attach(s, sn);
	while (off < len) {
		n = chunks ? chunks[k++ % nchunks] : len;
		if (n > len - off)
			n = len - off;
		if (mig_stream_feed(s, p + off, n, err) != (ssize_t)n)
			return -1;
		off += n;
	}
	return mig_stream_finish(s, err);
}

/* As parse(), failing the test with the parser's message on an error. */
static void
must_parse(const uint8_t *p, size_t len, unsigned flags,
    const size_t *chunks, size_t nchunks, struct mig_stream *s,
    struct seen *sn)
{
	struct mig_err	err;

	mig_clearerr(&err);
	if (parse(p, len, flags, chunks, nchunks, s, sn, &err) != 0)
		fail_msg("parse failed: %s", err.msg);
}

static void
test_whole(void **state)
{
	struct sg_buf		b;
	struct mig_stream	s;
	struct seen		sn;

	gen(&b, true);
	must_parse(b.p, b.len, 0, NULL, 0, &s, &sn);
	assert_int_equal(mig_stream_phase(&s), MIG_PHASE_END);
	assert_int_equal(s.stats.bytes, b.len);
	assert_true(s.stats.xl_header);
	assert_int_equal(s.stats.xl_mandatory_flags,
	    MIG_XL_FLAG_JSON | MIG_XL_FLAG_STREAMV2);
	assert_int_equal(s.stats.config_len, sizeof(CONFIG));
	assert_int_equal(sn.config_len, sizeof(CONFIG));
	assert_string_equal(sn.config, CONFIG);
	assert_int_equal(s.stats.libxc_version, 3);
	assert_int_equal(s.stats.guest_type, MIG_LIBXC_DOM_X86_PV);
	assert_int_equal(s.stats.page_shift, 12);
	assert_int_equal(s.stats.xen_major, 4);
	assert_int_equal(s.stats.xen_minor, 17);
	assert_int_equal(s.stats.guest_width, 8);
	assert_int_equal(s.stats.pt_levels, 4);
	/* 3000 pfns in 3 records, then 3 pfns of which one has no data. */
	assert_int_equal(s.stats.page_records, 4);
	assert_int_equal(s.stats.pfns, 3003);
	assert_int_equal(s.stats.pages, 3002);
	assert_int_equal(sn.pages_ok, 3002);
	assert_int_equal(sn.nodata, 1);
	assert_int_equal(s.stats.libxc_records[MIG_LIBXC_PAGE_DATA], 4);
	assert_int_equal(s.stats.libxc_records[MIG_LIBXC_X86_PV_VCPU_BASIC],
	    2);
	assert_int_equal(s.stats.libxc_records[MIG_LIBXC_X86_PV_VCPU_MSRS], 2);
	assert_int_equal(s.stats.libxc_records[MIG_LIBXC_SHARED_INFO], 1);
	assert_int_equal(s.stats.libxc_records[MIG_LIBXC_STATIC_DATA_END], 1);
	assert_int_equal(s.stats.libxc_records[MIG_LIBXC_END], 1);
	assert_int_equal(s.stats.libxl_records[MIG_LIBXL_LIBXC_CONTEXT], 1);
	assert_int_equal(s.stats.libxl_records[MIG_LIBXL_END], 1);
	/* The libxc image ends right before the 8-byte libxl END. */
	assert_int_equal(s.stats.libxc_end, b.len - 8);
	assert_int_equal(s.stats.libxc_start, MIG_XLHDR_SIZE + 4 +
	    sizeof(CONFIG) + 16 + 8);
	sg_buf_free(&b);
}

static void
test_no_xl_header(void **state)
{
	struct sg_buf		b;
	struct mig_stream	s;
	struct seen		sn;

	gen(&b, false);
	assert_int_equal(parse(b.p, b.len, MIG_STREAM_NO_XL_HEADER, NULL, 0,
	    &s, &sn, NULL), 0);
	assert_false(s.stats.xl_header);
	assert_int_equal(s.stats.pages, 3002);
	/* The same bytes with the xl-header flavour are foreign. */
	assert_int_equal(parse(b.p, b.len, 0, NULL, 0, &s, &sn, NULL), -1);
	sg_buf_free(&b);
}

static void
test_split_invariance(void **state)
{
	static const size_t	ones[] = { 1 };
	static const size_t	odd[] = { 7, 4095, 4097, 3, 8191, 1, 65536 };
	struct sg_buf		b;
	struct mig_stream	ref, s;
	struct seen		rsn, sn;
	size_t			rnd[64], i;
	unsigned		seed;

	gen(&b, true);
	must_parse(b.p, b.len, 0, NULL, 0, &ref, &rsn);
	must_parse(b.p, b.len, 0, ones, 1, &s, &sn);
	assert_memory_equal(&ref.stats, &s.stats, sizeof(ref.stats));
	assert_true(rsn.digest == sn.digest);
	assert_int_equal(sn.pages_ok, 3002);
	must_parse(b.p, b.len, 0, odd, 7, &s, &sn);
	assert_memory_equal(&ref.stats, &s.stats, sizeof(ref.stats));
	assert_true(rsn.digest == sn.digest);
	for (seed = 1; seed <= 5; seed++) {
		srandom(seed);
		for (i = 0; i < 64; i++)
			rnd[i] = 1 + (size_t)random() % (seed * 3000);
		assert_int_equal(parse(b.p, b.len, 0, rnd, 64, &s, &sn,
		    NULL), 0);
		assert_memory_equal(&ref.stats, &s.stats, sizeof(ref.stats));
		assert_true(rsn.digest == sn.digest);
	}
	sg_buf_free(&b);
}

static void
expect_trunc(const uint8_t *p, size_t len)
{
	struct mig_stream	s;
	struct seen		sn;
	struct mig_err		err;

	mig_clearerr(&err);
	assert_int_equal(parse(p, len, 0, NULL, 0, &s, &sn, &err), -1);
	assert_int_equal(err.code, MIG_E_TRUNC);
	assert_non_null(strstr(err.msg, "truncated"));
}

static void
test_truncation(void **state)
{
	struct sg_buf		b;
	struct mig_stream	s;
	struct seen		sn;
	size_t			i, k, off, next, cut[5];

	gen(&b, true);
	must_parse(b.p, b.len, 0, NULL, 0, &s, &sn);
	assert_true(sn.nrec < MAXRECS);
	/* Inside the headers, byte by byte. */
	for (off = 0; off < sn.recs[0].offset; off++)
		expect_trunc(b.p, off);
	for (i = 0; i < sn.nrec; i++) {
		off = sn.recs[i].offset;
		next = i + 1 < sn.nrec ? sn.recs[i + 1].offset : b.len;
		cut[0] = off;			/* boundary */
		cut[1] = off + 1;		/* in the header */
		cut[2] = off + 8;		/* after the header */
		cut[3] = off + (next - off) / 2;
		cut[4] = next - 1;
		for (k = 0; k < 5; k++)
			if (cut[k] < b.len)
				expect_trunc(b.p, cut[k]);
	}
	sg_buf_free(&b);
}

/* Index of the first record of the given kind in a reference parse. */
static const struct mig_stream_rec *
find_rec(const struct seen *sn, enum mig_stream_layer layer, uint32_t type)
{
	size_t	i;

	for (i = 0; i < sn->nrec; i++)
		if (sn->recs[i].layer == layer && sn->recs[i].type == type)
			return &sn->recs[i];
	fail_msg("record type %u not found", type);
	return NULL;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	struct wire_wr	w;

	wire_wr_init(&w, p, 4);
	wire_put_le32(&w, v);
}

static void
expect_bad(const uint8_t *orig, size_t len, size_t at, const void *bytes,
    size_t n, int code, const char *what)
{
	uint8_t			*p = malloc(len);
	struct mig_stream	 s;
	struct seen		 sn;
	struct mig_err		 err;

	assert_non_null(p);
	memcpy(p, orig, len);
	memcpy(p + at, bytes, n);
	mig_clearerr(&err);
	if (parse(p, len, 0, NULL, 0, &s, &sn, &err) != -1)
		fail_msg("corruption at %zu not detected (want %s)", at, what);
	if (err.code != code || strstr(err.msg, what) == NULL)
		fail_msg("want %s/%s, got %s: %s", mig_errcode_name(code),
		    what, mig_errcode_name(err.code), err.msg);
	assert_int_equal(mig_stream_phase(&s), MIG_PHASE_ERROR);
	/* The error is sticky. */
	assert_int_equal(mig_stream_feed(&s, p, 1, NULL), -1);
	free(p);
}

static void
test_corruption(void **state)
{
	struct sg_buf			 b;
	struct mig_stream		 s;
	struct seen			 sn;
	const struct mig_stream_rec	*pd, *info, *tsc;
	uint8_t				 v[8];

	gen(&b, true);
	must_parse(b.p, b.len, 0, NULL, 0, &s, &sn);
	pd = find_rec(&sn, MIG_LAYER_LIBXC, MIG_LIBXC_PAGE_DATA);
	info = find_rec(&sn, MIG_LAYER_LIBXC, MIG_LIBXC_X86_PV_INFO);
	tsc = find_rec(&sn, MIG_LAYER_LIBXC, MIG_LIBXC_X86_TSC_INFO);

	expect_bad(b.p, b.len, 0, "Xyz", 3, MIG_E_CORRUPT, "magic");
	expect_bad(b.p, b.len, 32, "\x01\x02\x03\x04", 4, MIG_E_NOTSUP,
	    "big-endian");
	put_le32(v, MIG_XL_FLAG_STREAMV2 | (1U << 5));
	expect_bad(b.p, b.len, 36, v, 4, MIG_E_NOTSUP, "mandatory flags 0x20");
	put_le32(v, MIG_XL_FLAG_STREAMV2 | MIG_XL_FLAG_ENCRYPTED);
	expect_bad(b.p, b.len, 36, v, 4, MIG_E_NOTSUP, "encrypted");
	put_le32(v, MIG_XL_FLAG_JSON);
	expect_bad(b.p, b.len, 36, v, 4, MIG_E_NOTSUP, "legacy");
	put_le32(v, 64U << 20);
	expect_bad(b.p, b.len, 44, v, 4, MIG_E_TOOBIG, "optional data");
	put_le32(v, 5000);
	expect_bad(b.p, b.len, 48, v, 4, MIG_E_CORRUPT, "overruns");
	expect_bad(b.p, b.len, 52 + sizeof(CONFIG), "LibxlFmX", 8,
	    MIG_E_CORRUPT, "LibxlFmt");
	/* The libxc image header follows LIBXC_CONTEXT. */
	expect_bad(b.p, b.len, s.stats.libxc_start + 8, "XENG", 4,
	    MIG_E_CORRUPT, "marker");
	put_le32(v, 0x7000);
	expect_bad(b.p, b.len, pd->offset, v, 4, MIG_E_NOTSUP,
	    "unknown mandatory");
	put_le32(v, pd->length - 8);
	expect_bad(b.p, b.len, pd->offset + 4, v, 4, MIG_E_CORRUPT,
	    "does not match");
	put_le32(v, MIG_REC_LEN_MAX + 8);
	expect_bad(b.p, b.len, pd->offset + 4, v, 4, MIG_E_TOOBIG, "limit");
	put_le32(v, 1025);
	expect_bad(b.p, b.len, pd->offset + 8, v, 4, MIG_E_CORRUPT,
	    "count 1025");
	put_le32(v, 0);
	expect_bad(b.p, b.len, pd->offset + 8, v, 4, MIG_E_CORRUPT, "count 0");
	expect_bad(b.p, b.len, pd->offset + 16 + 7, "\x50", 1, MIG_E_CORRUPT,
	    "unknown type 0x5");
	put_le32(v, 9);
	expect_bad(b.p, b.len, info->offset + 4, v, 4, MIG_E_CORRUPT,
	    "length must be 8");
	expect_bad(b.p, b.len, info->offset + 8, "\x05", 1, MIG_E_CORRUPT,
	    "guest width 5");
	/* An odd-length record to corrupt the padding of. */
	put_le32(v, 20);
	expect_bad(b.p, b.len, tsc->offset + 4, v, 4, MIG_E_CORRUPT,
	    "length must be 24");
	sg_buf_free(&b);
}

/* Builds a custom stream: xl header, libxl header, then fn's records. */
static void
custom(struct sg_buf *b, void (*fn)(struct sg *))
{
	struct sg	g;
	uint8_t		lx[16];
	struct wire_wr	w;

	memset(b, 0, sizeof(*b));
	memset(&g, 0, sizeof(g));
	g.write = sg_buf_write;
	g.warg = b;
	assert_int_equal(sg_xl_header(&g, NULL, 0), 0);
	wire_wr_init(&w, lx, sizeof(lx));
	wire_put_be64(&w, 0x4c6962786c466d74ULL);
	wire_put_be32(&w, 2);
	wire_put_be32(&w, 0);
	assert_int_equal(sg_raw(&g, lx, 16), 0);
	fn(&g);
	assert_false(g.failed);
}

static void
libxc_start(struct sg *g)
{
	uint8_t		b[40];
	struct wire_wr	w;

	sg_record(g, MIG_LIBXL_LIBXC_CONTEXT, NULL, 0);
	wire_wr_init(&w, b, sizeof(b));
	wire_put_be64(&w, ~0ULL);
	wire_put_be32(&w, 0x58454e46);
	wire_put_be32(&w, 2);
	wire_put_be64(&w, 0);
	wire_put_le32(&w, MIG_LIBXC_DOM_X86_HVM);
	wire_put_le16(&w, 12);
	wire_put_le16(&w, 0);
	wire_put_le32(&w, 4);
	wire_put_le32(&w, 17);
	sg_raw(g, b, sizeof(b));
}

static void
hvm_like(struct sg *g)
{
	static const uint8_t	emu[13] = { 2, 0, 0, 0, 0, 0, 0, 0, 'k',
	    0, 'v', 0, 0 };
	uint64_t		pfn = 5;

	libxc_start(g);
	sg_record(g, 0x80000123, "opt", 3);		/* optional libxc */
	sg_pages(g, &pfn, 1, sg_pattern_page, NULL);
	sg_record(g, MIG_LIBXC_HVM_CONTEXT, "ctx", 3);
	sg_record(g, MIG_LIBXC_CHECKPOINT, NULL, 0);
	sg_record(g, MIG_LIBXL_EMULATOR_XENSTORE, emu, sizeof(emu));
	sg_record(g, MIG_LIBXL_CHECKPOINT_END, NULL, 0);
	sg_pages(g, &pfn, 1, sg_pattern_page, NULL);
	sg_record(g, MIG_LIBXC_END, NULL, 0);
	sg_record(g, MIG_LIBXL_EMULATOR_CONTEXT, emu, sizeof(emu));
	sg_record(g, 0x80000001, NULL, 0);		/* optional libxl */
	sg_record(g, MIG_LIBXL_END, NULL, 0);
}

static void
test_checkpoint_and_optional(void **state)
{
	static const size_t	ones[] = { 1 };
	struct sg_buf		b;
	struct mig_stream	s;
	struct seen		sn;

	custom(&b, hvm_like);
	must_parse(b.p, b.len, 0, ones, 1, &s, &sn);
	assert_int_equal(s.stats.guest_type, MIG_LIBXC_DOM_X86_HVM);
	assert_int_equal(s.stats.libxc_version, 2);
	assert_int_equal(s.stats.checkpoints, 1);
	assert_int_equal(s.stats.pages, 2);
	assert_int_equal(s.stats.libxc_records[MIG_LIBXC_NTYPES], 1);
	assert_int_equal(s.stats.libxl_records[MIG_LIBXL_NTYPES], 1);
	assert_int_equal(s.stats.libxl_records[MIG_LIBXL_EMULATOR_CONTEXT], 1);
	assert_int_equal(s.stats.config_len, 0);
	sg_buf_free(&b);
}

static void
bad_padding(struct sg *g)
{
	static const uint8_t	rec[] = { 0x0b, 0, 0, 0, 3, 0, 0, 0,
	    'a', 'b', 'c', 0, 0, 1, 0, 0 };

	libxc_start(g);
	sg_raw(g, rec, sizeof(rec));		/* TOOLSTACK, dirty padding */
}

static void
end_without_libxc(struct sg *g)
{
	sg_record(g, MIG_LIBXL_END, NULL, 0);
}

static void
stray_checkpoint_end(struct sg *g)
{
	sg_record(g, MIG_LIBXL_CHECKPOINT_END, NULL, 0);
}

static void
unknown_libxl(struct sg *g)
{
	sg_record(g, 0x42, NULL, 0);
}

static void
short_emulator(struct sg *g)
{
	uint64_t	pfn = 1;

	libxc_start(g);
	sg_pages(g, &pfn, 1, sg_pattern_page, NULL);
	sg_record(g, MIG_LIBXC_END, NULL, 0);
	sg_record(g, MIG_LIBXL_EMULATOR_CONTEXT, "\2\0\0\0", 4);
}

static void
second_libxc(struct sg *g)
{
	uint64_t	pfn = 1;

	libxc_start(g);
	sg_pages(g, &pfn, 1, sg_pattern_page, NULL);
	sg_record(g, MIG_LIBXC_END, NULL, 0);
	sg_record(g, MIG_LIBXL_LIBXC_CONTEXT, NULL, 0);
}

static void
check_custom_fails(void (*fn)(struct sg *), int code, const char *what)
{
	struct sg_buf		b;
	struct mig_stream	s;
	struct seen		sn;
	struct mig_err		err;

	custom(&b, fn);
	mig_clearerr(&err);
	assert_int_equal(parse(b.p, b.len, 0, NULL, 0, &s, &sn, &err), -1);
	if (err.code != code || strstr(err.msg, what) == NULL)
		fail_msg("want %s, got %s", what, err.msg);
	sg_buf_free(&b);
}

static void
test_structure_errors(void **state)
{
	check_custom_fails(bad_padding, MIG_E_CORRUPT, "non-zero padding");
	check_custom_fails(end_without_libxc, MIG_E_CORRUPT,
	    "without a complete libxc image");
	check_custom_fails(stray_checkpoint_end, MIG_E_CORRUPT,
	    "no libxc CHECKPOINT");
	check_custom_fails(unknown_libxl, MIG_E_NOTSUP, "unknown mandatory");
	check_custom_fails(short_emulator, MIG_E_CORRUPT, "length must be 8..");
	check_custom_fails(second_libxc, MIG_E_CORRUPT, "a second libxc image");
}

static void
test_trailing(void **state)
{
	struct sg_buf		b;
	struct mig_stream	s;
	struct seen		sn;
	struct mig_err		err;
	size_t			len;

	gen(&b, true);
	len = b.len;
	assert_int_equal(sg_buf_write(&b, "TRAILER!", 8), 0);
	assert_int_equal(parse(b.p, b.len, 0, NULL, 0, &s, &sn, &err), -1);
	assert_int_equal(err.code, MIG_E_CORRUPT);
	assert_non_null(strstr(err.msg, "trailing data"));
	/* Allowed: feed stops right after END and leaves the rest. */
	mig_stream_init(&s, MIG_STREAM_TRAILER);
	assert_int_equal(mig_stream_feed(&s, b.p, b.len, &err), len);
	assert_int_equal(mig_stream_feed(&s, b.p + len, 8, &err), 0);
	assert_int_equal(mig_stream_finish(&s, &err), 0);
	sg_buf_free(&b);
}

static void
test_callback_refusal(void **state)
{
	struct sg_buf		b;
	struct mig_stream	s;
	struct seen		sn;
	struct mig_err		err;

	gen(&b, true);
	memset(&sn, 0, sizeof(sn));
	sn.refuse_at = 3;
	mig_stream_init(&s, 0);
	attach(&s, &sn);
	assert_int_equal(mig_stream_feed(&s, b.p, b.len, &err), -1);
	assert_int_equal(err.code, MIG_E_CANCELLED);
	assert_int_equal(mig_stream_finish(&s, &err), -1);
	assert_int_equal(err.code, MIG_E_CANCELLED);
	sg_buf_free(&b);
}

static void
test_names(void **state)
{
	assert_string_equal(mig_stream_rec_name(MIG_LAYER_LIBXC,
	    MIG_LIBXC_X86_MSR_POLICY), "X86_MSR_POLICY");
	assert_string_equal(mig_stream_rec_name(MIG_LAYER_LIBXL,
	    MIG_LIBXL_CHECKPOINT_STATE), "CHECKPOINT_STATE");
	assert_string_equal(mig_stream_rec_name(MIG_LAYER_LIBXL, 0x80000000),
	    "optional");
	assert_string_equal(mig_stream_phase_name(MIG_PHASE_LIBXC),
	    "libxc image");
	assert_true(mig_pfinfo_has_data(0xc));
	assert_false(mig_pfinfo_has_data(MIG_PFINFO_XALLOC));
	assert_false(mig_pfinfo_has_data(5));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_no_xl_header),
		cmocka_unit_test(test_split_invariance),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_corruption),
		cmocka_unit_test(test_checkpoint_and_optional),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_callback_refusal),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
