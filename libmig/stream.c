/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streaming parser for xl/libxl/libxc save streams; see stream.h and
 * doc/image-format.md.
 *
 * Every state either collects a fixed number of bytes into a buffer
 * (headers, small record bodies, the pfn array, a page split across two
 * feeds) or streams bytes past (large bodies, config, padding).  State
 * changes that need no input happen at once, so a record whose last byte
 * is fed is finished before feed returns: that is what makes the result
 * independent of how the input is split.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mig/stream.h"
#include "mig/wire.h"

enum {
	ST_XLHDR,	/* collect 48 */
	ST_XLCFGLEN,	/* collect 4 */
	ST_XLCFG,	/* stream config to on_config */
	ST_XLSKIP,	/* skip the rest of the optional data */
	ST_LXHDR,	/* collect 16 */
	ST_RECHDR,	/* collect 8 */
	ST_BODY,	/* collect a small body */
	ST_SKIP,	/* skip a large body */
	ST_PAD,		/* padding, must be zero */
	ST_XCIHDR,	/* collect 24 */
	ST_XCDHDR,	/* collect 16 */
	ST_PDHDR,	/* collect 8: count, reserved */
	ST_PDPFNS,	/* collect count * 8 into pfn[] */
	ST_PDPAGE,	/* one page of data */
	ST_END,
	ST_ERROR
};

#define LIBXL_IDENT	0x4c6962786c466d74ULL	/* "LibxlFmt" */
#define LIBXL_VERSION	2
#define LIBXC_MARKER	0xffffffffffffffffULL
#define LIBXC_ID	0x58454e46U		/* "XENF" */
#define XL_BYTEORDER	0x01020304U

static int	passed(struct mig_stream *);

static const char *const libxl_names[MIG_LIBXL_NTYPES] = {
	"END", "LIBXC_CONTEXT", "EMULATOR_XENSTORE_DATA",
	"EMULATOR_CONTEXT", "CHECKPOINT_END", "CHECKPOINT_STATE"
};

static const char *const libxc_names[MIG_LIBXC_NTYPES] = {
	"END", "PAGE_DATA", "X86_PV_INFO", "X86_PV_P2M_FRAMES",
	"X86_PV_VCPU_BASIC", "X86_PV_VCPU_EXTENDED", "X86_PV_VCPU_XSAVE",
	"SHARED_INFO", "X86_TSC_INFO", "HVM_CONTEXT", "HVM_PARAMS",
	"TOOLSTACK", "X86_PV_VCPU_MSRS", "VERIFY", "CHECKPOINT",
	"CHECKPOINT_DIRTY_PFN_LIST", "STATIC_DATA_END", "X86_CPUID_POLICY",
	"X86_MSR_POLICY"
};

static const char *const phase_names[] = {
	[MIG_PHASE_XL_HEADER] = "xl header",
	[MIG_PHASE_LIBXL_HEADER] = "libxl header",
	[MIG_PHASE_LIBXL_RECORDS] = "libxl records",
	[MIG_PHASE_LIBXC] = "libxc image",
	[MIG_PHASE_END] = "end",
	[MIG_PHASE_ERROR] = "error",
};

const char *
mig_stream_rec_name(enum mig_stream_layer layer, uint32_t type)
{
	if (layer == MIG_LAYER_LIBXL && type < MIG_LIBXL_NTYPES)
		return libxl_names[type];
	if (layer == MIG_LAYER_LIBXC && type < MIG_LIBXC_NTYPES)
		return libxc_names[type];
	return (type & MIG_REC_OPTIONAL) ? "optional" : "unknown";
}

const char *
mig_stream_guest_type_name(uint32_t guest_type)
{
	switch (guest_type) {
	case MIG_LIBXC_DOM_X86_PV:	return "pv";
	case MIG_LIBXC_DOM_X86_HVM:	return "hvm";
	case MIG_LIBXC_DOM_X86_PVH:	return "pvh";
	case MIG_LIBXC_DOM_ARM:		return "arm";
	}
	return "unknown";
}

const char *
mig_stream_phase_name(enum mig_stream_phase ph)
{
	if ((unsigned)ph > MIG_PHASE_ERROR)
		return "?";
	return phase_names[ph];
}

enum mig_stream_phase
mig_stream_phase(const struct mig_stream *s)
{
	return s->phase;
}

bool
mig_pfinfo_has_data(unsigned type)
{
	/* NOTAB, L1-L4TAB and their pinned variants; 5-8 are reserved. */
	return type <= 0x4 || (type >= 0x9 && type <= 0xc);
}

static bool
pfinfo_known(unsigned type)
{
	return mig_pfinfo_has_data(type) || type == MIG_PFINFO_BROKEN ||
	    type == MIG_PFINFO_XALLOC || type == MIG_PFINFO_XTAB;
}

int
mig_xlhdr_decode(const uint8_t *p, struct mig_xlhdr *h, struct mig_err *err)
{
	struct wire_rd	r;
	uint32_t	order;

	if (memcmp(p, MIG_XLHDR_MAGIC, MIG_XLHDR_MAGIC_LEN) != 0)
		return mig_seterr(err, MIG_E_CORRUPT,
		    "not an xl save image (bad magic)");
	wire_rd_init(&r, p + MIG_XLHDR_MAGIC_LEN,
	    MIG_XLHDR_SIZE - MIG_XLHDR_MAGIC_LEN);
	order = wire_get_le32(&r);
	h->mandatory_flags = wire_get_le32(&r);
	h->optional_flags = wire_get_le32(&r);
	h->optional_data_len = wire_get_le32(&r);
	if (order == __builtin_bswap32(XL_BYTEORDER))
		return mig_seterr(err, MIG_E_NOTSUP,
		    "xl save image from a big-endian host: not supported");
	if (order != XL_BYTEORDER)
		return mig_seterr(err, MIG_E_CORRUPT,
		    "xl save image has a bad byte-order word 0x%08x", order);
	return 0;
}

void
mig_xlhdr_encode(uint8_t *p, const struct mig_xlhdr *h)
{
	struct wire_wr	w;

	wire_wr_init(&w, p, MIG_XLHDR_SIZE);
	wire_put_bytes(&w, MIG_XLHDR_MAGIC, MIG_XLHDR_MAGIC_LEN);
	wire_put_le32(&w, XL_BYTEORDER);
	wire_put_le32(&w, h->mandatory_flags);
	wire_put_le32(&w, h->optional_flags);
	wire_put_le32(&w, h->optional_data_len);
}

/* Records the error in the stream (it stays there) and returns -1. */
static int __attribute__((format(printf, 3, 4)))
fail(struct mig_stream *s, int code, const char *fmt, ...)
{
	va_list	ap;

	s->err.code = code;
	va_start(ap, fmt);
	vsnprintf(s->err.msg, sizeof(s->err.msg), fmt, ap);
	va_end(ap);
	s->st = ST_ERROR;
	s->phase = MIG_PHASE_ERROR;
	return -1;
}

static const char *
layer_name(enum mig_stream_layer l)
{
	return l == MIG_LAYER_LIBXL ? "libxl" : "libxc";
}

/* As fail(), prefixed with the record being parsed. */
#define recfail(s, code, fmt, ...)					\
	fail((s), (code), "%s record %s (0x%x, length %u) at offset %llu: " \
	    fmt, layer_name((s)->rec.layer),				\
	    mig_stream_rec_name((s)->rec.layer, (s)->rec.type),		\
	    (s)->rec.type, (s)->rec.length,				\
	    (unsigned long long)(s)->rec.offset, ##__VA_ARGS__)

void
mig_stream_init(struct mig_stream *s, unsigned flags)
{
	memset(&s->stats, 0, sizeof(s->stats));
	memset(&s->cbs, 0, sizeof(s->cbs));
	mig_clearerr(&s->err);
	memset(&s->rec, 0, sizeof(s->rec));
	s->flags = flags;
	s->have = 0;
	s->left = 0;
	s->pad = 0;
	s->in_checkpoint = false;
	s->libxc_done = false;
	s->static_end = false;
	s->pd_count = 0;
	s->pd_idx = 0;
	if (flags & MIG_STREAM_NO_XL_HEADER) {
		s->phase = MIG_PHASE_LIBXL_HEADER;
		s->st = ST_LXHDR;
		s->need = 16;
	} else {
		s->phase = MIG_PHASE_XL_HEADER;
		s->st = ST_XLHDR;
		s->need = MIG_XLHDR_SIZE;
	}
}

void
mig_stream_set_cbs(struct mig_stream *s, const struct mig_stream_cbs *cbs)
{
	s->cbs = *cbs;
}

static void
expect(struct mig_stream *s, int st, size_t need)
{
	s->st = st;
	s->need = need;
	s->have = 0;
}

static void
expect_record(struct mig_stream *s)
{
	expect(s, ST_RECHDR, 8);
}

static int
after_optdata(struct mig_stream *s)
{
	s->phase = MIG_PHASE_LIBXL_HEADER;
	expect(s, ST_LXHDR, 16);
	return 0;
}

static int
xl_header(struct mig_stream *s)
{
	struct mig_xlhdr	h;
	struct mig_err		e;
	uint32_t		unknown;

	if (mig_xlhdr_decode(s->hbuf, &h, &e) == -1)
		return fail(s, e.code, "%s", e.msg);
	s->stats.xl_header = true;
	s->stats.xl_mandatory_flags = h.mandatory_flags;
	s->stats.xl_optional_flags = h.optional_flags;
	s->stats.xl_optional_data_len = h.optional_data_len;
	if (h.mandatory_flags & MIG_XL_FLAG_ENCRYPTED)
		return fail(s, MIG_E_NOTSUP,
		    "encrypted xl-reloc image: it needs the key to be read");
	if (h.mandatory_flags & MIG_XL_FLAG_COMPRESSED)
		return fail(s, MIG_E_NOTSUP,
		    "compressed xl-reloc image: read it with xl-reloc");
	unknown = h.mandatory_flags & ~(MIG_XL_FLAG_JSON |
	    MIG_XL_FLAG_STREAMV2);
	if (unknown != 0)
		return fail(s, MIG_E_NOTSUP,
		    "xl save image has unknown mandatory flags 0x%x", unknown);
	if (!(h.mandatory_flags & MIG_XL_FLAG_STREAMV2))
		return fail(s, MIG_E_NOTSUP,
		    "xl save image holds a legacy (v1) stream: not supported");
	if (h.optional_data_len > MIG_XL_OPTDATA_MAX)
		return fail(s, MIG_E_TOOBIG,
		    "xl save image optional data of %u bytes (limit %u)",
		    h.optional_data_len, MIG_XL_OPTDATA_MAX);
	if (h.optional_data_len == 0)
		return after_optdata(s);
	if (h.optional_data_len < 4)
		return fail(s, MIG_E_CORRUPT,
		    "xl save image optional data of %u bytes is too short",
		    h.optional_data_len);
	expect(s, ST_XLCFGLEN, 4);
	return 0;
}

static int
xl_config_len(struct mig_stream *s)
{
	struct wire_rd	r;
	uint32_t	len;

	wire_rd_init(&r, s->hbuf, 4);
	len = wire_get_le32(&r);
	if (len > s->stats.xl_optional_data_len - 4)
		return fail(s, MIG_E_CORRUPT,
		    "xl save image config of %u bytes overruns its %u bytes "
		    "of optional data", len, s->stats.xl_optional_data_len);
	s->stats.config_len = len;
	s->st = ST_XLCFG;
	s->left = len;
	return len == 0 ? passed(s) : 0;
}

static int
libxl_header(struct mig_stream *s)
{
	struct wire_rd	r;
	uint64_t	ident;
	uint32_t	version, options;

	wire_rd_init(&r, s->hbuf, 16);
	ident = wire_get_be64(&r);
	version = wire_get_be32(&r);
	options = wire_get_be32(&r);
	if (ident != LIBXL_IDENT)
		return fail(s, MIG_E_CORRUPT, "libxl stream header at offset "
		    "%llu: bad ident 0x%016llx (want \"LibxlFmt\")",
		    (unsigned long long)s->stats.bytes - 16,
		    (unsigned long long)ident);
	if (version != LIBXL_VERSION)
		return fail(s, MIG_E_NOTSUP,
		    "libxl stream version %u (only 2 is supported)", version);
	if (options & 1)
		return fail(s, MIG_E_NOTSUP,
		    "big-endian libxl stream: not supported");
	s->stats.libxl_options = options;
	s->phase = MIG_PHASE_LIBXL_RECORDS;
	expect_record(s);
	return 0;
}

static int
libxc_ihdr(struct mig_stream *s)
{
	struct wire_rd	r;
	uint64_t	marker;
	uint32_t	id, version;
	uint16_t	options;

	wire_rd_init(&r, s->hbuf, 24);
	marker = wire_get_be64(&r);
	id = wire_get_be32(&r);
	version = wire_get_be32(&r);
	options = wire_get_be16(&r);
	if (marker != LIBXC_MARKER || id != LIBXC_ID)
		return fail(s, MIG_E_CORRUPT, "libxc image header at offset "
		    "%llu: bad marker or id (legacy or foreign stream)",
		    (unsigned long long)s->stats.libxc_start);
	if (version < 2 || version > 3)
		return fail(s, MIG_E_NOTSUP,
		    "libxc image version %u (2 and 3 are supported)", version);
	if (options & 1)
		return fail(s, MIG_E_NOTSUP,
		    "big-endian libxc image: not supported");
	s->stats.libxc_version = version;
	expect(s, ST_XCDHDR, 16);
	return 0;
}

static int
libxc_dhdr(struct mig_stream *s)
{
	struct wire_rd	r;

	wire_rd_init(&r, s->hbuf, 16);
	s->stats.guest_type = wire_get_le32(&r);
	s->stats.page_shift = wire_get_le16(&r);
	(void)wire_get_le16(&r);
	s->stats.xen_major = wire_get_le32(&r);
	s->stats.xen_minor = wire_get_le32(&r);
	if (s->stats.guest_type < MIG_LIBXC_DOM_X86_PV ||
	    s->stats.guest_type > MIG_LIBXC_DOM_ARM)
		return fail(s, MIG_E_CORRUPT,
		    "libxc domain header: unknown guest type %u",
		    s->stats.guest_type);
	if (s->stats.page_shift != MIG_PAGE_SHIFT)
		return fail(s, MIG_E_NOTSUP,
		    "libxc domain header: page shift %u (only 12 is supported)",
		    s->stats.page_shift);
	expect_record(s);
	return 0;
}

static int	body_done(struct mig_stream *);

/* The body of a record is collected if small, streamed past otherwise. */
static int
expect_body(struct mig_stream *s)
{
	s->pad = (8 - (s->rec.length & 7)) & 7;
	if (s->rec.length == 0)
		return body_done(s);
	if (s->rec.length <= sizeof(s->hbuf)) {
		expect(s, ST_BODY, s->rec.length);
	} else {
		s->st = ST_SKIP;
		s->left = s->rec.length;
	}
	return 0;
}

static int
check_len(struct mig_stream *s, uint32_t min, uint32_t max)
{
	if (s->rec.length < min || s->rec.length > max) {
		if (min == max)
			return recfail(s, MIG_E_CORRUPT,
			    "length must be %u", min);
		return recfail(s, MIG_E_CORRUPT,
		    "length must be %u..%u", min, max);
	}
	return 0;
}

static int
libxl_rechdr(struct mig_stream *s)
{
	switch (s->rec.type) {
	case MIG_LIBXL_END:
		if (!s->libxc_done)
			return recfail(s, MIG_E_CORRUPT,
			    "stream ends without a complete libxc image");
		return check_len(s, 0, 0);
	case MIG_LIBXL_LIBXC_CONTEXT:
		if (s->libxc_done || s->in_checkpoint)
			return recfail(s, MIG_E_CORRUPT,
			    "a second libxc image");
		return check_len(s, 0, 0);
	case MIG_LIBXL_CHECKPOINT_END:
		if (!s->in_checkpoint)
			return recfail(s, MIG_E_CORRUPT,
			    "no libxc CHECKPOINT precedes it");
		return check_len(s, 0, 0);
	case MIG_LIBXL_EMULATOR_XENSTORE:
	case MIG_LIBXL_EMULATOR_CONTEXT:
		return check_len(s, 8, MIG_REC_LEN_MAX);
	case MIG_LIBXL_CHECKPOINT_STATE:
		return check_len(s, 4, 4);
	}
	if (!(s->rec.type & MIG_REC_OPTIONAL))
		return recfail(s, MIG_E_NOTSUP, "unknown mandatory record");
	return check_len(s, 0, MIG_REC_LEN_MAX);
}

static int
libxc_rechdr(struct mig_stream *s)
{
	switch (s->rec.type) {
	case MIG_LIBXC_END:
	case MIG_LIBXC_VERIFY:
	case MIG_LIBXC_CHECKPOINT:
	case MIG_LIBXC_STATIC_DATA_END:
		return check_len(s, 0, 0);
	case MIG_LIBXC_PAGE_DATA:
		return check_len(s, 8 + 8, 8 + MIG_PAGE_BATCH_MAX *
		    (8 + MIG_PAGE_SIZE));
	case MIG_LIBXC_X86_PV_INFO:
		return check_len(s, 8, 8);
	case MIG_LIBXC_X86_TSC_INFO:
		return check_len(s, 24, 24);
	case MIG_LIBXC_SHARED_INFO:
		return check_len(s, MIG_PAGE_SIZE, MIG_PAGE_SIZE);
	case MIG_LIBXC_X86_PV_P2M_FRAMES:
	case MIG_LIBXC_X86_PV_VCPU_BASIC:
	case MIG_LIBXC_X86_PV_VCPU_EXTENDED:
	case MIG_LIBXC_X86_PV_VCPU_XSAVE:
	case MIG_LIBXC_X86_PV_VCPU_MSRS:
	case MIG_LIBXC_HVM_PARAMS:
		return check_len(s, 8, MIG_REC_LEN_MAX);
	case MIG_LIBXC_HVM_CONTEXT:
	case MIG_LIBXC_TOOLSTACK:
	case MIG_LIBXC_CHECKPOINT_DIRTY_PFN_LIST:
	case MIG_LIBXC_X86_CPUID_POLICY:
	case MIG_LIBXC_X86_MSR_POLICY:
		return check_len(s, 0, MIG_REC_LEN_MAX);
	}
	if (!(s->rec.type & MIG_REC_OPTIONAL))
		return recfail(s, MIG_E_NOTSUP, "unknown mandatory record");
	return check_len(s, 0, MIG_REC_LEN_MAX);
}

static int
rechdr(struct mig_stream *s)
{
	struct wire_rd	r;

	wire_rd_init(&r, s->hbuf, 8);
	s->rec.type = wire_get_le32(&r);
	s->rec.length = wire_get_le32(&r);
	s->rec.offset = s->stats.bytes - 8;
	s->rec.layer = s->phase == MIG_PHASE_LIBXC ? MIG_LAYER_LIBXC :
	    MIG_LAYER_LIBXL;
	if (s->rec.length > MIG_REC_LEN_MAX)
		return recfail(s, MIG_E_TOOBIG, "above the %u byte limit",
		    MIG_REC_LEN_MAX);
	if ((s->rec.layer == MIG_LAYER_LIBXL ? libxl_rechdr(s) :
	    libxc_rechdr(s)) == -1)
		return -1;
	if (s->rec.layer == MIG_LAYER_LIBXC &&
	    s->rec.type == MIG_LIBXC_PAGE_DATA) {
		s->pad = 0;	/* lengths are multiples of 8 */
		expect(s, ST_PDHDR, 8);
		return 0;
	}
	return expect_body(s);
}

static void
count_record(struct mig_stream *s)
{
	if (s->rec.layer == MIG_LAYER_LIBXL)
		s->stats.libxl_records[s->rec.type < MIG_LIBXL_NTYPES ?
		    s->rec.type : MIG_LIBXL_NTYPES]++;
	else
		s->stats.libxc_records[s->rec.type < MIG_LIBXC_NTYPES ?
		    s->rec.type : MIG_LIBXC_NTYPES]++;
}

/* The record is whole: count it, tell the caller, move the layers on. */
static int
rec_done(struct mig_stream *s)
{
	count_record(s);
	if (s->cbs.on_record != NULL &&
	    s->cbs.on_record(s->cbs.arg, &s->rec) != 0)
		return recfail(s, MIG_E_CANCELLED, "refused by the caller");
	expect_record(s);
	if (s->rec.layer == MIG_LAYER_LIBXL) {
		switch (s->rec.type) {
		case MIG_LIBXL_END:
			s->phase = MIG_PHASE_END;
			s->st = ST_END;
			break;
		case MIG_LIBXL_LIBXC_CONTEXT:
			s->phase = MIG_PHASE_LIBXC;
			s->stats.libxc_start = s->stats.bytes;
			expect(s, ST_XCIHDR, 24);
			break;
		case MIG_LIBXL_CHECKPOINT_END:
			s->in_checkpoint = false;
			s->phase = MIG_PHASE_LIBXC;
			break;
		}
		return 0;
	}
	switch (s->rec.type) {
	case MIG_LIBXC_END:
		s->libxc_done = true;
		s->stats.libxc_end = s->stats.bytes;
		s->phase = MIG_PHASE_LIBXL_RECORDS;
		break;
	case MIG_LIBXC_CHECKPOINT:
		/* libxl takes the stream back until CHECKPOINT_END. */
		s->in_checkpoint = true;
		s->stats.checkpoints++;
		s->phase = MIG_PHASE_LIBXL_RECORDS;
		break;
	case MIG_LIBXC_STATIC_DATA_END:
		s->static_end = true;
		break;
	}
	return 0;
}

static int
body_done(struct mig_stream *s)
{
	if (s->rec.layer == MIG_LAYER_LIBXC &&
	    s->rec.type == MIG_LIBXC_X86_PV_INFO) {
		s->stats.guest_width = s->hbuf[0];
		s->stats.pt_levels = s->hbuf[1];
		if ((s->hbuf[0] != 4 && s->hbuf[0] != 8) ||
		    (s->hbuf[1] != 3 && s->hbuf[1] != 4))
			return recfail(s, MIG_E_CORRUPT,
			    "guest width %u / page-table levels %u",
			    s->hbuf[0], s->hbuf[1]);
	}
	if (s->pad > 0) {
		s->st = ST_PAD;
		return 0;
	}
	return rec_done(s);
}

static int
page_cb(struct mig_stream *s, uint64_t e, const void *page)
{
	if (s->cbs.on_page == NULL)
		return 0;
	if (s->cbs.on_page(s->cbs.arg, e & MIG_PFN_MASK,
	    (unsigned)(e >> MIG_PFN_TYPE_SHIFT), page) != 0)
		return recfail(s, MIG_E_CANCELLED,
		    "pfn 0x%llx refused by the caller",
		    (unsigned long long)(e & MIG_PFN_MASK));
	return 0;
}

/* Delivers data-less pfns up to the next one with data, or ends the record. */
static int
pd_next(struct mig_stream *s)
{
	uint64_t	e;

	while (s->pd_idx < s->pd_count) {
		e = s->pfn[s->pd_idx];
		if (mig_pfinfo_has_data((unsigned)(e >> MIG_PFN_TYPE_SHIFT))) {
			expect(s, ST_PDPAGE, MIG_PAGE_SIZE);
			return 0;
		}
		s->pd_idx++;
		if (page_cb(s, e, NULL) == -1)
			return -1;
	}
	return rec_done(s);
}

static int
pd_page(struct mig_stream *s, const void *page)
{
	uint64_t	e = s->pfn[s->pd_idx++];

	s->stats.pages++;
	if (page_cb(s, e, page) == -1)
		return -1;
	return pd_next(s);
}

static int
pd_header(struct mig_stream *s)
{
	struct wire_rd	r;
	uint32_t	count;

	wire_rd_init(&r, s->hbuf, 8);
	count = wire_get_le32(&r);
	if (count < 1 || count > MIG_PAGE_BATCH_MAX)
		return recfail(s, MIG_E_CORRUPT, "count %u (must be 1..%u)",
		    count, MIG_PAGE_BATCH_MAX);
	if (s->rec.length < 8 + 8ULL * count)
		return recfail(s, MIG_E_CORRUPT,
		    "too short for %u pfns", count);
	s->pd_count = count;
	s->pd_idx = 0;
	expect(s, ST_PDPFNS, 8 * (size_t)count);
	return 0;
}

static int
pd_pfns(struct mig_stream *s)
{
	struct wire_rd	r;
	uint64_t	ndata = 0, e;
	uint32_t	i;
	unsigned	type;

	wire_rd_init(&r, s->pfn, 8 * (size_t)s->pd_count);
	for (i = 0; i < s->pd_count; i++) {
		e = wire_get_le64(&r);
		type = (unsigned)(e >> MIG_PFN_TYPE_SHIFT);
		if (!pfinfo_known(type))
			return recfail(s, MIG_E_CORRUPT,
			    "pfn 0x%llx has unknown type 0x%x",
			    (unsigned long long)(e & MIG_PFN_MASK), type);
		if (mig_pfinfo_has_data(type))
			ndata++;
		s->pfn[i] = e;	/* in place: entry i is read before written */
	}
	if (s->rec.length != 8 + 8ULL * s->pd_count + ndata * MIG_PAGE_SIZE)
		return recfail(s, MIG_E_CORRUPT,
		    "length does not match %u pfns with %llu pages of data",
		    s->pd_count, (unsigned long long)ndata);
	s->stats.page_records++;
	s->stats.pfns += s->pd_count;
	return pd_next(s);
}

/* A collected buffer is full: act on it. */
static int
collected(struct mig_stream *s)
{
	switch (s->st) {
	case ST_XLHDR:
		return xl_header(s);
	case ST_XLCFGLEN:
		return xl_config_len(s);
	case ST_LXHDR:
		return libxl_header(s);
	case ST_RECHDR:
		return rechdr(s);
	case ST_BODY:
		return body_done(s);
	case ST_XCIHDR:
		return libxc_ihdr(s);
	case ST_XCDHDR:
		return libxc_dhdr(s);
	case ST_PDHDR:
		return pd_header(s);
	case ST_PDPFNS:
		return pd_pfns(s);
	case ST_PDPAGE:
		return pd_page(s, s->page);
	}
	return fail(s, MIG_E_INVAL, "stream parser in a bad state %d", s->st);
}

static uint8_t *
collect_buf(struct mig_stream *s)
{
	if (s->st == ST_PDPFNS)
		return (uint8_t *)s->pfn;
	if (s->st == ST_PDPAGE)
		return s->page;
	return s->hbuf;
}

/* Streams bytes past: config to its callback, bodies to nowhere. */
static int
pass(struct mig_stream *s, const uint8_t *p, size_t n)
{
	size_t	i;

	switch (s->st) {
	case ST_XLCFG:
		if (s->cbs.on_config != NULL &&
		    s->cbs.on_config(s->cbs.arg, p, n) != 0)
			return fail(s, MIG_E_CANCELLED,
			    "xl save image config refused by the caller");
		break;
	case ST_PAD:
		for (i = 0; i < n; i++) {
			if (p[i] == 0)
				continue;
			/* Count up to the bad byte, whatever the split. */
			s->stats.bytes -= n - i;
			return recfail(s, MIG_E_CORRUPT,
			    "non-zero padding at offset %llu",
			    (unsigned long long)s->stats.bytes);
		}
		break;
	}
	return 0;
}

/* Moves on once a streamed span is complete. */
static int
passed(struct mig_stream *s)
{
	switch (s->st) {
	case ST_XLCFG:
		s->left = s->stats.xl_optional_data_len - 4 -
		    s->stats.config_len;
		s->st = ST_XLSKIP;
		if (s->left > 0)
			return 0;
		/* FALLTHROUGH */
	case ST_XLSKIP:
		return after_optdata(s);
	case ST_SKIP:
		if (s->pad > 0) {
			s->st = ST_PAD;
			return 0;
		}
		/* FALLTHROUGH */
	case ST_PAD:
		return rec_done(s);
	}
	return fail(s, MIG_E_INVAL, "stream parser in a bad state %d", s->st);
}

static bool
streaming(const struct mig_stream *s)
{
	return s->st == ST_XLCFG || s->st == ST_XLSKIP || s->st == ST_SKIP ||
	    s->st == ST_PAD;
}

static uint64_t
span_left(const struct mig_stream *s)
{
	return s->st == ST_PAD ? s->pad : s->left;
}

static int
step_stream(struct mig_stream *s, const uint8_t *p, size_t n)
{
	if (pass(s, p, n) == -1)
		return -1;
	if (s->st == ST_PAD)
		s->pad -= n;
	else
		s->left -= n;
	if (span_left(s) == 0)
		return passed(s);
	return 0;
}

static int
step_collect(struct mig_stream *s, const uint8_t *p, size_t n)
{
	memcpy(collect_buf(s) + s->have, p, n);
	s->have += n;
	if (s->have == s->need)
		return collected(s);
	return 0;
}

ssize_t
mig_stream_feed(struct mig_stream *s, const void *buf, size_t len,
    struct mig_err *err)
{
	const uint8_t	*p = buf;
	size_t		 off = 0, n;
	int		 rc;

	while (off < len && s->st != ST_ERROR) {
		if (s->st == ST_END) {
			if (s->flags & MIG_STREAM_TRAILER)
				return (ssize_t)off;
			fail(s, MIG_E_CORRUPT, "trailing data after the libxl "
			    "END record at offset %llu",
			    (unsigned long long)s->stats.bytes);
			break;
		}
		if (s->st == ST_PDPAGE && s->have == 0 &&
		    len - off >= MIG_PAGE_SIZE) {
			/* Whole page in the caller's buffer: no copy. */
			s->stats.bytes += MIG_PAGE_SIZE;
			off += MIG_PAGE_SIZE;
			if (pd_page(s, p + off - MIG_PAGE_SIZE) == -1)
				break;
			continue;
		}
		if (streaming(s)) {
			n = span_left(s) < len - off ? (size_t)span_left(s) :
			    len - off;
			s->stats.bytes += n;
			off += n;
			rc = step_stream(s, p + off - n, n);
		} else {
			n = s->need - s->have < len - off ?
			    s->need - s->have : len - off;
			s->stats.bytes += n;
			off += n;
			rc = step_collect(s, p + off - n, n);
		}
		if (rc == -1)
			break;
	}
	if (s->st == ST_ERROR) {
		if (err != NULL)
			*err = s->err;
		return -1;
	}
	return (ssize_t)off;
}

uint64_t
mig_stream_unseen(const struct mig_stream *s)
{
	uint64_t	pages = 0;
	uint32_t	i;

	if (s->st == ST_SKIP)
		return s->left;
	if (s->st != ST_PDPAGE || s->have != 0 || s->cbs.on_page != NULL)
		return 0;
	/* A record's pages are contiguous: its data-less pfns have none. */
	for (i = s->pd_idx; i < s->pd_count; i++)
		if (mig_pfinfo_has_data((unsigned)(s->pfn[i] >>
		    MIG_PFN_TYPE_SHIFT)))
			pages++;
	return pages * MIG_PAGE_SIZE;
}

int
mig_stream_skip(struct mig_stream *s, uint64_t n, struct mig_err *err)
{
	if (n > mig_stream_unseen(s) || (s->st == ST_PDPAGE &&
	    n % MIG_PAGE_SIZE != 0))
		return mig_seterr(err, MIG_E_INVAL, "stream parser: %llu "
		    "bytes cannot be skipped here", (unsigned long long)n);
	if (s->st == ST_SKIP) {
		s->stats.bytes += n;
		s->left -= n;
		if (s->left == 0 && passed(s) == -1)
			goto fail;
		return 0;
	}
	for (; n > 0; n -= MIG_PAGE_SIZE) {
		s->stats.bytes += MIG_PAGE_SIZE;
		if (pd_page(s, NULL) == -1)
			goto fail;
	}
	return 0;
 fail:
	if (err != NULL)
		*err = s->err;
	return -1;
}

static const char *
state_what(const struct mig_stream *s)
{
	switch (s->st) {
	case ST_XLHDR:
		return "in the xl header";
	case ST_XLCFGLEN:
	case ST_XLCFG:
	case ST_XLSKIP:
		return "in the xl config data";
	case ST_LXHDR:
		return "in the libxl header";
	case ST_XCIHDR:
	case ST_XCDHDR:
		return "in the libxc headers";
	case ST_RECHDR:
		return s->have == 0 ? "between records" :
		    "in a record header";
	}
	return "inside a record";
}

int
mig_stream_finish(struct mig_stream *s, struct mig_err *err)
{
	if (s->st == ST_END)
		return 0;
	if (s->st != ST_ERROR) {
		if (s->st == ST_RECHDR && s->have == 0)
			fail(s, MIG_E_TRUNC, "stream truncated at offset %llu "
			    "%s (%s phase, no END record)",
			    (unsigned long long)s->stats.bytes, state_what(s),
			    mig_stream_phase_name(s->phase));
		else if (s->st == ST_RECHDR || s->st == ST_XLHDR ||
		    s->st == ST_LXHDR || s->st == ST_XCIHDR ||
		    s->st == ST_XCDHDR || s->st == ST_XLCFGLEN ||
		    s->st == ST_XLCFG || s->st == ST_XLSKIP)
			fail(s, MIG_E_TRUNC, "stream truncated at offset %llu "
			    "%s (%s phase)",
			    (unsigned long long)s->stats.bytes, state_what(s),
			    mig_stream_phase_name(s->phase));
		else
			recfail(s, MIG_E_TRUNC,
			    "stream truncated at offset %llu inside the record",
			    (unsigned long long)s->stats.bytes);
	}
	if (err != NULL)
		*err = s->err;
	return -1;
}
