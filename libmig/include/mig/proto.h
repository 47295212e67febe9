/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The relocation wire protocol (doc/protocol.md is the specification).
 *
 * Every function here is a pure function over caller buffers: no I/O, no
 * allocation.  That keeps the codecs testable and fuzzable, and lets the
 * daemon, the relay and xl-reloc each do I/O their own way.
 *
 * A connection: both sides send the 16-byte preamble, then frames.  A frame
 * is an 8-byte header (mig_frame_hdr_decode validates it before a single
 * body byte is read) and a body of at most MIG_FRAME_CTRL_MAX bytes
 * (MIG_FRAME_DATA_MAX for DATA).
 */
#ifndef MIG_PROTO_H
#define MIG_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mig/error.h"

/* preamble */
#define MIG_PREAMBLE_LEN	16
#define MIG_PREAMBLE_MAGIC	"XENRELOC"	/* 8 bytes, no NUL on the wire */
#define MIG_PROTO_MAJOR		1
#define MIG_PROTO_MINOR		0

struct mig_preamble {
	uint16_t	major;
	uint16_t	minor;
	uint32_t	reserved;	/* sent as 0, ignored on receipt */
};

/* frame header */
#define MIG_FRAME_HDR_LEN	8
#define MIG_FRAME_CTRL_MAX	(256u * 1024)		/* body of any non-DATA frame */
#define MIG_FRAME_DATA_MAX	(4u * 1024 * 1024)	/* body of a DATA frame */
#define MIG_FRAME_F_MANDATORY	0x8000	/* unknown type => refuse, else skip */
#define MIG_FRAME_F_ZSTD	0x0001	/* DATA body is one zstd frame */
#define MIG_FRAME_F_KNOWN	(MIG_FRAME_F_MANDATORY | MIG_FRAME_F_ZSTD)

struct mig_frame_hdr {
	uint32_t	len;		/* body length */
	uint16_t	type;		/* enum mig_msg_type, or unknown */
	uint16_t	flags;		/* MIG_FRAME_F_* */
};

enum mig_msg_type {
	MIG_MSG_HELLO = 1,
	MIG_MSG_RESERVE,
	MIG_MSG_RESERVED,
	MIG_MSG_REFUSED,
	MIG_MSG_STREAM_START,
	MIG_MSG_DATA,
	MIG_MSG_STREAM_END,
	MIG_MSG_RECEIVED,
	MIG_MSG_COMMIT,
	MIG_MSG_ACTIVATED,
	MIG_MSG_CANCEL,
	MIG_MSG_ERROR,
	MIG_MSG_PROGRESS,
	MIG_MSG_PING,
	MIG_MSG_PONG,
	MIG_MSG_XL_TUNNEL,
	MIG_MSG_QUERY,
	MIG_MSG_ANSWER,
	MIG_MSG_STREAM_ACK,
	MIG_MSG_DISK,		/* a local disk's contents follow (storage) */
	MIG_MSG_DISK_DELTA,	/* ranges of a disk follow (live storage) */
	MIG_MSG__MAX
};

/* Bounds of text fields, in bytes on the wire (buffers hold one more). */
#define MIG_NAME_MAX		64	/* domain name; leaves room for "--migratedaway" */
#define MIG_HOSTNAME_MAX	255	/* an FQDN */
#define MIG_VERSION_MAX		64	/* software version string */
#define MIG_ARCH_MAX		16	/* "x86_64", "aarch64" */
#define MIG_TEXT_MAX		512	/* human-readable reason */
#define MIG_UUID_LEN		16
#define MIG_SHA256_LEN		32
#define MIG_DIGEST_LEN		32	/* STREAM_END's digest field */

/* HELLO features, RESERVE requested features, RESERVED granted features */
#define MIG_FEAT_ZSTD		(1ull << 0)	/* zstd-compressed DATA frames */
#define MIG_FEAT_LIVE		(1ull << 1)	/* live (iterative pre-copy) migration */
#define MIG_FEAT_XL_TUNNEL	(1ull << 2)	/* accepts XL_TUNNEL */
#define MIG_FEAT_RESUME		(1ull << 3)	/* reconciles after restart (journal) */
#define MIG_FEAT_XXH3		(1ull << 4)	/* STREAM_END digest may be XXH3-128 */
#define MIG_FEAT_XL_REASONS	(1ull << 5)	/* accepts MIG_XLT_F_REASONS */
#define MIG_FEAT_DIRECT		(1ull << 6)	/* libxl's stream raw on the
						 * connection, no DATA frames */
#define MIG_FEAT_CREDIT		(1ull << 7)	/* target acknowledges the stream
						 * bytes handed to libxl
						 * (STREAM_ACK) */
#define MIG_FEAT_STORAGE	(1ull << 8)	/* receives local disks (DISK) */
#define MIG_FEAT_STORAGE_LIVE	(1ull << 9)	/* ... while the guest runs:
						 * DISK before STREAM_START,
						 * DISK_DELTA */

/* RESERVE flags; unknown bits are refused */
#define MIG_RESERVE_F_LIVE		0x0001
#define MIG_RESERVE_F_LOCALHOST		0x0002
#define MIG_RESERVE_F_START_PAUSED	0x0004
#define MIG_RESERVE_F_NO_ADOPT		0x0008	/* the target does not look
						 * after it (xl migrate -e) */
#define MIG_RESERVE_F_STORAGE		0x0010	/* the disks listed after
						 * the config travel too */
#define MIG_RESERVE_F_ALL		0x001f

/* A local disk that travels with the domain (RESERVE with STORAGE). */
#define MIG_DISKS_MAX		16	/* per domain */
#define MIG_DISK_INDEX_MAX	255	/* disks[] of the libxl config */
#define MIG_DISK_SECTOR		512	/* sizes are multiples of it */
enum mig_disk_kind {
	MIG_DISK_BLOCK = 1,	/* a block device (an LVM volume) */
	MIG_DISK_FILE = 2,	/* a regular file (a raw image) */
	MIG_DISK__MAX
};
struct mig_disk_desc {
	uint16_t	index;		/* disks[index] of the config */
	uint8_t		kind;		/* enum mig_disk_kind */
	uint64_t	size;		/* bytes, > 0, sector multiple */
};

/* STREAM_START flags; unknown bits are refused */
#define MIG_STREAM_F_ZSTD	0x0001
#define MIG_STREAM_F_XXH3	0x0002	/* STREAM_END carries XXH3-128, not SHA-256 */
#define MIG_STREAM_F_DIRECT	0x0004	/* libxl's stream follows, raw, up
						 * to its END record */
#define MIG_STREAM_F_CREDIT	0x0008	/* the target sends STREAM_ACK */
#define MIG_STREAM_F_ALL	0x000f
/* DISK flags: a disk always travels in DATA frames, so of STREAM_START's
 * flags only these two. */
#define MIG_DISK_F_ALL		(MIG_STREAM_F_ZSTD | MIG_STREAM_F_XXH3)
/* DISK_DELTA flags: DISK's, and LAST, the end of a disk's final pass
 * (after the memory stream only). */
#define MIG_DELTA_F_LAST	0x0100
#define MIG_DELTA_F_ALL		(MIG_DISK_F_ALL | MIG_DELTA_F_LAST)
/* Ranges one DISK_DELTA carries at most (16 bytes each on the wire); a
 * longer delta goes as several. */
#define MIG_DELTA_RANGES_MAX	8192

/*
 * With MIG_STREAM_F_CREDIT the target sends STREAM_ACK once at least this
 * many stream bytes handed to libxl are unacknowledged (checked after each
 * DATA frame), so a source's window must be at least its largest DATA
 * payload plus this.
 */
#define MIG_CREDIT_ACK_UNIT	(1024u * 1024)

/* XL_TUNNEL flags (mirror "xl migrate-receive" options); unknown refused */
#define MIG_XLT_F_PAUSED	0x0001	/* -p: leave the domain paused */
#define MIG_XLT_F_DEBUG		0x0002	/* -d */
/* Set only when the server's HELLO offers MIG_FEAT_XL_REASONS (an older
 * server refuses the bit): a refusal or failure before xl's "ready" comes
 * as a REFUSED or ERROR frame in its place (doc/protocol.md section 8). */
#define MIG_XLT_F_REASONS	0x0004
#define MIG_XLT_F_ALL		0x0007

enum mig_refuse_reason {
	MIG_REFUSE_NO_MEMORY = 1,
	MIG_REFUSE_NAME_CLASH,
	MIG_REFUSE_UUID_CLASH,
	MIG_REFUSE_XEN_VERSION,
	MIG_REFUSE_ARCH,
	MIG_REFUSE_PAGE_SIZE,
	MIG_REFUSE_BUSY,
	MIG_REFUSE_NOT_ALLOWED,
	MIG_REFUSE_BAD_CONFIG,
	MIG_REFUSE_INTERNAL,
	MIG_REFUSE_FEATURE,		/* a required feature is not offered */
	MIG_REFUSE_SHUTTING_DOWN,
	MIG_REFUSE_NO_SPACE,		/* a disk does not fit, or cannot be
					 * created, where it would go */
	MIG_REFUSE__MAX
};

/* ANSWER to a QUERY: what the target knows of one migration to it. */
enum mig_query_state {
	MIG_QUERY_COMMITTED = 1,	/* it journaled the COMMIT: the domain is its */
	MIG_QUERY_ABORTED,		/* it did not commit and never will */
	MIG_QUERY_PENDING,		/* still undecided: ask again later */
	MIG_QUERY_UNKNOWN,		/* no record and no such domain there */
	MIG_QUERY__MAX
};

/* Phases reported in PROGRESS (doc/protocol.md's six). */
enum mig_phase {
	MIG_PHASE_PREMIGRATION = 0,
	MIG_PHASE_RESERVATION,
	MIG_PHASE_PRECOPY,
	MIG_PHASE_STOPCOPY,
	MIG_PHASE_COMMITMENT,
	MIG_PHASE_ACTIVATION,
	MIG_PHASE__MAX
};

struct mig_msg_hello {
	char		version[MIG_VERSION_MAX + 1];
	char		hostname[MIG_HOSTNAME_MAX + 1];
	uint32_t	xen_major;
	uint32_t	xen_minor;
	char		arch[MIG_ARCH_MAX + 1];
	uint32_t	page_size;
	uint64_t	mem_total_kib;
	uint64_t	mem_free_kib;
	uint64_t	features;
	uint32_t	max_data_frame;	/* largest DATA body this side accepts */
};

struct mig_msg_reserve {
	char		 name[MIG_NAME_MAX + 1];
	uint8_t		 uuid[MIG_UUID_LEN];
	/*
	 * libxl domain config JSON, without NUL.  Decoded, it points into
	 * the frame body the caller passed in and lives as long as that.
	 */
	const uint8_t	*config;
	uint32_t	 config_len;
	uint64_t	 mem_kib;
	uint32_t	 xen_major;
	uint32_t	 xen_minor;
	char		 arch[MIG_ARCH_MAX + 1];
	uint32_t	 page_size;
	uint32_t	 flags;		/* MIG_RESERVE_F_* */
	uint64_t	 features;	/* requested MIG_FEAT_* */
	/* With MIG_RESERVE_F_STORAGE (1..MIG_DISKS_MAX, increasing
	 * distinct indexes), else 0: trails the config on the wire. */
	uint16_t		 ndisks;
	struct mig_disk_desc	 disks[MIG_DISKS_MAX];
};

struct mig_msg_reserved {
	uint64_t	id;
	uint32_t	ttl_sec;
	uint64_t	features;	/* granted */
};

struct mig_msg_refused {
	uint16_t	reason;		/* enum mig_refuse_reason, or unknown */
	char		text[MIG_TEXT_MAX + 1];
};

struct mig_msg_stream_start {
	uint64_t	reservation_id;
	uint16_t	flags;		/* MIG_STREAM_F_* */
};

struct mig_msg_data {
	const uint8_t	*data;		/* decoded: points into the body */
	uint32_t	 len;
	bool		 zstd;
};

struct mig_msg_stream_end {
	uint64_t	bytes;		/* uncompressed stream bytes */
	uint64_t	pages;
	/* Of the uncompressed stream: SHA-256, or with MIG_STREAM_F_XXH3
	 * XXH3-128 (canonical, big-endian) then 16 zero bytes. */
	uint8_t		digest[MIG_DIGEST_LEN];
};

struct mig_msg_received {
	uint32_t	domid;		/* of the paused NAME--incoming container */
};

struct mig_msg_activated {
	int32_t		status;		/* 0 running; else a libxl error, copy destroyed */
	uint32_t	domid;
	char		text[MIG_TEXT_MAX + 1];
};

struct mig_msg_text {			/* CANCEL */
	char		text[MIG_TEXT_MAX + 1];
};

struct mig_msg_error {
	uint16_t	code;		/* enum mig_errcode */
	char		text[MIG_TEXT_MAX + 1];
};

struct mig_msg_progress {
	uint16_t	phase;		/* enum mig_phase */
	uint32_t	round;
	uint64_t	pages_sent;
	uint64_t	dirty_left;
	uint64_t	bytes;
	uint32_t	downtime_ms;	/* expected */
};

struct mig_msg_ping {			/* PING and PONG */
	uint64_t	nonce;		/* PONG echoes PING's */
};

struct mig_msg_xl_tunnel {
	uint16_t	flags;		/* MIG_XLT_F_* */
	char		name[MIG_NAME_MAX + 1];	/* "" = keep the config's name */
};

/*
 * Asked by a source whose COMMIT is in doubt, on a connection of its own.
 * The name is an optional trailing field: "" encodes the old form, which a
 * decoder reads with name "".
 */
struct mig_msg_query {
	uint64_t	reservation_id;	/* the target's RESERVED id */
	uint8_t		uuid[MIG_UUID_LEN];
	char		name[MIG_NAME_MAX + 1];	/* the domain's; "" = not sent */
};

/* Before each disk's DATA frames and STREAM_END (doc/protocol.md 9). */
struct mig_msg_disk {
	uint16_t	index;		/* as in RESERVE's list, in its order */
	uint64_t	size;		/* as in RESERVE's list */
	uint16_t	flags;		/* MIG_STREAM_F_*, as STREAM_START's */
};

/* A byte range of a disk: sector-aligned, len > 0. */
struct mig_disk_range {
	uint64_t	off;
	uint64_t	len;
};

/*
 * Before the bytes of some ranges of a disk: DATA frames carrying the
 * ranges' bytes one after another, then STREAM_END (doc/protocol.md 9).
 * The ranges increase and never overlap (they may touch), are whole
 * sectors and lie within size.
 */
struct mig_msg_disk_delta {
	uint16_t	index;		/* as in RESERVE's list */
	uint64_t	size;		/* as in RESERVE's list */
	uint16_t	flags;		/* MIG_DELTA_F_* */
	uint32_t	pass;		/* 1, 2, ...: the source's pass */
	uint32_t	nranges;	/* 0 .. MIG_DELTA_RANGES_MAX; 0 only
					 * with LAST, and then no bytes */
	/* Encoding: the ranges (or, re-encoding, wire).  Decoded: NULL,
	 * and wire points into the frame body (mig_delta_range() reads
	 * one, either way). */
	const struct mig_disk_range	*ranges;
	const uint8_t			*wire;
};

struct mig_msg_answer {
	uint16_t	state;		/* enum mig_query_state */
	char		text[MIG_TEXT_MAX + 1];
};

struct mig_msg_stream_ack {
	uint64_t	bytes;		/* uncompressed stream bytes handed to
					 * libxl so far */
};

struct mig_msg {
	uint16_t	type;		/* enum mig_msg_type */
	union {
		struct mig_msg_hello		hello;
		struct mig_msg_reserve		reserve;
		struct mig_msg_reserved		reserved;
		struct mig_msg_refused		refused;
		struct mig_msg_stream_start	stream_start;
		struct mig_msg_data		data;
		struct mig_msg_stream_end	stream_end;
		struct mig_msg_received		received;
		struct mig_msg_activated	activated;
		struct mig_msg_text		cancel;
		struct mig_msg_error		error;
		struct mig_msg_progress		progress;
		struct mig_msg_ping		ping;	/* PING and PONG */
		struct mig_msg_xl_tunnel	xl_tunnel;
		struct mig_msg_query		query;
		struct mig_msg_answer		answer;
		struct mig_msg_stream_ack	stream_ack;
		struct mig_msg_disk		disk;
		struct mig_msg_disk_delta	disk_delta;
	} u;				/* COMMIT has no fields */
};

/* proto_frame.c */
/* Writes our preamble (MIG_PROTO_MAJOR.MIG_PROTO_MINOR). */
void		 mig_preamble_encode(uint8_t out[MIG_PREAMBLE_LEN]);
/*
 * 0 for a relocd peer of our major version; -1 with MIG_E_PROTO for
 * anything else that is not a relocd preamble (naming TLS or HTTP when it
 * looks like one), MIG_E_NOTSUP for another major (*pre is filled then).
 */
int		 mig_preamble_decode(const uint8_t in[MIG_PREAMBLE_LEN],
		    struct mig_preamble *, struct mig_err *);
/* Refuses (MIG_E_INVAL/MIG_E_TOOBIG) what the decoder would refuse. */
int		 mig_frame_hdr_encode(uint8_t out[MIG_FRAME_HDR_LEN],
		    const struct mig_frame_hdr *, struct mig_err *);
/*
 * Validates a header alone, before any body byte is read: length within
 * the type's limit, no unknown flag, ZSTD only on DATA, mandatory bit as
 * the type defines it, unknown mandatory type refused.  0 on success; an
 * unknown optional type also succeeds: check mig_msg_known() and discard
 * hdr->len body bytes.
 */
int		 mig_frame_hdr_decode(const uint8_t hdr[MIG_FRAME_HDR_LEN],
		    struct mig_frame_hdr *, struct mig_err *);
/* The header of a DATA frame of len body bytes; the relay sends the body. */
int		 mig_data_hdr_encode(uint8_t out[MIG_FRAME_HDR_LEN],
		    uint32_t len, bool zstd, struct mig_err *);
/*
 * Finds one frame at the start of buf: 1 when complete (*hdr, *body, and
 * *consumed = header + body length), 0 when more bytes are needed (the
 * header is validated as soon as it is there), -1 on a bad header.
 */
int		 mig_frame_split(const uint8_t *buf, size_t len,
		    struct mig_frame_hdr *hdr, const uint8_t **body,
		    size_t *consumed, struct mig_err *);
bool		 mig_msg_known(uint16_t type);
bool		 mig_msg_mandatory(uint16_t type);	/* as we send it */
uint32_t	 mig_msg_max_body(uint16_t type);
const char	*mig_msg_name(uint16_t type);		/* "HELLO", "unknown" */
const char	*mig_refuse_reason_name(uint16_t);	/* "no-memory" */
const char	*mig_phase_name(uint16_t);		/* "pre-copy" */
const char	*mig_query_state_name(uint16_t);	/* "committed" */
/* Range i of a decoded DISK_DELTA (i < nranges; checked by the decoder). */
struct mig_disk_range mig_delta_range(const struct mig_msg_disk_delta *,
		    uint32_t);

/* proto_msg.c */
/*
 * Validates every field and writes one whole frame (header and body) into
 * buf; *len gets its size.  MIG_E_INVAL for a bad field, MIG_E_TOOBIG when
 * buf (or the frame limit) is too small.
 */
int		 mig_msg_encode(const struct mig_msg *, uint8_t *buf,
		    size_t cap, size_t *len, struct mig_err *);
/*
 * Decodes the body (hdr->len bytes, hdr from mig_frame_hdr_decode) into
 * *msg, validating every field.  Bytes after the fields of this version
 * are ignored (a later minor version may append fields).  Pointer fields
 * (RESERVE config, DATA data) point into body.
 */
int		 mig_msg_decode(const struct mig_frame_hdr *hdr,
		    const uint8_t *body, struct mig_msg *msg, struct mig_err *);
/*
 * A relocd closes the connection without a word, before its greeting (and
 * before TLS), on a host its relocation_hosts_allow does not admit, or at
 * its connection limit: it tells such a host nothing.  If err (errnum the
 * errno of the failure) is that end, rewrites it as the refusal, with the
 * reasons it can have (MIG_E_DENIED), and returns true.
 */
bool		 mig_greeting_refusal(struct mig_err *err, int errnum,
		    const char *peer);
/*
 * A connection to a relocation port that was refused, or (TLS) whose
 * handshake failed: adds to err what the user can change, the other port
 * (--plain, or dropping it) or the target's settings, since the plain
 * port is off unless configured.
 */
void		 mig_connect_hint(struct mig_err *err, bool tls);
/* Whether a domain name / hostname of len bytes is acceptable on the wire. */
int		 mig_name_valid(const char *, size_t, struct mig_err *);
int		 mig_hostname_valid(const char *, size_t, struct mig_err *);
/*
 * Copies src into a text field, truncated to MIG_TEXT_MAX bytes, with each
 * byte outside printable ASCII replaced by '?': for libxl or strerror text.
 */
void		 mig_text_set(char dst[MIG_TEXT_MAX + 1], const char *src);

#endif
