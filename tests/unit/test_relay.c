/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay end to end: a "libxl" writer thread feeds a sending relay, the
 * stream crosses a socketpair (plain, or TLS with certificates testcert.h
 * makes for the run) to a receiving relay, and a "libxl" reader thread
 * collects what comes out.  Failures are produced with hand-made frames
 * and peers that die; every test checks that both the relay and the libxl
 * side come back, never that they are fast.
 */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <xxhash.h>
#include <zstd.h>

#include "mig/conn.h"
#include "conn_int.h"	/* the socket and SSL, for white-box checks */
#include "mig/error.h"
#include "fixture.h"
#include "mig/proto.h"
#include "mig/relay.h"
#include "mig/stream.h"
#include "streamgen.h"
#include "testcert.h"
#include "mig/tls.h"

#define NPAGES		2048
#define CONFIG		"{\"c_info\":{\"name\":\"vm1\"}}"

/* --- payloads --- */

/* Mostly zero pages, so that zstd has something to do. */
static void
sparse_page(void *arg, uint64_t pfn, uint8_t *page)
{
	(void)arg;
	memset(page, 0, MIG_PAGE_SIZE);
	memcpy(page, &pfn, sizeof(pfn));
}

/* A real-format stream of NPAGES pages in two rounds. */
static void
gen_stream(struct sg_buf *b, bool xlhdr, sg_page_fn pagefn)
{
	struct sg_opts	o = { .no_xl_header = !xlhdr, .config = CONFIG,
	    .config_len = sizeof(CONFIG), .nr_vcpus = 2,
	    .p2m_size = NPAGES };
	struct sg	g;
	uint64_t	pfns[NPAGES];
	size_t		i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < NPAGES; i++)
		pfns[i] = i;
	assert_int_equal(sg_begin(&g, &o, sg_buf_write, b), 0);
	assert_int_equal(sg_pages(&g, pfns, NPAGES / 2, pagefn, NULL), 0);
	assert_int_equal(sg_pages(&g, pfns + NPAGES / 2, NPAGES / 2, pagefn,
	    NULL), 0);
	assert_int_equal(sg_end(&g), 0);
}

static uint8_t *
random_bytes(size_t len)
{
	uint8_t		*p = malloc(len);
	uint64_t	 x = 0x123456789abcdefULL;
	size_t		 i;

	assert_non_null(p);
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
	return p;
}

/* --- certificates for the run (testcert.h) --- */

static struct testcert	tc;

static int
setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	return testcert_make(&tc);
}

static int
teardown(void **state)
{
	(void)state;
	testcert_cleanup(&tc);
	return 0;
}

/* --- connections --- */

struct tls_server {
	struct mig_conn	*c;
	SSL_CTX		*ctx;
	int		 rc;
	struct mig_err	 err;
};

static void *
tls_server_main(void *arg)
{
	struct tls_server	*s = arg;

	s->rc = mig_conn_tls_server(s->c, s->ctx, 10000, &s->err);
	return NULL;
}

/* Two connected conns, *a the client; with TLS both handshake. */
static void
conn_pair(bool tls, struct mig_conn **a, struct mig_conn **b)
{
	struct mig_tls_conf	 sconf = { .cert_file = tc.server.cert,
				    .key_file = tc.server.key, .ca_file = tc.ca };
	struct mig_tls_conf	 cconf = { .cert_file = tc.client.cert,
				    .key_file = tc.client.key, .ca_file = tc.ca };
	struct tls_server	 srv;
	struct mig_err		 err;
	SSL_CTX			*cctx;
	pthread_t		 t;
	int			 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_non_null(*a = mig_conn_new(sv[0], &err));
	assert_non_null(*b = mig_conn_new(sv[1], &err));
	if (!tls)
		return;
	memset(&srv, 0, sizeof(srv));
	srv.c = *b;
	assert_non_null(srv.ctx = mig_tls_server_ctx(&sconf, &err));
	assert_non_null(cctx = mig_tls_client_ctx(&cconf, &err));
	assert_int_equal(pthread_create(&t, NULL, tls_server_main, &srv), 0);
	if (mig_conn_tls_client(*a, cctx, "localhost", 10000, &err) == -1)
		fail_msg("TLS client: %s", err.msg);
	pthread_join(t, NULL);
	if (srv.rc == -1)
		fail_msg("TLS server: %s", srv.err.msg);
	/* The SSLs hold their own references to the contexts. */
	SSL_CTX_free(cctx);
	SSL_CTX_free(srv.ctx);
}

/* --- "libxl": a writer that feeds a stream, a reader that drains one --- */

struct io {
	int		 fd;
	const uint8_t	*p;		/* writer: what to write */
	size_t		 len;
	uint8_t		*got;		/* reader: what came */
	size_t		 gotlen;
	int		 err;		/* errno of a failed write/read */
	bool		 no_close;
};

static void *
writer_main(void *arg)
{
	struct io	*w = arg;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < w->len) {
		n = send(w->fd, w->p + off, w->len - off, MSG_NOSIGNAL);
		if (n == -1) {
			w->err = errno;
			break;
		}
		off += n;
	}
	if (!w->no_close)
		close(w->fd);
	return NULL;
}

static void *
reader_main(void *arg)
{
	struct io	*r = arg;
	size_t		 cap = 1 << 20;
	ssize_t		 n;

	r->got = malloc(cap);
	for (;;) {
		if (r->gotlen == cap)
			r->got = realloc(r->got, cap *= 2);
		n = read(r->fd, r->got + r->gotlen, cap - r->gotlen);
		if (n <= 0) {
			r->err = n == 0 ? 0 : errno;
			break;
		}
		r->gotlen += n;
	}
	return NULL;
}

/* "libxl" writing p[0..len) into fd from its own thread. */
static void
writer_start(struct io *w, pthread_t *t, int fd, const uint8_t *p,
    size_t len, bool no_close)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->p = p;
	w->len = len;
	w->no_close = no_close;
	assert_int_equal(pthread_create(t, NULL, writer_main, w), 0);
}

/* A relay conf with libxl's end at local_fd, over conn, no file. */
static void
conf_init(struct mig_relay_conf *c, enum mig_relay_dir dir, unsigned flags,
    int local_fd, struct mig_conn *conn)
{
	memset(c, 0, sizeof(*c));
	c->dir = dir;
	c->flags = flags;
	c->local_fd = local_fd;
	c->conn = conn;
	c->file_fd = -1;
}

/* --- end to end --- */

/* The connections and what is left of the two socketpairs (libxl's end
 * of the sending one, ls[0], was closed by its writer). */
static void
pair_close(struct mig_conn *a, struct mig_conn *b, const int ls[2],
    const int lr[2])
{
	mig_conn_close(a);
	mig_conn_close(b);
	close(ls[1]);
	close(lr[0]);
	close(lr[1]);
}

struct e2e {
	bool			 tls;
	unsigned		 sflags, rflags;
	uint64_t		 bw;
	bool			 change_bw;
	struct mig_bw		*shared;
	/* results */
	struct mig_relay_stats	 ss, rs;
};

static void
e2e_run(struct e2e *e, const uint8_t *p, size_t len)
{
	struct mig_relay_conf	 sc, rc;
	struct mig_relay	*sr, *rr;
	struct mig_conn		*a, *b;
	struct mig_err		 err;
	struct io		 w, r;
	pthread_t		 wt, rt;
	int			 ls[2], lr[2];

	conn_pair(e->tls, &a, &b);
	assert_int_equal(mig_relay_socketpair(ls, &err), 0);
	assert_int_equal(mig_relay_socketpair(lr, &err), 0);
	conf_init(&sc, MIG_RELAY_SEND, e->sflags, ls[1], a);
	sc.bw_limit = e->bw;
	sc.bw_shared = e->shared;
	conf_init(&rc, MIG_RELAY_RECV, e->rflags, lr[1], b);
	assert_non_null(sr = mig_relay_start(&sc, &err));
	assert_non_null(rr = mig_relay_start(&rc, &err));
	memset(&r, 0, sizeof(r));
	r.fd = lr[0];
	writer_start(&w, &wt, ls[0], p, len, false);
	assert_int_equal(pthread_create(&rt, NULL, reader_main, &r), 0);
	if (e->change_bw) {
		usleep(20000);
		mig_relay_set_bw(sr, 0);
		usleep(20000);
		mig_relay_set_bw(sr, 3 * e->bw);
		if (e->shared != NULL)
			mig_bw_set_rate(e->shared, 5 * e->bw);
	}
	if (mig_relay_join(sr, &e->ss, &err) == -1)
		fail_msg("send relay: %s", err.msg);
	if (mig_relay_join(rr, &e->rs, &err) == -1)
		fail_msg("receive relay: %s", err.msg);
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
	assert_int_equal(w.err, 0);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.gotlen, len);
	assert_memory_equal(r.got, p, len);
	assert_true(e->ss.done && e->rs.done);
	assert_int_equal(e->ss.local_bytes, len);
	assert_int_equal(e->ss.stream_bytes, len);
	assert_int_equal(e->rs.local_bytes, len);
	assert_int_equal(e->rs.stream_bytes, len);
	assert_int_equal(e->ss.wire_bytes, e->rs.wire_bytes);
	assert_int_equal(e->ss.frames, e->rs.frames);
	assert_true(e->ss.frames >= 1);
	free(r.got);
	pair_close(a, b, ls, lr);
}

/* --- credit --- */

/*
 * Incompressible bytes under credit: the wire is as big as the stream, so
 * the sender's writes wait for room while STREAM_ACKs come back, and are
 * read there (conn.c's peer_spoke) rather than taken for a peer that
 * stopped reading.
 */
static void
credit_incompressible(bool tls)
{
	struct e2e	 e = { .tls = tls };
	size_t		 len = 48u << 20;
	uint8_t		*p = random_bytes(len);

	e.sflags = e.rflags = MIG_RELAY_F_NO_PARSE | MIG_RELAY_F_ZSTD |
	    MIG_RELAY_F_CREDIT;
	e2e_run(&e, p, len);
	assert_true(e.ss.acks > 0);
	assert_true(e.rs.acks >= e.ss.acks);
	assert_true(e.ss.inflight_max <= MIG_RELAY_CREDIT_WINDOW);
	free(p);
}

static void test_credit_raw_plain(void **s) { (void)s; credit_incompressible(false); }
static void test_credit_raw_tls(void **s) { (void)s; credit_incompressible(true); }

/* Waits (10 ms steps, 60 s at most: a liveness bound, not a timing
 * assertion) until the send relay is done or its window is full. */
static void
credit_wait_stall(struct mig_relay *sr, struct mig_relay_stats *ss,
    uint64_t window)
{
	int	i;

	for (i = 0; i < 6000; i++) {
		mig_relay_stats(sr, ss);
		if (ss->done || ss->stream_queued + MIG_RELAY_CHUNK_DEFAULT >
		    window)
			return;
		usleep(10000);
	}
	fail_msg("the send relay neither finished nor filled its window");
}

/*
 * 64 MiB of zeros, compressed to a few KiB, to a target whose libxl does
 * not read yet.  Without credit, TCP holds nothing back: the whole stream
 * leaves the source.  With it, the source stops once a window's worth is
 * unacknowledged, and what it sent is at most a window ahead of what the
 * target handed to libxl.  Then libxl reads, and all of it arrives.
 */
static void
credit_stalled_target(bool tls, bool credit)
{
	const size_t		 len = 64u << 20;
	const uint64_t		 window = MIG_RELAY_CREDIT_WINDOW;
	unsigned		 f = MIG_RELAY_F_NO_PARSE | MIG_RELAY_F_ZSTD |
				    (credit ? MIG_RELAY_F_CREDIT : 0);
	struct mig_relay_conf	 sc, rc;
	struct mig_relay_stats	 ss, rs;
	struct mig_relay	*sr, *rr;
	struct mig_conn		*a, *b;
	struct mig_err		 err;
	struct io		 w, r;
	pthread_t		 wt, rt;
	uint8_t			*p;
	int			 ls[2], lr[2];

	assert_non_null(p = calloc(1, len));
	conn_pair(tls, &a, &b);
	assert_int_equal(mig_relay_socketpair(ls, &err), 0);
	assert_int_equal(mig_relay_socketpair(lr, &err), 0);
	conf_init(&sc, MIG_RELAY_SEND, f, ls[1], a);
	conf_init(&rc, MIG_RELAY_RECV, f, lr[1], b);
	assert_non_null(sr = mig_relay_start(&sc, &err));
	assert_non_null(rr = mig_relay_start(&rc, &err));
	writer_start(&w, &wt, ls[0], p, len, false);
	credit_wait_stall(sr, &ss, window);
	mig_relay_stats(rr, &rs);
	if (credit) {
		assert_false(ss.done);
		assert_true(ss.stream_bytes < len);
		assert_true(ss.stream_bytes <= rs.local_bytes + window);
		assert_true(ss.stream_queued <= window);
	} else {
		/* the backlog credit exists for: all of it sent, most of
		 * it still short of libxl */
		assert_int_equal(ss.stream_bytes, len);
		assert_true(rs.local_bytes + window < len);
		assert_int_equal(ss.acks, 0);
	}
	memset(&r, 0, sizeof(r));
	r.fd = lr[0];
	assert_int_equal(pthread_create(&rt, NULL, reader_main, &r), 0);
	if (mig_relay_join(sr, &ss, &err) == -1)
		fail_msg("send relay: %s", err.msg);
	if (mig_relay_join(rr, &rs, &err) == -1)
		fail_msg("receive relay: %s", err.msg);
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
	assert_int_equal(r.gotlen, len);
	assert_memory_equal(r.got, p, len);
	assert_true(ss.inflight_max <= (credit ? window : 0));
	/* the last STREAM_ACKs cross STREAM_END: the caller drops them */
	assert_true(ss.stream_acked <= rs.stream_acked);
	assert_true(rs.stream_acked <= len);
	if (credit)	/* at least one per 2 MiB handed to libxl */
		assert_true(rs.acks >= len / (2 * MIG_CREDIT_ACK_UNIT));
	free(r.got);
	free(p);
	pair_close(a, b, ls, lr);
}

static void test_credit_plain(void **s) { (void)s; credit_stalled_target(false, true); }
static void test_credit_tls(void **s) { (void)s; credit_stalled_target(true, true); }
static void test_no_credit(void **s) { (void)s; credit_stalled_target(false, false); }

/* A Xen stream: counted, compressed or not, verified at the far end. */
static void
e2e_xen(bool tls, bool zstd, bool xlhdr, bool xxh3)
{
	struct e2e	e = { .tls = tls };
	struct sg_buf	b;
	unsigned	f = (xlhdr ? 0 : MIG_RELAY_F_NO_XL_HEADER) |
			    (xxh3 ? MIG_RELAY_F_XXH3 : 0);

	gen_stream(&b, xlhdr, zstd ? sparse_page : sg_pattern_page);
	e.sflags = f | (zstd ? MIG_RELAY_F_ZSTD : 0);
	e.rflags = e.sflags;	/* compression granted */
	e2e_run(&e, b.p, b.len);
	assert_int_equal(e.ss.pages, NPAGES);
	assert_int_equal(e.rs.pages, NPAGES);
	assert_true(e.ss.libxl_end && e.ss.libxc_end);
	assert_true(e.rs.libxl_end && e.rs.libxc_end);
	assert_int_equal(e.ss.phase, MIG_PHASE_END);
	assert_int_equal(e.ss.records, e.rs.records);
	/* libxl header records + libxc: at least a PAGE_DATA per 1024. */
	assert_true(e.ss.records >= NPAGES / 1024 + 4);
	if (zstd)
		assert_true(e.ss.wire_bytes < b.len / 4);
	else
		assert_true(e.ss.wire_bytes > b.len);
	sg_buf_free(&b);
}

/*
 * Streams stock xl wrote for real guests in the lab (tests/lab/
 * capture-images; their memory cut out): parsed as the relay's parser
 * sees them, then relayed over TLS with zstd and checked byte for byte.
 * A PVH guest's libxc image is of type HVM and carries its state in
 * HVM_CONTEXT and HVM_PARAMS, a PV guest's in SHARED_INFO and per-vcpu
 * records.
 */
static void
real_stream(const char *name, bool hvm)
{
	struct e2e		 e = { .tls = true, .sflags = MIG_RELAY_F_ZSTD,
				    .rflags = MIG_RELAY_F_ZSTD };
	struct mig_stream	 s;
	struct mig_err		 err;
	struct sg_buf		 b;
	const uint64_t		*xc;

	if (fixture_load(name, &b) == -1)
		fail_msg("cannot load %s", name);
	mig_stream_init(&s, 0);
	if (mig_stream_feed(&s, b.p, b.len, &err) != (ssize_t)b.len ||
	    mig_stream_finish(&s, &err) == -1)
		fail_msg("%s: %s", name, err.msg);
	xc = s.stats.libxc_records;
	assert_int_equal(s.stats.guest_type, hvm ? MIG_LIBXC_DOM_X86_HVM :
	    MIG_LIBXC_DOM_X86_PV);
	assert_int_equal(s.stats.xen_major, 4);
	assert_int_equal(s.stats.xen_minor, 17);
	assert_int_equal(xc[MIG_LIBXC_HVM_CONTEXT], hvm ? 1 : 0);
	assert_int_equal(xc[MIG_LIBXC_HVM_PARAMS], hvm ? 1 : 0);
	assert_int_equal(xc[MIG_LIBXC_X86_PV_INFO], hvm ? 0 : 1);
	assert_int_equal(xc[MIG_LIBXC_X86_PV_P2M_FRAMES], hvm ? 0 : 1);
	assert_int_equal(xc[MIG_LIBXC_SHARED_INFO], hvm ? 0 : 1);
	assert_int_equal(xc[MIG_LIBXC_X86_PV_VCPU_BASIC], hvm ? 0 : 1);
	assert_int_equal(xc[MIG_LIBXC_X86_TSC_INFO], 1);
	assert_int_equal(xc[MIG_LIBXC_X86_CPUID_POLICY], 1);
	assert_int_equal(xc[MIG_LIBXC_STATIC_DATA_END], 1);
	assert_true(xc[MIG_LIBXC_PAGE_DATA] >= 1 && s.stats.pages > 0);
	e2e_run(&e, b.p, b.len);
	assert_int_equal(e.ss.pages, s.stats.pages);
	assert_int_equal(e.rs.pages, s.stats.pages);
	assert_true(e.rs.libxl_end && e.rs.libxc_end);
	assert_int_equal(e.rs.records, e.ss.records);
	sg_buf_free(&b);
}

/* An HVM guest's stream (streamgen's: no real one could be captured),
 * with its device model's records after the libxc image. */
static void
test_hvm_emulator(void **state)
{
	struct sg_opts	 o = { .config = CONFIG, .config_len = sizeof(CONFIG),
	    .p2m_size = NPAGES, .hvm = true, .emulator = true };
	struct e2e	 e = { .tls = true, .sflags = MIG_RELAY_F_ZSTD,
			    .rflags = MIG_RELAY_F_ZSTD };
	struct sg_buf	 b = { 0 };
	struct sg	 g;
	uint64_t	 pfns[NPAGES];
	size_t		 i;

	(void)state;
	for (i = 0; i < NPAGES; i++)
		pfns[i] = i;
	assert_int_equal(sg_begin(&g, &o, sg_buf_write, &b), 0);
	assert_int_equal(sg_pages(&g, pfns, NPAGES, sparse_page, NULL), 0);
	assert_int_equal(sg_end(&g), 0);
	e2e_run(&e, b.p, b.len);
	assert_int_equal(e.rs.pages, NPAGES);
	assert_true(e.rs.libxl_end && e.rs.libxc_end);
	/* LIBXC_CONTEXT, the two emulator records and END; the libxc image's
	 * header records, PAGE_DATA, TSC, HVM_CONTEXT, HVM_PARAMS and END */
	assert_int_equal(e.rs.records, 4 + 3 + NPAGES / 1024 + 4);
	sg_buf_free(&b);
}

static void test_real_pv(void **s) { (void)s; real_stream("pv-xl-save.zst", false); }
static void test_real_pvh(void **s) { (void)s; real_stream("pvh-xl-save.zst", true); }

static void test_plain(void **s) { (void)s; e2e_xen(false, false, true, false); }
static void test_plain_zstd(void **s) { (void)s; e2e_xen(false, true, true, false); }
static void test_tls(void **s) { (void)s; e2e_xen(true, false, true, false); }
static void test_tls_zstd(void **s) { (void)s; e2e_xen(true, true, true, false); }
static void test_no_xl_header(void **s) { (void)s; e2e_xen(false, true, false, false); }
static void test_plain_xxh3(void **s) { (void)s; e2e_xen(false, false, false, true); }
static void test_tls_zstd_xxh3(void **s) { (void)s; e2e_xen(true, true, true, true); }

/* Opaque random bytes: zstd cannot shrink them, so they go raw. */
static void
test_raw_incompressible(void **state)
{
	struct e2e	 e = { .tls = true };
	size_t		 len = 3 * 1024 * 1024 + 17;
	uint8_t		*p = random_bytes(len);

	(void)state;
	e.sflags = e.rflags = MIG_RELAY_F_NO_PARSE | MIG_RELAY_F_ZSTD;
	e2e_run(&e, p, len);
	assert_int_equal(e.ss.pages, 0);
	assert_false(e.ss.libxl_end);
	/* raw frames: payload plus headers and STREAM_END */
	assert_true(e.ss.wire_bytes > len);
	free(p);
}

/*
 * Receiving over TLS the relay reads ahead.  Everything, including a
 * frame the peer sends right after STREAM_END, is on the wire before the
 * receiving relay starts, so OpenSSL reads that frame's record ahead with
 * the stream's last ones: it must still reach the caller's next read, and
 * read-ahead must be off again for the connection's next owner.
 */
static void
test_tls_after_end(void **state)
{
	struct mig_relay_conf	 c;
	struct mig_relay	*sr, *rr;
	struct mig_conn		*a, *b;
	struct mig_err		 err;
	struct io		 w, rd;
	pthread_t		 wt, rt;
	int			 ls[2], lr[2];
	size_t			 len = 32 * 1024;
	uint8_t			*p = random_bytes(len);
	char			 next[4];

	(void)state;
	conn_pair(true, &a, &b);
	assert_int_equal(mig_relay_socketpair(ls, &err), 0);
	assert_int_equal(mig_relay_socketpair(lr, &err), 0);
	conf_init(&c, MIG_RELAY_SEND, MIG_RELAY_F_NO_PARSE, ls[1], a);
	assert_non_null(sr = mig_relay_start(&c, &err));
	writer_start(&w, &wt, ls[0], p, len, false);
	if (mig_relay_join(sr, NULL, &err) == -1)
		fail_msg("send relay: %s", err.msg);
	pthread_join(wt, NULL);
	assert_int_equal(mig_conn_write_all(a, "NEXT", 4, 0, &err), 0);

	conf_init(&c, MIG_RELAY_RECV, MIG_RELAY_F_NO_PARSE, lr[1], b);
	assert_non_null(rr = mig_relay_start(&c, &err));
	memset(&rd, 0, sizeof(rd));
	rd.fd = lr[0];
	assert_int_equal(pthread_create(&rt, NULL, reader_main, &rd), 0);
	if (mig_relay_join(rr, NULL, &err) == -1)
		fail_msg("receive relay: %s", err.msg);
	pthread_join(rt, NULL);
	assert_int_equal(rd.gotlen, len);
	assert_memory_equal(rd.got, p, len);
	/* Read ahead (all of it fits MIG_TLS_READ_BUF), yet not turned on. */
	assert_true(SSL_has_pending(mig_conn_ssl(b)));
	assert_int_equal(SSL_get_read_ahead(mig_conn_ssl(b)), 0);
	assert_int_equal(mig_conn_read_full(b, next, 4, 0, &err), 0);
	assert_memory_equal(next, "NEXT", 4);
	free(rd.got);
	free(p);
	pair_close(a, b, ls, lr);
}

/* The limit changes (to none, then higher) mid-stream; a shared bucket too. */
static void
test_bw_change(void **state)
{
	struct e2e	 e = { .bw = 20 * 1000 * 1000, .change_bw = true };
	struct mig_err	 err;
	size_t		 len = 4 * 1024 * 1024;
	uint8_t		*p = random_bytes(len);

	(void)state;
	assert_non_null(e.shared = mig_bw_new(e.bw, &err));
	assert_int_equal(mig_bw_rate(e.shared), e.bw);
	e.sflags = e.rflags = MIG_RELAY_F_NO_PARSE;
	e2e_run(&e, p, len);
	assert_int_equal(mig_bw_rate(e.shared), 5 * e.bw);
	mig_bw_free(e.shared);
	free(p);
}

/* --- failures --- */

/* A receiving relay on conn b fed by hand through fd peer. */
struct recv_rig {
	struct mig_conn		*c;
	int			 peer;
	int			 lx[2];
	struct mig_relay	*r;
	struct io		 rd;
	pthread_t		 rt;
};

static void
rig_start_dir(struct recv_rig *g, enum mig_relay_dir dir, unsigned flags)
{
	struct mig_relay_conf	rc;
	struct mig_err		err;
	int			sv[2];

	memset(g, 0, sizeof(*g));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	g->peer = sv[0];
	assert_non_null(g->c = mig_conn_new(sv[1], &err));
	assert_int_equal(mig_relay_socketpair(g->lx, &err), 0);
	memset(&rc, 0, sizeof(rc));
	rc.dir = dir;
	rc.flags = flags;
	rc.local_fd = g->lx[1];
	rc.conn = g->c;
	rc.file_fd = -1;
	assert_non_null(g->r = mig_relay_start(&rc, &err));
	g->rd.fd = g->lx[0];
	assert_int_equal(pthread_create(&g->rt, NULL, reader_main, &g->rd),
	    0);
}

static void
rig_start_flags(struct recv_rig *g, unsigned flags)
{
	rig_start_dir(g, MIG_RELAY_RECV, MIG_RELAY_F_NO_PARSE | flags);
}

static void
rig_start(struct recv_rig *g)
{
	rig_start_flags(g, 0);
}

static void
peer_write(struct recv_rig *g, const void *p, size_t len)
{
	assert_int_equal(write(g->peer, p, len), (ssize_t)len);
}

static void
peer_data(struct recv_rig *g, const void *p, size_t len, bool zstd)
{
	uint8_t	hdr[MIG_FRAME_HDR_LEN];

	assert_int_equal(mig_data_hdr_encode(hdr, len, zstd, NULL), 0);
	peer_write(g, hdr, sizeof(hdr));
	peer_write(g, p, len);
}

static void
peer_msg(struct recv_rig *g, const struct mig_msg *m)
{
	uint8_t	buf[1024];
	size_t	len;

	assert_int_equal(mig_msg_encode(m, buf, sizeof(buf), &len, NULL), 0);
	peer_write(g, buf, len);
}

/* STREAM_END as the protocol defines it, computed here independently of
 * the relay: SHA-256, or XXH3-128 canonical then zeros. */
static void
peer_end_digest(struct recv_rig *g, const void *p, size_t len, bool xxh3)
{
	struct mig_msg		m;
	XXH128_canonical_t	c;

	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_STREAM_END;
	m.u.stream_end.bytes = len;
	if (xxh3) {
		XXH128_canonicalFromHash(&c, XXH3_128bits(p, len));
		memcpy(m.u.stream_end.digest, c.digest, sizeof(c.digest));
	} else
		assert_int_equal(EVP_Digest(p, len, m.u.stream_end.digest,
		    NULL, EVP_sha256(), NULL), 1);
	peer_msg(g, &m);
}

static void
peer_end(struct recv_rig *g, const void *p, size_t len)
{
	peer_end_digest(g, p, len, false);
}

/* Joins the relay; returns its error code.  The reader must see an end. */
static int
rig_finish(struct recv_rig *g, struct mig_err *err)
{
	int	rc;

	rc = mig_relay_join(g->r, NULL, err);
	pthread_join(g->rt, NULL);
	free(g->rd.got);
	close(g->peer);
	mig_conn_close(g->c);
	close(g->lx[0]);
	close(g->lx[1]);
	return rc == 0 ? MIG_OK : err->code;
}

static void
test_recv_ok_by_hand(void **state)
{
	struct recv_rig	 g;
	struct mig_err	 err;
	uint8_t		*p = random_bytes(100000);

	(void)state;
	rig_start(&g);
	peer_data(&g, p, 60000, false);
	peer_data(&g, p + 60000, 40000, false);
	peer_end(&g, p, 100000);
	/* Bytes after STREAM_END belong to the caller: never read. */
	peer_write(&g, "NEXT", 4);
	assert_int_equal(mig_relay_join(g.r, NULL, &err), 0);
	pthread_join(g.rt, NULL);
	assert_int_equal(g.rd.gotlen, 100000);
	assert_memory_equal(g.rd.got, p, 100000);
	{
		char	next[4];

		assert_int_equal(mig_conn_read_full(g.c, next, 4, 0, &err), 0);
		assert_memory_equal(next, "NEXT", 4);
	}
	g.r = NULL;
	free(g.rd.got);
	close(g.peer);
	mig_conn_close(g.c);
	close(g.lx[0]);
	close(g.lx[1]);
	free(p);
}

static void
test_bad_hash(void **state)
{
	struct recv_rig	 g;
	struct mig_err	 err;
	uint8_t		*p = random_bytes(5000), *q = malloc(5000);

	(void)state;
	memcpy(q, p, 5000);
	q[1234] ^= 1;
	rig_start(&g);
	peer_data(&g, q, 5000, false);	/* corrupted on the way */
	peer_end(&g, p, 5000);
	assert_int_equal(rig_finish(&g, &err), MIG_E_CORRUPT);
	assert_non_null(strstr(err.msg, "SHA-256"));
	free(p);
	free(q);
}

/* XXH3 by hand: the layout of the field, a corrupted byte, and a peer
 * that hashed with the other algorithm, are each what the receiver sees. */
static void
xxh3_case(bool corrupt, bool peer_xxh3, int want)
{
	struct recv_rig	 g;
	struct mig_err	 err;
	uint8_t		*p = random_bytes(70000), *q = malloc(70000);

	memcpy(q, p, 70000);
	if (corrupt)
		q[69999] ^= 0x80;
	rig_start_flags(&g, MIG_RELAY_F_XXH3);
	peer_data(&g, q, 30000, false);
	peer_data(&g, q + 30000, 40000, false);
	peer_end_digest(&g, p, 70000, peer_xxh3);
	assert_int_equal(rig_finish(&g, &err), want);
	if (want != MIG_OK)
		assert_non_null(strstr(err.msg, "XXH3-128"));
	free(p);
	free(q);
}
static void test_xxh3_ok(void **s) { (void)s; xxh3_case(false, true, MIG_OK); }
static void test_xxh3_bad(void **s) { (void)s; xxh3_case(true, true, MIG_E_CORRUPT); }
static void test_xxh3_vs_sha(void **s) { (void)s; xxh3_case(false, false, MIG_E_CORRUPT); }

static void
test_bad_byte_count(void **state)
{
	struct recv_rig	 g;
	struct mig_err	 err;
	uint8_t		*p = random_bytes(5000);

	(void)state;
	rig_start(&g);
	peer_data(&g, p, 4000, false);
	peer_end(&g, p, 5000);
	assert_int_equal(rig_finish(&g, &err), MIG_E_CORRUPT);
	free(p);
}

static void
test_bad_zstd(void **state)
{
	struct recv_rig	g;
	struct mig_err	err;
	uint8_t		junk[64];

	(void)state;
	memset(junk, 0xa5, sizeof(junk));
	rig_start_flags(&g, MIG_RELAY_F_ZSTD);
	peer_data(&g, junk, sizeof(junk), true);
	assert_int_equal(rig_finish(&g, &err), MIG_E_PROTO);
}

/* A zstd frame where compression was not granted is not decompressed. */
static void
test_zstd_not_granted(void **state)
{
	struct recv_rig	g;
	struct mig_err	err;
	uint8_t		z[64];
	size_t		zn;

	(void)state;
	zn = ZSTD_compress(z, sizeof(z), "LibxlFmt", 8, 1);
	assert_false(ZSTD_isError(zn));
	rig_start(&g);
	peer_data(&g, z, zn, true);
	assert_int_equal(rig_finish(&g, &err), MIG_E_PROTO);
	assert_non_null(strstr(err.msg, "compression was not granted"));
}

/* A small frame that would inflate past the bound is refused. */
static void
test_zstd_bomb(void **state)
{
	struct recv_rig	 g;
	struct mig_err	 err;
	size_t		 big = MIG_RELAY_CHUNK_MAX + 1, cap, zn;
	uint8_t		*zero = calloc(1, big), *z;

	(void)state;
	cap = ZSTD_compressBound(big);
	z = malloc(cap);
	zn = ZSTD_compress(z, cap, zero, big, 1);
	assert_false(ZSTD_isError(zn));
	rig_start_flags(&g, MIG_RELAY_F_ZSTD);
	peer_data(&g, z, zn, true);
	assert_int_equal(rig_finish(&g, &err), MIG_E_PROTO);
	assert_non_null(strstr(err.msg, "decompresses to more than"));
	free(zero);
	free(z);
}

static void
test_bad_header(void **state)
{
	struct recv_rig	g;
	struct mig_err	err;
	static const uint8_t junk[MIG_FRAME_HDR_LEN] = { 0xff, 0xff, 0xff,
	    0xff, 0, MIG_MSG_DATA, 0, 0 };

	(void)state;
	rig_start(&g);
	peer_write(&g, junk, sizeof(junk));
	assert_int_not_equal(rig_finish(&g, &err), MIG_OK);
}

static void
test_unexpected_frame(void **state)
{
	struct recv_rig	g;
	struct mig_err	err;
	struct mig_msg	m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_COMMIT;
	rig_start(&g);
	peer_data(&g, "abc", 3, false);
	peer_msg(&g, &m);
	assert_int_equal(rig_finish(&g, &err), MIG_E_PROTO);
	assert_non_null(strstr(err.msg, "COMMIT"));
}

static void
test_peer_error(void **state)
{
	struct recv_rig	g;
	struct mig_err	err;
	struct mig_msg	m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_ERROR;
	m.u.error.code = MIG_E_HV;
	mig_text_set(m.u.error.text, "libxl_domain_suspend failed");
	rig_start(&g);
	peer_msg(&g, &m);
	assert_int_equal(rig_finish(&g, &err), MIG_E_HV);
	assert_non_null(strstr(err.msg, "libxl_domain_suspend failed"));
}

/* The sender dies mid-frame: EOF for the relay and for libxl's reader. */
static void
test_recv_peer_dies(void **state)
{
	struct recv_rig	 g;
	struct mig_err	 err;
	uint8_t		 hdr[MIG_FRAME_HDR_LEN];
	uint8_t		*p = random_bytes(10000);

	(void)state;
	rig_start(&g);
	peer_data(&g, p, 3000, false);
	assert_int_equal(mig_data_hdr_encode(hdr, 10000, false, NULL), 0);
	peer_write(&g, hdr, sizeof(hdr));
	peer_write(&g, p, 5000);
	close(g.peer);
	g.peer = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(rig_finish(&g, &err), MIG_E_EOF);
	free(p);
}

/*
 * The receiver dies mid-stream: the sending relay fails and libxl's
 * writer gets EPIPE instead of blocking forever.
 */
static void
send_peer_trouble(bool speak)
{
	struct mig_relay_conf	 sc;
	struct mig_relay	*r;
	struct mig_conn		*c;
	struct mig_err		 err;
	struct mig_msg		 m;
	struct io		 w;
	pthread_t		 wt;
	size_t			 len = 32 * 1024 * 1024;
	uint8_t			*p = random_bytes(len), buf[65536], out[1024];
	size_t			 olen;
	int			 sv[2], lx[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_non_null(c = mig_conn_new(sv[1], &err));
	assert_int_equal(mig_relay_socketpair(lx, &err), 0);
	conf_init(&sc, MIG_RELAY_SEND, MIG_RELAY_F_NO_PARSE, lx[1], c);
	assert_non_null(r = mig_relay_start(&sc, &err));
	writer_start(&w, &wt, lx[0], p, len, true);
	assert_true(read(sv[0], buf, sizeof(buf)) > 0);
	if (speak) {
		/* An ERROR, then no more reading: the sender must notice. */
		memset(&m, 0, sizeof(m));
		m.type = MIG_MSG_ERROR;
		m.u.error.code = MIG_E_HV;
		assert_int_equal(mig_msg_encode(&m, out, sizeof(out), &olen,
		    NULL), 0);
		assert_int_equal(write(sv[0], out, olen), (ssize_t)olen);
	} else
		close(sv[0]);
	assert_int_equal(mig_relay_join(r, NULL, &err), -1);
	if (speak)
		assert_int_equal(err.code, MIG_E_PROTO);
	pthread_join(wt, NULL);
	assert_int_equal(w.err, EPIPE);
	if (speak) {
		/* The relay left the ERROR frame for the caller to read. */
		assert_int_equal(mig_conn_read_full(c, buf, olen, 0, &err), 0);
		assert_memory_equal(buf, out, olen);
		close(sv[0]);
	}
	mig_conn_close(c);
	close(lx[0]);
	close(lx[1]);
	free(p);
}

static void test_send_peer_dies(void **s) { (void)s; send_peer_trouble(false); }
static void test_send_peer_speaks(void **s) { (void)s; send_peer_trouble(true); }

/* Cancel while blocked: on libxl (SEND) and on the network (RECV). */
static void
cancel_blocked(enum mig_relay_dir dir)
{
	struct mig_relay_conf	 sc;
	struct mig_relay	*r;
	struct mig_conn		*c;
	struct mig_err		 err;
	struct mig_relay_stats	 st;
	int			 sv[2], lx[2];
	char			 b;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_non_null(c = mig_conn_new(sv[1], &err));
	assert_int_equal(mig_relay_socketpair(lx, &err), 0);
	conf_init(&sc, dir, 0, lx[1], c);
	assert_non_null(r = mig_relay_start(&sc, &err));
	usleep(10000);
	mig_relay_stats(r, &st);
	assert_false(st.done);
	mig_relay_cancel(r);
	mig_relay_cancel(r);
	assert_int_equal(mig_relay_join(r, NULL, &err), -1);
	assert_int_equal(err.code, MIG_E_CANCELLED);
	/* libxl's end sees the end, not silence. */
	assert_int_equal(read(lx[0], &b, 1), 0);
	close(sv[0]);
	mig_conn_close(c);
	close(lx[0]);
	close(lx[1]);
}

static void test_cancel_send(void **s) { (void)s; cancel_blocked(MIG_RELAY_SEND); }
static void test_cancel_recv(void **s) { (void)s; cancel_blocked(MIG_RELAY_RECV); }

/* Cancel during a long bandwidth wait. */
static void
test_cancel_bw_wait(void **state)
{
	struct mig_relay_conf	 sc;
	struct mig_relay	*r;
	struct mig_conn		*c;
	struct mig_err		 err;
	struct io		 w, rd;
	pthread_t		 wt, rt;
	size_t			 len = 64 * 1024 * 1024;
	uint8_t			*p = calloc(1, len);	/* more than any buffer */
	int			 sv[2], lx[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_non_null(c = mig_conn_new(sv[1], &err));
	assert_int_equal(mig_relay_socketpair(lx, &err), 0);
	conf_init(&sc, MIG_RELAY_SEND, MIG_RELAY_F_NO_PARSE, lx[1], c);
	sc.bw_limit = 1000;		/* a frame is minutes of debt */
	assert_non_null(r = mig_relay_start(&sc, &err));
	memset(&rd, 0, sizeof(rd));
	rd.fd = sv[0];
	writer_start(&w, &wt, lx[0], p, len, true);
	assert_int_equal(pthread_create(&rt, NULL, reader_main, &rd), 0);
	usleep(50000);
	mig_relay_cancel(r);
	assert_int_equal(mig_relay_join(r, NULL, &err), -1);
	assert_int_equal(err.code, MIG_E_CANCELLED);
	pthread_join(wt, NULL);
	assert_int_equal(w.err, EPIPE);
	mig_conn_close(c);		/* the reader sees EOF */
	pthread_join(rt, NULL);
	assert_true(rd.gotlen < len);
	free(rd.got);
	close(sv[0]);
	close(lx[0]);
	close(lx[1]);
	free(p);
}

/* --- files --- */

static void
test_file_round_trip(void **state)
{
	struct mig_relay_conf	 fc;
	struct mig_relay	*r;
	struct mig_relay_stats	 st;
	struct mig_err		 err;
	struct sg_buf		 b;
	struct io		 w, rd;
	pthread_t		 t;
	char			 path[sizeof(tc.dir) + 8];
	int			 lx[2], fd;

	(void)state;
	gen_stream(&b, true, sg_pattern_page);
	snprintf(path, sizeof(path), "%s/image", tc.dir);
	assert_true((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) >= 0);
	/* save */
	assert_int_equal(mig_relay_socketpair(lx, &err), 0);
	conf_init(&fc, MIG_RELAY_TO_FILE, 0, lx[1], NULL);
	fc.file_fd = fd;
	assert_non_null(r = mig_relay_start(&fc, &err));
	writer_start(&w, &t, lx[0], b.p, b.len, false);
	pthread_join(t, NULL);
	assert_int_equal(mig_relay_join(r, &st, &err), 0);
	assert_int_equal(st.wire_bytes, b.len);
	assert_int_equal(st.pages, NPAGES);
	assert_true(st.libxl_end);
	close(lx[1]);
	/* restore */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(mig_relay_socketpair(lx, &err), 0);
	fc.dir = MIG_RELAY_FROM_FILE;
	fc.local_fd = lx[1];
	assert_non_null(r = mig_relay_start(&fc, &err));
	memset(&rd, 0, sizeof(rd));
	rd.fd = lx[0];
	assert_int_equal(pthread_create(&t, NULL, reader_main, &rd), 0);
	pthread_join(t, NULL);
	assert_int_equal(mig_relay_join(r, &st, &err), 0);
	assert_int_equal(rd.gotlen, b.len);
	assert_memory_equal(rd.got, b.p, b.len);
	assert_int_equal(st.pages, NPAGES);
	free(rd.got);
	close(lx[0]);
	close(lx[1]);
	close(fd);
	unlink(path);
	sg_buf_free(&b);
}

static void
test_bad_conf(void **state)
{
	struct mig_relay_conf	c;
	struct mig_err		err;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.dir = MIG_RELAY_SEND;
	c.local_fd = 0;
	c.file_fd = -1;
	assert_null(mig_relay_start(&c, &err));		/* no conn */
	assert_int_equal(err.code, MIG_E_INVAL);
	c.dir = MIG_RELAY_TO_FILE;
	c.file_fd = 1;
	c.flags = MIG_RELAY_F_ZSTD;			/* zstd on a file */
	assert_null(mig_relay_start(&c, &err));
	assert_int_equal(err.code, MIG_E_INVAL);
	c.flags = 0x80;
	assert_null(mig_relay_start(&c, &err));
	assert_int_equal(err.code, MIG_E_INVAL);
	c.flags = 0;
	c.chunk = MIG_RELAY_CHUNK_MAX + 1;
	assert_null(mig_relay_start(&c, &err));
	assert_int_equal(err.code, MIG_E_INVAL);
}

/* --- raw receive: xl's migrate channel --- */

/* A small stream (4 pages), so that one write lands in one read. */
static void
gen_small(struct sg_buf *b)
{
	struct sg_opts	o = { .no_xl_header = true, .p2m_size = 4 };
	struct sg	g;
	uint64_t	pfns[4] = { 0, 1, 2, 3 };

	memset(b, 0, sizeof(*b));
	assert_int_equal(sg_begin(&g, &o, sg_buf_write, b), 0);
	assert_int_equal(sg_pages(&g, pfns, 4, sparse_page, NULL), 0);
	assert_int_equal(sg_end(&g), 0);
}

static void
test_raw_ok(void **state)
{
	struct recv_rig		g;
	struct mig_relay_stats	st;
	struct mig_err		err;
	struct sg_buf		b;
	char			next[4];

	(void)state;
	gen_stream(&b, false, sparse_page);
	rig_start_dir(&g, MIG_RELAY_RECV_RAW, MIG_RELAY_F_NO_XL_HEADER);
	peer_write(&g, b.p, b.len);
	assert_int_equal(mig_relay_join(g.r, &st, &err), 0);
	pthread_join(g.rt, NULL);
	/* Up to END, all of it, and the reader saw the end. */
	assert_int_equal(g.rd.gotlen, b.len);
	assert_memory_equal(g.rd.got, b.p, b.len);
	assert_int_equal(st.pages, NPAGES);
	assert_true(st.libxl_end);
	/* What comes after END (xl's go-ahead) is the caller's. */
	peer_write(&g, "NEXT", 4);
	assert_int_equal(mig_conn_read_full(g.c, next, 4, 0, &err), 0);
	assert_memory_equal(next, "NEXT", 4);
	free(g.rd.got);
	close(g.peer);
	mig_conn_close(g.c);
	close(g.lx[0]);
	close(g.lx[1]);
	sg_buf_free(&b);
}

static void
test_raw_bytes_after_end(void **state)
{
	struct recv_rig	g;
	struct mig_err	err;
	struct sg_buf	b;

	(void)state;
	gen_small(&b);
	assert_int_equal(sg_buf_write(&b, "domain is", 9), 0);
	rig_start_dir(&g, MIG_RELAY_RECV_RAW, MIG_RELAY_F_NO_XL_HEADER);
	peer_write(&g, b.p, b.len);
	assert_int_equal(rig_finish(&g, &err), MIG_E_PROTO);
	assert_non_null(strstr(err.msg, "after the end"));
	sg_buf_free(&b);
}

static void
test_raw_truncated(void **state)
{
	struct recv_rig	g;
	struct mig_err	err;
	struct sg_buf	b;

	(void)state;
	gen_small(&b);
	rig_start_dir(&g, MIG_RELAY_RECV_RAW, MIG_RELAY_F_NO_XL_HEADER);
	peer_write(&g, b.p, b.len / 2);
	shutdown(g.peer, SHUT_WR);
	assert_int_equal(rig_finish(&g, &err), MIG_E_EOF);
	/* libxl's reader saw the end too (rig_finish joined it). */
	sg_buf_free(&b);
}

static void
test_raw_garbage(void **state)
{
	struct recv_rig	 g;
	struct mig_err	 err;
	uint8_t		*p = random_bytes(4096);

	(void)state;
	rig_start_dir(&g, MIG_RELAY_RECV_RAW, MIG_RELAY_F_NO_XL_HEADER);
	peer_write(&g, p, 4096);
	assert_int_equal(rig_finish(&g, &err), MIG_E_CORRUPT);
	free(p);
}

static void
test_raw_conf(void **state)
{
	struct mig_relay_conf	rc;
	struct mig_err		err;

	(void)state;
	memset(&rc, 0, sizeof(rc));
	rc.dir = MIG_RELAY_RECV_RAW;
	rc.local_fd = 0;
	rc.conn = (struct mig_conn *)&rc;	/* never used: refused first */
	rc.flags = MIG_RELAY_F_NO_PARSE;
	assert_null(mig_relay_start(&rc, &err));
	assert_int_equal(err.code, MIG_E_INVAL);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_plain_zstd),
		cmocka_unit_test(test_credit_plain),
		cmocka_unit_test(test_credit_tls),
		cmocka_unit_test(test_no_credit),
		cmocka_unit_test(test_credit_raw_plain),
		cmocka_unit_test(test_credit_raw_tls),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_tls_zstd),
		cmocka_unit_test(test_no_xl_header),
		cmocka_unit_test(test_plain_xxh3),
		cmocka_unit_test(test_tls_zstd_xxh3),
		cmocka_unit_test(test_xxh3_ok),
		cmocka_unit_test(test_xxh3_bad),
		cmocka_unit_test(test_xxh3_vs_sha),
		cmocka_unit_test(test_raw_incompressible),
		cmocka_unit_test(test_tls_after_end),
		cmocka_unit_test(test_bw_change),
		cmocka_unit_test(test_recv_ok_by_hand),
		cmocka_unit_test(test_raw_ok),
		cmocka_unit_test(test_raw_bytes_after_end),
		cmocka_unit_test(test_raw_truncated),
		cmocka_unit_test(test_raw_garbage),
		cmocka_unit_test(test_raw_conf),
		cmocka_unit_test(test_bad_hash),
		cmocka_unit_test(test_bad_byte_count),
		cmocka_unit_test(test_bad_zstd),
		cmocka_unit_test(test_zstd_bomb),
		cmocka_unit_test(test_zstd_not_granted),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_unexpected_frame),
		cmocka_unit_test(test_peer_error),
		cmocka_unit_test(test_recv_peer_dies),
		cmocka_unit_test(test_send_peer_dies),
		cmocka_unit_test(test_send_peer_speaks),
		cmocka_unit_test(test_cancel_send),
		cmocka_unit_test(test_cancel_recv),
		cmocka_unit_test(test_cancel_bw_wait),
		cmocka_unit_test(test_file_round_trip),
		cmocka_unit_test(test_bad_conf),
		cmocka_unit_test(test_hvm_emulator),
		cmocka_unit_test(test_real_pv),
		cmocka_unit_test(test_real_pvh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
