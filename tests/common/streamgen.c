/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/stream.h"
#include "streamgen.h"
#include "mig/wire.h"

/* Sizes of the per-vcpu blobs libxc writes for a 64-bit PV guest. */
#define VCPU_BASIC_LEN		5168	/* vcpu_guest_context_x86_64 */
#define VCPU_EXTENDED_LEN	128
#define VCPU_XSAVE_LEN		832
#define VCPU_MSRS_LEN		32
#define CPUID_POLICY_LEN	480
#define MSR_POLICY_LEN		16
#define HVM_CONTEXT_LEN		2504	/* as Xen 4.17 saves a 1-vcpu PVH guest */
#define HVM_NR_PARAMS		8
#define EMULATOR_QEMU_UPSTREAM	2	/* libxl's emulator id */
#define EMULATOR_CONTEXT_LEN	6144	/* a QEMU device state blob */

int
sg_raw(struct sg *g, const void *p, size_t len)
{
	if (g->failed)
		return -1;
	if (len > 0 && g->write(g->warg, p, len) == -1) {
		g->failed = true;
		return -1;
	}
	g->bytes += len;
	return 0;
}

static int
rec_header(struct sg *g, uint32_t type, uint32_t len)
{
	uint8_t		b[8];
	struct wire_wr	w;

	wire_wr_init(&w, b, sizeof(b));
	wire_put_le32(&w, type);
	wire_put_le32(&w, len);
	return sg_raw(g, b, sizeof(b));
}

int
sg_record(struct sg *g, uint32_t type, const void *body, uint32_t len)
{
	static const uint8_t	zero[8];

	if (rec_header(g, type, len) == -1 || sg_raw(g, body, len) == -1)
		return -1;
	return sg_raw(g, zero, (8 - (len & 7)) & 7);
}

/* A record whose body is a vcpu id header and a patterned blob. */
static int
blob_record(struct sg *g, uint32_t type, uint32_t vcpu, size_t len)
{
	uint8_t		*b;
	struct wire_wr	 w;
	size_t		 i;
	int		 rc;

	if ((b = calloc(1, len + 8)) == NULL) {
		g->failed = true;
		return -1;
	}
	wire_wr_init(&w, b, len + 8);
	wire_put_le32(&w, vcpu);
	wire_put_le32(&w, 0);
	for (i = 0; i < len; i++)
		b[8 + i] = (uint8_t)(type * 31 + vcpu + i);
	rc = sg_record(g, type, b, (uint32_t)(len + 8));
	free(b);
	return rc;
}

int
sg_xl_header(struct sg *g, const char *config, size_t config_len)
{
	uint8_t			b[MIG_XLHDR_SIZE + 4];
	struct mig_xlhdr	h;
	struct wire_wr		w;

	memset(&h, 0, sizeof(h));
	h.mandatory_flags = MIG_XL_FLAG_STREAMV2;
	if (config_len > 0)
		h.mandatory_flags |= MIG_XL_FLAG_JSON;
	h.optional_data_len = 4 + (uint32_t)config_len;
	mig_xlhdr_encode(b, &h);
	wire_wr_init(&w, b + MIG_XLHDR_SIZE, 4);
	wire_put_le32(&w, config_len);
	if (sg_raw(g, b, sizeof(b)) == -1)
		return -1;
	return sg_raw(g, config, config_len);
}

static int
libxc_headers(struct sg *g)
{
	uint8_t		b[24 + 16];
	struct wire_wr	w;

	wire_wr_init(&w, b, sizeof(b));
	wire_put_be64(&w, 0xffffffffffffffffULL);
	wire_put_be32(&w, 0x58454e46);		/* "XENF" */
	wire_put_be32(&w, 3);
	wire_put_be16(&w, 0);			/* little-endian */
	wire_put_be16(&w, 0);
	wire_put_be32(&w, 0);
	wire_put_le32(&w, g->hvm ? MIG_LIBXC_DOM_X86_HVM : MIG_LIBXC_DOM_X86_PV);
	wire_put_le16(&w, MIG_PAGE_SHIFT);
	wire_put_le16(&w, 0);
	wire_put_le32(&w, 4);
	wire_put_le32(&w, 17);
	return sg_raw(g, b, sizeof(b));
}

static int
static_data(struct sg *g)
{
	static const uint8_t	pv_info[8] = { 8, 4 };	/* 64-bit, 4 levels */
	uint8_t			*cpuid;
	int			 rc;

	if (!g->hvm && sg_record(g, MIG_LIBXC_X86_PV_INFO, pv_info, 8) == -1)
		return -1;
	if ((cpuid = calloc(1, CPUID_POLICY_LEN)) == NULL) {
		g->failed = true;
		return -1;
	}
	rc = sg_record(g, MIG_LIBXC_X86_CPUID_POLICY, cpuid,
	    CPUID_POLICY_LEN);
	free(cpuid);
	if (rc == -1 || sg_record(g, MIG_LIBXC_X86_MSR_POLICY,
	    (const uint8_t[MSR_POLICY_LEN]){ 0 }, MSR_POLICY_LEN) == -1)
		return -1;
	return sg_record(g, MIG_LIBXC_STATIC_DATA_END, NULL, 0);
}

static int
p2m_frames(struct sg *g)
{
	uint64_t	nframes = (g->p2m_size + 511) / 512, i;
	uint8_t		hdr[8];
	struct wire_wr	w;

	wire_wr_init(&w, hdr, sizeof(hdr));
	wire_put_le32(&w, 0);
	wire_put_le32(&w, g->p2m_size - 1);
	if (rec_header(g, MIG_LIBXC_X86_PV_P2M_FRAMES,
	    (uint32_t)(8 + nframes * 8)) == -1 || sg_raw(g, hdr, 8) == -1)
		return -1;
	for (i = 0; i < nframes; i++) {
		wire_wr_init(&w, hdr, sizeof(hdr));
		wire_put_le64(&w, g->p2m_size + i);	/* frames past RAM */
		if (sg_raw(g, hdr, 8) == -1)
			return -1;
	}
	return 0;
}

int
sg_begin(struct sg *g, const struct sg_opts *o, sg_write_fn fn, void *arg)
{
	uint8_t		lx[16];
	struct wire_wr	w;

	memset(g, 0, sizeof(*g));
	g->write = fn;
	g->warg = arg;
	g->nr_vcpus = o->nr_vcpus ? o->nr_vcpus : 1;
	g->p2m_size = o->p2m_size ? o->p2m_size : 1024;
	g->hvm = o->hvm;
	g->emulator = o->hvm && o->emulator;
	if (!o->no_xl_header &&
	    sg_xl_header(g, o->config, o->config ? o->config_len : 0) == -1)
		return -1;
	wire_wr_init(&w, lx, sizeof(lx));
	wire_put_be64(&w, 0x4c6962786c466d74ULL);	/* "LibxlFmt" */
	wire_put_be32(&w, 2);
	wire_put_be32(&w, 0);
	if (sg_raw(g, lx, sizeof(lx)) == -1 ||
	    sg_record(g, MIG_LIBXL_LIBXC_CONTEXT, NULL, 0) == -1 ||
	    libxc_headers(g) == -1 || static_data(g) == -1)
		return -1;
	return g->hvm ? 0 : p2m_frames(g);
}

static int
page_batch(struct sg *g, const uint64_t *pfns, size_t n, sg_page_fn fn,
    void *arg)
{
	uint8_t		hdr[8 + 8 * MIG_PAGE_BATCH_MAX];
	uint8_t		page[MIG_PAGE_SIZE];
	struct wire_wr	w;
	size_t		i, ndata = 0;

	wire_wr_init(&w, hdr, sizeof(hdr));
	wire_put_le32(&w, n);
	wire_put_le32(&w, 0);
	for (i = 0; i < n; i++) {
		wire_put_le64(&w, pfns[i]);
		if (mig_pfinfo_has_data(pfns[i] >> MIG_PFN_TYPE_SHIFT))
			ndata++;
	}
	if (rec_header(g, MIG_LIBXC_PAGE_DATA,
	    (uint32_t)(w.off + ndata * MIG_PAGE_SIZE)) == -1 ||
	    sg_raw(g, hdr, w.off) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (!mig_pfinfo_has_data(pfns[i] >> MIG_PFN_TYPE_SHIFT))
			continue;
		fn(arg, pfns[i] & MIG_PFN_MASK, page);
		if (sg_raw(g, page, sizeof(page)) == -1)
			return -1;
	}
	return 0;
}

int
sg_pages(struct sg *g, const uint64_t *pfns, size_t n, sg_page_fn fn,
    void *arg)
{
	size_t	done, k;

	for (done = 0; done < n; done += k) {
		k = n - done < MIG_PAGE_BATCH_MAX ? n - done :
		    MIG_PAGE_BATCH_MAX;
		if (page_batch(g, pfns + done, k, fn, arg) == -1)
			return -1;
	}
	return g->failed ? -1 : 0;
}

/* HVM_CONTEXT and HVM_PARAMS: a patterned blob, and indexes with values. */
static int
hvm_state(struct sg *g)
{
	uint8_t		b[8 + HVM_NR_PARAMS * 16];
	struct wire_wr	w;
	unsigned	i;

	if (blob_record(g, MIG_LIBXC_HVM_CONTEXT, 0, HVM_CONTEXT_LEN - 8) == -1)
		return -1;
	wire_wr_init(&w, b, sizeof(b));
	wire_put_le32(&w, HVM_NR_PARAMS);
	wire_put_le32(&w, 0);
	for (i = 0; i < HVM_NR_PARAMS; i++) {
		wire_put_le64(&w, i + 1);
		wire_put_le64(&w, 0xfeff0ULL + i);	/* special pfns */
	}
	return sg_record(g, MIG_LIBXC_HVM_PARAMS, b, sizeof(b));
}

/* An HVM guest's device model, after the libxc image: its xenstore
 * entries (NUL-terminated key, value pairs) and its own saved state, each
 * behind libxl's emulator header (QEMU upstream, index 0). */
static int
emulator_state(struct sg *g)
{
	static const char	xs[] = "physmap/0/start_addr\0f0000000\0"
				    "physmap/0/size\0800000\0";
	uint8_t			b[8 + sizeof(xs)];
	struct wire_wr		w;

	wire_wr_init(&w, b, 8);
	wire_put_le32(&w, EMULATOR_QEMU_UPSTREAM);
	wire_put_le32(&w, 0);
	memcpy(b + 8, xs, sizeof(xs));
	if (sg_record(g, MIG_LIBXL_EMULATOR_XENSTORE, b, sizeof(b)) == -1)
		return -1;
	return blob_record(g, MIG_LIBXL_EMULATOR_CONTEXT, EMULATOR_QEMU_UPSTREAM,
	    EMULATOR_CONTEXT_LEN);
}

/* SHARED_INFO and the vcpus' state of a PV guest. */
static int
pv_state(struct sg *g)
{
	uint8_t		*shinfo;
	unsigned	v;
	int		rc;

	if ((shinfo = calloc(1, MIG_PAGE_SIZE)) == NULL) {
		g->failed = true;
		return -1;
	}
	rc = sg_record(g, MIG_LIBXC_SHARED_INFO, shinfo, MIG_PAGE_SIZE);
	free(shinfo);
	if (rc == -1)
		return -1;
	for (v = 0; v < g->nr_vcpus; v++) {
		if (blob_record(g, MIG_LIBXC_X86_PV_VCPU_BASIC, v,
		    VCPU_BASIC_LEN) == -1 ||
		    blob_record(g, MIG_LIBXC_X86_PV_VCPU_EXTENDED, v,
		    VCPU_EXTENDED_LEN) == -1 ||
		    blob_record(g, MIG_LIBXC_X86_PV_VCPU_XSAVE, v,
		    VCPU_XSAVE_LEN) == -1 ||
		    blob_record(g, MIG_LIBXC_X86_PV_VCPU_MSRS, v,
		    VCPU_MSRS_LEN) == -1)
			return -1;
	}
	return 0;
}

int
sg_end(struct sg *g)
{
	uint8_t		tsc[24];
	struct wire_wr	w;

	wire_wr_init(&w, tsc, sizeof(tsc));
	wire_put_le32(&w, 0);			/* TSC_MODE_DEFAULT */
	wire_put_le32(&w, 2000000);		/* kHz */
	wire_put_le64(&w, 123456789);
	wire_put_le32(&w, 1);
	wire_put_le32(&w, 0);
	if (sg_record(g, MIG_LIBXC_X86_TSC_INFO, tsc, sizeof(tsc)) == -1 ||
	    (g->hvm ? hvm_state(g) : pv_state(g)) == -1)
		return -1;
	if (sg_record(g, MIG_LIBXC_END, NULL, 0) == -1 ||
	    (g->emulator && emulator_state(g) == -1))
		return -1;
	return sg_record(g, MIG_LIBXL_END, NULL, 0);
}

int
sg_buf_write(void *arg, const void *p, size_t len)
{
	struct sg_buf	*b = arg;
	uint8_t		*np;
	size_t		 ncap;

	if (len > b->cap - b->len) {
		ncap = b->cap ? b->cap : 65536;
		while (len > ncap - b->len)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return -1;
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}

void
sg_buf_free(struct sg_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int
sg_fd_write(void *arg, const void *p, size_t len)
{
	const uint8_t	*q = p;
	ssize_t		 n;
	int		 fd = *(int *)arg;

	while (len > 0) {
		n = write(fd, q, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		q += n;
		len -= (size_t)n;
	}
	return 0;
}

void
sg_pattern_page(void *arg, uint64_t pfn, uint8_t *page)
{
	size_t	i;

	for (i = 0; i < MIG_PAGE_SIZE; i += 8)
		memcpy(page + i, &(uint64_t){ pfn * 0x9e3779b97f4a7c15ULL + i },
		    8);
}
