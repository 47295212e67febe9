/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Handing an authenticated connection to another process (relocd's
 * sandbox, preauth.c): one message and a descriptor over a SOCK_SEQPACKET
 * pair (mig_fd_send/recv), a connection given up as its bare socket only
 * when the socket carries it alone (mig_conn_handoff), and the relay that
 * carries a user-space TLS connection to a local socket both ways, ends
 * included (mig_conn_pipe).
 */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mig/conn.h"
#include "mig/fdpass.h"
#include "mig/tls.h"
#include "testcert.h"

#define TIMEOUT_MS	5000		/* only bounds a broken test */
#define UP_LEN		(3 * 1024 * 1024 + 17)	/* peer to worker */
#define DOWN_LEN	(64 * 1024 + 5)		/* worker to peer */

static struct testcert	tc;

static void
test_fd_pass(void **state)
{
	struct mig_err	err;
	char		msg[8] = "answer!", got[8], small[4];
	int		sv[2], p[2], fd;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(pipe(p), 0);
	/* a message and a descriptor: the same pipe on the other side */
	assert_int_equal(mig_fd_send(sv[0], msg, sizeof(msg), p[1], &err), 0);
	assert_int_equal(mig_fd_recv(sv[1], got, sizeof(got), &fd,
	    mig_deadline(TIMEOUT_MS), &err), 0);
	assert_memory_equal(got, msg, sizeof(msg));
	assert_int_not_equal(fd, -1);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(read(p[0], got, 1), 1);
	close(fd);
	/* none */
	assert_int_equal(mig_fd_send(sv[0], msg, sizeof(msg), -1, &err), 0);
	assert_int_equal(mig_fd_recv(sv[1], got, sizeof(got), &fd, 0, &err),
	    0);
	assert_int_equal(fd, -1);
	/* a message of the wrong size is refused, its descriptor closed */
	assert_int_equal(mig_fd_send(sv[0], small, sizeof(small), p[1], &err),
	    0);
	assert_int_equal(mig_fd_recv(sv[1], got, sizeof(got), &fd, 0, &err),
	    -1);
	assert_int_equal(err.code, MIG_E_PROTO);
	assert_int_equal(fd, -1);
	/* nothing in time, then the other end gone */
	assert_int_equal(mig_fd_recv(sv[1], got, sizeof(got), &fd,
	    mig_deadline(50), &err), -1);
	assert_int_equal(err.code, MIG_E_TIMEOUT);
	close(sv[0]);
	assert_int_equal(mig_fd_recv(sv[1], got, sizeof(got), &fd, 0, &err),
	    -1);
	assert_int_equal(err.code, MIG_E_EOF);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

static void
test_handoff_plain(void **state)
{
	struct mig_conn	*a, *b, *c;
	struct mig_err	 err;
	char		 buf[4];
	int		 sv[2], fd, ktls = -1;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_non_null(a = mig_conn_new(sv[0], &err));
	assert_non_null(b = mig_conn_new(sv[1], &err));
	fd = mig_conn_handoff(a, &ktls, &err);
	assert_int_equal(fd, sv[0]);
	assert_int_equal(ktls, 0);
	mig_conn_close(a);			/* keeps no fd: fd stays open */
	assert_non_null(c = mig_conn_new(fd, &err));
	assert_false(mig_conn_is_tls(c));
	assert_int_equal(mig_conn_write_all(c, "abc", 3, 0, &err), 0);
	assert_int_equal(mig_conn_read_full(b, buf, 3, mig_deadline(TIMEOUT_MS),
	    &err), 0);
	assert_memory_equal(buf, "abc", 3);
	mig_conn_close(b);
	mig_conn_close(c);
}

struct tls_peer {
	struct mig_conn	*conn;
	SSL_CTX		*ctx;
	int		 rc;
	int		 ok;
	struct mig_err	 err;
};

/* The remote peer: TLS client; sends UP_LEN, reads DOWN_LEN, then the
 * end (close_notify) the relay makes of the worker's shutdown. */
static void *
peer_main(void *arg)
{
	struct tls_peer	*p = arg;
	uint64_t	 dl = mig_deadline(TIMEOUT_MS);
	uint8_t		*buf = malloc(UP_LEN), *want = malloc(DOWN_LEN), b;

	if ((p->rc = mig_conn_tls_client(p->conn, p->ctx, "localhost",
	    TIMEOUT_MS, &p->err)) == -1)
		goto out;
	testcert_pattern(buf, UP_LEN, 1);
	testcert_pattern(want, DOWN_LEN, 2);
	p->ok = mig_conn_write_all(p->conn, buf, UP_LEN, dl, &p->err) == 0 &&
	    mig_conn_shutdown(p->conn, dl, &p->err) == 0 &&
	    mig_conn_read_full(p->conn, buf, DOWN_LEN, dl, &p->err) == 0 &&
	    memcmp(buf, want, DOWN_LEN) == 0 &&
	    mig_conn_read_some(p->conn, &b, 1, dl, &p->err) == 0;
out:
	free(buf);
	free(want);
	return NULL;
}

struct relay {
	struct mig_conn	*conn;
	int		 fd;
	int		 rc;
	struct mig_err	 err;
};

static void *
relay_main(void *arg)
{
	struct relay	*r = arg;

	r->rc = mig_conn_pipe(r->conn, r->fd, TIMEOUT_MS, &r->err);
	return NULL;
}

static void
test_pipe_tls(void **state)
{
	struct mig_tls_conf	 sconf = { .cert_file = tc.server.cert,
	    .key_file = tc.server.key, .ca_file = tc.ca };
	struct mig_tls_conf	 cconf = { .cert_file = tc.client.cert,
	    .key_file = tc.client.key, .ca_file = tc.ca };
	struct tls_peer		 p;
	struct relay		 r;
	struct mig_conn		*srv;
	struct mig_err		 err;
	pthread_t		 pt, rt;
	SSL_CTX			*sctx;
	uint8_t			*buf = malloc(UP_LEN), *want = malloc(UP_LEN);
	size_t			 off = 0;
	ssize_t			 n;
	int			 tv[2], wv[2], ktls;

	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	assert_non_null(sctx = mig_tls_server_ctx(&sconf, &err));
	assert_non_null(p.ctx = mig_tls_client_ctx(&cconf, &err));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, tv), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    wv), 0);
	assert_non_null(srv = mig_conn_new(tv[0], &err));
	assert_non_null(p.conn = mig_conn_new(tv[1], &err));
	assert_int_equal(pthread_create(&pt, NULL, peer_main, &p), 0);
	if (mig_conn_tls_server(srv, sctx, TIMEOUT_MS, &err) == -1)
		fail_msg("%s", err.msg);
	/* TLS in user space: no bare socket to hand over */
	assert_int_equal(mig_conn_handoff(srv, &ktls, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTSUP);
	assert_true(mig_conn_is_tls(srv));
	r.conn = srv;
	r.fd = wv[0];
	assert_int_equal(pthread_create(&rt, NULL, relay_main, &r), 0);
	/* the worker's side: plaintext, the peer's end as EOF */
	testcert_pattern(want, UP_LEN, 1);
	for (;;) {
		struct pollfd	pfd = { .fd = wv[1], .events = POLLIN };

		assert_int_equal(poll(&pfd, 1, TIMEOUT_MS), 1);
		if ((n = read(wv[1], buf + off, UP_LEN - off)) == -1 &&
		    errno == EAGAIN)
			continue;
		assert_true(n >= 0);
		if (n == 0)
			break;
		off += (size_t)n;
		assert_true(off <= UP_LEN);
	}
	assert_int_equal(off, UP_LEN);
	assert_memory_equal(buf, want, UP_LEN);
	testcert_pattern(buf, DOWN_LEN, 2);
	for (off = 0; off < DOWN_LEN; off += (size_t)n) {
		struct pollfd	pfd = { .fd = wv[1], .events = POLLOUT };

		assert_int_equal(poll(&pfd, 1, TIMEOUT_MS), 1);
		if ((n = write(wv[1], buf + off, DOWN_LEN - off)) == -1 &&
		    errno == EAGAIN)
			n = 0;
		assert_true(n >= 0);
	}
	assert_int_equal(shutdown(wv[1], SHUT_WR), 0);
	pthread_join(pt, NULL);
	pthread_join(rt, NULL);
	if (p.rc != 0 || !p.ok)
		fail_msg("peer: %s", p.err.msg);
	if (r.rc != 0)
		fail_msg("relay: %s", r.err.msg);
	mig_conn_close(srv);
	mig_conn_close(p.conn);
	close(wv[0]);
	close(wv[1]);
	SSL_CTX_free(sctx);
	SSL_CTX_free(p.ctx);
	free(buf);
	free(want);
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
		cmocka_unit_test(test_fd_pass),
		cmocka_unit_test(test_handoff_plain),
		cmocka_unit_test(test_pipe_tls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
