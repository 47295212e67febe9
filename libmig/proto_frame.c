/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Preamble and frame header of the relocation protocol, and the table of
 * message types every other codec consults.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mig/error.h"
#include "mig/proto.h"
#include "mig/wire.h"

struct msgtype {
	const char	*name;
	bool		 mandatory;
};

static const struct msgtype msgtypes[MIG_MSG__MAX] = {
	[MIG_MSG_HELLO] =	 { "HELLO", true },
	[MIG_MSG_RESERVE] =	 { "RESERVE", true },
	[MIG_MSG_RESERVED] =	 { "RESERVED", true },
	[MIG_MSG_REFUSED] =	 { "REFUSED", true },
	[MIG_MSG_STREAM_START] = { "STREAM_START", true },
	[MIG_MSG_DATA] =	 { "DATA", true },
	[MIG_MSG_STREAM_END] =	 { "STREAM_END", true },
	[MIG_MSG_RECEIVED] =	 { "RECEIVED", true },
	[MIG_MSG_COMMIT] =	 { "COMMIT", true },
	[MIG_MSG_ACTIVATED] =	 { "ACTIVATED", true },
	[MIG_MSG_CANCEL] =	 { "CANCEL", true },
	[MIG_MSG_ERROR] =	 { "ERROR", true },
	/* Optional: a peer that cannot show progress or answer pings
	 * loses nothing by skipping them. */
	[MIG_MSG_PROGRESS] =	 { "PROGRESS", false },
	[MIG_MSG_PING] =	 { "PING", false },
	[MIG_MSG_PONG] =	 { "PONG", false },
	[MIG_MSG_XL_TUNNEL] =	 { "XL_TUNNEL", true },
	[MIG_MSG_QUERY] =	 { "QUERY", true },
	[MIG_MSG_ANSWER] =	 { "ANSWER", true },
	/* Sent only when negotiated (MIG_STREAM_F_CREDIT); optional all
	 * the same, so that a stray one is skipped, never fatal. */
	[MIG_MSG_STREAM_ACK] =	 { "STREAM_ACK", false },
	[MIG_MSG_DISK] =	 { "DISK", true },
	[MIG_MSG_DISK_DELTA] =	 { "DISK_DELTA", true },
};

static const char *const query_state_names[MIG_QUERY__MAX] = {
	[MIG_QUERY_COMMITTED] = "committed",
	[MIG_QUERY_ABORTED] = "aborted",
	[MIG_QUERY_PENDING] = "pending",
	[MIG_QUERY_UNKNOWN] = "not-known",
};

static const char *const refuse_names[MIG_REFUSE__MAX] = {
	[MIG_REFUSE_NO_MEMORY] = "no-memory",
	[MIG_REFUSE_NAME_CLASH] = "name-clash",
	[MIG_REFUSE_UUID_CLASH] = "uuid-clash",
	[MIG_REFUSE_XEN_VERSION] = "xen-version",
	[MIG_REFUSE_ARCH] = "arch",
	[MIG_REFUSE_PAGE_SIZE] = "page-size",
	[MIG_REFUSE_BUSY] = "busy",
	[MIG_REFUSE_NOT_ALLOWED] = "not-allowed",
	[MIG_REFUSE_BAD_CONFIG] = "bad-config",
	[MIG_REFUSE_INTERNAL] = "internal",
	[MIG_REFUSE_FEATURE] = "feature",
	[MIG_REFUSE_SHUTTING_DOWN] = "shutting-down",
	[MIG_REFUSE_NO_SPACE] = "no-space",
};

static const char *const phase_names[MIG_PHASE__MAX] = {
	[MIG_PHASE_PREMIGRATION] = "pre-migration",
	[MIG_PHASE_RESERVATION] = "reservation",
	[MIG_PHASE_PRECOPY] = "pre-copy",
	[MIG_PHASE_STOPCOPY] = "stop-and-copy",
	[MIG_PHASE_COMMITMENT] = "commitment",
	[MIG_PHASE_ACTIVATION] = "activation",
};

bool
mig_msg_known(uint16_t type)
{
	return type < MIG_MSG__MAX && msgtypes[type].name != NULL;
}

bool
mig_msg_mandatory(uint16_t type)
{
	return mig_msg_known(type) && msgtypes[type].mandatory;
}

uint32_t
mig_msg_max_body(uint16_t type)
{
	return type == MIG_MSG_DATA ? MIG_FRAME_DATA_MAX : MIG_FRAME_CTRL_MAX;
}

const char *
mig_msg_name(uint16_t type)
{
	return mig_msg_known(type) ? msgtypes[type].name : "unknown";
}

const char *
mig_refuse_reason_name(uint16_t reason)
{
	if (reason >= MIG_REFUSE__MAX || refuse_names[reason] == NULL)
		return "unknown";
	return refuse_names[reason];
}

const char *
mig_query_state_name(uint16_t state)
{
	if (state >= MIG_QUERY__MAX || query_state_names[state] == NULL)
		return "unknown";
	return query_state_names[state];
}

const char *
mig_phase_name(uint16_t phase)
{
	if (phase >= MIG_PHASE__MAX)
		return "unknown";
	return phase_names[phase];
}

void
mig_preamble_encode(uint8_t out[MIG_PREAMBLE_LEN])
{
	struct wire_wr	w;

	memcpy(out, MIG_PREAMBLE_MAGIC, 8);
	wire_wr_init(&w, out + 8, MIG_PREAMBLE_LEN - 8);
	wire_put_be16(&w, MIG_PROTO_MAJOR);
	wire_put_be16(&w, MIG_PROTO_MINOR);
	wire_put_be32(&w, 0);
}

/*
 * Names what a stranger on our port most likely is, so that the log says
 * "TLS on the plaintext port" rather than just "bad magic".
 */
static const char *
preamble_guess(const uint8_t in[MIG_PREAMBLE_LEN])
{
	static const char *const http[] = { "GET ", "POST", "HEAD", "PUT " };
	size_t	i;

	if (in[0] == 0x16 && in[1] == 0x03)
		return " (a TLS handshake: TLS client on the plaintext port?)";
	for (i = 0; i < sizeof(http) / sizeof(http[0]); i++)
		if (memcmp(in, http[i], 4) == 0)
			return " (an HTTP request)";
	if (memcmp(in, "xl migration", 12) == 0)
		return " (an xl migrate-receive banner)";
	return "";
}

int
mig_preamble_decode(const uint8_t in[MIG_PREAMBLE_LEN],
    struct mig_preamble *pre, struct mig_err *err)
{
	struct wire_rd	r;

	if (memcmp(in, MIG_PREAMBLE_MAGIC, 8) != 0)
		return mig_seterr(err, MIG_E_PROTO,
		    "preamble: peer is not a relocd peer, bad magic%s",
		    preamble_guess(in));
	wire_rd_init(&r, in + 8, MIG_PREAMBLE_LEN - 8);
	pre->major = wire_get_be16(&r);
	pre->minor = wire_get_be16(&r);
	pre->reserved = wire_get_be32(&r);
	if (pre->major != MIG_PROTO_MAJOR)
		return mig_seterr(err, MIG_E_NOTSUP,
		    "preamble: peer speaks protocol %u.%u, we speak %u.%u",
		    pre->major, pre->minor, MIG_PROTO_MAJOR, MIG_PROTO_MINOR);
	return 0;
}

/* The one set of rules both the encoder and the decoder apply. */
static int
frame_hdr_check(const struct mig_frame_hdr *h, struct mig_err *err)
{
	bool	known = mig_msg_known(h->type);
	bool	mand = (h->flags & MIG_FRAME_F_MANDATORY) != 0;

	if (!known && mand)
		return mig_seterr(err, MIG_E_NOTSUP,
		    "frame: unknown mandatory message type %u", h->type);
	if (h->flags & ~MIG_FRAME_F_KNOWN)
		return mig_seterr(err, MIG_E_PROTO,
		    "frame %s: unknown flags 0x%04x", mig_msg_name(h->type),
		    h->flags & ~MIG_FRAME_F_KNOWN);
	if ((h->flags & MIG_FRAME_F_ZSTD) && h->type != MIG_MSG_DATA)
		return mig_seterr(err, MIG_E_PROTO,
		    "frame %s: ZSTD flag on a frame that is not DATA",
		    mig_msg_name(h->type));
	if (known && mand != msgtypes[h->type].mandatory)
		return mig_seterr(err, MIG_E_PROTO,
		    "frame %s: mandatory flag %s, must be %s",
		    mig_msg_name(h->type), mand ? "set" : "clear",
		    mand ? "clear" : "set");
	if (h->len > mig_msg_max_body(h->type))
		return mig_seterr(err, MIG_E_TOOBIG,
		    "frame %s: body of %u bytes, limit %u",
		    mig_msg_name(h->type), h->len, mig_msg_max_body(h->type));
	return 0;
}

int
mig_frame_hdr_encode(uint8_t out[MIG_FRAME_HDR_LEN],
    const struct mig_frame_hdr *h, struct mig_err *err)
{
	struct wire_wr	w;

	if (frame_hdr_check(h, err) == -1)
		return -1;
	wire_wr_init(&w, out, MIG_FRAME_HDR_LEN);
	wire_put_be32(&w, h->len);
	wire_put_be16(&w, h->type);
	wire_put_be16(&w, h->flags);
	return 0;
}

int
mig_frame_hdr_decode(const uint8_t hdr[MIG_FRAME_HDR_LEN],
    struct mig_frame_hdr *h, struct mig_err *err)
{
	struct wire_rd	r;

	wire_rd_init(&r, hdr, MIG_FRAME_HDR_LEN);
	h->len = wire_get_be32(&r);
	h->type = wire_get_be16(&r);
	h->flags = wire_get_be16(&r);
	return frame_hdr_check(h, err);
}

int
mig_data_hdr_encode(uint8_t out[MIG_FRAME_HDR_LEN], uint32_t len, bool zstd,
    struct mig_err *err)
{
	struct mig_frame_hdr	h;

	h.len = len;
	h.type = MIG_MSG_DATA;
	h.flags = MIG_FRAME_F_MANDATORY | (zstd ? MIG_FRAME_F_ZSTD : 0);
	return mig_frame_hdr_encode(out, &h, err);
}

int
mig_frame_split(const uint8_t *buf, size_t len, struct mig_frame_hdr *h,
    const uint8_t **body, size_t *consumed, struct mig_err *err)
{
	if (len < MIG_FRAME_HDR_LEN)
		return 0;
	if (mig_frame_hdr_decode(buf, h, err) == -1)
		return -1;
	if (len - MIG_FRAME_HDR_LEN < h->len)
		return 0;
	*body = buf + MIG_FRAME_HDR_LEN;
	*consumed = MIG_FRAME_HDR_LEN + (size_t)h->len;
	return 1;
}
