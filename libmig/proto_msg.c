/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Message bodies of the relocation protocol: one encoder and one decoder
 * per type, driven by a table, over the bounded cursors of wire.h.  The
 * encoder applies the decoder's rules, so that we never send what a peer
 * of ours must refuse.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mig/error.h"
#include "mig/proto.h"
#include "mig/wire.h"

/* Xen reserves domids from DOMID_FIRST_RESERVED (0x7ff0) up. */
#define DOMID_LIMIT		0x7ff0u
#define PAGE_SIZE_MIN		4096u
#define PAGE_SIZE_MAX		(1u << 30)
#define DATA_FRAME_MIN		4096u

/* Which bytes a text field may hold, and how many. */
struct textclass {
	size_t	 min;
	size_t	 max;
	bool	(*ok)(uint8_t);
};

static bool
is_print(uint8_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

static bool
is_graph(uint8_t c)
{
	return c > 0x20 && c <= 0x7e;
}

static bool
is_archchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * Names and texts are printable ASCII: they end up in one-line logs, in
 * xenstore and on command lines, where a control byte or a stray UTF-8
 * sequence does harm and no legitimate use needs one.
 */
static const struct textclass tc_name = { 1, MIG_NAME_MAX, is_print };
static const struct textclass tc_name_opt = { 0, MIG_NAME_MAX, is_print };
static const struct textclass tc_host = { 1, MIG_HOSTNAME_MAX, is_graph };
static const struct textclass tc_version = { 1, MIG_VERSION_MAX, is_print };
static const struct textclass tc_arch = { 1, MIG_ARCH_MAX, is_archchar };
static const struct textclass tc_text = { 0, MIG_TEXT_MAX, is_print };

/* ecode: what a bad byte is, MIG_E_INVAL for our own, MIG_E_PROTO for a peer's */
static int
text_check(const struct textclass *tc, const char *what, const uint8_t *s,
    size_t len, int ecode, struct mig_err *err)
{
	size_t	i;

	if (len > tc->max)
		return mig_seterr(err, MIG_E_TOOBIG,
		    "%s: %zu bytes, limit %zu", what, len, tc->max);
	if (len < tc->min)
		return mig_seterr(err, ecode, "%s: empty", what);
	for (i = 0; i < len; i++)
		if (!tc->ok(s[i]))
			return mig_seterr(err, ecode,
			    "%s: byte 0x%02x at offset %zu not allowed",
			    what, s[i], i);
	return 0;
}

/* src is a field buffer of max + 1 bytes; a missing NUL means too long. */
static int
put_text(struct wire_wr *w, const struct textclass *tc, const char *what,
    const char *src, struct mig_err *err)
{
	size_t	len = strnlen(src, tc->max + 1);

	if (text_check(tc, what, (const uint8_t *)src, len, MIG_E_INVAL,
	    err) == -1)
		return -1;
	wire_put_be16(w, len);
	wire_put_bytes(w, src, len);
	return 0;
}

static int
get_text(struct wire_rd *r, const struct textclass *tc, const char *what,
    char *dst, struct mig_err *err)
{
	size_t		 len = wire_get_be16(r);
	const uint8_t	*p;

	/* An over-long length is the clearer error, whatever follows it. */
	if (!r->bad && len > tc->max)
		return mig_seterr(err, MIG_E_TOOBIG, "%s: %zu bytes, limit %zu",
		    what, len, tc->max);
	if ((p = wire_get_bytes(r, len)) == NULL)
		return mig_seterr(err, MIG_E_TRUNC, "%s: truncated", what);
	if (text_check(tc, what, p, len, MIG_E_PROTO, err) == -1)
		return -1;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return 0;
}

static int
check_page_size(const char *what, uint32_t ps, int ecode,
    struct mig_err *err)
{
	if (ps < PAGE_SIZE_MIN || ps > PAGE_SIZE_MAX || (ps & (ps - 1)) != 0)
		return mig_seterr(err, ecode,
		    "%s: page size %u is not a power of two in [%u, %u]",
		    what, ps, PAGE_SIZE_MIN, PAGE_SIZE_MAX);
	return 0;
}

/*
 * Field rules that are not about text.  Both directions call these, with
 * ecode saying whose fault a violation is.
 */
static int
hello_check(const struct mig_msg_hello *m, int ecode, struct mig_err *err)
{
	if (check_page_size("HELLO", m->page_size, ecode, err) == -1)
		return -1;
	if (m->mem_free_kib > m->mem_total_kib)
		return mig_seterr(err, ecode,
		    "HELLO: free memory %llu KiB above total %llu KiB",
		    (unsigned long long)m->mem_free_kib,
		    (unsigned long long)m->mem_total_kib);
	if (m->max_data_frame < DATA_FRAME_MIN ||
	    m->max_data_frame > MIG_FRAME_DATA_MAX)
		return mig_seterr(err, ecode,
		    "HELLO: max data frame %u not in [%u, %u]",
		    m->max_data_frame, DATA_FRAME_MIN, MIG_FRAME_DATA_MAX);
	return 0;
}

/* The disk list: with STORAGE only, in increasing index order. */
static int
disks_check(const struct mig_msg_reserve *m, int ecode, struct mig_err *err)
{
	const struct mig_disk_desc	*d;
	uint16_t			 i;

	if (!(m->flags & MIG_RESERVE_F_STORAGE))
		return m->ndisks == 0 ? 0 : mig_seterr(err, ecode,
		    "RESERVE: disks without the STORAGE flag");
	if (m->ndisks == 0 || m->ndisks > MIG_DISKS_MAX)
		return mig_seterr(err, ecode, "RESERVE: %u disks, not 1..%u",
		    m->ndisks, MIG_DISKS_MAX);
	for (i = 0; i < m->ndisks; i++) {
		d = &m->disks[i];
		if (d->index > MIG_DISK_INDEX_MAX || (i > 0 &&
		    d->index <= m->disks[i - 1].index))
			return mig_seterr(err, ecode, "RESERVE: disk index %u "
			    "out of order or above %u", d->index,
			    MIG_DISK_INDEX_MAX);
		if (d->kind == 0 || d->kind >= MIG_DISK__MAX)
			return mig_seterr(err, ecode, "RESERVE: disks[%u]: "
			    "unknown kind %u", d->index, d->kind);
		if (d->size == 0 || d->size % MIG_DISK_SECTOR != 0)
			return mig_seterr(err, ecode, "RESERVE: disks[%u]: "
			    "size %llu is not a positive multiple of %u",
			    d->index, (unsigned long long)d->size,
			    MIG_DISK_SECTOR);
	}
	return 0;
}

static int
reserve_check(const struct mig_msg_reserve *m, int ecode,
    struct mig_err *err)
{
	if (m->config_len == 0 || m->config == NULL)
		return mig_seterr(err, ecode, "RESERVE config: empty");
	if (memchr(m->config, '\0', m->config_len) != NULL)
		return mig_seterr(err, ecode, "RESERVE config: embedded NUL");
	if (m->mem_kib == 0)
		return mig_seterr(err, ecode, "RESERVE: memory need is 0");
	if (check_page_size("RESERVE", m->page_size, ecode, err) == -1)
		return -1;
	if (m->flags & ~MIG_RESERVE_F_ALL)
		return mig_seterr(err, ecode, "RESERVE: unknown flags 0x%x",
		    m->flags & ~MIG_RESERVE_F_ALL);
	return disks_check(m, ecode, err);
}

static int
domid_check(const char *what, uint32_t domid, bool required, int ecode,
    struct mig_err *err)
{
	if (domid >= DOMID_LIMIT || (required && domid == 0))
		return mig_seterr(err, ecode, "%s: bad domid %u", what, domid);
	return 0;
}

/* --- per-type encoders: body only, into w --- */

static int
enc_hello(const struct mig_msg *msg, struct wire_wr *w, struct mig_err *err)
{
	const struct mig_msg_hello	*m = &msg->u.hello;

	if (hello_check(m, MIG_E_INVAL, err) == -1 ||
	    put_text(w, &tc_version, "HELLO version", m->version, err) == -1 ||
	    put_text(w, &tc_host, "HELLO hostname", m->hostname, err) == -1)
		return -1;
	wire_put_be32(w, m->xen_major);
	wire_put_be32(w, m->xen_minor);
	if (put_text(w, &tc_arch, "HELLO arch", m->arch, err) == -1)
		return -1;
	wire_put_be32(w, m->page_size);
	wire_put_be64(w, m->mem_total_kib);
	wire_put_be64(w, m->mem_free_kib);
	wire_put_be64(w, m->features);
	wire_put_be32(w, m->max_data_frame);
	return 0;
}

static int
enc_reserve(const struct mig_msg *msg, struct wire_wr *w, struct mig_err *err)
{
	const struct mig_msg_reserve	*m = &msg->u.reserve;
	uint16_t			 i;

	if (reserve_check(m, MIG_E_INVAL, err) == -1 ||
	    put_text(w, &tc_name, "RESERVE name", m->name, err) == -1)
		return -1;
	wire_put_bytes(w, m->uuid, MIG_UUID_LEN);
	wire_put_be64(w, m->mem_kib);
	wire_put_be32(w, m->xen_major);
	wire_put_be32(w, m->xen_minor);
	if (put_text(w, &tc_arch, "RESERVE arch", m->arch, err) == -1)
		return -1;
	wire_put_be32(w, m->page_size);
	wire_put_be32(w, m->flags);
	wire_put_be64(w, m->features);
	/* Last, being the large one: a reader sees every small field first. */
	wire_put_be32(w, m->config_len);
	wire_put_bytes(w, m->config, m->config_len);
	if (!(m->flags & MIG_RESERVE_F_STORAGE))
		return 0;
	wire_put_be16(w, m->ndisks);
	for (i = 0; i < m->ndisks; i++) {
		wire_put_be16(w, m->disks[i].index);
		wire_put_u8(w, m->disks[i].kind);
		wire_put_be64(w, m->disks[i].size);
	}
	return 0;
}

static int
enc_reserved(const struct mig_msg *msg, struct wire_wr *w,
    struct mig_err *err)
{
	const struct mig_msg_reserved	*m = &msg->u.reserved;

	if (m->id == 0 || m->ttl_sec == 0)
		return mig_seterr(err, MIG_E_INVAL,
		    "RESERVED: id and ttl must be non-zero");
	wire_put_be64(w, m->id);
	wire_put_be32(w, m->ttl_sec);
	wire_put_be64(w, m->features);
	return 0;
}

static int
enc_refused(const struct mig_msg *msg, struct wire_wr *w, struct mig_err *err)
{
	const struct mig_msg_refused	*m = &msg->u.refused;

	if (m->reason == 0)
		return mig_seterr(err, MIG_E_INVAL, "REFUSED: reason 0");
	wire_put_be16(w, m->reason);
	return put_text(w, &tc_text, "REFUSED text", m->text, err);
}

static int
enc_stream_start(const struct mig_msg *msg, struct wire_wr *w,
    struct mig_err *err)
{
	const struct mig_msg_stream_start	*m = &msg->u.stream_start;

	if (m->reservation_id == 0)
		return mig_seterr(err, MIG_E_INVAL,
		    "STREAM_START: reservation id 0");
	if (m->flags & ~MIG_STREAM_F_ALL)
		return mig_seterr(err, MIG_E_INVAL,
		    "STREAM_START: unknown flags 0x%x",
		    m->flags & ~MIG_STREAM_F_ALL);
	wire_put_be64(w, m->reservation_id);
	wire_put_be16(w, m->flags);
	return 0;
}

static int
enc_data(const struct mig_msg *msg, struct wire_wr *w, struct mig_err *err)
{
	wire_put_bytes(w, msg->u.data.data, msg->u.data.len);
	return 0;
}

static int
enc_stream_end(const struct mig_msg *msg, struct wire_wr *w,
    struct mig_err *err)
{
	wire_put_be64(w, msg->u.stream_end.bytes);
	wire_put_be64(w, msg->u.stream_end.pages);
	wire_put_bytes(w, msg->u.stream_end.digest, MIG_DIGEST_LEN);
	return 0;
}

static int
enc_received(const struct mig_msg *msg, struct wire_wr *w,
    struct mig_err *err)
{
	if (domid_check("RECEIVED", msg->u.received.domid, true,
	    MIG_E_INVAL, err) == -1)
		return -1;
	wire_put_be32(w, msg->u.received.domid);
	return 0;
}

static int
enc_empty(const struct mig_msg *msg, struct wire_wr *w, struct mig_err *err)
{
	return 0;
}

static int
enc_activated(const struct mig_msg *msg, struct wire_wr *w,
    struct mig_err *err)
{
	const struct mig_msg_activated	*m = &msg->u.activated;

	if (domid_check("ACTIVATED", m->domid, m->status == 0, MIG_E_INVAL,
	    err) == -1)
		return -1;
	wire_put_be32(w, (uint32_t)m->status);
	wire_put_be32(w, m->domid);
	return put_text(w, &tc_text, "ACTIVATED text", m->text, err);
}

static int
enc_cancel(const struct mig_msg *msg, struct wire_wr *w, struct mig_err *err)
{
	return put_text(w, &tc_text, "CANCEL text", msg->u.cancel.text, err);
}

static int
enc_error(const struct mig_msg *msg, struct wire_wr *w, struct mig_err *err)
{
	if (msg->u.error.code == 0)
		return mig_seterr(err, MIG_E_INVAL, "ERROR: code 0");
	wire_put_be16(w, msg->u.error.code);
	return put_text(w, &tc_text, "ERROR text", msg->u.error.text, err);
}

static int
enc_progress(const struct mig_msg *msg, struct wire_wr *w,
    struct mig_err *err)
{
	const struct mig_msg_progress	*m = &msg->u.progress;

	if (m->phase >= MIG_PHASE__MAX)
		return mig_seterr(err, MIG_E_INVAL, "PROGRESS: phase %u",
		    m->phase);
	wire_put_be16(w, m->phase);
	wire_put_be32(w, m->round);
	wire_put_be64(w, m->pages_sent);
	wire_put_be64(w, m->dirty_left);
	wire_put_be64(w, m->bytes);
	wire_put_be32(w, m->downtime_ms);
	return 0;
}

static int
enc_ping(const struct mig_msg *msg, struct wire_wr *w, struct mig_err *err)
{
	wire_put_be64(w, msg->u.ping.nonce);
	return 0;
}

static int
enc_stream_ack(const struct mig_msg *msg, struct wire_wr *w,
    struct mig_err *err)
{
	wire_put_be64(w, msg->u.stream_ack.bytes);
	return 0;
}

static int
enc_xl_tunnel(const struct mig_msg *msg, struct wire_wr *w,
    struct mig_err *err)
{
	const struct mig_msg_xl_tunnel	*m = &msg->u.xl_tunnel;

	if (m->flags & ~MIG_XLT_F_ALL)
		return mig_seterr(err, MIG_E_INVAL,
		    "XL_TUNNEL: unknown flags 0x%x", m->flags & ~MIG_XLT_F_ALL);
	wire_put_be16(w, m->flags);
	return put_text(w, &tc_name_opt, "XL_TUNNEL name", m->name, err);
}

/* --- per-type decoders: r holds exactly the body --- */

static int
dec_hello(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	struct mig_msg_hello	*m = &msg->u.hello;

	if (get_text(r, &tc_version, "HELLO version", m->version, err) == -1 ||
	    get_text(r, &tc_host, "HELLO hostname", m->hostname, err) == -1)
		return -1;
	m->xen_major = wire_get_be32(r);
	m->xen_minor = wire_get_be32(r);
	if (get_text(r, &tc_arch, "HELLO arch", m->arch, err) == -1)
		return -1;
	m->page_size = wire_get_be32(r);
	m->mem_total_kib = wire_get_be64(r);
	m->mem_free_kib = wire_get_be64(r);
	m->features = wire_get_be64(r);
	m->max_data_frame = wire_get_be32(r);
	if (r->bad)
		return 0;	/* the caller names the truncation */
	return hello_check(m, MIG_E_PROTO, err);
}

static int
dec_reserve(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	struct mig_msg_reserve	*m = &msg->u.reserve;
	const uint8_t		*uuid;
	uint16_t		 i;

	if (get_text(r, &tc_name, "RESERVE name", m->name, err) == -1)
		return -1;
	if ((uuid = wire_get_bytes(r, MIG_UUID_LEN)) != NULL)
		memcpy(m->uuid, uuid, MIG_UUID_LEN);
	m->mem_kib = wire_get_be64(r);
	m->xen_major = wire_get_be32(r);
	m->xen_minor = wire_get_be32(r);
	if (get_text(r, &tc_arch, "RESERVE arch", m->arch, err) == -1)
		return -1;
	m->page_size = wire_get_be32(r);
	m->flags = wire_get_be32(r);
	m->features = wire_get_be64(r);
	m->config_len = wire_get_be32(r);
	m->config = wire_get_bytes(r, m->config_len);
	m->ndisks = 0;
	if (!r->bad && (m->flags & MIG_RESERVE_F_STORAGE)) {
		m->ndisks = wire_get_be16(r);
		if (m->ndisks > MIG_DISKS_MAX)
			return mig_seterr(err, MIG_E_PROTO, "RESERVE: %u "
			    "disks, not 1..%u", m->ndisks, MIG_DISKS_MAX);
		for (i = 0; i < m->ndisks; i++) {
			m->disks[i].index = wire_get_be16(r);
			m->disks[i].kind = wire_get_u8(r);
			m->disks[i].size = wire_get_be64(r);
		}
	}
	if (r->bad) {
		m->config = NULL;
		m->config_len = 0;
		m->ndisks = 0;
		return 0;
	}
	return reserve_check(m, MIG_E_PROTO, err);
}

static int
dec_reserved(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	struct mig_msg_reserved	*m = &msg->u.reserved;

	m->id = wire_get_be64(r);
	m->ttl_sec = wire_get_be32(r);
	m->features = wire_get_be64(r);
	if (!r->bad && (m->id == 0 || m->ttl_sec == 0))
		return mig_seterr(err, MIG_E_PROTO,
		    "RESERVED: id and ttl must be non-zero");
	return 0;
}

static int
dec_refused(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	msg->u.refused.reason = wire_get_be16(r);
	if (!r->bad && msg->u.refused.reason == 0)
		return mig_seterr(err, MIG_E_PROTO, "REFUSED: reason 0");
	return get_text(r, &tc_text, "REFUSED text", msg->u.refused.text, err);
}

static int
dec_stream_start(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	struct mig_msg_stream_start	*m = &msg->u.stream_start;

	m->reservation_id = wire_get_be64(r);
	m->flags = wire_get_be16(r);
	if (r->bad)
		return 0;
	if (m->reservation_id == 0)
		return mig_seterr(err, MIG_E_PROTO,
		    "STREAM_START: reservation id 0");
	if (m->flags & ~MIG_STREAM_F_ALL)
		return mig_seterr(err, MIG_E_PROTO,
		    "STREAM_START: unknown flags 0x%x",
		    m->flags & ~MIG_STREAM_F_ALL);
	return 0;
}

static int
dec_data(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	msg->u.data.len = wire_rd_left(r);
	msg->u.data.data = wire_get_bytes(r, msg->u.data.len);
	return 0;
}

static int
dec_stream_end(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	const uint8_t	*sum;

	msg->u.stream_end.bytes = wire_get_be64(r);
	msg->u.stream_end.pages = wire_get_be64(r);
	if ((sum = wire_get_bytes(r, MIG_DIGEST_LEN)) != NULL)
		memcpy(msg->u.stream_end.digest, sum, MIG_DIGEST_LEN);
	return 0;
}

static int
dec_received(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	msg->u.received.domid = wire_get_be32(r);
	if (r->bad)
		return 0;
	return domid_check("RECEIVED", msg->u.received.domid, true,
	    MIG_E_PROTO, err);
}

static int
dec_empty(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	return 0;
}

static int
dec_activated(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	struct mig_msg_activated	*m = &msg->u.activated;

	m->status = (int32_t)wire_get_be32(r);
	m->domid = wire_get_be32(r);
	if (!r->bad && domid_check("ACTIVATED", m->domid, m->status == 0,
	    MIG_E_PROTO, err) == -1)
		return -1;
	return get_text(r, &tc_text, "ACTIVATED text", m->text, err);
}

static int
dec_cancel(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	return get_text(r, &tc_text, "CANCEL text", msg->u.cancel.text, err);
}

static int
dec_error(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	msg->u.error.code = wire_get_be16(r);
	if (!r->bad && msg->u.error.code == 0)
		return mig_seterr(err, MIG_E_PROTO, "ERROR: code 0");
	return get_text(r, &tc_text, "ERROR text", msg->u.error.text, err);
}

static int
dec_progress(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	struct mig_msg_progress	*m = &msg->u.progress;

	m->phase = wire_get_be16(r);
	m->round = wire_get_be32(r);
	m->pages_sent = wire_get_be64(r);
	m->dirty_left = wire_get_be64(r);
	m->bytes = wire_get_be64(r);
	m->downtime_ms = wire_get_be32(r);
	if (!r->bad && m->phase >= MIG_PHASE__MAX)
		return mig_seterr(err, MIG_E_PROTO, "PROGRESS: phase %u",
		    m->phase);
	return 0;
}

static int
dec_ping(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	msg->u.ping.nonce = wire_get_be64(r);
	return 0;
}

static int
dec_stream_ack(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	msg->u.stream_ack.bytes = wire_get_be64(r);
	return 0;
}

static int
dec_xl_tunnel(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	struct mig_msg_xl_tunnel	*m = &msg->u.xl_tunnel;

	m->flags = wire_get_be16(r);
	if (!r->bad && (m->flags & ~MIG_XLT_F_ALL))
		return mig_seterr(err, MIG_E_PROTO,
		    "XL_TUNNEL: unknown flags 0x%x", m->flags & ~MIG_XLT_F_ALL);
	return get_text(r, &tc_name_opt, "XL_TUNNEL name", m->name, err);
}

static int
enc_query(const struct mig_msg *msg, struct wire_wr *w, struct mig_err *err)
{
	if (msg->u.query.reservation_id == 0)
		return mig_seterr(err, MIG_E_INVAL, "QUERY: reservation 0");
	wire_put_be64(w, msg->u.query.reservation_id);
	wire_put_bytes(w, msg->u.query.uuid, MIG_UUID_LEN);
	/* No name, the old form: the same bytes an older relocd sends. */
	if (msg->u.query.name[0] == '\0')
		return 0;
	return put_text(w, &tc_name, "QUERY name", msg->u.query.name, err);
}

/*
 * The name trails the fixed fields, so a decoder that predates it ignores
 * it.  When present it is a whole name (1..64 bytes): an empty one would
 * not re-encode to the bytes it came from.
 */
static int
dec_query(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	const uint8_t	*uuid;

	msg->u.query.reservation_id = wire_get_be64(r);
	if ((uuid = wire_get_bytes(r, MIG_UUID_LEN)) != NULL)
		memcpy(msg->u.query.uuid, uuid, MIG_UUID_LEN);
	if (!r->bad && msg->u.query.reservation_id == 0)
		return mig_seterr(err, MIG_E_PROTO, "QUERY: reservation 0");
	if (wire_rd_left(r) == 0)
		return 0;
	return get_text(r, &tc_name, "QUERY name", msg->u.query.name, err);
}

static int
enc_answer(const struct mig_msg *msg, struct wire_wr *w, struct mig_err *err)
{
	const struct mig_msg_answer	*m = &msg->u.answer;

	if (m->state == 0 || m->state >= MIG_QUERY__MAX)
		return mig_seterr(err, MIG_E_INVAL, "ANSWER: state %u",
		    m->state);
	wire_put_be16(w, m->state);
	return put_text(w, &tc_text, "ANSWER text", m->text, err);
}

/* An unknown state is refused: the source must never guess at it. */
static int
dec_answer(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	struct mig_msg_answer	*m = &msg->u.answer;

	m->state = wire_get_be16(r);
	if (!r->bad && (m->state == 0 || m->state >= MIG_QUERY__MAX))
		return mig_seterr(err, MIG_E_PROTO, "ANSWER: state %u",
		    m->state);
	return get_text(r, &tc_text, "ANSWER text", m->text, err);
}

/* DISK: a disk's contents follow, as DATA frames and a STREAM_END. */
static int
disk_check(const struct mig_msg_disk *m, int ecode, struct mig_err *err)
{
	if (m->index > MIG_DISK_INDEX_MAX)
		return mig_seterr(err, ecode, "DISK: index %u above %u",
		    m->index, MIG_DISK_INDEX_MAX);
	if (m->size == 0 || m->size % MIG_DISK_SECTOR != 0)
		return mig_seterr(err, ecode, "DISK: size %llu is not a "
		    "positive multiple of %u", (unsigned long long)m->size,
		    MIG_DISK_SECTOR);
	if (m->flags & ~MIG_DISK_F_ALL)
		return mig_seterr(err, ecode, "DISK: unknown flags 0x%x",
		    m->flags & ~MIG_DISK_F_ALL);
	return 0;
}

static int
enc_disk(const struct mig_msg *msg, struct wire_wr *w, struct mig_err *err)
{
	const struct mig_msg_disk	*m = &msg->u.disk;

	if (disk_check(m, MIG_E_INVAL, err) == -1)
		return -1;
	wire_put_be16(w, m->index);
	wire_put_be64(w, m->size);
	wire_put_be16(w, m->flags);
	return 0;
}

static int
dec_disk(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	struct mig_msg_disk	*m = &msg->u.disk;

	m->index = wire_get_be16(r);
	m->size = wire_get_be64(r);
	m->flags = wire_get_be16(r);
	if (r->bad)
		return 0;
	return disk_check(m, MIG_E_PROTO, err);
}

/* DISK_DELTA: the header, then nranges x (u64 off, u64 len). */
static int
delta_check(const struct mig_msg_disk_delta *m, int ecode,
    struct mig_err *err)
{
	struct mig_msg_disk	d = { m->index, m->size, m->flags &
				    MIG_DISK_F_ALL };

	if (disk_check(&d, ecode, err) == -1)
		return -1;
	if (m->flags & ~MIG_DELTA_F_ALL)
		return mig_seterr(err, ecode, "DISK_DELTA: unknown flags 0x%x",
		    m->flags & ~MIG_DELTA_F_ALL);
	if (m->pass == 0)
		return mig_seterr(err, ecode, "DISK_DELTA: pass 0 is DISK");
	if (m->nranges > MIG_DELTA_RANGES_MAX || (m->nranges == 0 &&
	    !(m->flags & MIG_DELTA_F_LAST)))
		return mig_seterr(err, ecode, "DISK_DELTA: %u ranges, not "
		    "%u..%u", m->nranges, m->flags & MIG_DELTA_F_LAST ? 0 : 1,
		    MIG_DELTA_RANGES_MAX);
	return 0;
}

/* Range i after the previous one's end (prev_end), within size. */
static int
range_check(const struct mig_disk_range *x, uint64_t prev_end,
    uint64_t size, int ecode, struct mig_err *err)
{
	if (x->len == 0 || x->off % MIG_DISK_SECTOR != 0 ||
	    x->len % MIG_DISK_SECTOR != 0 || x->off < prev_end ||
	    x->off > size || x->len > size - x->off)
		return mig_seterr(err, ecode, "DISK_DELTA: range %llu+%llu: "
		    "not whole sectors, overlapping or out of order, or past "
		    "the disk's %llu bytes", (unsigned long long)x->off,
		    (unsigned long long)x->len, (unsigned long long)size);
	return 0;
}

static int
enc_disk_delta(const struct mig_msg *msg, struct wire_wr *w,
    struct mig_err *err)
{
	const struct mig_msg_disk_delta	*m = &msg->u.disk_delta;
	struct mig_disk_range		 x;
	uint64_t			 end = 0;
	uint32_t			 i;

	if (delta_check(m, MIG_E_INVAL, err) == -1)
		return -1;
	if (m->nranges > 0 && m->ranges == NULL && m->wire == NULL)
		return mig_seterr(err, MIG_E_INVAL, "DISK_DELTA: no ranges");
	wire_put_be16(w, m->index);
	wire_put_be64(w, m->size);
	wire_put_be16(w, m->flags);
	wire_put_be32(w, m->pass);
	wire_put_be32(w, m->nranges);
	for (i = 0; i < m->nranges; i++) {
		x = mig_delta_range(m, i);
		if (range_check(&x, end, m->size, MIG_E_INVAL, err) == -1)
			return -1;
		end = x.off + x.len;
		wire_put_be64(w, x.off);
		wire_put_be64(w, x.len);
	}
	return 0;
}

static int
dec_disk_delta(struct wire_rd *r, struct mig_msg *msg, struct mig_err *err)
{
	struct mig_msg_disk_delta	*m = &msg->u.disk_delta;
	struct mig_disk_range		 x;
	uint64_t			 end = 0;
	uint32_t			 i;

	m->index = wire_get_be16(r);
	m->size = wire_get_be64(r);
	m->flags = wire_get_be16(r);
	m->pass = wire_get_be32(r);
	m->nranges = wire_get_be32(r);
	if (r->bad)
		return 0;
	if (delta_check(m, MIG_E_PROTO, err) == -1)
		return -1;
	m->ranges = NULL;
	m->wire = r->p + r->off;
	for (i = 0; i < m->nranges; i++) {
		x.off = wire_get_be64(r);
		x.len = wire_get_be64(r);
		if (r->bad)
			return 0;
		if (range_check(&x, end, m->size, MIG_E_PROTO, err) == -1)
			return -1;
		end = x.off + x.len;
	}
	return 0;
}

struct mig_disk_range
mig_delta_range(const struct mig_msg_disk_delta *m, uint32_t i)
{
	struct mig_disk_range	x = { 0, 0 };
	struct wire_rd		r;

	if (m->ranges != NULL)
		return m->ranges[i];
	wire_rd_init(&r, m->wire + (size_t)i * 16, 16);
	x.off = wire_get_be64(&r);
	x.len = wire_get_be64(&r);
	return x;
}

struct codec {
	int	(*enc)(const struct mig_msg *, struct wire_wr *,
		    struct mig_err *);
	int	(*dec)(struct wire_rd *, struct mig_msg *, struct mig_err *);
};

static const struct codec codecs[MIG_MSG__MAX] = {
	[MIG_MSG_HELLO] = { enc_hello, dec_hello },
	[MIG_MSG_RESERVE] = { enc_reserve, dec_reserve },
	[MIG_MSG_RESERVED] = { enc_reserved, dec_reserved },
	[MIG_MSG_REFUSED] = { enc_refused, dec_refused },
	[MIG_MSG_STREAM_START] = { enc_stream_start, dec_stream_start },
	[MIG_MSG_DATA] = { enc_data, dec_data },
	[MIG_MSG_STREAM_END] = { enc_stream_end, dec_stream_end },
	[MIG_MSG_RECEIVED] = { enc_received, dec_received },
	[MIG_MSG_COMMIT] = { enc_empty, dec_empty },
	[MIG_MSG_ACTIVATED] = { enc_activated, dec_activated },
	[MIG_MSG_CANCEL] = { enc_cancel, dec_cancel },
	[MIG_MSG_ERROR] = { enc_error, dec_error },
	[MIG_MSG_PROGRESS] = { enc_progress, dec_progress },
	[MIG_MSG_PING] = { enc_ping, dec_ping },
	[MIG_MSG_PONG] = { enc_ping, dec_ping },
	[MIG_MSG_XL_TUNNEL] = { enc_xl_tunnel, dec_xl_tunnel },
	[MIG_MSG_QUERY] = { enc_query, dec_query },
	[MIG_MSG_ANSWER] = { enc_answer, dec_answer },
	[MIG_MSG_STREAM_ACK] = { enc_stream_ack, dec_stream_ack },
	[MIG_MSG_DISK] = { enc_disk, dec_disk },
	[MIG_MSG_DISK_DELTA] = { enc_disk_delta, dec_disk_delta },
};

int
mig_msg_encode(const struct mig_msg *msg, uint8_t *buf, size_t cap,
    size_t *lenp, struct mig_err *err)
{
	struct mig_frame_hdr	 h;
	struct wire_wr		 w;
	size_t			 blen;

	if (!mig_msg_known(msg->type))
		return mig_seterr(err, MIG_E_INVAL,
		    "encode: unknown message type %u", msg->type);
	if (cap < MIG_FRAME_HDR_LEN)
		return mig_seterr(err, MIG_E_TOOBIG,
		    "encode %s: buffer of %zu bytes too small",
		    mig_msg_name(msg->type), cap);
	/* The body first, then the header that announces its length. */
	wire_wr_init(&w, buf + MIG_FRAME_HDR_LEN, cap - MIG_FRAME_HDR_LEN);
	if (codecs[msg->type].enc(msg, &w, err) == -1)
		return -1;
	if (w.bad)
		return mig_seterr(err, MIG_E_TOOBIG,
		    "encode %s: buffer of %zu bytes too small",
		    mig_msg_name(msg->type), cap);
	blen = w.off;
	if (blen > mig_msg_max_body(msg->type))
		return mig_seterr(err, MIG_E_TOOBIG,
		    "encode %s: body of %zu bytes, limit %u",
		    mig_msg_name(msg->type), blen,
		    mig_msg_max_body(msg->type));
	h.len = blen;
	h.type = msg->type;
	h.flags = mig_msg_mandatory(msg->type) ? MIG_FRAME_F_MANDATORY : 0;
	if (msg->type == MIG_MSG_DATA && msg->u.data.zstd)
		h.flags |= MIG_FRAME_F_ZSTD;
	if (mig_frame_hdr_encode(buf, &h, err) == -1)
		return -1;
	*lenp = MIG_FRAME_HDR_LEN + blen;
	return 0;
}

int
mig_msg_decode(const struct mig_frame_hdr *hdr, const uint8_t *body,
    struct mig_msg *msg, struct mig_err *err)
{
	struct wire_rd	r;

	memset(msg, 0, sizeof(*msg));
	msg->type = hdr->type;
	if (!mig_msg_known(hdr->type))
		return mig_seterr(err, MIG_E_NOTSUP,
		    "decode: unknown message type %u", hdr->type);
	if (hdr->type == MIG_MSG_DATA)
		msg->u.data.zstd = (hdr->flags & MIG_FRAME_F_ZSTD) != 0;
	wire_rd_init(&r, body, hdr->len);
	if (codecs[hdr->type].dec(&r, msg, err) == -1)
		return -1;
	if (r.bad)
		return mig_seterr(err, MIG_E_TRUNC,
		    "decode %s: body of %u bytes truncated",
		    mig_msg_name(hdr->type), hdr->len);
	return 0;
}

int
mig_name_valid(const char *s, size_t len, struct mig_err *err)
{
	return text_check(&tc_name, "domain name", (const uint8_t *)s, len,
	    MIG_E_INVAL, err);
}

int
mig_hostname_valid(const char *s, size_t len, struct mig_err *err)
{
	return text_check(&tc_host, "hostname", (const uint8_t *)s, len,
	    MIG_E_INVAL, err);
}

bool
mig_greeting_refusal(struct mig_err *err, int errnum, const char *peer)
{
	if (!(err->code == MIG_E_EOF || (err->code == MIG_E_IO &&
	    (errnum == ECONNRESET || errnum == EPIPE))))
		return false;
	mig_seterr(err, MIG_E_DENIED, "%s closed the connection before "
	    "greeting us: its relocation_hosts_allow does not admit this host, "
	    "or it is at its connection limit (its log says which)", peer);
	return true;
}

void
mig_connect_hint(struct mig_err *err, bool tls)
{
	char	msg[MIG_ERRLEN];
	bool	refused = strstr(err->msg, strerror(ECONNREFUSED)) != NULL;

	if (!refused && !(tls && (err->code == MIG_E_TLS ||
	    err->code == MIG_E_PROTO)))
		return;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	/* The phrases are tls.c's (mig_tls_seterr): the peer spoke TLS and
	 * sent an alert, or its certificate failed our checks, or it is
	 * no TLS port at all.  Each has its own remedy. */
	if (tls && strstr(msg, "refused the TLS") != NULL)
		mig_seterr(err, err->code, "%s: it speaks TLS but refused this "
		    "host: its tls_ca must hold the CA of this host's tls_cert, "
		    "and its tls_peers_allow (if set) must name this host's "
		    "certificate; its log says which", msg);
	else if (tls && (strstr(msg, "certificate") != NULL ||
	    strstr(msg, "host name mismatch") != NULL))
		mig_seterr(err, err->code, "%s: this host's tls_ca must hold "
		    "the CA of the target's tls_cert, which must name the host "
		    "as given here", msg);
	else if (tls && err->code == MIG_E_PROTO)
		mig_seterr(err, err->code, "%s: that is its plain port; use "
		    "--plain, or its TLS port (default 8003)", msg);
	else if (tls)
		mig_seterr(err, err->code, "%s: is TLS on there? Use --plain "
		    "for its plain port, or set relocation_ssl_server, "
		    "tls_cert, tls_key and tls_ca in its relocd.conf", msg);
	else
		mig_seterr(err, err->code, "%s: the plain port is off unless "
		    "its relocd.conf sets relocation_server = 1; without "
		    "--plain the migration goes over TLS", msg);
}

void
mig_text_set(char dst[MIG_TEXT_MAX + 1], const char *src)
{
	size_t	i;

	for (i = 0; i < MIG_TEXT_MAX && src[i] != '\0'; i++)
		dst[i] = tc_text.ok((uint8_t)src[i]) ? src[i] : '?';
	dst[i] = '\0';
}
