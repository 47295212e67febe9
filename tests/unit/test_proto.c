/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "mig/error.h"
#include "mig/proto.h"
#include "mig/wire.h"
#include "msg_equal.h"

#define BUFSZ	4096

static const char config_json[] = "{\"c_info\":{\"name\":\"guest1\"}}";
static const uint8_t payload[] = { 0x28, 0xb5, 0x2f, 0xfd, 0, 1, 2, 3 };

/* One valid example of every message type, fields all non-trivial. */
static const struct mig_disk_range	sample_ranges[] = {
	{ 0, 65536 }, { 131072, 512 }, { 1ull << 39, 1ull << 20 },
};

static void
sample(uint16_t type, struct mig_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	switch (type) {
	case MIG_MSG_HELLO:
		strcpy(m->u.hello.version, "xen-relocd 0.1.0");
		strcpy(m->u.hello.hostname, "dom0-a.example.org");
		m->u.hello.xen_major = 4;
		m->u.hello.xen_minor = 17;
		strcpy(m->u.hello.arch, "x86_64");
		m->u.hello.page_size = 4096;
		m->u.hello.mem_total_kib = 64ull << 20;
		m->u.hello.mem_free_kib = 3ull << 20;
		m->u.hello.features = MIG_FEAT_ZSTD | MIG_FEAT_LIVE |
		    (1ull << 63);
		m->u.hello.max_data_frame = MIG_FRAME_DATA_MAX;
		break;
	case MIG_MSG_RESERVE:
		strcpy(m->u.reserve.name, "guest1");
		memcpy(m->u.reserve.uuid, "\x01\x23\x45\x67\x89\xab\xcd\xef"
		    "\xfe\xdc\xba\x98\x76\x54\x32\x10", MIG_UUID_LEN);
		m->u.reserve.config = (const uint8_t *)config_json;
		m->u.reserve.config_len = strlen(config_json);
		m->u.reserve.mem_kib = 1ull << 20;
		m->u.reserve.xen_major = 4;
		m->u.reserve.xen_minor = 17;
		strcpy(m->u.reserve.arch, "x86_64");
		m->u.reserve.page_size = 4096;
		m->u.reserve.flags = MIG_RESERVE_F_LIVE |
		    MIG_RESERVE_F_START_PAUSED | MIG_RESERVE_F_STORAGE;
		m->u.reserve.features = MIG_FEAT_ZSTD;
		m->u.reserve.ndisks = 2;
		m->u.reserve.disks[0].index = 0;
		m->u.reserve.disks[0].kind = MIG_DISK_BLOCK;
		m->u.reserve.disks[0].size = 64ull << 20;
		m->u.reserve.disks[1].index = 3;
		m->u.reserve.disks[1].kind = MIG_DISK_FILE;
		m->u.reserve.disks[1].size = 1ull << 40;
		break;
	case MIG_MSG_RESERVED:
		m->u.reserved.id = 0x1122334455667788ull;
		m->u.reserved.ttl_sec = 30;
		m->u.reserved.features = MIG_FEAT_ZSTD;
		break;
	case MIG_MSG_REFUSED:
		m->u.refused.reason = MIG_REFUSE_NO_MEMORY;
		strcpy(m->u.refused.text, "need 1048576 KiB, 524288 KiB free");
		break;
	case MIG_MSG_STREAM_START:
		m->u.stream_start.reservation_id = 42;
		m->u.stream_start.flags = MIG_STREAM_F_ZSTD;
		break;
	case MIG_MSG_DATA:
		m->u.data.data = payload;
		m->u.data.len = sizeof(payload);
		m->u.data.zstd = true;
		break;
	case MIG_MSG_STREAM_END:
		m->u.stream_end.bytes = 1ull << 33;
		m->u.stream_end.pages = 262144;
		memset(m->u.stream_end.digest, 0xa5, MIG_SHA256_LEN);
		m->u.stream_end.digest[31] = 0x5a;
		break;
	case MIG_MSG_RECEIVED:
		m->u.received.domid = 17;
		break;
	case MIG_MSG_COMMIT:
		break;
	case MIG_MSG_ACTIVATED:
		m->u.activated.status = -3;
		m->u.activated.domid = 0;
		strcpy(m->u.activated.text, "unpause failed");
		break;
	case MIG_MSG_CANCEL:
		strcpy(m->u.cancel.text, "cancelled by operator");
		break;
	case MIG_MSG_ERROR:
		m->u.error.code = MIG_E_HV;
		strcpy(m->u.error.text, "libxl_domain_create_restore failed");
		break;
	case MIG_MSG_PROGRESS:
		m->u.progress.phase = MIG_PHASE_PRECOPY;
		m->u.progress.round = 3;
		m->u.progress.pages_sent = 100000;
		m->u.progress.dirty_left = 1234;
		m->u.progress.bytes = 409600000;
		m->u.progress.downtime_ms = 45;
		break;
	case MIG_MSG_PING:
	case MIG_MSG_PONG:
		m->u.ping.nonce = 0xdeadbeefcafef00dull;
		break;
	case MIG_MSG_XL_TUNNEL:
		m->u.xl_tunnel.flags = MIG_XLT_F_PAUSED | MIG_XLT_F_DEBUG |
		    MIG_XLT_F_REASONS;
		strcpy(m->u.xl_tunnel.name, "guest1-copy");
		break;
	case MIG_MSG_QUERY:
		m->u.query.reservation_id = 42;
		memset(m->u.query.uuid, 0xab, MIG_UUID_LEN);
		strcpy(m->u.query.name, "web1");
		break;
	case MIG_MSG_ANSWER:
		m->u.answer.state = MIG_QUERY_COMMITTED;
		strcpy(m->u.answer.text, "committed at 12:00, runs as 7");
		break;
	case MIG_MSG_STREAM_ACK:
		m->u.stream_ack.bytes = 0x123456789abull;
		break;
	case MIG_MSG_DISK:
		m->u.disk.index = 3;
		m->u.disk.size = 1ull << 40;
		m->u.disk.flags = MIG_STREAM_F_ZSTD | MIG_STREAM_F_XXH3;
		break;
	case MIG_MSG_DISK_DELTA:
		m->u.disk_delta.index = 3;
		m->u.disk_delta.size = 1ull << 40;
		m->u.disk_delta.flags = MIG_STREAM_F_XXH3 | MIG_DELTA_F_LAST;
		m->u.disk_delta.pass = 2;
		m->u.disk_delta.nranges = 3;
		m->u.disk_delta.ranges = sample_ranges;
		break;
	default:
		fail_msg("no sample for type %u", type);
	}
}

static size_t
encode_ok(const struct mig_msg *m, uint8_t *buf, size_t cap)
{
	struct mig_err	err;
	size_t		len = 0;

	if (mig_msg_encode(m, buf, cap, &len, &err) != 0)
		fail_msg("encode %s: %s", mig_msg_name(m->type), err.msg);
	return len;
}

/* Writes range x big-endian at body offset off of the frame in buf. */
static void
put_range_at(uint8_t *buf, size_t len, size_t off,
    const struct mig_disk_range *x)
{
	struct wire_wr	w;

	assert_true(MIG_FRAME_HDR_LEN + off + 16 <= len);
	wire_wr_init(&w, buf + MIG_FRAME_HDR_LEN + off, 16);
	wire_put_be64(&w, x->off);
	wire_put_be64(&w, x->len);
	assert_false(w.bad);
}

/* Decodes a whole frame held in buf; returns the decoder's result. */
static int
decode_frame(const uint8_t *buf, size_t len, struct mig_msg *m,
    struct mig_err *err)
{
	struct mig_frame_hdr	 h;
	const uint8_t		*body;
	size_t			 used;
	int			 rc;

	rc = mig_frame_split(buf, len, &h, &body, &used, err);
	if (rc != 1)
		return rc == 0 ? mig_seterr(err, MIG_E_TRUNC, "short") : -1;
	assert_int_equal(used, len);
	return mig_msg_decode(&h, body, m, err);
}

/* A frame header followed by a hand-made body, as a hostile peer sends it. */
static size_t
frame_wrap(uint8_t *buf, uint16_t type, const uint8_t *body, size_t blen)
{
	struct mig_frame_hdr	h = { blen, type, 0 };

	if (mig_msg_mandatory(type))
		h.flags = MIG_FRAME_F_MANDATORY;
	assert_int_equal(mig_frame_hdr_encode(buf, &h, NULL), 0);
	memcpy(buf + MIG_FRAME_HDR_LEN, body, blen);
	return MIG_FRAME_HDR_LEN + blen;
}

static void
test_preamble(void **state)
{
	uint8_t			buf[MIG_PREAMBLE_LEN];
	struct mig_preamble	pre;
	struct mig_err		err;

	mig_preamble_encode(buf);
	assert_memory_equal(buf, "XENRELOC\x00\x01\x00\x00\x00\x00\x00\x00",
	    MIG_PREAMBLE_LEN);
	assert_int_equal(mig_preamble_decode(buf, &pre, &err), 0);
	assert_int_equal(pre.major, 1);
	assert_int_equal(pre.minor, 0);

	/* A later minor version, with its reserved word used, is fine. */
	buf[11] = 7;
	buf[15] = 1;
	assert_int_equal(mig_preamble_decode(buf, &pre, &err), 0);
	assert_int_equal(pre.minor, 7);

	/* Another major is refused, and the error says which. */
	buf[9] = 2;
	assert_int_equal(mig_preamble_decode(buf, &pre, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTSUP);
	assert_int_equal(pre.major, 2);
	assert_non_null(strstr(err.msg, "2.7"));

	memcpy(buf, "XENRELOD", 8);
	assert_int_equal(mig_preamble_decode(buf, &pre, &err), -1);
	assert_int_equal(err.code, MIG_E_PROTO);

	/* A TLS ClientHello on the plaintext port is named as such. */
	memcpy(buf, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
	assert_int_equal(mig_preamble_decode(buf, &pre, &err), -1);
	assert_non_null(strstr(err.msg, "TLS"));
	memcpy(buf, "GET / HTTP/1.1\r\n", 16);
	assert_int_equal(mig_preamble_decode(buf, &pre, &err), -1);
	assert_non_null(strstr(err.msg, "HTTP"));
}

static void
test_frame_hdr(void **state)
{
	uint8_t			b[MIG_FRAME_HDR_LEN];
	struct mig_frame_hdr	h = { 0x010203, MIG_MSG_RESERVE,
				    MIG_FRAME_F_MANDATORY };
	struct mig_err		err;

	assert_int_equal(mig_frame_hdr_encode(b, &h, &err), 0);
	assert_memory_equal(b, "\x00\x01\x02\x03\x00\x02\x80\x00", 8);
	memset(&h, 0, sizeof(h));
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), 0);
	assert_int_equal(h.len, 0x010203);
	assert_int_equal(h.type, MIG_MSG_RESERVE);
	assert_int_equal(h.flags, MIG_FRAME_F_MANDATORY);

	/* Limits: control frames at 256 KiB, DATA at 4 MiB. */
	memcpy(b, "\x00\x04\x00\x00\x00\x02\x80\x00", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), 0);
	memcpy(b, "\x00\x04\x00\x01\x00\x02\x80\x00", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);
	memcpy(b, "\x00\x40\x00\x00\x00\x06\x80\x01", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), 0);
	memcpy(b, "\x00\x40\x00\x01\x00\x06\x80\x00", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);
	memcpy(b, "\xff\xff\xff\xff\x00\x06\x80\x00", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);

	/* Unknown types: mandatory refused, optional skippable. */
	memcpy(b, "\x00\x00\x00\x10\x12\x34\x80\x00", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTSUP);
	memcpy(b, "\x00\x00\x00\x10\x12\x34\x00\x00", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), 0);
	assert_false(mig_msg_known(h.type));
	assert_int_equal(h.len, 16);
	/* ...but an optional one is still held to the control limit. */
	memcpy(b, "\x00\x04\x00\x01\x12\x34\x00\x00", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), -1);

	/* ZSTD only on DATA. */
	memcpy(b, "\x00\x00\x00\x10\x00\x01\x80\x01", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), -1);
	assert_int_equal(err.code, MIG_E_PROTO);
	assert_non_null(strstr(err.msg, "ZSTD"));

	/* Unknown flag bits, and a mandatory bit that contradicts the type. */
	memcpy(b, "\x00\x00\x00\x10\x00\x01\x80\x02", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), -1);
	memcpy(b, "\x00\x00\x00\x10\x00\x01\x00\x00", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), -1);
	memcpy(b, "\x00\x00\x00\x08\x00\x0e\x80\x00", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), -1);
	memcpy(b, "\x00\x00\x00\x08\x00\x0e\x00\x00", 8);
	assert_int_equal(mig_frame_hdr_decode(b, &h, &err), 0);
	assert_string_equal(mig_msg_name(h.type), "PING");

	/* The encoder refuses what the decoder would. */
	h = (struct mig_frame_hdr){ MIG_FRAME_CTRL_MAX + 1, MIG_MSG_HELLO,
	    MIG_FRAME_F_MANDATORY };
	assert_int_equal(mig_frame_hdr_encode(b, &h, &err), -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);
	assert_int_equal(mig_data_hdr_encode(b, MIG_FRAME_DATA_MAX, true,
	    &err), 0);
	assert_memory_equal(b, "\x00\x40\x00\x00\x00\x06\x80\x01", 8);
	assert_int_equal(mig_data_hdr_encode(b, MIG_FRAME_DATA_MAX + 1, false,
	    &err), -1);
}

static void
test_frame_split(void **state)
{
	uint8_t			 buf[BUFSZ];
	struct mig_msg		 m;
	struct mig_frame_hdr	 h;
	const uint8_t		*body;
	size_t			 len, used, i;
	struct mig_err		 err;

	sample(MIG_MSG_HELLO, &m);
	len = encode_ok(&m, buf, sizeof(buf));
	for (i = 0; i < len; i++)
		assert_int_equal(mig_frame_split(buf, i, &h, &body, &used,
		    &err), 0);
	/* Two frames back to back: the first is split off exactly. */
	sample(MIG_MSG_COMMIT, &m);
	len += encode_ok(&m, buf + len, sizeof(buf) - len);
	assert_int_equal(mig_frame_split(buf, len, &h, &body, &used, &err), 1);
	assert_int_equal(h.type, MIG_MSG_HELLO);
	assert_ptr_equal(body, buf + MIG_FRAME_HDR_LEN);
	assert_int_equal(mig_frame_split(buf + used, len - used, &h, &body,
	    &used, &err), 1);
	assert_int_equal(h.type, MIG_MSG_COMMIT);
	assert_int_equal(h.len, 0);
	/* A bad header is refused as soon as its 8 bytes are in. */
	memcpy(buf, "\x7f\xff\xff\xff\x00\x01\x80\x00", 8);
	assert_int_equal(mig_frame_split(buf, 8, &h, &body, &used, &err), -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);
}

static void
test_roundtrip_all(void **state)
{
	uint8_t		buf[BUFSZ], again[BUFSZ];
	struct mig_msg	m, d, d2;
	struct mig_err	err;
	size_t		len, len2;
	uint16_t	t;

	for (t = 1; t < MIG_MSG__MAX; t++) {
		sample(t, &m);
		len = encode_ok(&m, buf, sizeof(buf));
		if (decode_frame(buf, len, &d, &err) != 0)
			fail_msg("decode %s: %s", mig_msg_name(t), err.msg);
		if (!test_msg_equal(&m, &d))
			fail_msg("%s does not round-trip", mig_msg_name(t));
		/* The encoding is canonical: re-encoding gives the same bytes. */
		len2 = encode_ok(&d, again, sizeof(again));
		assert_int_equal(len, len2);
		assert_memory_equal(buf, again, len);
		assert_int_equal(decode_frame(again, len2, &d2, &err), 0);
		assert_true(test_msg_equal(&d, &d2));
		assert_string_not_equal(mig_msg_name(t), "unknown");
	}
	/* Pointer fields point into the caller's body, not a copy. */
	sample(MIG_MSG_RESERVE, &m);
	len = encode_ok(&m, buf, sizeof(buf));
	assert_int_equal(decode_frame(buf, len, &d, &err), 0);
	assert_true(d.u.reserve.config > buf && d.u.reserve.config < buf + len);
	/* Equality really looks at the fields. */
	sample(MIG_MSG_RESERVE, &d2);
	d2.u.reserve.uuid[15] ^= 1;
	assert_false(test_msg_equal(&d, &d2));
	sample(MIG_MSG_PING, &d2);
	assert_false(test_msg_equal(&d, &d2));
}

static void
test_exact_bytes(void **state)
{
	uint8_t		buf[BUFSZ];
	struct mig_msg	m;

	sample(MIG_MSG_REFUSED, &m);
	strcpy(m.u.refused.text, "hi");
	assert_int_equal(encode_ok(&m, buf, sizeof(buf)), 8 + 2 + 2 + 2);
	assert_memory_equal(buf, "\x00\x00\x00\x06\x00\x04\x80\x00"
	    "\x00\x01\x00\x02hi", 14);
	sample(MIG_MSG_PING, &m);
	assert_int_equal(encode_ok(&m, buf, sizeof(buf)), 16);
	assert_memory_equal(buf, "\x00\x00\x00\x08\x00\x0e\x00\x00"
	    "\xde\xad\xbe\xef\xca\xfe\xf0\x0d", 16);
	sample(MIG_MSG_COMMIT, &m);
	assert_int_equal(encode_ok(&m, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "\x00\x00\x00\x00\x00\x09\x80\x00", 8);
}

static void
test_truncated_bodies(void **state)
{
	uint8_t			buf[BUFSZ];
	struct mig_msg		m, d;
	struct mig_frame_hdr	h;
	struct mig_err		err;
	size_t			len, cut;
	uint16_t		t;

	for (t = 1; t < MIG_MSG__MAX; t++) {
		/* DATA is opaque and COMMIT empty: nothing to cut. */
		if (t == MIG_MSG_DATA || t == MIG_MSG_COMMIT)
			continue;
		sample(t, &m);
		len = encode_ok(&m, buf, sizeof(buf));
		assert_int_equal(mig_frame_hdr_decode(buf, &h, &err), 0);
		for (cut = 0; cut < h.len; cut++) {
			h.len = cut;
			if (mig_msg_decode(&h, buf + MIG_FRAME_HDR_LEN, &d,
			    &err) != -1)
				fail_msg("%s cut to %zu bytes accepted",
				    mig_msg_name(t), cut);
			assert_int_equal(err.code, MIG_E_TRUNC);
		}
		(void)len;
	}
}

static void
test_trailing_ignored(void **state)
{
	uint8_t			buf[BUFSZ];
	struct mig_msg		m, d;
	struct mig_frame_hdr	h;
	struct mig_err		err;
	size_t			len;

	/* A later minor version may append fields; we ignore them. */
	sample(MIG_MSG_RESERVED, &m);
	len = encode_ok(&m, buf, sizeof(buf));
	memcpy(buf + len, "\x01\x02\x03", 3);
	assert_int_equal(mig_frame_hdr_decode(buf, &h, &err), 0);
	h.len += 3;
	assert_int_equal(mig_msg_decode(&h, buf + MIG_FRAME_HDR_LEN, &d, &err),
	    0);
	assert_true(test_msg_equal(&m, &d));
}

static void
test_small_buffers(void **state)
{
	uint8_t		buf[BUFSZ];
	struct mig_msg	m;
	struct mig_err	err;
	size_t		len, cap, out;
	uint16_t	t;

	for (t = 1; t < MIG_MSG__MAX; t++) {
		sample(t, &m);
		len = encode_ok(&m, buf, sizeof(buf));
		for (cap = 0; cap < len; cap++) {
			out = 12345;
			if (mig_msg_encode(&m, buf, cap, &out, &err) != -1)
				fail_msg("%s fit in %zu bytes", mig_msg_name(t),
				    cap);
			assert_int_equal(err.code, MIG_E_TOOBIG);
			assert_int_equal(out, 12345);
		}
	}
}

/* Decodes a RESERVE body built by hand with the given name bytes. */
static int
reserve_with_name(const void *name, size_t nlen, struct mig_err *err)
{
	uint8_t		body[BUFSZ], frame[BUFSZ];
	struct wire_wr	w;
	struct mig_msg	d;
	size_t		len;

	wire_wr_init(&w, body, sizeof(body));
	wire_put_be16(&w, nlen);
	wire_put_bytes(&w, name, nlen);
	wire_put_bytes(&w, "0123456789abcdef", 16);
	wire_put_be64(&w, 1024);
	wire_put_be32(&w, 4);
	wire_put_be32(&w, 17);
	wire_put_be16(&w, 6);
	wire_put_bytes(&w, "x86_64", 6);
	wire_put_be32(&w, 4096);
	wire_put_be32(&w, 0);
	wire_put_be64(&w, 0);
	wire_put_be32(&w, 2);
	wire_put_bytes(&w, "{}", 2);
	assert_false(w.bad);
	len = frame_wrap(frame, MIG_MSG_RESERVE, body, w.off);
	return decode_frame(frame, len, &d, err);
}

static void
test_name_validation(void **state)
{
	char		long_name[MIG_NAME_MAX + 2];
	struct mig_err	err;

	assert_int_equal(reserve_with_name("guest1", 6, &err), 0);
	assert_int_equal(reserve_with_name("my guest-1.b_c", 14, &err), 0);
	memset(long_name, 'a', sizeof(long_name));
	assert_int_equal(reserve_with_name(long_name, MIG_NAME_MAX, &err), 0);
	assert_int_equal(reserve_with_name(long_name, MIG_NAME_MAX + 1, &err),
	    -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);
	assert_int_equal(reserve_with_name("", 0, &err), -1);
	assert_int_equal(err.code, MIG_E_PROTO);
	assert_int_equal(reserve_with_name("gu\0st", 5, &err), -1);
	assert_int_equal(err.code, MIG_E_PROTO);
	assert_non_null(strstr(err.msg, "0x00"));
	assert_int_equal(reserve_with_name("gu\nst", 5, &err), -1);
	/* Names are ASCII: no UTF-8, no DEL. */
	assert_int_equal(reserve_with_name("g\xc3\xa9st", 5, &err), -1);
	assert_int_equal(reserve_with_name("g\x7fst", 4, &err), -1);

	assert_int_equal(mig_name_valid("guest1", 6, &err), 0);
	assert_int_equal(mig_name_valid("a\x01", 2, &err), -1);
	assert_int_equal(mig_hostname_valid("host.example", 12, &err), 0);
	assert_int_equal(mig_hostname_valid("host example", 12, &err), -1);
}

static void
test_encoder_validation(void **state)
{
	static uint8_t	big[MIG_FRAME_CTRL_MAX + 64];
	uint8_t		buf[BUFSZ];
	struct mig_msg	m;
	struct mig_err	err;
	size_t		len;

	/* A name that fills its buffer with no NUL is too long. */
	sample(MIG_MSG_RESERVE, &m);
	memset(m.u.reserve.name, 'x', sizeof(m.u.reserve.name));
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);
	sample(MIG_MSG_RESERVE, &m);
	strcpy(m.u.reserve.name, "tab\there");
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	assert_int_equal(err.code, MIG_E_INVAL);
	sample(MIG_MSG_RESERVE, &m);
	m.u.reserve.config = (const uint8_t *)"{\0}";
	m.u.reserve.config_len = 3;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	assert_non_null(strstr(err.msg, "NUL"));
	sample(MIG_MSG_RESERVE, &m);
	m.u.reserve.config_len = 0;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_RESERVE, &m);
	m.u.reserve.flags |= 0x100;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_RESERVE, &m);
	strcpy(m.u.reserve.arch, "X86");
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);

	/* A config that fits the buffer but not the frame limit. */
	sample(MIG_MSG_RESERVE, &m);
	memset(big, '{', sizeof(big));
	m.u.reserve.config = big;
	m.u.reserve.config_len = MIG_FRAME_CTRL_MAX;
	assert_int_equal(mig_msg_encode(&m, big, sizeof(big), &len, &err), -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);

	sample(MIG_MSG_HELLO, &m);
	m.u.hello.page_size = 4097;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_HELLO, &m);
	m.u.hello.mem_free_kib = m.u.hello.mem_total_kib + 1;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_HELLO, &m);
	m.u.hello.max_data_frame = MIG_FRAME_DATA_MAX + 1;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_HELLO, &m);
	strcpy(m.u.hello.hostname, "a b");
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);

	sample(MIG_MSG_RESERVED, &m);
	m.u.reserved.id = 0;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_REFUSED, &m);
	m.u.refused.reason = 0;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_STREAM_START, &m);
	m.u.stream_start.flags = MIG_STREAM_F_ALL + 1;	/* unknown bit */
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_RECEIVED, &m);
	m.u.received.domid = 0x7ff0;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_ACTIVATED, &m);
	m.u.activated.status = 0;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	m.u.activated.domid = 5;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), 0);
	sample(MIG_MSG_PROGRESS, &m);
	m.u.progress.phase = MIG_PHASE__MAX;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_XL_TUNNEL, &m);
	m.u.xl_tunnel.flags = MIG_XLT_F_ALL + 1;	/* unknown bit */
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	/* An empty XL_TUNNEL name means "no override" and is fine. */
	sample(MIG_MSG_XL_TUNNEL, &m);
	m.u.xl_tunnel.name[0] = '\0';
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), 0);
	sample(MIG_MSG_ERROR, &m);
	m.u.error.code = 0;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	m.type = 0;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	m.type = MIG_MSG__MAX;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
}

/*
 * An in-doubt source acts on ANSWER: a state it does not know, or a QUERY
 * for no reservation, is refused rather than read as some answer.
 */
static void
test_query_answer(void **state)
{
	uint8_t		body[64], frame[BUFSZ];
	struct wire_wr	w;
	struct mig_msg	m, d;
	struct mig_err	err;
	size_t		len;
	uint16_t	st;

	for (st = 0; st <= MIG_QUERY__MAX; st++) {
		wire_wr_init(&w, body, sizeof(body));
		wire_put_be16(&w, st);
		wire_put_be16(&w, 2);
		wire_put_bytes(&w, "ok", 2);
		len = frame_wrap(frame, MIG_MSG_ANSWER, body, w.off);
		if (st == 0 || st == MIG_QUERY__MAX) {
			assert_int_equal(decode_frame(frame, len, &d, &err), -1);
			assert_int_equal(err.code, MIG_E_PROTO);
		} else {
			assert_int_equal(decode_frame(frame, len, &d, &err), 0);
			assert_int_equal(d.u.answer.state, st);
			assert_string_not_equal(mig_query_state_name(st),
			    "unknown");
		}
	}
	assert_string_equal(mig_query_state_name(MIG_QUERY__MAX), "unknown");
	wire_wr_init(&w, body, sizeof(body));
	wire_put_be64(&w, 0);
	wire_put_bytes(&w, "0123456789abcdef", 16);
	len = frame_wrap(frame, MIG_MSG_QUERY, body, w.off);
	assert_int_equal(decode_frame(frame, len, &d, &err), -1);
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_QUERY;
	assert_int_equal(mig_msg_encode(&m, frame, sizeof(frame), &len, &err),
	    -1);
	m.type = MIG_MSG_ANSWER;
	m.u.answer.state = MIG_QUERY__MAX;
	assert_int_equal(mig_msg_encode(&m, frame, sizeof(frame), &len, &err),
	    -1);
}

/*
 * QUERY's name is an optional trailing field.  Without it the bytes are
 * the old form, exactly (reservation id, uuid); with it the old form is a
 * prefix, which an older target reads as before, ignoring the rest.  A
 * name that is there must be a whole, valid one.
 */
static void
test_query_name_old_and_new(void **state)
{
	static const uint8_t	 old[24] = {
		0, 0, 0, 0, 0, 0, 0, 42,
		0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
		0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
	};
	uint8_t			 body[64], frame[BUFSZ], out[BUFSZ];
	struct mig_msg		 m, d;
	struct mig_err		 err;
	size_t			 len, olen;

	/* The old form decodes with no name, and re-encodes to itself. */
	len = frame_wrap(frame, MIG_MSG_QUERY, old, sizeof(old));
	assert_int_equal(decode_frame(frame, len, &d, &err), 0);
	assert_true(d.u.query.reservation_id == 42);
	assert_string_equal(d.u.query.name, "");
	olen = encode_ok(&d, out, sizeof(out));
	assert_int_equal(olen, len);
	assert_memory_equal(out, frame, len);

	/* The new form: the old bytes, then the name. */
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_QUERY;
	m.u.query.reservation_id = 42;
	memset(m.u.query.uuid, 0xab, MIG_UUID_LEN);
	strcpy(m.u.query.name, "web1");
	olen = encode_ok(&m, out, sizeof(out));
	assert_int_equal(olen, MIG_FRAME_HDR_LEN + sizeof(old) + 2 + 4);
	assert_memory_equal(out + MIG_FRAME_HDR_LEN, old, sizeof(old));
	assert_memory_equal(out + MIG_FRAME_HDR_LEN + sizeof(old),
	    "\x00\x04web1", 6);
	assert_int_equal(decode_frame(out, olen, &d, &err), 0);
	assert_string_equal(d.u.query.name, "web1");
	assert_true(test_msg_equal(&m, &d));

	/* Present but empty, truncated, or with a control byte: refused. */
	memcpy(body, old, sizeof(old));
	memcpy(body + sizeof(old), "\x00\x00", 2);
	len = frame_wrap(frame, MIG_MSG_QUERY, body, sizeof(old) + 2);
	assert_int_equal(decode_frame(frame, len, &d, &err), -1);
	assert_int_equal(err.code, MIG_E_PROTO);
	memcpy(body + sizeof(old), "\x00\x09web1", 6);
	len = frame_wrap(frame, MIG_MSG_QUERY, body, sizeof(old) + 6);
	assert_int_equal(decode_frame(frame, len, &d, &err), -1);
	assert_int_equal(err.code, MIG_E_TRUNC);
	memcpy(body + sizeof(old), "\x00\x04we\n1", 6);
	len = frame_wrap(frame, MIG_MSG_QUERY, body, sizeof(old) + 6);
	assert_int_equal(decode_frame(frame, len, &d, &err), -1);
	assert_int_equal(err.code, MIG_E_PROTO);

	/* Nor does relocd send a name a peer must refuse. */
	strcpy(m.u.query.name, "we\t1");
	assert_int_equal(mig_msg_encode(&m, out, sizeof(out), &olen, &err),
	    -1);
	assert_int_equal(err.code, MIG_E_INVAL);
}

/* Flips one field of a valid encoding and checks the decoder refuses it. */
static void
test_decoder_validation(void **state)
{
	uint8_t			buf[BUFSZ];
	struct mig_msg		m, d;
	struct mig_frame_hdr	h;
	struct mig_err		err;
	size_t			len;

	/* STREAM_START flags live in the last two bytes. */
	sample(MIG_MSG_STREAM_START, &m);
	len = encode_ok(&m, buf, sizeof(buf));
	buf[len - 1] = 0x1f;	/* ZSTD, XXH3, DIRECT, CREDIT, an unknown bit */
	assert_int_equal(decode_frame(buf, len, &d, &err), -1);
	assert_int_equal(err.code, MIG_E_PROTO);

	/* HELLO page size is a power of two. */
	sample(MIG_MSG_HELLO, &m);
	len = encode_ok(&m, buf, sizeof(buf));
	{
		uint8_t	*p = memmem(buf, len, "\x00\x00\x10\x00", 4);

		assert_non_null(p);
		p[3] = 0x01;
	}
	assert_int_equal(decode_frame(buf, len, &d, &err), -1);
	assert_non_null(strstr(err.msg, "page size"));

	/* An embedded NUL in the config JSON (before the list of two
	 * disks, u16 count and 11 bytes each). */
	sample(MIG_MSG_RESERVE, &m);
	len = encode_ok(&m, buf, sizeof(buf));
	buf[len - (2 + 2 * 11) - 3] = '\0';
	assert_int_equal(decode_frame(buf, len, &d, &err), -1);
	assert_non_null(strstr(err.msg, "NUL"));

	/* RESERVED id 0; ERROR code 0; RECEIVED domid 0. */
	assert_int_equal(decode_frame((const uint8_t *)
	    "\x00\x00\x00\x14\x00\x03\x80\x00" "\0\0\0\0\0\0\0\0"
	    "\0\0\0\x1e" "\0\0\0\0\0\0\0\0", 28, &d, &err), -1);
	assert_int_equal(decode_frame((const uint8_t *)
	    "\x00\x00\x00\x04\x00\x0c\x80\x00" "\0\0\0\0", 12, &d, &err), -1);
	assert_int_equal(decode_frame((const uint8_t *)
	    "\x00\x00\x00\x04\x00\x08\x80\x00" "\0\0\0\0", 12, &d, &err), -1);
	assert_int_equal(decode_frame((const uint8_t *)
	    "\x00\x00\x00\x04\x00\x08\x80\x00" "\0\0\0\x07", 12, &d, &err), 0);
	assert_int_equal(d.u.received.domid, 7);

	/* Unknown types cannot be decoded, only skipped. */
	h = (struct mig_frame_hdr){ 0, 0x1234, 0 };
	assert_int_equal(mig_msg_decode(&h, buf, &d, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTSUP);

	/* A text field that claims more than the frame holds. */
	assert_int_equal(decode_frame((const uint8_t *)
	    "\x00\x00\x00\x05\x00\x0b\x80\x00" "\xff\xff" "abc", 13, &d, &err),
	    -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);
	assert_int_equal(decode_frame((const uint8_t *)
	    "\x00\x00\x00\x05\x00\x0b\x80\x00" "\x00\x04" "abc", 13, &d, &err),
	    -1);
	assert_int_equal(err.code, MIG_E_TRUNC);
	assert_int_equal(decode_frame((const uint8_t *)
	    "\x00\x00\x00\x05\x00\x0b\x80\x00" "\x00\x03" "abc", 13, &d, &err), 0);
	assert_string_equal(d.u.cancel.text, "abc");
}

static void
test_data_frames(void **state)
{
	uint8_t			buf[BUFSZ];
	struct mig_msg		m, d;
	struct mig_err		err;
	size_t			len;

	sample(MIG_MSG_DATA, &m);
	m.u.data.zstd = false;
	len = encode_ok(&m, buf, sizeof(buf));
	assert_memory_equal(buf, "\x00\x00\x00\x08\x00\x06\x80\x00", 8);
	assert_int_equal(decode_frame(buf, len, &d, &err), 0);
	assert_false(d.u.data.zstd);
	assert_int_equal(d.u.data.len, sizeof(payload));
	assert_ptr_equal(d.u.data.data, buf + MIG_FRAME_HDR_LEN);
	m.u.data.len = 0;
	len = encode_ok(&m, buf, sizeof(buf));
	assert_int_equal(len, MIG_FRAME_HDR_LEN);
	assert_int_equal(decode_frame(buf, len, &d, &err), 0);
	assert_int_equal(d.u.data.len, 0);
}

/* The disk list of RESERVE (STORAGE) and DISK: what each refuses. */
static void
test_storage(void **state)
{
	uint8_t			buf[BUFSZ];
	struct mig_msg		m, d;
	struct mig_err		err;
	size_t			len;
	static const uint8_t	disk_bad[][12] = {
		/* index 256, size 512, flags 0 */
		{ 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0, 0 },
		/* size 0 */
		{ 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		/* size 513 */
		{ 0, 1, 0, 0, 0, 0, 0, 0, 0x02, 0x01, 0, 0 },
		/* flags 4 */
		{ 0, 1, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0, 4 },
	};
	size_t			i;

	(void)state;
	/* Encoder: each rule on the list. */
	sample(MIG_MSG_RESERVE, &m);
	m.u.reserve.disks[1].index = 0;		/* not increasing */
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_RESERVE, &m);
	m.u.reserve.disks[0].kind = MIG_DISK__MAX;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_RESERVE, &m);
	m.u.reserve.disks[0].size = 4097;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_RESERVE, &m);
	m.u.reserve.ndisks = 0;			/* STORAGE without disks */
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_RESERVE, &m);
	m.u.reserve.flags &= ~MIG_RESERVE_F_STORAGE;	/* disks without it */
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	/* Without STORAGE the list is not on the wire, and bytes after the
	 * config are ignored as any trailing field. */
	m.u.reserve.ndisks = 0;
	len = encode_ok(&m, buf, sizeof(buf));
	assert_int_equal(decode_frame(buf, len, &d, &err), 0);
	assert_int_equal(d.u.reserve.ndisks, 0);
	/* Decoder: a list longer than MIG_DISKS_MAX, before reading it. */
	sample(MIG_MSG_RESERVE, &m);
	len = encode_ok(&m, buf, sizeof(buf));
	buf[len - 2 * 11 - 2] = 0;
	buf[len - 2 * 11 - 1] = MIG_DISKS_MAX + 1;
	assert_int_equal(decode_frame(buf, len, &d, &err), -1);
	assert_int_equal(err.code, MIG_E_PROTO);
	/* DISK: index, size and flags. */
	for (i = 0; i < sizeof(disk_bad) / sizeof(disk_bad[0]); i++) {
		len = frame_wrap(buf, MIG_MSG_DISK, disk_bad[i],
		    sizeof(disk_bad[i]));
		if (decode_frame(buf, len, &d, &err) != -1)
			fail_msg("bad DISK %zu accepted", i);
		assert_int_equal(err.code, MIG_E_PROTO);
	}
	assert_string_equal(mig_refuse_reason_name(MIG_REFUSE_NO_SPACE),
	    "no-space");
}

/* DISK_DELTA: the header's rules, then each range's, both ends. */
static void
test_disk_delta(void **state)
{
	uint8_t				buf[BUFSZ];
	struct mig_msg			m, d;
	struct mig_err			err;
	struct mig_disk_range		r[3];
	size_t				len, i;
	static const struct {
		struct mig_disk_range	bad;
		const char		*why;
	} cases[] = {
		{ { 65024, 1024 }, "overlapping the first" },
		{ { 200000, 512 }, "not on a sector" },
		{ { 131072, 100 }, "not whole sectors" },
		{ { 131072, 0 }, "empty" },
		{ { (1ull << 40) - 512, 1024 }, "past the end" },
	};

	(void)state;
	sample(MIG_MSG_DISK_DELTA, &m);
	len = encode_ok(&m, buf, sizeof(buf));
	assert_int_equal(decode_frame(buf, len, &d, &err), 0);
	assert_null(d.u.disk_delta.ranges);
	for (i = 0; i < 3; i++) {
		r[i] = mig_delta_range(&d.u.disk_delta, (uint32_t)i);
		assert_true(r[i].off == sample_ranges[i].off &&
		    r[i].len == sample_ranges[i].len);
	}
	/* Each bad second range: refused by the encoder and, written by
	 * hand into a good frame, by the decoder. */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(r, sample_ranges, sizeof(r));
		r[1] = cases[i].bad;
		if (r[1].off + r[1].len > r[2].off)
			r[2] = (struct mig_disk_range){ 0, 0 };
		m.u.disk_delta.ranges = r;
		m.u.disk_delta.nranges = r[2].len == 0 ? 2 : 3;
		if (mig_msg_encode(&m, buf, sizeof(buf), &len, &err) != -1)
			fail_msg("encoder took a range %s", cases[i].why);
		m.u.disk_delta.ranges = sample_ranges;
		m.u.disk_delta.nranges = 3;
		len = encode_ok(&m, buf, sizeof(buf));
		/* The second range: after 20 header bytes and the first. */
		put_range_at(buf, len, 20 + 16, &cases[i].bad);
		if (decode_frame(buf, len, &d, &err) != -1)
			fail_msg("decoder took a range %s", cases[i].why);
		assert_int_equal(err.code, MIG_E_PROTO);
	}
	/* No range is only for LAST; pass 0 is DISK's. */
	sample(MIG_MSG_DISK_DELTA, &m);
	m.u.disk_delta.nranges = 0;
	encode_ok(&m, buf, sizeof(buf));
	m.u.disk_delta.flags &= ~MIG_DELTA_F_LAST;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_DISK_DELTA, &m);
	m.u.disk_delta.pass = 0;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_DISK_DELTA, &m);
	m.u.disk_delta.flags |= MIG_STREAM_F_DIRECT;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
	sample(MIG_MSG_DISK_DELTA, &m);
	m.u.disk_delta.nranges = MIG_DELTA_RANGES_MAX + 1;
	assert_int_equal(mig_msg_encode(&m, buf, sizeof(buf), &len, &err), -1);
}

static void
test_names(void **state)
{
	char	t[MIG_TEXT_MAX + 1];
	char	longsrc[MIG_TEXT_MAX + 20];

	assert_string_equal(mig_msg_name(MIG_MSG_STREAM_END), "STREAM_END");
	assert_string_equal(mig_msg_name(0), "unknown");
	assert_string_equal(mig_msg_name(0xffff), "unknown");
	assert_string_equal(mig_refuse_reason_name(MIG_REFUSE_NO_MEMORY),
	    "no-memory");
	assert_string_equal(mig_refuse_reason_name(MIG_REFUSE_SHUTTING_DOWN),
	    "shutting-down");
	assert_string_equal(mig_refuse_reason_name(0), "unknown");
	assert_string_equal(mig_refuse_reason_name(999), "unknown");
	assert_string_equal(mig_phase_name(MIG_PHASE_STOPCOPY),
	    "stop-and-copy");
	assert_string_equal(mig_phase_name(77), "unknown");
	assert_true(mig_msg_mandatory(MIG_MSG_COMMIT));
	assert_false(mig_msg_mandatory(MIG_MSG_PROGRESS));
	assert_false(mig_msg_mandatory(0x4000));

	mig_text_set(t, "bad\tbyte\xc3\xa9 ok");
	assert_string_equal(t, "bad?byte?? ok");
	memset(longsrc, 'z', sizeof(longsrc) - 1);
	longsrc[sizeof(longsrc) - 1] = '\0';
	mig_text_set(t, longsrc);
	assert_int_equal(strlen(t), MIG_TEXT_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preamble),
		cmocka_unit_test(test_frame_hdr),
		cmocka_unit_test(test_frame_split),
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_truncated_bodies),
		cmocka_unit_test(test_trailing_ignored),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_name_validation),
		cmocka_unit_test(test_encoder_validation),
		cmocka_unit_test(test_decoder_validation),
		cmocka_unit_test(test_query_answer),
		cmocka_unit_test(test_query_name_old_and_new),
		cmocka_unit_test(test_data_frames),
		cmocka_unit_test(test_storage),
		cmocka_unit_test(test_disk_delta),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
