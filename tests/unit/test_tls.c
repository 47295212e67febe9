/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TLS between a server thread and a client (the test's main thread) over a
 * socketpair, with certificates generated for the run (testcert.h).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mig/acl.h"
#include "mig/conn.h"
#include "conn_int.h"	/* the socket and SSL, for white-box checks */
#include "mig/tls.h"
#include "testcert.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define TIMEOUT_MS	5000		/* only bounds a broken test */
#define UP_LEN		(1024 * 1024)	/* client to server */
#define DOWN_LEN	(256 * 1024)	/* server to client */

static struct testcert	tc;

struct side {
	SSL_CTX		*ctx;
	struct mig_conn	*conn;
	int		 rc;		/* handshake result */
	int		 data_ok;	/* exchange completed and verified */
	struct mig_err	 err;
	char		*names[8];	/* server: the client's cert names */
	int		 nnames;
	int		 ktls;		/* mig_conn_ktls() after the handshake */
};

static int
verify(const uint8_t *p, size_t len, unsigned seed)
{
	uint8_t	*want = malloc(len);
	int	 ok;

	testcert_pattern(want, len, seed);
	ok = memcmp(want, p, len) == 0;
	free(want);
	return ok;
}

#define HELLO		"hello, server.."	/* 16 bytes with the NUL */

/*
 * The exchange mimics the protocol: the client speaks first with a short
 * message, then each side sends a large block in turn.
 */
static void *
server_main(void *arg)
{
	struct side	*s = arg;
	uint64_t	 dl;
	uint8_t		*buf;

	s->rc = mig_conn_tls_server(s->conn, s->ctx, TIMEOUT_MS, &s->err);
	if (s->rc == -1)
		return NULL;
	s->nnames = mig_tls_peer_names(mig_conn_ssl(s->conn), s->names,
	    NELEM(s->names));
	s->ktls = mig_conn_ktls(s->conn);
	buf = malloc(UP_LEN);
	dl = mig_deadline(TIMEOUT_MS);
	if (mig_conn_read_full(s->conn, buf, sizeof(HELLO), dl, &s->err) ||
	    memcmp(buf, HELLO, sizeof(HELLO)) != 0)
		goto out;
	testcert_pattern(buf, DOWN_LEN, 2);
	if (mig_conn_write_all(s->conn, buf, DOWN_LEN, dl, &s->err) == 0 &&
	    mig_conn_read_full(s->conn, buf, UP_LEN, dl, &s->err) == 0)
		s->data_ok = verify(buf, UP_LEN, 1);
out:
	free(buf);
	return NULL;
}

static void
client_run(struct side *c, const char *host)
{
	uint64_t	 dl;
	uint8_t		*buf;

	c->rc = mig_conn_tls_client(c->conn, c->ctx, host, TIMEOUT_MS,
	    &c->err);
	if (c->rc == -1)
		return;
	c->ktls = mig_conn_ktls(c->conn);
	buf = malloc(UP_LEN);
	dl = mig_deadline(TIMEOUT_MS);
	/* With TLS 1.3 the server judges our certificate after our side of
	 * the handshake is done: a refusal arrives as an alert on the first
	 * read. */
	if (mig_conn_write_all(c->conn, HELLO, sizeof(HELLO), dl,
	    &c->err) == 0 &&
	    mig_conn_read_full(c->conn, buf, DOWN_LEN, dl, &c->err) == 0 &&
	    verify(buf, DOWN_LEN, 2)) {
		testcert_pattern(buf, UP_LEN, 1);
		c->data_ok = mig_conn_write_all(c->conn, buf, UP_LEN, dl,
		    &c->err) == 0;
	}
	free(buf);
}

static SSL_CTX *
server_ctx_crl(const struct mig_acl *peers_allow, int optional,
    const char *crl)
{
	struct mig_tls_conf	conf = {
		.cert_file = tc.server.cert, .key_file = tc.server.key,
		.ca_file = tc.ca, .client_cert_optional = optional,
		.peers_allow = peers_allow, .crl_file = crl,
	};
	struct mig_err		err;
	SSL_CTX			*ctx;

	if ((ctx = mig_tls_server_ctx(&conf, &err)) == NULL)
		fail_msg("server ctx: %s", err.msg);
	return ctx;
}

static SSL_CTX *
server_ctx(const struct mig_acl *peers_allow, int optional)
{
	return server_ctx_crl(peers_allow, optional, NULL);
}

static SSL_CTX *
client_ctx(const struct testcert_pair *pair, const char *ca, int ktls)
{
	struct mig_tls_conf	conf = {
		.cert_file = pair != NULL ? pair->cert : NULL,
		.key_file = pair != NULL ? pair->key : NULL,
		.ca_file = ca, .ktls = ktls,
	};
	struct mig_err		err;
	SSL_CTX			*ctx;

	if ((ctx = mig_tls_client_ctx(&conf, &err)) == NULL)
		fail_msg("client ctx: %s", err.msg);
	return ctx;
}

/* A loopback TCP pair (a accepted, b connected): kernel TLS needs TCP. */
static void
tcp_conn_pair(struct mig_conn **a, struct mig_conn **b)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);
	struct pollfd		pfd = { .events = POLLIN };
	struct mig_err		err;
	char			port[8];

	if ((pfd.fd = mig_conn_listen("127.0.0.1", "0", 1, 0, &err)) == -1)
		fail_msg("%s", err.msg);
	assert_int_equal(getsockname(pfd.fd, (struct sockaddr *)&sin, &sl),
	    0);
	snprintf(port, sizeof(port), "%u", ntohs(sin.sin_port));
	if ((*b = mig_conn_connect("127.0.0.1", port, TIMEOUT_MS,
	    &err)) == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(poll(&pfd, 1, TIMEOUT_MS), 1);
	if ((*a = mig_conn_accept_fd(pfd.fd, &err)) == NULL)
		fail_msg("%s", err.msg);
	close(pfd.fd);
}

static void
conn_pair(struct mig_conn **a, struct mig_conn **b)
{
	int	sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_non_null(*a = mig_conn_new(sv[0], NULL));
	assert_non_null(*b = mig_conn_new(sv[1], NULL));
}

/*
 * One client/server run; the contexts are consumed.  The client's
 * connection is closed once the server is done so that a client blocked
 * on a refused handshake sees the end.
 */
static void
run_on(int tcp, SSL_CTX *sctx, SSL_CTX *cctx, const char *host,
    struct side *s, struct side *c)
{
	pthread_t	t;

	memset(s, 0, sizeof(*s));
	memset(c, 0, sizeof(*c));
	s->ctx = sctx;
	c->ctx = cctx;
	if (tcp)
		tcp_conn_pair(&s->conn, &c->conn);
	else
		conn_pair(&s->conn, &c->conn);
	assert_int_equal(pthread_create(&t, NULL, server_main, s), 0);
	client_run(c, host);
	/* A client that failed alone must not leave the server waiting. */
	if (c->rc == -1 || !c->data_ok)
		shutdown(mig_conn_fd(c->conn), SHUT_RDWR);
	pthread_join(t, NULL);
	mig_conn_close(s->conn);
	mig_conn_close(c->conn);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

static void
run(SSL_CTX *sctx, SSL_CTX *cctx, const char *host, struct side *s,
    struct side *c)
{
	run_on(0, sctx, cctx, host, s, c);
}

static void
side_done(struct side *s)
{
	if (s->nnames > 0)
		mig_tls_free_names(s->names, s->nnames);
}

static void
assert_err(const struct mig_err *err, int code, const char *substr)
{
	if (err->code != code || strstr(err->msg, substr) == NULL)
		fail_msg("want %s \"%s\", got %s \"%s\"",
		    mig_errcode_name(code), substr,
		    mig_errcode_name(err->code), err->msg);
}

static void
test_good(void **state)
{
	static const char	*hosts[] = { "localhost", "127.0.0.1", "::1" };
	struct side		 s, c;
	size_t			 i;

	for (i = 0; i < NELEM(hosts); i++) {
		run(server_ctx(NULL, 0), client_ctx(&tc.client, tc.ca, 0),
		    hosts[i], &s, &c);
		if (s.rc != 0 || c.rc != 0)
			fail_msg("%s: server: %s; client: %s", hosts[i],
			    s.err.msg, c.err.msg);
		assert_true(s.data_ok);
		assert_true(c.data_ok);
		/* the SANs name it; its CN does not, once it has SANs */
		assert_int_equal(s.nnames, 1);
		assert_string_equal(s.names[0], "relocd-client.example");
		side_done(&s);
	}
}

static void
test_ktls_flag(void **state)
{
	struct side	s, c;

	/* Kernel TLS may or may not be there (the "tls" module, TCP only);
	 * either way data must flow, and only where it was asked for. */
	run_on(1, server_ctx(NULL, 0), client_ctx(&tc.client, tc.ca, 1),
	    "localhost", &s, &c);
	assert_int_equal(s.rc, 0);
	assert_int_equal(c.rc, 0);
	assert_true(s.data_ok && c.data_ok);
	assert_int_equal(s.ktls, 0);
	print_message("kernel TLS on the client: tx %s, rx %s\n",
	    c.ktls & MIG_KTLS_TX ? "yes" : "no",
	    c.ktls & MIG_KTLS_RX ? "yes" : "no");
	side_done(&s);
}

static void
test_client_wrong_ca(void **state)
{
	struct side	s, c;

	run(server_ctx(NULL, 0), client_ctx(&tc.foreign, tc.ca, 0),
	    "localhost", &s, &c);
	assert_int_equal(s.rc, -1);
	assert_err(&s.err, MIG_E_TLS, "certificate verify failed: unable to "
	    "get local issuer certificate (peer local)");
	assert_false(c.data_ok);
	assert_err(&c.err, MIG_E_TLS, "unknown ca");
}

static void
test_client_expired(void **state)
{
	struct side	s, c;

	run(server_ctx(NULL, 0), client_ctx(&tc.expired, tc.ca, 0),
	    "localhost", &s, &c);
	assert_int_equal(s.rc, -1);
	assert_err(&s.err, MIG_E_TLS, "certificate expired");
	assert_false(c.data_ok);
	assert_err(&c.err, MIG_E_TLS, "refused the TLS read: sslv3 alert "
	    "certificate expired");
}

static void
test_client_no_cert(void **state)
{
	struct side	s, c;

	run(server_ctx(NULL, 0), client_ctx(NULL, tc.ca, 0), "localhost",
	    &s, &c);
	assert_int_equal(s.rc, -1);
	assert_err(&s.err, MIG_E_TLS, "peer sent no certificate");
	assert_false(c.data_ok);
	assert_err(&c.err, MIG_E_TLS, "requires a client certificate");

	/* client_cert_optional relaxes it */
	run(server_ctx(NULL, 1), client_ctx(NULL, tc.ca, 0), "localhost",
	    &s, &c);
	assert_int_equal(s.rc, 0);
	assert_true(s.data_ok && c.data_ok);
	assert_int_equal(s.nnames, 0);
}

static void
test_peers_allow(void **state)
{
	const char	*pats[] = { "relocd-client\\.example" };
	struct mig_acl	*acl = mig_acl_new(pats, NELEM(pats), NULL);
	struct side	 s, c;

	assert_non_null(acl);
	/* admitted by its SAN */
	run(server_ctx(acl, 0), client_ctx(&tc.client, tc.ca, 0),
	    "localhost", &s, &c);
	assert_int_equal(s.rc, 0);
	assert_true(s.data_ok && c.data_ok);
	side_done(&s);

	/* signed by the CA, but not a name the list admits */
	run(server_ctx(acl, 0), client_ctx(&tc.wrongcn, tc.ca, 0),
	    "localhost", &s, &c);
	assert_int_equal(s.rc, -1);
	assert_err(&s.err, MIG_E_DENIED, "not admitted by tls-peers-allow");
	assert_non_null(strstr(s.err.msg, "(intruder.example)"));
	/* the handshake succeeded; the server then closes with close_notify */
	assert_false(c.data_ok);
	assert_err(&c.err, MIG_E_EOF, "closed");

	/* with optional client certs, peers-allow still demands one */
	run(server_ctx(acl, 1), client_ctx(NULL, tc.ca, 0), "localhost",
	    &s, &c);
	assert_int_equal(s.rc, -1);
	assert_err(&s.err, MIG_E_DENIED, "peer sent no certificate");
	assert_int_equal(c.err.code, MIG_E_EOF);
	mig_acl_free(acl);
}

static void
test_server_name_mismatch(void **state)
{
	static const char	*hosts[] = { "otherhost.example", "192.0.2.1",
	    "local" };
	struct side		 s, c;
	size_t			 i;

	for (i = 0; i < NELEM(hosts); i++) {
		run(server_ctx(NULL, 0), client_ctx(&tc.client, tc.ca, 0),
		    hosts[i], &s, &c);
		assert_int_equal(c.rc, -1);
		assert_err(&c.err, MIG_E_TLS, "host name mismatch");
		assert_non_null(strstr(c.err.msg, hosts[i]));
		assert_int_equal(s.rc, -1);
		assert_err(&s.err, MIG_E_TLS, "refused the TLS handshake");
	}
}

static void
test_server_wrong_ca(void **state)
{
	struct side	s, c;

	run(server_ctx(NULL, 0), client_ctx(&tc.client, tc.other_ca, 0),
	    "localhost", &s, &c);
	assert_int_equal(c.rc, -1);
	/* The server sends its chain up to the root, which the client does
	 * not trust. */
	assert_err(&c.err, MIG_E_TLS, "certificate verify failed: "
	    "self-signed certificate in certificate chain (peer local)");
	assert_int_equal(s.rc, -1);
	assert_err(&s.err, MIG_E_TLS, "unknown ca");
}

/* Send raw bytes at a TLS server and return its verdict. */
static void
plaintext_to_server(const char *bytes, struct mig_err *err)
{
	struct mig_conn	*a, *b;
	SSL_CTX		*ctx = server_ctx(NULL, 0);

	conn_pair(&a, &b);
	assert_int_equal(mig_conn_write_all(b, bytes, strlen(bytes), 0, NULL),
	    0);
	assert_int_equal(mig_conn_tls_server(a, ctx, TIMEOUT_MS, err), -1);
	assert_null(mig_conn_ssl(a));
	mig_conn_close(a);
	mig_conn_close(b);
	SSL_CTX_free(ctx);
}

static void
test_plaintext_detected(void **state)
{
	struct mig_err	err;

	plaintext_to_server("XENRELOC 1\n", &err);
	assert_err(&err, MIG_E_PROTO, "plaintext on TLS port");
	assert_non_null(strstr(err.msg, "XENRELOC"));
	plaintext_to_server("GET / HTTP/1.0\r\n\r\n", &err);
	assert_err(&err, MIG_E_PROTO, "plaintext on TLS port");
	assert_non_null(strstr(err.msg, "HTTP"));
	plaintext_to_server("\x01\x02", &err);
	assert_err(&err, MIG_E_PROTO, "0x01");

	/* the sniffer on its own: only a handshake record passes */
	assert_int_equal(mig_tls_sniff((const uint8_t *)"\x16\x03\x01", 3,
	    "p", NULL), 0);
	assert_int_equal(mig_tls_sniff((const uint8_t *)"XEN", 3, "p", &err),
	    -1);
	assert_non_null(strstr(err.msg, "XENRELOC"));
}

static void *
plaintext_server_main(void *arg)
{
	struct mig_conn	*c = arg;
	char		 buf[64];

	/* answer a ClientHello with our plaintext banner */
	if (mig_conn_read_some(c, buf, sizeof(buf), 0, NULL) > 0)
		mig_conn_write_all(c, "XENRELOC 1\n", 11, 0, NULL);
	return NULL;
}

static void
test_client_to_plaintext_server(void **state)
{
	struct mig_conn	*a, *b;
	SSL_CTX		*ctx = client_ctx(&tc.client, tc.ca, 0);
	struct mig_err	 err;
	pthread_t	 t;

	conn_pair(&a, &b);
	assert_int_equal(pthread_create(&t, NULL, plaintext_server_main, b),
	    0);
	assert_int_equal(mig_conn_tls_client(a, ctx, "localhost", TIMEOUT_MS,
	    &err), -1);
	pthread_join(t, NULL);
	assert_err(&err, MIG_E_PROTO, "does not speak TLS");
	mig_conn_close(a);
	mig_conn_close(b);
	SSL_CTX_free(ctx);
}

static void
test_handshake_timeout(void **state)
{
	struct mig_conn	*a, *b;
	SSL_CTX		*ctx = server_ctx(NULL, 0);
	struct mig_err	 err;

	conn_pair(&a, &b);
	/* the client never says anything */
	assert_int_equal(mig_conn_tls_server(a, ctx, 50, &err), -1);
	assert_err(&err, MIG_E_TIMEOUT, "timed out");
	mig_conn_close(a);
	mig_conn_close(b);
	SSL_CTX_free(ctx);
}

static void *
handshake_main(void *arg)
{
	struct side	*s = arg;

	s->rc = mig_conn_tls_server(s->conn, s->ctx, TIMEOUT_MS, &s->err);
	return NULL;
}

/* Two connected TLS connections, for I/O tests. */
static void
handshaken_pair(struct mig_conn **srv, struct mig_conn **cli, SSL_CTX **sctx,
    SSL_CTX **cctx)
{
	struct side	s;
	struct mig_err	err;
	pthread_t	t;

	*sctx = server_ctx(NULL, 0);
	*cctx = client_ctx(&tc.client, tc.ca, 0);
	conn_pair(srv, cli);
	memset(&s, 0, sizeof(s));
	s.ctx = *sctx;
	s.conn = *srv;
	assert_int_equal(pthread_create(&t, NULL, handshake_main, &s), 0);
	if (mig_conn_tls_client(*cli, *cctx, "localhost", TIMEOUT_MS,
	    &err) == -1)
		fail_msg("client: %s", err.msg);
	pthread_join(t, NULL);
	if (s.rc == -1)
		fail_msg("server: %s", s.err.msg);
}

static void
test_close_notify_and_truncation(void **state)
{
	struct mig_conn	*srv, *cli;
	SSL_CTX		*sctx, *cctx;
	struct mig_err	 err;
	char		 buf[16];
	uint64_t	 dl = mig_deadline(TIMEOUT_MS);

	/* a clean end: data, close_notify, then read_some says 0 */
	handshaken_pair(&srv, &cli, &sctx, &cctx);
	assert_int_equal(mig_conn_write_all(cli, "0123456789", 10, dl, &err),
	    0);
	assert_int_equal(mig_conn_shutdown(cli, dl, &err), 0);
	assert_int_equal(mig_conn_read_some(srv, buf, 4, dl, &err), 4);
	/* the rest of the record is buffered in the SSL layer */
	assert_int_equal(mig_conn_pending(srv), 6);
	assert_int_equal(mig_conn_read_full(srv, buf, 6, dl, &err), 0);
	assert_memory_equal(buf, "456789", 6);
	assert_int_equal(mig_conn_read_some(srv, buf, sizeof(buf), dl, &err),
	    0);
	mig_conn_close(srv);
	mig_conn_close(cli);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);

	/* a close without close_notify is an error, not an end */
	handshaken_pair(&srv, &cli, &sctx, &cctx);
	mig_conn_close(cli);
	assert_int_equal(mig_conn_read_some(srv, buf, sizeof(buf), dl, &err),
	    -1);
	assert_err(&err, MIG_E_EOF, "without close_notify");
	mig_conn_close(srv);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

static void
test_no_sigpipe(void **state)
{
	struct mig_conn	*srv, *cli;
	SSL_CTX		*sctx, *cctx;
	struct mig_err	 err;
	uint8_t		*buf = calloc(1, UP_LEN);
	int		 i, rc = 0;

	/* Default SIGPIPE disposition: a leaked SIGPIPE kills the test. */
	signal(SIGPIPE, SIG_DFL);
	handshaken_pair(&srv, &cli, &sctx, &cctx);
	mig_conn_close(cli);
	for (i = 0; i < 8 && rc == 0; i++)
		rc = mig_conn_write_all(srv, buf, UP_LEN,
		    mig_deadline(TIMEOUT_MS), &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, MIG_E_IO);
	mig_conn_close(srv);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	free(buf);
}

/* RFC 6125: a certificate with subjectAltNames is named by them alone;
 * its CN counts only when it has none. */
static void
test_peers_allow_sans_first(void **state)
{
	const char	*pats[] = { "relocd-client", "relocd-cnonly" };
	struct mig_acl	*acl = mig_acl_new(pats, NELEM(pats), NULL);
	struct side	 s, c;

	assert_non_null(acl);
	run(server_ctx(acl, 0), client_ctx(&tc.sanonly, tc.ca, 0),
	    "localhost", &s, &c);
	assert_int_equal(s.rc, -1);
	assert_err(&s.err, MIG_E_DENIED, "(elsewhere.example) not admitted");
	assert_false(c.data_ok);

	run(server_ctx(acl, 0), client_ctx(&tc.cnonly, tc.ca, 0),
	    "localhost", &s, &c);
	if (s.rc != 0)
		fail_msg("%s", s.err.msg);
	assert_true(s.data_ok && c.data_ok);
	assert_int_equal(s.nnames, 1);
	assert_string_equal(s.names[0], "relocd-cnonly");
	side_done(&s);
	mig_acl_free(acl);
}

/* tls_crl: a revoked certificate is refused, in either direction; a CRL
 * past its next update, or none for the issuing CA, refuses everyone. */
static void
test_crl(void **state)
{
	struct mig_tls_conf	conf = {
		.cert_file = tc.client.cert, .key_file = tc.client.key,
		.ca_file = tc.ca, .crl_file = tc.crl,
	};
	struct mig_err		err;
	struct side		s, c;
	SSL_CTX			*cctx;

	run(server_ctx_crl(NULL, 0, tc.crl),
	    client_ctx(&tc.revoked, tc.ca, 0), "localhost", &s, &c);
	assert_int_equal(s.rc, -1);
	assert_err(&s.err, MIG_E_TLS, "certificate revoked (peer local)");
	assert_false(c.data_ok);

	/* The client checks the server's chain against it too. */
	if ((cctx = mig_tls_client_ctx(&conf, &err)) == NULL)
		fail_msg("%s", err.msg);
	run(server_ctx_crl(NULL, 0, tc.crl), cctx, "localhost", &s, &c);
	if (s.rc != 0 || c.rc != 0)
		fail_msg("server: %s; client: %s", s.err.msg, c.err.msg);
	assert_true(s.data_ok && c.data_ok);
	side_done(&s);

	run(server_ctx_crl(NULL, 0, tc.old_crl),
	    client_ctx(&tc.client, tc.ca, 0), "localhost", &s, &c);
	assert_int_equal(s.rc, -1);
	assert_err(&s.err, MIG_E_TLS, "CRL has expired");

	run(server_ctx_crl(NULL, 0, tc.other_crl),
	    client_ctx(&tc.client, tc.ca, 0), "localhost", &s, &c);
	assert_int_equal(s.rc, -1);
	assert_err(&s.err, MIG_E_TLS, "unable to get certificate CRL");

	conf.crl_file = "/nonexistent/ca.crl";
	assert_null(mig_tls_client_ctx(&conf, &err));
	assert_err(&err, MIG_E_TLS, "cannot load CRL file /nonexistent/ca.crl");
	conf.crl_file = tc.ca;		/* a certificate, not a CRL */
	assert_null(mig_tls_client_ctx(&conf, &err));
	assert_err(&err, MIG_E_TLS, "no CRL in");
}

static void
test_security_level(void **state)
{
	SSL_CTX	*ctx = server_ctx(NULL, 0);

	assert_int_equal(SSL_CTX_get_security_level(ctx), 2);
	SSL_CTX_free(ctx);
	ctx = client_ctx(&tc.client, tc.ca, 0);
	assert_int_equal(SSL_CTX_get_security_level(ctx), 2);
	SSL_CTX_free(ctx);
}

/* A private key others may read is refused; the group may (Debian's
 * ssl-cert). */
static void
test_key_mode(void **state)
{
	struct mig_tls_conf	conf = {
		.cert_file = tc.client.cert, .key_file = tc.client.key,
		.ca_file = tc.ca,
	};
	struct mig_err		err;
	SSL_CTX			*ctx;

	assert_int_equal(chmod(tc.client.key, 0644), 0);
	assert_null(mig_tls_client_ctx(&conf, &err));
	assert_err(&err, MIG_E_DENIED, "is readable by others (mode 0644)");
	assert_non_null(strstr(err.msg, tc.client.key));
	assert_int_equal(chmod(tc.client.key, 0640), 0);
	assert_non_null(ctx = mig_tls_client_ctx(&conf, &err));
	SSL_CTX_free(ctx);
	assert_int_equal(chmod(tc.client.key, 0600), 0);
}

/* A CA file that is a public bundle: many CAs, or the system's. */
static void
test_ca_bundle(void **state)
{
	char	path[PATH_MAX + 16], why[256];
	FILE	*in, *out;
	int	 i, ch;

	assert_int_equal(mig_tls_ca_public(tc.ca, why, sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s/bundle.pem", tc.dir);
	assert_non_null(out = fopen(path, "w"));
	for (i = 0; i < 40; i++) {
		assert_non_null(in = fopen(i % 2 ? tc.ca : tc.other_ca, "r"));
		while ((ch = fgetc(in)) != EOF)
			fputc(ch, out);
		fclose(in);
	}
	fclose(out);
	assert_int_equal(mig_tls_ca_public(path, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "40 CA certificates"));
	unlink(path);
	/* The distribution's bundle, where there is one. */
	if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
		assert_int_equal(mig_tls_ca_public(
		    "/etc/ssl/certs/ca-certificates.crt", why, sizeof(why)), 1);
}

static void
test_ctx_errors(void **state)
{
	struct mig_tls_conf	conf = {
		.cert_file = tc.client.cert, .key_file = tc.server.key,
		.ca_file = tc.ca,
	};
	struct mig_err		err;

	assert_null(mig_tls_server_ctx(&conf, &err));
	assert_err(&err, MIG_E_TLS, "does not match certificate file");
	assert_non_null(strstr(err.msg, tc.server.key));

	conf.key_file = tc.client.key;
	conf.ca_file = "/nonexistent/ca.pem";
	assert_null(mig_tls_client_ctx(&conf, &err));
	assert_err(&err, MIG_E_TLS, "cannot load CA file /nonexistent/ca.pem: "
	    "No such file or directory");

	conf.ca_file = NULL;
	assert_null(mig_tls_client_ctx(&conf, &err));
	assert_err(&err, MIG_E_INVAL, "no CA file");

	conf.ca_file = tc.ca;
	conf.cert_file = NULL;
	assert_null(mig_tls_server_ctx(&conf, &err));
	assert_err(&err, MIG_E_INVAL, "no certificate");

	conf.cert_file = "/nonexistent/cert.pem";
	assert_null(mig_tls_server_ctx(&conf, &err));
	assert_err(&err, MIG_E_TLS, "cannot load certificate file "
	    "/nonexistent/cert.pem: No such file or directory");

	/* a certificate where the key should be */
	conf.cert_file = tc.server.cert;
	conf.key_file = tc.server.cert;
	assert_null(mig_tls_server_ctx(&conf, &err));
	assert_err(&err, MIG_E_TLS, "cannot load key file");
}

static int
setup(void **state)
{
	return testcert_make(&tc);
}

static int
teardown(void **state)
{
	testcert_cleanup(&tc);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_ktls_flag),
		cmocka_unit_test(test_client_wrong_ca),
		cmocka_unit_test(test_client_expired),
		cmocka_unit_test(test_client_no_cert),
		cmocka_unit_test(test_peers_allow),
		cmocka_unit_test(test_peers_allow_sans_first),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_security_level),
		cmocka_unit_test(test_key_mode),
		cmocka_unit_test(test_ca_bundle),
		cmocka_unit_test(test_server_name_mismatch),
		cmocka_unit_test(test_server_wrong_ca),
		cmocka_unit_test(test_plaintext_detected),
		cmocka_unit_test(test_client_to_plaintext_server),
		cmocka_unit_test(test_handshake_timeout),
		cmocka_unit_test(test_close_notify_and_truncation),
		cmocka_unit_test(test_no_sigpipe),
		cmocka_unit_test(test_ctx_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
