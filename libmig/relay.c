/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The relay thread: its lifecycle, its counters, and the three loops
 * (send, receive, file copy).  See relay.h for who sends what.
 */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/log.h"
#include "mig/tls.h"
#include "conn_int.h"
#include "relay_int.h"

#define RELAY_SOCKBUF	(4 * 1024 * 1024)

static const char *const dir_names[] = {
	[MIG_RELAY_SEND] = "relay to",
	[MIG_RELAY_RECV] = "relay from",
	[MIG_RELAY_TO_FILE] = "save relay",
	[MIG_RELAY_FROM_FILE] = "restore relay",
	[MIG_RELAY_RECV_RAW] = "xl stream from",
	[MIG_RELAY_SEND_RAW] = "raw stream to",
};

static inline void
ctr_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static int
relay_on_record(void *arg, const struct mig_stream_rec *rec)
{
	struct mig_relay	*r = arg;

	(void)rec;
	r->nrec++;
	return 0;
}

/* Publishes what the parser knows; the stats are the thread's own. */
static void
relay_publish_parse(struct mig_relay *r)
{
	const struct mig_stream_stats	*st = &r->ps->stats;

	atomic_store_explicit(&r->records, r->nrec, memory_order_relaxed);
	atomic_store_explicit(&r->pages, st->pages, memory_order_relaxed);
	atomic_store_explicit(&r->phase, mig_stream_phase(r->ps),
	    memory_order_relaxed);
	if (st->libxc_end != 0)
		atomic_store_explicit(&r->libxc_end, true,
		    memory_order_relaxed);
	if (mig_stream_phase(r->ps) == MIG_PHASE_END)
		atomic_store_explicit(&r->libxl_end, true,
		    memory_order_relaxed);
}

/*
 * Every uncompressed byte goes through here once: the hash, the parser,
 * the counters.  A stream the parser does not understand is still moved
 * (libxl at the far end is the judge); only the page counts stop.
 */
int
relay_account(struct mig_relay *r, const uint8_t *p, size_t n)
{
	struct mig_err	perr;
	ssize_t		used;

	if (r->conf.dir != MIG_RELAY_SEND_RAW &&
	    relay_digest_update(r, p, n) == -1)
		return -1;
	ctr_add(&r->stream_bytes, n);
	if (!r->parsing)
		return 0;
	used = mig_stream_feed(r->ps, p, n, &perr);
	if (used == -1) {
		mig_log_warnx("%s: page counting stops: %s", r->name, perr.msg);
		r->parsing = false;
	} else if (mig_stream_phase(r->ps) == MIG_PHASE_END)
		r->parsing = false;	/* the rest is a trailer */
	relay_publish_parse(r);
	return 0;
}

static uint64_t
relay_pages(const struct mig_relay *r)
{
	return r->ps != NULL ? r->ps->stats.pages : 0;
}

/* shutdown(2) of the local socket; a pipe has none (ENOTSOCK). */
static void
relay_local_shutdown(struct mig_relay *r, int how)
{
	if (shutdown(r->conf.local_fd, how) == -1 && errno != ENOTSOCK &&
	    errno != ENOTCONN)
		mig_log_warn("%s: shutdown of the local socket", r->name);
}

/* --- send --- */

static int
relay_send_frame(struct mig_relay *r, const uint8_t *frame, size_t len)
{
	if (relay_bw_take(r, len) == -1)
		return -1;
	return relay_conn_write(r, frame, len);
}

/* body has MIG_FRAME_HDR_LEN bytes of room before it for the header. */
static int
relay_send_chunk(struct mig_relay *r, uint8_t *body, size_t n)
{
	uint8_t	*frame = body - MIG_FRAME_HDR_LEN;
	size_t	 blen = n, zn;
	bool	 z = false;

	if (r->cctx != NULL && (zn = relay_zstd_compress(r,
	    r->zbuf + MIG_FRAME_HDR_LEN, r->zcap - MIG_FRAME_HDR_LEN, body,
	    n)) > 0) {
		frame = r->zbuf;
		blen = zn;
		z = true;
	}
	if (mig_data_hdr_encode(frame, blen, z, &r->err) == -1)
		return -1;
	if (relay_send_frame(r, frame, MIG_FRAME_HDR_LEN + blen) == -1)
		return -1;
	ctr_add(&r->frames, 1);
	return 0;
}

static int
relay_send_end(struct mig_relay *r)
{
	struct mig_msg	 msg;
	uint8_t		 frame[MIG_FRAME_HDR_LEN + 128];
	size_t		 len;

	memset(&msg, 0, sizeof(msg));
	msg.type = MIG_MSG_STREAM_END;
	msg.u.stream_end.bytes = atomic_load(&r->stream_bytes);
	msg.u.stream_end.pages = relay_pages(r);
	if (relay_digest_final(r, msg.u.stream_end.digest) == -1)
		return -1;
	if (mig_msg_encode(&msg, frame, sizeof(frame), &len, &r->err) == -1)
		return -1;
	return relay_send_frame(r, frame, len);
}

static int
relay_send(struct mig_relay *r)
{
	uint8_t	*body = r->buf + MIG_FRAME_HDR_LEN;
	ssize_t	 n;

	for (;;) {
		if (relay_cancelled(r) == -1 || relay_credit_wait(r) == -1)
			return -1;
		n = relay_fd_gather(r, r->conf.local_fd, body, r->conf.chunk,
		    "the local stream");
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		ctr_add(&r->local_bytes, n);
		if (relay_account(r, body, n) == -1 ||
		    relay_send_chunk(r, body, n) == -1)
			return -1;
		relay_credit_sent(r);
	}
	return relay_send_end(r);
}

/* --- receive --- */

static int
relay_recv_end(struct mig_relay *r, const struct mig_frame_hdr *h,
    const uint8_t *body)
{
	const char		*peer = mig_conn_peer(r->conf.conn);
	struct mig_msg		 msg;
	uint8_t			 md[MIG_DIGEST_LEN];
	uint64_t		 bytes = atomic_load(&r->stream_bytes);
	const struct mig_msg_stream_end *e = &msg.u.stream_end;

	if (mig_msg_decode(h, body, &msg, &r->err) == -1)
		return -1;
	if (relay_digest_final(r, md) == -1)
		return -1;
	if (e->bytes != bytes)
		return mig_seterr(&r->err, MIG_E_CORRUPT, "%s %s: STREAM_END "
		    "says %" PRIu64 " bytes, %" PRIu64 " arrived", r->name,
		    peer, e->bytes, bytes);
	if (memcmp(md, e->digest, sizeof(md)) != 0)
		return mig_seterr(&r->err, MIG_E_CORRUPT, "%s %s: %s of "
		    "the %" PRIu64 " bytes received does not match STREAM_END",
		    r->name, peer, relay_digest_name(r), bytes);
	if (r->ps != NULL && e->pages != relay_pages(r))
		return mig_seterr(&r->err, MIG_E_CORRUPT, "%s %s: STREAM_END "
		    "says %" PRIu64 " pages, %" PRIu64 " arrived", r->name,
		    peer, e->pages, relay_pages(r));
	relay_local_shutdown(r, SHUT_WR);
	return 0;
}

/* The peer ended the stream with CANCEL or ERROR: pass its word on. */
int
relay_recv_abort(struct mig_relay *r, const struct mig_frame_hdr *h,
    const uint8_t *body)
{
	const char	*peer = mig_conn_peer(r->conf.conn);
	struct mig_msg	 msg;

	if (mig_msg_decode(h, body, &msg, &r->err) == -1)
		return -1;
	r->peer_word = true;
	if (msg.type == MIG_MSG_CANCEL)
		return mig_seterr(&r->err, MIG_E_CANCELLED, "%s %s: peer "
		    "cancelled: %s", r->name, peer, msg.u.cancel.text);
	return mig_seterr(&r->err, msg.u.error.code > MIG_OK &&
	    msg.u.error.code < MIG_E__MAX ? msg.u.error.code : MIG_E_PROTO,
	    "%s %s: peer failed: %s", r->name, peer, msg.u.error.text);
}

/* Skips the body of an optional frame type we do not know. */
static int
relay_recv_skip(struct mig_relay *r, uint8_t *buf, size_t cap, size_t len)
{
	size_t	n;

	while (len > 0) {
		n = len < cap ? len : cap;
		if (relay_conn_read_full(r, buf, n) == -1)
			return -1;
		len -= n;
	}
	return 0;
}

/*
 * The DATA body, and as much as arrives at once of the next frame's header
 * (there always is a next frame: DATA or STREAM_END).  Returns how many
 * bytes of that header were read, or -1.
 */
static ssize_t
relay_recv_body(struct mig_relay *r, uint8_t *body, size_t len)
{
	size_t	got = 0;
	ssize_t	n;

	while (got < len) {
		n = relay_conn_read(r, body + got,
		    len + MIG_FRAME_HDR_LEN - got);
		if (n == -1)
			return -1;
		if (n == 0)
			return mig_seterr(&r->err, MIG_E_EOF, "%s %s: "
			    "connection closed inside a DATA frame", r->name,
			    mig_conn_peer(r->conf.conn));
		got += n;
	}
	return got - len;
}

static int
relay_recv_data(struct mig_relay *r, const struct mig_frame_hdr *h,
    uint8_t *body)
{
	const uint8_t	*p = body;
	ssize_t		 n = h->len;

	if (h->flags & MIG_FRAME_F_ZSTD) {
		/* Not decompressed at all unless granted: a peer that was
		 * not given compression breaks the protocol (protocol.md). */
		if (!(r->conf.flags & MIG_RELAY_F_ZSTD))
			return mig_seterr(&r->err, MIG_E_PROTO, "%s %s: a zstd "
			    "DATA frame, but compression was not granted",
			    r->name, mig_conn_peer(r->conf.conn));
		n = relay_zstd_decompress(r, r->zbuf, r->zcap, body, h->len);
		if (n == -1)
			return -1;
		p = r->zbuf;
	}
	ctr_add(&r->frames, 1);
	if (relay_account(r, p, n) == -1 ||
	    relay_fd_write(r, r->conf.local_fd, p, n, "the local stream") == -1)
		return -1;
	ctr_add(&r->local_bytes, n);
	return relay_credit_delivered(r, n);
}

static int
relay_recv(struct mig_relay *r)
{
	uint8_t			*hdr = r->buf, *body = r->buf + MIG_FRAME_HDR_LEN;
	struct mig_frame_hdr	 h;
	size_t			 have = 0;
	ssize_t			 extra;

	for (;;) {
		if (relay_cancelled(r) == -1)
			return -1;
		if (relay_conn_read_full(r, hdr + have,
		    MIG_FRAME_HDR_LEN - have) == -1 ||
		    mig_frame_hdr_decode(hdr, &h, &r->err) == -1)
			return -1;
		have = 0;
		if (relay_bw_take(r, MIG_FRAME_HDR_LEN + h.len) == -1)
			return -1;
		switch (h.type) {
		case MIG_MSG_DATA:
			if ((extra = relay_recv_body(r, body, h.len)) == -1 ||
			    relay_recv_data(r, &h, body) == -1)
				return -1;
			memmove(hdr, body + h.len, extra);
			have = extra;
			break;
		case MIG_MSG_STREAM_END:
			if (relay_conn_read_full(r, body, h.len) == -1)
				return -1;
			return relay_recv_end(r, &h, body);
		case MIG_MSG_CANCEL:
		case MIG_MSG_ERROR:
			if (relay_conn_read_full(r, body, h.len) == -1)
				return -1;
			return relay_recv_abort(r, &h, body);
		default:
			if (mig_msg_known(h.type))
				return mig_seterr(&r->err, MIG_E_PROTO, "%s %s: "
				    "unexpected %s frame in the stream",
				    r->name, mig_conn_peer(r->conf.conn),
				    mig_msg_name(h.type));
			if (relay_recv_skip(r, body, r->bufcap -
			    MIG_FRAME_HDR_LEN, h.len) == -1)
				return -1;
		}
	}
}

/* --- raw receive (xl's migrate channel) --- */

/* Like relay_account, but the parser decides how much is the stream. */
static int
relay_recv_raw(struct mig_relay *r)
{
	const char	*peer = mig_conn_peer(r->conf.conn);
	struct mig_err	 perr;
	ssize_t		 n, used;

	for (;;) {
		if (relay_cancelled(r) == -1)
			return -1;
		if ((n = relay_conn_read(r, r->buf, r->conf.chunk)) == -1)
			return -1;
		if (n == 0)
			return mig_seterr(&r->err, MIG_E_EOF, "%s %s: closed "
			    "%s", r->name, peer, mig_stream_phase_name(
			    mig_stream_phase(r->ps)));
		if (relay_bw_take(r, n) == -1)
			return -1;
		if ((used = mig_stream_feed(r->ps, r->buf, n, &perr)) == -1) {
			relay_publish_parse(r);
			return mig_seterr(&r->err, MIG_E_CORRUPT, "%s %s: %s",
			    r->name, peer, perr.msg);
		}
		relay_publish_parse(r);
		if (relay_digest_update(r, r->buf, used) == -1)
			return -1;
		ctr_add(&r->stream_bytes, used);
		if (relay_fd_write(r, r->conf.local_fd, r->buf, used,
		    "the local stream") == -1)
			return -1;
		ctr_add(&r->local_bytes, used);
		if (mig_stream_phase(r->ps) != MIG_PHASE_END)
			continue;
		if (used < n)
			return mig_seterr(&r->err, MIG_E_PROTO, "%s %s: %zd "
			    "bytes after the end of the stream", r->name,
			    peer, n - used);
		relay_local_shutdown(r, SHUT_WR);
		return 0;
	}
}

/* --- files --- */

static int
relay_copy(struct mig_relay *r)
{
	int	 to_file = r->conf.dir == MIG_RELAY_TO_FILE;
	int	 src = to_file ? r->conf.local_fd : r->conf.file_fd;
	int	 dst = to_file ? r->conf.file_fd : r->conf.local_fd;
	ssize_t	 n;

	for (;;) {
		if (relay_cancelled(r) == -1)
			return -1;
		n = relay_fd_gather(r, src, r->buf, r->conf.chunk,
		    to_file ? "the local stream" : "the file");
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		if (relay_bw_take(r, n) == -1 ||
		    relay_account(r, r->buf, n) == -1 ||
		    relay_fd_write(r, dst, r->buf, n, to_file ? "the file" :
		    "the local stream") == -1)
			return -1;
		ctr_add(&r->local_bytes, n);
		ctr_add(&r->wire_bytes, n);
	}
	if (!to_file)
		relay_local_shutdown(r, SHUT_WR);
	return 0;
}

/* --- lifecycle --- */

/*
 * Receiving over TLS, let OpenSSL read ahead into its MIG_TLS_READ_BUF
 * buffer: without it every 16 KiB record costs two read(2)s (its header,
 * then its body), which bench/transport shows as 12-14 % of the TLS
 * relay's throughput.  Only for the stream: the relay tries SSL_read
 * before any poll, and so does conn.c, but other owners of the connection
 * may poll its fd first (xl-reloc tunnel does), and read-ahead bytes are
 * invisible to poll(2) and to SSL_pending().  Bytes read ahead past
 * STREAM_END stay in OpenSSL's buffer and reach the next SSL_read.
 */
static void
relay_read_ahead(struct mig_relay *r, int on)
{
	SSL	*ssl;

	if ((r->conf.dir == MIG_RELAY_RECV ||
	    r->conf.dir == MIG_RELAY_RECV_RAW) &&
	    (ssl = mig_conn_ssl(r->conf.conn)) != NULL)
		SSL_set_read_ahead(ssl, on);
}

static void *
relay_main(void *arg)
{
	struct mig_relay	*r = arg;

	relay_read_ahead(r, 1);
	switch (r->conf.dir) {
	case MIG_RELAY_SEND:
		r->rc = relay_send(r);
		break;
	case MIG_RELAY_RECV:
		r->rc = relay_recv(r);
		break;
	case MIG_RELAY_RECV_RAW:
		r->rc = relay_recv_raw(r);
		break;
	case MIG_RELAY_SEND_RAW:
		r->rc = relay_send_raw(r);
		break;
	default:
		r->rc = relay_copy(r);
	}
	relay_read_ahead(r, 0);
	/*
	 * libxl must fail, not hang: EOF for its reads, EPIPE for its
	 * writes.  A failure of our own is published first: the shutdown
	 * is what makes libxl's helper fail, so whoever sees that failure
	 * finds this one already there, on any schedule (a one-vCPU dom0
	 * runs the helper's death and its reaping before this thread gets
	 * the CPU back).
	 */
	if (r->rc == -1) {
		atomic_store(&r->failed, !r->stopped);
		relay_local_shutdown(r, SHUT_RDWR);
	}
	atomic_store(&r->done, true);
	(void)eventfd_write(r->done_fd, 1);
	return NULL;
}

static int
relay_check_conf(const struct mig_relay_conf *c, struct mig_err *err)
{
	bool	net = c->dir == MIG_RELAY_SEND || c->dir == MIG_RELAY_RECV ||
		    c->dir == MIG_RELAY_RECV_RAW || c->dir == MIG_RELAY_SEND_RAW;

	if (c->dir < MIG_RELAY_SEND || c->dir > MIG_RELAY_SEND_RAW)
		return mig_seterr(err, MIG_E_INVAL, "relay: bad direction %d",
		    (int)c->dir);
	if (c->local_fd < 0)
		return mig_seterr(err, MIG_E_INVAL, "relay: no local fd");
	if (net && c->conn == NULL)
		return mig_seterr(err, MIG_E_INVAL, "relay: no connection");
	if (!net && c->file_fd < 0)
		return mig_seterr(err, MIG_E_INVAL, "relay: no file fd");
	if (c->dir == MIG_RELAY_RECV_RAW && (c->flags & (MIG_RELAY_F_NO_PARSE |
	    MIG_RELAY_F_ZSTD)))
		return mig_seterr(err, MIG_E_INVAL, "relay: a raw stream ends "
		    "where the parser finds END, and has no frames to "
		    "compress");
	if (c->dir == MIG_RELAY_SEND_RAW && (c->flags & (MIG_RELAY_F_ZSTD |
	    MIG_RELAY_F_XXH3)))
		return mig_seterr(err, MIG_E_INVAL, "relay: a raw stream has "
		    "no frames to compress and no STREAM_END digest");
	if (!net && (c->flags & MIG_RELAY_F_ZSTD))
		return mig_seterr(err, MIG_E_INVAL, "relay: zstd needs DATA "
		    "frames; a file relay copies raw bytes");
	if ((c->flags & MIG_RELAY_F_CREDIT) && c->dir != MIG_RELAY_SEND &&
	    c->dir != MIG_RELAY_RECV)
		return mig_seterr(err, MIG_E_INVAL, "relay: credit is of a "
		    "framed stream (SEND, RECV)");
	if (c->flags & ~(MIG_RELAY_F_NO_XL_HEADER | MIG_RELAY_F_NO_PARSE |
	    MIG_RELAY_F_ZSTD | MIG_RELAY_F_XXH3 | MIG_RELAY_F_CREDIT))
		return mig_seterr(err, MIG_E_INVAL, "relay: unknown flags "
		    "0x%x", c->flags);
	if (c->chunk != 0 && (c->chunk < 4096 ||
	    c->chunk > MIG_RELAY_CHUNK_MAX))
		return mig_seterr(err, MIG_E_INVAL, "relay: chunk %zu outside "
		    "4096..%u", c->chunk, MIG_RELAY_CHUNK_MAX);
	return 0;
}

static void
relay_free(struct mig_relay *r)
{
	if (r->cancel_fd != -1)
		close(r->cancel_fd);
	if (r->done_fd != -1)
		close(r->done_fd);
	relay_zstd_free(r);
	relay_digest_free(r);
	free(r->ps);
	free(r->buf);
	relay_bw_destroy(&r->bw);
	free(r);
}

/* Everything the thread needs, allocated before it starts. */
static int
relay_alloc(struct mig_relay *r)
{
	struct mig_stream_cbs	cbs = { .on_record = relay_on_record,
				    .arg = r };
	int			fl;

	if ((r->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (r->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return mig_seterrno(&r->err, MIG_E_IO, "%s: eventfd", r->name);
	if ((fl = fcntl(r->conf.local_fd, F_GETFL)) == -1 ||
	    fcntl(r->conf.local_fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return mig_seterrno(&r->err, MIG_E_IO, "%s: local fd %d",
		    r->name, r->conf.local_fd);
	r->bufcap = MIG_FRAME_HDR_LEN + (r->conf.dir == MIG_RELAY_RECV ?
	    MIG_FRAME_DATA_MAX + MIG_FRAME_HDR_LEN : r->conf.chunk);
	if ((r->buf = malloc(r->bufcap)) == NULL)
		return mig_seterrno(&r->err, MIG_E_NOMEM, "%s: buffer",
		    r->name);
	if (relay_digest_init(r) == -1)
		return -1;
	if (!(r->conf.flags & MIG_RELAY_F_NO_PARSE)) {
		if ((r->ps = malloc(sizeof(*r->ps))) == NULL)
			return mig_seterrno(&r->err, MIG_E_NOMEM, "%s: stream "
			    "parser", r->name);
		mig_stream_init(r->ps, MIG_STREAM_TRAILER |
		    ((r->conf.flags & MIG_RELAY_F_NO_XL_HEADER) ?
		    MIG_STREAM_NO_XL_HEADER : 0));
		mig_stream_set_cbs(r->ps, &cbs);
		r->parsing = true;
		atomic_store(&r->phase, mig_stream_phase(r->ps));
	} else
		atomic_store(&r->phase, MIG_PHASE_ERROR);
	relay_credit_init(r);
	return relay_zstd_init(r);
}

struct mig_relay *
mig_relay_start(const struct mig_relay_conf *conf, struct mig_err *err)
{
	struct mig_relay	*r;
	sigset_t		 all, old;
	int			 rc;

	if (relay_check_conf(conf, err) == -1)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "relay");
		return NULL;
	}
	r->conf = *conf;
	if (r->conf.chunk == 0)
		r->conf.chunk = MIG_RELAY_CHUNK_DEFAULT;
	r->name = conf->name != NULL ? conf->name : dir_names[conf->dir];
	r->cancel_fd = r->done_fd = -1;
	relay_bw_init(&r->bw, conf->bw_limit);
	if (relay_alloc(r) == -1)
		goto fail;
	/* The thread inherits a full mask: no signal is ever run there. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, relay_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		mig_seterrno(&r->err, MIG_E_NOMEM, "%s: thread", r->name);
		goto fail;
	}
	return r;
fail:
	if (err != NULL)
		*err = r->err;
	relay_free(r);
	return NULL;
}

void
mig_relay_stats(const struct mig_relay *cr, struct mig_relay_stats *s)
{
	struct mig_relay	*r = (struct mig_relay *)cr;

	s->local_bytes = atomic_load(&r->local_bytes);
	s->stream_bytes = atomic_load(&r->stream_bytes);
	s->wire_bytes = atomic_load(&r->wire_bytes);
	s->frames = atomic_load(&r->frames);
	s->records = atomic_load(&r->records);
	s->pages = atomic_load(&r->pages);
	s->phase = atomic_load(&r->phase);
	s->libxc_end = atomic_load(&r->libxc_end);
	s->libxl_end = atomic_load(&r->libxl_end);
	s->done = atomic_load(&r->done);
	s->failed = atomic_load(&r->failed);
	/* Written before failed, which orders it. */
	s->peer_word = s->failed && r->peer_word;
	s->stream_acked = atomic_load(&r->stream_acked);
	/* acked was read last, and may count bytes sent since */
	s->stream_queued = r->credit && r->conf.dir == MIG_RELAY_SEND &&
	    s->stream_bytes > s->stream_acked ?
	    s->stream_bytes - s->stream_acked : 0;
	s->inflight_max = atomic_load(&r->inflight_max);
	s->acks = atomic_load(&r->acks);
	s->credit_waits = atomic_load(&r->credit_waits);
	if (s->done)
		memcpy(s->digest, r->final_digest, sizeof(s->digest));
	else
		memset(s->digest, 0, sizeof(s->digest));
}

void
mig_relay_set_bw(struct mig_relay *r, uint64_t rate)
{
	mig_bw_set_rate(&r->bw, rate);
}

void
mig_relay_cancel(struct mig_relay *r)
{
	atomic_store(&r->cancelled, true);
	(void)eventfd_write(r->cancel_fd, 1);
}

int
mig_relay_done_fd(const struct mig_relay *r)
{
	return r->done_fd;
}

int
mig_relay_join(struct mig_relay *r, struct mig_relay_stats *stats,
    struct mig_err *err)
{
	int	rc;

	pthread_join(r->thread, NULL);
	if (stats != NULL)
		mig_relay_stats(r, stats);
	rc = r->rc;
	if (rc == -1 && err != NULL)
		*err = r->err;
	else if (err != NULL)
		mig_clearerr(err);
	relay_free(r);
	return rc;
}

int
mig_relay_socketpair(int sv[2], struct mig_err *err)
{
	int	i, sz = RELAY_SOCKBUF;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return mig_seterrno(err, MIG_E_IO, "relay socketpair");
	/* Best effort: the kernel caps these at net.core.[rw]mem_max. */
	for (i = 0; i < 2; i++) {
		(void)setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz));
		(void)setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &sz,
		    sizeof(sz));
	}
	return 0;
}
