/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Credit: the uncompressed stream bytes in flight between the source's
 * libxl and the target's, bounded (MIG_RELAY_F_CREDIT, doc/protocol.md
 * STREAM_ACK).  Compressed, a socket buffer's worth of wire bytes can be
 * hundreds of MiB of stream: TCP then holds nothing back, libxl at the
 * source finishes its rounds and suspends the guest while the target has
 * a backlog to decompress and restore, and the guest's pause includes
 * all of it.  So the receiving relay tells the sender, in STREAM_ACK
 * frames, how many stream bytes it has handed to libxl, and the sending
 * relay reads no more from libxl while what it sent and was not
 * acknowledged would pass its window.
 *
 *   RECV  after each DATA frame written to libxl's socket: a STREAM_ACK
 *         once MIG_CREDIT_ACK_UNIT bytes or more are unacknowledged.
 *   SEND  before each chunk: reads the STREAM_ACKs already there, then
 *         waits for more while sent - acked + chunk > window; and while
 *         a write waits for room (conn.c's peer_spoke), reads those that
 *         come meanwhile.  An ERROR or CANCEL read there ends the relay
 *         with the peer's word, as the receiving relay's does.
 *
 * Why this cannot stall: the receiver acknowledges within one ack unit
 * of what it delivered, and the window is at least a chunk plus one ack
 * unit, so once everything sent is delivered the sender has room.
 */
#include <inttypes.h>
#include <string.h>

#include "mig/log.h"
#include "relay_int.h"

static inline uint64_t
ld(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static inline void
st(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

void
relay_credit_init(struct mig_relay *r)
{
	uint64_t	least = r->conf.chunk + MIG_CREDIT_ACK_UNIT;

	if (!(r->conf.flags & MIG_RELAY_F_CREDIT))
		return;
	r->credit = true;
	r->window = r->conf.credit_window != 0 ? r->conf.credit_window :
	    MIG_RELAY_CREDIT_WINDOW;
	if (r->window < least)
		r->window = least;
}

/* --- the receiver --- */

int
relay_credit_delivered(struct mig_relay *r, size_t n)
{
	struct mig_msg	msg;
	uint8_t		frame[MIG_FRAME_HDR_LEN + 16];
	size_t		len;

	if (!r->credit)
		return 0;
	r->delivered += n;
	if (r->delivered - ld(&r->stream_acked) < MIG_CREDIT_ACK_UNIT)
		return 0;
	memset(&msg, 0, sizeof(msg));
	msg.type = MIG_MSG_STREAM_ACK;
	msg.u.stream_ack.bytes = r->delivered;
	if (mig_msg_encode(&msg, frame, sizeof(frame), &len, &r->err) == -1 ||
	    relay_conn_write_ctl(r, frame, len) == -1)
		return -1;
	st(&r->stream_acked, r->delivered);
	st(&r->acks, ld(&r->acks) + 1);
	return 0;
}

/* --- the sender --- */

static int
credit_ack(struct mig_relay *r, const struct mig_frame_hdr *h,
    const uint8_t *body)
{
	struct mig_msg	msg;
	uint64_t	sent = ld(&r->stream_bytes);

	if (mig_msg_decode(h, body, &msg, &r->err) == -1)
		return -1;
	if (msg.u.stream_ack.bytes < ld(&r->stream_acked) ||
	    msg.u.stream_ack.bytes > sent)
		return mig_seterr(&r->err, MIG_E_PROTO, "%s %s: STREAM_ACK of "
		    "%" PRIu64 " bytes, after %" PRIu64 " acknowledged and "
		    "%" PRIu64 " sent", r->name, mig_conn_peer(r->conf.conn),
		    msg.u.stream_ack.bytes, ld(&r->stream_acked), sent);
	st(&r->stream_acked, msg.u.stream_ack.bytes);
	st(&r->acks, ld(&r->acks) + 1);
	return 0;
}

/* A whole frame from the peer, read into r->cr_in. */
static int
credit_frame_done(struct mig_relay *r, const struct mig_frame_hdr *h)
{
	const uint8_t	*body = r->cr_in + MIG_FRAME_HDR_LEN;

	switch (h->type) {
	case MIG_MSG_STREAM_ACK:
		return credit_ack(r, h, body);
	case MIG_MSG_ERROR:
	case MIG_MSG_CANCEL:
		return relay_recv_abort(r, h, body);
	default:
		/* Optional frames (PING, PROGRESS, unknown ones) say
		 * nothing the stream needs. */
		if (!mig_msg_known(h->type) || !(h->flags &
		    MIG_FRAME_F_MANDATORY))
			return 0;
		return mig_seterr(&r->err, MIG_E_PROTO, "%s %s: %s frame "
		    "during the stream", r->name, mig_conn_peer(r->conf.conn),
		    mig_msg_name(h->type));
	}
}

/*
 * Reads one frame from the peer, or what there is of it: 1 when a frame
 * was read whole and acted on, 0 when nothing more is there (only
 * without wait), -1 on error.  A body too big for r->cr_in is read and
 * dropped if its type is optional.
 */
static int
credit_frame(struct mig_relay *r, bool wait)
{
	struct mig_frame_hdr	h;
	uint8_t			scrap[512];
	size_t			want;
	ssize_t			n;

	for (;;) {
		if (r->cr_skip > 0) {
			want = r->cr_skip < sizeof(scrap) ? r->cr_skip :
			    sizeof(scrap);
			n = relay_conn_read_ctl(r, scrap, want, wait);
		} else {
			want = r->cr_have < MIG_FRAME_HDR_LEN ?
			    MIG_FRAME_HDR_LEN : r->cr_need;
			n = relay_conn_read_ctl(r, r->cr_in + r->cr_have,
			    want - r->cr_have, wait);
		}
		if (n == -2)
			return 0;
		if (n == -1)
			return -1;
		if (r->cr_skip > 0) {
			if ((r->cr_skip -= n) == 0)
				return 1;
			continue;
		}
		r->cr_have += n;
		if (r->cr_have < MIG_FRAME_HDR_LEN)
			continue;
		if (mig_frame_hdr_decode(r->cr_in, &h, &r->err) == -1)
			return -1;
		if (r->cr_have == MIG_FRAME_HDR_LEN) {
			if (h.len > sizeof(r->cr_in) - MIG_FRAME_HDR_LEN) {
				if (h.flags & MIG_FRAME_F_MANDATORY)
					return mig_seterr(&r->err, MIG_E_PROTO,
					    "%s %s: %s frame of %" PRIu32
					    " bytes during the stream",
					    r->name,
					    mig_conn_peer(r->conf.conn),
					    mig_msg_name(h.type), h.len);
				r->cr_have = 0;
				r->cr_skip = h.len;
				continue;
			}
			r->cr_need = MIG_FRAME_HDR_LEN + h.len;
		}
		if (r->cr_have < r->cr_need)
			continue;
		r->cr_have = 0;
		return credit_frame_done(r, &h) == -1 ? -1 : 1;
	}
}

/* Every frame already there, without waiting. */
static int
credit_drain(struct mig_relay *r)
{
	int	rc;

	while ((rc = credit_frame(r, false)) == 1)
		;
	return rc;
}

int
relay_credit_wait(struct mig_relay *r)
{
	if (!r->credit)
		return 0;
	if (credit_drain(r) == -1)
		return -1;
	while (ld(&r->stream_bytes) - ld(&r->stream_acked) + r->conf.chunk >
	    r->window) {
		if (relay_cancelled(r) == -1 || credit_frame(r, true) == -1)
			return -1;
		st(&r->credit_waits, ld(&r->credit_waits) + 1);
	}
	return 0;
}

void
relay_credit_sent(struct mig_relay *r)
{
	uint64_t	inflight;

	if (!r->credit)
		return;
	inflight = ld(&r->stream_bytes) - ld(&r->stream_acked);
	if (inflight > ld(&r->inflight_max))
		st(&r->inflight_max, inflight);
}

/* conn.c calls this while a write of ours waits for room. */
int
relay_credit_peer_spoke(void *arg, struct mig_err *err)
{
	struct mig_relay	*r = arg;

	if (credit_drain(r) == 0)
		return 0;
	r->cr_failed = true;
	*err = r->err;
	return -1;
}
