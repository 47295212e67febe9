/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Plain connections over loopback only: refusal, connect and read
 * deadlines, the limits of a wait (cancel, idle, quiet peer), short
 * reads, EOF, IPv6 and dual-stack listeners.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
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

#include "mig/acl.h"
#include "mig/conn.h"
#include "conn_int.h"	/* the socket and SSL, for white-box checks */

#define TIMEOUT_MS	120000	/* only bounds a broken test: a loaded CI
				 * machine under ASan took over 5 s for the
				 * 2000 small writes of test_read_full_small_writes */

static void
port_of(int fd, char *port, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	snprintf(port, len, "%u", ss.ss_family == AF_INET ?
	    ntohs(((struct sockaddr_in *)&ss)->sin_port) :
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
}

/* A connected pair over TCP on host (the accepted side first). */
static void
tcp_pair(const char *host, struct mig_conn **srv, struct mig_conn **cli)
{
	struct mig_err	err;
	char		port[8];
	int		lfd;

	if ((lfd = mig_conn_listen(host, "0", 4, 0, &err)) == -1)
		fail_msg("%s", err.msg);
	port_of(lfd, port, sizeof(port));
	if ((*cli = mig_conn_connect(host, port, TIMEOUT_MS, &err)) == NULL)
		fail_msg("%s", err.msg);
	/* the listener is non-blocking: wait for the connection */
	assert_int_equal(poll(&(struct pollfd){ lfd, POLLIN, 0 }, 1,
	    TIMEOUT_MS), 1);
	if ((*srv = mig_conn_accept_fd(lfd, &err)) == NULL)
		fail_msg("%s", err.msg);
	close(lfd);
}

static void
test_refused(void **state)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	struct mig_err		err;
	char			port[8];
	int			fd;

	/* Bound but not listening: the port stays ours, and refuses. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	port_of(fd, port, sizeof(port));
	assert_null(mig_conn_connect("127.0.0.1", port, TIMEOUT_MS, &err));
	assert_int_equal(err.code, MIG_E_IO);
	assert_non_null(strstr(err.msg, "Connection refused"));
	assert_non_null(strstr(err.msg, "127.0.0.1:"));
	close(fd);
}

static void
test_connect_timeout(void **state)
{
	struct mig_err	err;
	char		port[8];
	int		lfd, fds[16], n, full = 0;

	/* A listener that never accepts, with its queue filled: Linux then
	 * drops further SYNs, so a connect neither succeeds nor fails. */
	lfd = mig_conn_listen("127.0.0.1", "0", 0, 0, &err);
	assert_true(lfd >= 0);
	port_of(lfd, port, sizeof(port));
	for (n = 0; n < 16 && !full; n++) {
		struct sockaddr_in	sin = { .sin_family = AF_INET,
		    .sin_port = htons(atoi(port)),
		    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		fds[n] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		connect(fds[n], (struct sockaddr *)&sin, sizeof(sin));
		full = poll(&(struct pollfd){ fds[n], POLLOUT, 0 }, 1, 200) == 0;
	}
	if (full) {
		assert_null(mig_conn_connect("127.0.0.1", port, 100, &err));
		assert_int_equal(err.code, MIG_E_TIMEOUT);
		assert_non_null(strstr(err.msg, "timed out"));
	}
	while (n-- > 0)
		close(fds[n]);
	close(lfd);
	if (!full)
		skip();
}

static void
test_read_deadline(void **state)
{
	struct mig_conn	*srv, *cli;
	struct mig_err	 err;
	char		 buf[4];

	tcp_pair("127.0.0.1", &srv, &cli);
	/* the peer never writes */
	assert_int_equal(mig_conn_read_full(cli, buf, sizeof(buf),
	    mig_deadline(30), &err), -1);
	assert_int_equal(err.code, MIG_E_TIMEOUT);
	assert_non_null(strstr(err.msg, mig_conn_peer(cli)));
	/* a deadline already past fails at once even with data there */
	assert_int_equal(mig_conn_write_all(srv, "x", 1, 0, &err), 0);
	assert_int_equal(mig_conn_read_full(cli, buf, 2,
	    mig_now_ms() - 1, &err), -1);
	assert_int_equal(err.code, MIG_E_TIMEOUT);
	mig_conn_close(srv);
	mig_conn_close(cli);
}

/* The limits of struct mig_io: a cancel fd, an idle limit, a quiet peer. */
static void
test_io_limits(void **state)
{
	struct mig_conn	*srv, *cli;
	struct mig_io	 io = MIG_IO_INIT;
	struct mig_err	 err;
	char		 buf[64 * 1024];
	int		 cfd[2];

	(void)state;
	tcp_pair("127.0.0.1", &srv, &cli);
	/* a readable cancel fd ends a wait that would last forever */
	assert_int_equal(pipe(cfd), 0);
	assert_int_equal(write(cfd[1], "c", 1), 1);
	io.cancel_fd = cfd[0];
	assert_int_equal(mig_conn_recv(cli, buf, 1, &io, &err), -1);
	assert_int_equal(err.code, MIG_E_CANCELLED);
	/* the idle limit ends it too, naming the peer that went silent */
	io.cancel_fd = -1;
	io.idle_ms = 20;
	assert_int_equal(mig_conn_recv_all(cli, buf, 1, &io, &err), -1);
	assert_int_equal(err.code, MIG_E_TIMEOUT);
	assert_non_null(strstr(err.msg, "neither sent nor took a byte"));
	assert_non_null(strstr(err.msg, mig_conn_peer(cli)));
	/* bytes there: no wait, no limit reached */
	assert_int_equal(mig_conn_send(srv, "ab", 2, &io, &err), 0);
	assert_int_equal(mig_conn_recv_all(cli, buf, 2, &io, &err), 0);
	assert_memory_equal(buf, "ab", 2);
	/* mig_conn_wait tells the connection from the other fd */
	assert_int_equal(mig_conn_wait(cli, cfd[0], &io, &err),
	    MIG_READY_FD);
	assert_int_equal(mig_conn_send(srv, "x", 1, &io, &err), 0);
	assert_true(mig_conn_wait(cli, -1, &io, &err) & MIG_READY_CONN);
	assert_int_equal(mig_conn_recv(cli, buf, sizeof(buf), &io, &err), 1);
	/* a sender that must wait stops when a quiet peer speaks instead */
	io.idle_ms = 0;
	io.deadline = mig_deadline(TIMEOUT_MS);
	io.flags = MIG_IO_QUIET_PEER;
	assert_int_equal(mig_conn_send(srv, "E", 1, &io, &err), 0);
	for (;;)
		if (mig_conn_send(cli, buf, sizeof(buf), &io, &err) == -1)
			break;
	assert_int_equal(err.code, MIG_E_PROTO);
	assert_non_null(strstr(err.msg, "stopped reading"));
	/* a plain connection's socket may be lent to a byte path */
	assert_int_equal(mig_conn_stream_fd(cli, &err), mig_conn_fd(cli));
	assert_false(mig_conn_is_tls(cli));
	close(cfd[0]);
	close(cfd[1]);
	mig_conn_close(srv);
	mig_conn_close(cli);
}

#define DRIBBLE_N	2000
#define DRIBBLE_SZ	3

static void *
dribble_main(void *arg)
{
	struct mig_conn	*c = arg;
	uint8_t		 b[DRIBBLE_SZ];
	int		 i, j;

	for (i = 0; i < DRIBBLE_N; i++) {
		for (j = 0; j < DRIBBLE_SZ; j++)
			b[j] = (uint8_t)(i * DRIBBLE_SZ + j);
		if (mig_conn_write_all(c, b, sizeof(b), 0, NULL) == -1)
			break;
		sched_yield();
	}
	return NULL;
}

static void
test_read_full_small_writes(void **state)
{
	struct mig_conn	*srv, *cli;
	struct mig_err	 err;
	static uint8_t	 buf[DRIBBLE_N * DRIBBLE_SZ];
	pthread_t	 t;
	size_t		 i;

	tcp_pair("127.0.0.1", &srv, &cli);
	assert_int_equal(pthread_create(&t, NULL, dribble_main, srv), 0);
	assert_int_equal(mig_conn_read_full(cli, buf, sizeof(buf),
	    mig_deadline(TIMEOUT_MS), &err), 0);
	pthread_join(t, NULL);
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], (uint8_t)i);
	mig_conn_close(srv);
	mig_conn_close(cli);
}

static void
test_eof_mid_read(void **state)
{
	struct mig_conn	*srv, *cli;
	struct mig_err	 err;
	char		 buf[20];

	tcp_pair("127.0.0.1", &srv, &cli);
	assert_int_equal(mig_conn_write_all(srv, "0123456789", 10, 0, &err),
	    0);
	assert_int_equal(mig_conn_shutdown(srv, 0, &err), 0);
	assert_int_equal(mig_conn_read_full(cli, buf, 20,
	    mig_deadline(TIMEOUT_MS), &err), -1);
	assert_int_equal(err.code, MIG_E_EOF);
	assert_non_null(strstr(err.msg, "after 10 of 20 bytes"));
	assert_memory_equal(buf, "0123456789", 10);
	/* read_some reports the end as 0, not as an error */
	assert_int_equal(mig_conn_read_some(cli, buf, sizeof(buf), 0, &err),
	    0);
	mig_conn_close(srv);
	mig_conn_close(cli);
}

static void
test_ipv6_loopback(void **state)
{
	struct mig_conn	*srv, *cli;
	struct mig_err	 err;
	char		 buf[5];
	int		 lfd;

	if ((lfd = mig_conn_listen("::1", "0", 4, MIG_LISTEN_V6ONLY,
	    &err)) == -1) {
		print_message("no IPv6 loopback: %s\n", err.msg);
		skip();
	}
	close(lfd);
	tcp_pair("::1", &srv, &cli);
	assert_int_equal(strncmp(mig_conn_peer(srv), "[::1]:", 6), 0);
	assert_int_equal(strncmp(mig_conn_peer(cli), "[::1]:", 6), 0);
	assert_int_equal(mig_conn_write_all(cli, "hello", 5, 0, &err), 0);
	assert_int_equal(mig_conn_read_full(srv, buf, 5,
	    mig_deadline(TIMEOUT_MS), &err), 0);
	assert_memory_equal(buf, "hello", 5);
	mig_conn_close(srv);
	mig_conn_close(cli);
}

static void
test_any_listener_and_acl(void **state)
{
	struct mig_conn		*srv, *cli;
	struct mig_err		 err;
	struct mig_acl		*acl = mig_acl_new(NULL, 0, NULL);
	const struct sockaddr	*sa;
	socklen_t		 sl;
	char			 port[8], why[128];
	int			 lfd;

	/* Every address: IPv4 peers arrive as mapped IPv6 on a dual-stack
	 * socket, and must look like plain IPv4 to the peer string and ACL. */
	lfd = mig_conn_listen(NULL, "0", 4, 0, &err);
	assert_true(lfd >= 0);
	port_of(lfd, port, sizeof(port));
	assert_null(mig_conn_accept_fd(lfd, &err));
	assert_int_equal(errno, EAGAIN);
	if ((cli = mig_conn_connect("127.0.0.1", port, TIMEOUT_MS,
	    &err)) == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(poll(&(struct pollfd){ lfd, POLLIN, 0 }, 1,
	    TIMEOUT_MS), 1);
	assert_non_null(srv = mig_conn_accept_fd(lfd, &err));
	assert_int_equal(strncmp(mig_conn_peer(srv), "127.0.0.1:", 10), 0);
	assert_true(fcntl(mig_conn_fd(srv), F_GETFD) & FD_CLOEXEC);
	sa = mig_conn_peer_addr(srv, &sl);
	assert_int_equal(mig_acl_check(acl, sa, sl, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "127.0.0.1 admitted"));
	mig_acl_free(acl);
	mig_conn_close(srv);
	mig_conn_close(cli);
	close(lfd);
}

static void
test_write_to_closed_peer(void **state)
{
	struct mig_conn	*srv, *cli;
	struct mig_err	 err;
	static uint8_t	 buf[256 * 1024];
	int		 i, rc = 0;

	signal(SIGPIPE, SIG_DFL);
	tcp_pair("127.0.0.1", &srv, &cli);
	mig_conn_close(cli);
	for (i = 0; i < 16 && rc == 0; i++)
		rc = mig_conn_write_all(srv, buf, sizeof(buf),
		    mig_deadline(TIMEOUT_MS), &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, MIG_E_IO);
	mig_conn_close(srv);
}

static void
test_listen_errors(void **state)
{
	struct mig_err	err;

	assert_int_equal(mig_conn_listen("192.0.2.1", "0", 4, 0, &err), -1);
	assert_int_equal(err.code, MIG_E_IO);
	assert_non_null(strstr(err.msg, "192.0.2.1"));
	assert_int_equal(mig_conn_listen("127.0.0.1", "no-such-service", 4, 0,
	    &err), -1);
	assert_non_null(strstr(err.msg, "no-such-service"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_read_deadline),
		cmocka_unit_test(test_io_limits),
		cmocka_unit_test(test_read_full_small_writes),
		cmocka_unit_test(test_eof_mid_read),
		cmocka_unit_test(test_ipv6_loopback),
		cmocka_unit_test(test_any_listener_and_acl),
		cmocka_unit_test(test_write_to_closed_peer),
		cmocka_unit_test(test_listen_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
