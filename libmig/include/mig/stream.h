/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streaming parser for Xen save/migration streams: the xl save header
 * (tools/xl/xl.h), the libxl stream (docs/specs/libxl-migration-stream)
 * and the libxc stream inlined after its LIBXC_CONTEXT record
 * (docs/specs/libxc-migration-stream, versions 2 and 3).
 *
 * The parser never allocates and never buffers more than one page: the
 * caller feeds bytes in any split and the result is the same whatever the
 * split.  It validates structure only (headers, record framing, padding,
 * PAGE_DATA layout, record order between the two layers); it does not
 * interpret CPU state.  Callbacks see every record, every page (without a
 * copy when the page lies whole in the fed buffer) and the config JSON.
 */
#ifndef MIG_STREAM_H
#define MIG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mig/error.h"

/* --- the xl save header (48 bytes, fields in the saving host's order) --- */
#define MIG_XLHDR_SIZE		48
#define MIG_XLHDR_MAGIC		"Xen saved domain, xl format\n \0 \r"
#define MIG_XLHDR_MAGIC_LEN	32
#define MIG_XL_FLAG_JSON	(1U << 0)	/* config data is JSON */
#define MIG_XL_FLAG_STREAMV2	(1U << 1)	/* libxl stream v2 follows */
/*
 * xen-relocd's own mandatory flag: the rest of the file is encrypted (see
 * doc/image-format.md).  Stock xl rejects unknown mandatory flags, so it
 * refuses such an image cleanly instead of misreading it.
 */
#define MIG_XL_FLAG_ENCRYPTED	(1U << 31)
/* Likewise: the rest of the file is in zstd-compressed chunks. */
#define MIG_XL_FLAG_COMPRESSED	(1U << 30)
/*
 * xen-relocd's optional flag: an integrity trailer follows the stream, so
 * an image that has this flag and no trailer is truncated, not an xl save
 * image.  Stock xl prints the optional flags and ignores them.
 */
#define MIG_XL_OPT_TRAILER	(1U << 31)
/* With it: the trailer's digest is XXH3-128, not SHA-256 (plain images;
 * a chunked one says so in its chunk parameters). */
#define MIG_XL_OPT_XXH3		(1U << 30)
/* Optional data = u32 config length + config: cap both (xl has no cap). */
#define MIG_XL_OPTDATA_MAX	((16U << 20) + 4096)

struct mig_xlhdr {
	uint32_t	mandatory_flags;
	uint32_t	optional_flags;
	uint32_t	optional_data_len;
};

/* Decodes/encodes the 48-byte header; decode checks magic and byte order. */
int	mig_xlhdr_decode(const uint8_t *, struct mig_xlhdr *, struct mig_err *);
void	mig_xlhdr_encode(uint8_t *, const struct mig_xlhdr *);

/* --- record types --- */
#define MIG_LIBXL_END			0x00
#define MIG_LIBXL_LIBXC_CONTEXT		0x01
#define MIG_LIBXL_EMULATOR_XENSTORE	0x02
#define MIG_LIBXL_EMULATOR_CONTEXT	0x03
#define MIG_LIBXL_CHECKPOINT_END	0x04
#define MIG_LIBXL_CHECKPOINT_STATE	0x05
#define MIG_LIBXL_NTYPES		0x06

#define MIG_LIBXC_END			0x00
#define MIG_LIBXC_PAGE_DATA		0x01
#define MIG_LIBXC_X86_PV_INFO		0x02
#define MIG_LIBXC_X86_PV_P2M_FRAMES	0x03
#define MIG_LIBXC_X86_PV_VCPU_BASIC	0x04
#define MIG_LIBXC_X86_PV_VCPU_EXTENDED	0x05
#define MIG_LIBXC_X86_PV_VCPU_XSAVE	0x06
#define MIG_LIBXC_SHARED_INFO		0x07
#define MIG_LIBXC_X86_TSC_INFO		0x08
#define MIG_LIBXC_HVM_CONTEXT		0x09
#define MIG_LIBXC_HVM_PARAMS		0x0a
#define MIG_LIBXC_TOOLSTACK		0x0b
#define MIG_LIBXC_X86_PV_VCPU_MSRS	0x0c
#define MIG_LIBXC_VERIFY		0x0d
#define MIG_LIBXC_CHECKPOINT		0x0e
#define MIG_LIBXC_CHECKPOINT_DIRTY_PFN_LIST 0x0f
#define MIG_LIBXC_STATIC_DATA_END	0x10
#define MIG_LIBXC_X86_CPUID_POLICY	0x11
#define MIG_LIBXC_X86_MSR_POLICY	0x12
#define MIG_LIBXC_NTYPES		0x13

#define MIG_REC_OPTIONAL		0x80000000U

#define MIG_LIBXC_DOM_X86_PV		1
#define MIG_LIBXC_DOM_X86_HVM		2
#define MIG_LIBXC_DOM_X86_PVH		3
#define MIG_LIBXC_DOM_ARM		4

/* PAGE_DATA: pfn entries carry XEN_DOMCTL_PFINFO_* in bits 63-60. */
#define MIG_PAGE_SIZE			4096
#define MIG_PAGE_SHIFT			12
#define MIG_PFN_MASK			0x000fffffffffffffULL
#define MIG_PFN_TYPE_SHIFT		60
#define MIG_PFINFO_NOTAB		0x0
#define MIG_PFINFO_BROKEN		0xd
#define MIG_PFINFO_XALLOC		0xe
#define MIG_PFINFO_XTAB			0xf
/* libxc writes at most 1024 pages per PAGE_DATA record (MAX_BATCH_SIZE). */
#define MIG_PAGE_BATCH_MAX		1024
/* libxc's own REC_LENGTH_MAX; libxl has none, we apply the same cap. */
#define MIG_REC_LEN_MAX			(128U << 20)

/*
 * --- parser ---
 * Input starts with the xl header, both in a save file and on xl's migrate
 * channel (xl_migrate.c writes it right after the receiver's banner).  On
 * that channel the sender later writes "domain is yours, you are cleared
 * to unpause" after the libxl END: a relay parses with MIG_STREAM_TRAILER
 * and handles those bytes itself.
 */
#define MIG_STREAM_NO_XL_HEADER	0x1	/* input starts with "LibxlFmt" */
#define MIG_STREAM_TRAILER	0x2	/* stop after END; caller reads on */

enum mig_stream_phase {
	MIG_PHASE_XL_HEADER,	/* xl header and its optional data */
	MIG_PHASE_LIBXL_HEADER,
	MIG_PHASE_LIBXL_RECORDS,
	MIG_PHASE_LIBXC,	/* inside LIBXC_CONTEXT: the libxc image */
	MIG_PHASE_END,		/* libxl END record seen */
	MIG_PHASE_ERROR
};

enum mig_stream_layer {
	MIG_LAYER_LIBXL,
	MIG_LAYER_LIBXC
};

struct mig_stream_stats {
	uint64_t	bytes;		/* consumed so far */
	/* records by type; the last slot counts optional/unknown types */
	uint64_t	libxl_records[MIG_LIBXL_NTYPES + 1];
	uint64_t	libxc_records[MIG_LIBXC_NTYPES + 1];
	uint64_t	page_records;	/* PAGE_DATA records */
	uint64_t	pages;		/* pages that carried 4 KiB of data */
	uint64_t	pfns;		/* pfn entries, with or without data */
	uint64_t	libxc_start;	/* offset of the libxc image header */
	uint64_t	libxc_end;	/* offset just past the libxc END */
	/* xl header */
	bool		xl_header;
	uint32_t	xl_mandatory_flags;
	uint32_t	xl_optional_flags;
	uint32_t	xl_optional_data_len;
	uint32_t	config_len;	/* config bytes, as xl counts them */
	/* libxl header */
	uint32_t	libxl_options;
	/* libxc image and domain headers */
	uint32_t	libxc_version;	/* 2 or 3 */
	uint32_t	guest_type;	/* MIG_LIBXC_DOM_* */
	uint32_t	page_shift;
	uint32_t	xen_major;
	uint32_t	xen_minor;
	uint8_t		guest_width;	/* from X86_PV_INFO */
	uint8_t		pt_levels;
	uint32_t	checkpoints;	/* libxc CHECKPOINT records */
};

struct mig_stream_rec {
	enum mig_stream_layer	layer;
	uint32_t		type;
	uint32_t		length;	/* body length, padding excluded */
	uint64_t		offset;	/* of the record header */
};

/*
 * Callbacks may be NULL.  A non-zero return stops the parse with
 * MIG_E_CANCELLED.  on_record runs once a record is complete and valid;
 * on_page runs for each pfn of a PAGE_DATA record, with page NULL for
 * the types that carry no data (BROKEN, XALLOC, XTAB); on_config gets the
 * config bytes in pieces, s->stats.config_len being known by the first.
 */
struct mig_stream_cbs {
	int	(*on_record)(void *, const struct mig_stream_rec *);
	int	(*on_page)(void *, uint64_t pfn, unsigned type,
		    const void *page);
	int	(*on_config)(void *, const void *, size_t);
	void	*arg;
};

/* Private state: callers allocate the struct but only read stats. */
struct mig_stream {
	struct mig_stream_stats	stats;
	struct mig_stream_cbs	cbs;
	unsigned		flags;
	enum mig_stream_phase	phase;
	int			st;		/* internal state */
	struct mig_err		err;		/* sticky once in ERROR */
	struct mig_stream_rec	rec;		/* record being parsed */
	size_t			need;		/* bytes wanted in hbuf */
	size_t			have;
	uint64_t		left;		/* body/skip bytes still due */
	uint32_t		pad;		/* padding bytes still due */
	bool			in_checkpoint;
	bool			libxc_done;
	bool			static_end;
	uint32_t		pd_count;	/* PAGE_DATA being parsed */
	uint32_t		pd_idx;		/* next pfn to deliver */
	uint8_t			hbuf[64];
	uint64_t		pfn[MIG_PAGE_BATCH_MAX];
	uint8_t			page[MIG_PAGE_SIZE];
};

void	mig_stream_init(struct mig_stream *, unsigned);
void	mig_stream_set_cbs(struct mig_stream *, const struct mig_stream_cbs *);
/*
 * Consumes bytes; returns how many were consumed, which is len unless
 * MIG_STREAM_TRAILER was given and the END record ended inside the buffer
 * (the rest belongs to the caller), or -1 on malformed input.
 */
ssize_t	mig_stream_feed(struct mig_stream *, const void *, size_t,
	    struct mig_err *);
/*
 * How many of the next bytes the parser would take without looking at
 * them: the rest of a PAGE_DATA record's pages when there is no on_page
 * callback, or the rest of a body it skips.  0 when it needs to see the
 * next byte.
 */
uint64_t mig_stream_unseen(const struct mig_stream *);
/* Takes n of those bytes (n <= mig_stream_unseen()) as if fed. */
int	mig_stream_skip(struct mig_stream *, uint64_t, struct mig_err *);
/* Fails with MIG_E_TRUNC unless the libxl END record was seen. */
int	mig_stream_finish(struct mig_stream *, struct mig_err *);
enum mig_stream_phase mig_stream_phase(const struct mig_stream *);
const char *mig_stream_phase_name(enum mig_stream_phase);
const char *mig_stream_rec_name(enum mig_stream_layer, uint32_t);
/* "pv", "hvm", "pvh", "arm" for a MIG_LIBXC_DOM_* value. */
const char *mig_stream_guest_type_name(uint32_t);
/* True for PFINFO types that carry a page of data in PAGE_DATA. */
bool	mig_pfinfo_has_data(unsigned);

#endif
