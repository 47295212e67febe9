/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Talking to the other relocd: whole frames with a deadline each, and the
 * opening both ends share (preamble, then HELLO each way).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/conn.h"
#include "mig/hv.h"
#include "mig/log.h"
#include "mig/proto.h"
#include "relocd.h"
#include "mig/tls.h"

#define CONNECT_TIMEOUT_MS	15000

int
peer_send(struct mig_conn *c, const struct mig_msg *m, uint64_t deadline,
    struct mig_err *err)
{
	uint8_t	*buf;
	size_t	 len;
	int	 rc;

	if ((buf = malloc(MIG_FRAME_HDR_LEN + MIG_FRAME_CTRL_MAX)) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "frame");
	rc = mig_msg_encode(m, buf, MIG_FRAME_HDR_LEN + MIG_FRAME_CTRL_MAX,
	    &len, err);
	if (rc == 0)
		rc = mig_conn_write_all(c, buf, len, deadline, err);
	free(buf);
	return rc;
}

/*
 * Reads the next frame into p->body (which keeps any pointer the decoded
 * message holds, such as a RESERVE's config, valid until the next read).
 * Unknown optional frames are skipped; PING is answered.
 */
int
peer_recv(struct mig_conn *c, struct peer_buf *p, struct mig_msg *m,
    uint64_t deadline, struct mig_err *err)
{
	uint8_t			hdr[MIG_FRAME_HDR_LEN];
	struct mig_frame_hdr	h;
	struct mig_msg		pong;

	for (;;) {
		if (mig_conn_read_full(c, hdr, sizeof(hdr), deadline, err) ==
		    -1 || mig_frame_hdr_decode(hdr, &h, err) == -1)
			return -1;
		if (h.len > sizeof(p->body))
			return mig_seterr(err, MIG_E_TOOBIG, "%s frame of %u "
			    "bytes from %s", mig_msg_name(h.type), h.len,
			    mig_conn_peer(c));
		if (mig_conn_read_full(c, p->body, h.len, deadline, err) == -1)
			return -1;
		/* A STREAM_ACK the target sent before it read our
		 * STREAM_END reaches us after the relay stopped reading
		 * them: it says nothing more. */
		if (!mig_msg_known(h.type) || h.type == MIG_MSG_STREAM_ACK)
			continue;
		if (mig_msg_decode(&h, p->body, m, err) == -1)
			return -1;
		if (m->type == MIG_MSG_PING) {
			memset(&pong, 0, sizeof(pong));
			pong.type = MIG_MSG_PONG;
			pong.u.ping.nonce = m->u.ping.nonce;
			if (peer_send(c, &pong, deadline, err) == -1)
				return -1;
			continue;
		}
		return 0;
	}
}

/* A frame other than the one(s) due (wanted names them): CANCEL and
 * ERROR from the peer become errors that quote it. */
int
peer_unexpected(struct mig_conn *c, const struct mig_msg *m,
    const char *wanted, struct mig_err *err)
{
	switch (m->type) {
	case MIG_MSG_CANCEL:
		return mig_seterr(err, MIG_E_CANCELLED, "%s cancelled: %s",
		    mig_conn_peer(c), m->u.cancel.text);
	case MIG_MSG_ERROR:
		return mig_seterr(err, m->u.error.code < MIG_E__MAX &&
		    m->u.error.code != MIG_OK ? m->u.error.code : MIG_E_PROTO,
		    "%s: %s", mig_conn_peer(c), m->u.error.text);
	default:
		return mig_seterr(err, MIG_E_PROTO, "%s sent %s where %s was "
		    "due", mig_conn_peer(c), mig_msg_name(m->type), wanted);
	}
}

/* Reads a frame that must be of type want (peer_unexpected else). */
int
peer_expect(struct mig_conn *c, struct peer_buf *p, uint16_t want,
    struct mig_msg *m, uint64_t deadline, struct mig_err *err)
{
	if (peer_recv(c, p, m, deadline, err) == -1)
		return -1;
	if (m->type == want)
		return 0;
	return peer_unexpected(c, m, mig_msg_name(want), err);
}

/* Tells the peer why we stop; best effort, the connection may be gone. */
void
peer_abort(struct mig_conn *c, uint16_t type, const struct mig_err *why)
{
	struct mig_msg	m;
	struct mig_err	ignored;

	if (c == NULL)
		return;
	memset(&m, 0, sizeof(m));
	m.type = type;
	if (type == MIG_MSG_ERROR) {
		m.u.error.code = why->code;
		mig_text_set(m.u.error.text, why->msg);
	} else
		mig_text_set(m.u.cancel.text, why->msg);
	peer_send(c, &m, mig_deadline(2000), &ignored);
}

/*
 * After a frame that ends the conversation: our side closes, then we read
 * and discard until the peer closes too (or the deadline).  Closing on
 * bytes we have not read would reset the connection, and a reset may
 * destroy our last frame before the peer has read it.
 */
void
peer_linger(struct mig_conn *c, uint64_t deadline)
{
	uint8_t	buf[4096];

	if (mig_conn_shutdown(c, deadline, NULL) == -1)
		return;
	while (mig_conn_read_some(c, buf, sizeof(buf), deadline, NULL) > 0)
		;
}

int
peer_hello_fill(struct mig_hv *hv, struct mig_msg *m, struct mig_err *err)
{
	struct mig_hv_hostinfo	hi;

	if (mig_hv_hostinfo(hv, &hi, err) == -1)
		return -1;
	memset(m, 0, sizeof(*m));
	m->type = MIG_MSG_HELLO;
	snprintf(m->u.hello.version, sizeof(m->u.hello.version), "relocd %s",
	    PACKAGE_VERSION);
	snprintf(m->u.hello.hostname, sizeof(m->u.hello.hostname), "%.*s",
	    MIG_HOSTNAME_MAX, hi.hostname);
	m->u.hello.xen_major = hi.xen_major;
	m->u.hello.xen_minor = hi.xen_minor;
	snprintf(m->u.hello.arch, sizeof(m->u.hello.arch), "%.*s", MIG_ARCH_MAX,
	    hi.arch);
	m->u.hello.page_size = hi.page_size;
	m->u.hello.mem_total_kib = hi.total_kib;
	m->u.hello.mem_free_kib = hi.free_kib;
	m->u.hello.features = MIG_FEAT_ZSTD | MIG_FEAT_RESUME | MIG_FEAT_XXH3 |
	    MIG_FEAT_XL_TUNNEL | MIG_FEAT_XL_REASONS | MIG_FEAT_CREDIT |
	    MIG_FEAT_STORAGE | MIG_FEAT_STORAGE_LIVE |
	    (hi.pv_logdirty != 0 ? MIG_FEAT_LIVE : 0);
	m->u.hello.max_data_frame = MIG_FRAME_DATA_MAX;
	return 0;
}

/*
 * Preamble and HELLO each way.  Both ends send before they read, so
 * neither waits for the other; the client reads the server's preamble
 * before anything bulky, which is also where a TLS 1.3 refusal of its
 * certificate shows up.
 */
int
peer_open(struct mig_conn *c, const struct mig_msg *ours, struct peer_buf *p,
    struct mig_msg *theirs, uint64_t deadline, struct mig_err *err)
{
	uint8_t			pre[MIG_PREAMBLE_LEN];
	struct mig_preamble	pv;

	mig_preamble_encode(pre);
	if (mig_conn_write_all(c, pre, sizeof(pre), deadline, err) == -1 ||
	    peer_send(c, ours, deadline, err) == -1 ||
	    mig_conn_read_full(c, pre, sizeof(pre), deadline, err) == -1 ||
	    mig_preamble_decode(pre, &pv, err) == -1)
		return -1;
	return peer_expect(c, p, MIG_MSG_HELLO, theirs, deadline, err);
}

/*
 * Connects to another relocd as this host's configuration says: port 0
 * means the target's default for the transport, TLS presents our
 * certificate and verifies the target's against our CA and its name.  On
 * success *conn and, with TLS, *ctx are the caller's to free.
 */
int
peer_connect(struct worker *w, const char *host, unsigned port, int tls,
    struct mig_conn **conn, SSL_CTX **ctx, struct mig_err *err)
{
	struct mig_tls_conf	tc;
	char			portstr[16];

	snprintf(portstr, sizeof(portstr), "%u", port ? port : tls ?
	    w->conf.tls_port : w->conf.plain_port);
	if ((*conn = mig_conn_connect(host, portstr, CONNECT_TIMEOUT_MS,
	    err)) == NULL) {
		mig_connect_hint(err, tls);
		return -1;
	}
	if (!tls)
		return 0;
	config_tls(&w->conf, &tc);
	if (tc.cert_file == NULL || tc.key_file == NULL || tc.ca_file == NULL)
		return mig_seterr(err, MIG_E_INVAL, "TLS needs tls_cert, "
		    "tls_key and tls_ca in %s", w->conf_path);
	if ((*ctx = mig_tls_client_ctx(&tc, err)) == NULL)
		return -1;
	if (mig_conn_tls_client(*conn, *ctx, host, CONNECT_TIMEOUT_MS,
	    err) == -1) {
		mig_connect_hint(err, true);
		return -1;
	}
	peer_note_cert(*conn);
	return 0;
}

void
peer_note_cert(struct mig_conn *conn)
{
	char	subject[256], fpr[3 * 32 + 1];

	if (mig_conn_peer_cert(conn, subject, sizeof(subject), fpr,
	    sizeof(fpr)) == -1)
		return;
	mig_log_field("PEER_CERT", "%s SHA256:%s", subject, fpr);
	mig_log_info("%s presented certificate %s, SHA256 %s",
	    mig_conn_peer(conn), subject, fpr);
}
