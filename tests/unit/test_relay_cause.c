/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A relay that fails says so before libxl's side can see it: whoever
 * finds the local socket shut down (libxl's save helper dying of SIGPIPE,
 * its restore reading an early EOF) finds the relay's failure already
 * published, and whether it came from the peer's own word.  The relay is
 * held for half a second inside its shutdown (slow_shutdown.c), so the
 * order it must survive is forced, not hoped for.
 */
#include <sys/socket.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mig/conn.h"
#include "mig/error.h"
#include "mig/proto.h"
#include "mig/relay.h"
#include "slow_shutdown.h"

/* "libxl": writes into, or drains, its end of the socketpair until it
 * fails or sees the end. */
struct side {
	int	fd;
	int	err;
};

static void *
helper_write(void *arg)
{
	struct side	*s = arg;
	static uint8_t	 buf[65536];

	for (;;) {
		if (send(s->fd, buf, sizeof(buf), MSG_NOSIGNAL) == -1) {
			s->err = errno;
			return NULL;
		}
	}
}

static void *
helper_read(void *arg)
{
	struct side	*s = arg;
	uint8_t		 buf[65536];
	ssize_t		 n;

	while ((n = read(s->fd, buf, sizeof(buf))) > 0)
		;
	s->err = n == 0 ? 0 : errno;
	return NULL;
}

struct rig {
	int			 net[2];	/* [0] the peer, [1] ours */
	int			 lx[2];		/* [0] libxl's, [1] the relay's */
	struct mig_conn		*c;
	struct mig_relay	*r;
	struct side		 s;
	pthread_t		 t;
};

static void
rig_start(struct rig *g, enum mig_relay_dir dir, void *(*helper)(void *))
{
	struct mig_relay_conf	rc;
	struct mig_err		err;

	memset(g, 0, sizeof(*g));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    g->net), 0);
	assert_non_null(g->c = mig_conn_new(g->net[1], &err));
	assert_int_equal(mig_relay_socketpair(g->lx, &err), 0);
	memset(&rc, 0, sizeof(rc));
	rc.dir = dir;
	rc.flags = MIG_RELAY_F_NO_PARSE;
	rc.local_fd = g->lx[1];
	rc.conn = g->c;
	rc.file_fd = -1;
	assert_non_null(g->r = mig_relay_start(&rc, &err));
	g->s.fd = g->lx[0];
	assert_int_equal(pthread_create(&g->t, NULL, helper, &g->s), 0);
}

/* The helper has come back: what does the relay say at this instant? */
static struct mig_relay_stats
helper_ended(struct rig *g)
{
	struct mig_relay_stats	st;

	pthread_join(g->t, NULL);
	mig_relay_stats(g->r, &st);
	return st;
}

static int
rig_finish(struct rig *g, struct mig_err *err)
{
	struct mig_relay_stats	st;
	int			rc;

	rc = mig_relay_join(g->r, &st, err);
	if (g->net[0] != -1)
		close(g->net[0]);
	mig_conn_close(g->c);
	close(g->lx[0]);
	close(g->lx[1]);
	return rc == 0 ? MIG_OK : err->code;
}

static int
setup(void **state)
{
	(void)state;
	slow_shutdown_ms = 500;
	return 0;
}

/* The target dies mid-stream: the helper's EPIPE comes after the relay
 * has published its own failure. */
static void
test_send_peer_gone(void **state)
{
	struct rig		g;
	struct mig_relay_stats	st;
	struct mig_err		err;
	uint8_t			buf[4096];

	(void)state;
	rig_start(&g, MIG_RELAY_SEND, helper_write);
	assert_true(read(g.net[0], buf, sizeof(buf)) > 0);
	close(g.net[0]);
	g.net[0] = -1;
	st = helper_ended(&g);
	assert_int_equal(g.s.err, EPIPE);
	assert_true(st.failed);
	assert_false(st.peer_word);
	assert_int_not_equal(rig_finish(&g, &err), MIG_OK);
	assert_true(err.code == MIG_E_IO || err.code == MIG_E_EOF);
}

/* The source says why it stopped: the restore's early EOF comes after the
 * relay has published the peer's word. */
static void
test_recv_peer_error(void **state)
{
	struct rig		g;
	struct mig_relay_stats	st;
	struct mig_err		err;
	struct mig_msg		m;
	uint8_t			out[1024];
	size_t			len;

	(void)state;
	rig_start(&g, MIG_RELAY_RECV, helper_read);
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_ERROR;
	m.u.error.code = MIG_E_HV;
	mig_text_set(m.u.error.text, "save of domain 7 failed");
	assert_int_equal(mig_msg_encode(&m, out, sizeof(out), &len, NULL), 0);
	assert_int_equal(write(g.net[0], out, len), (ssize_t)len);
	st = helper_ended(&g);
	assert_int_equal(g.s.err, 0);
	assert_true(st.failed);
	assert_true(st.peer_word);
	assert_int_equal(rig_finish(&g, &err), MIG_E_HV);
	assert_non_null(strstr(err.msg, "save of domain 7 failed"));
}

/* Stopped by us: not a failure of its own, so never the cause. */
static void
test_cancel_is_not_a_failure(void **state)
{
	struct rig		g;
	struct mig_relay_stats	st;
	struct mig_err		err;

	(void)state;
	rig_start(&g, MIG_RELAY_RECV, helper_read);
	mig_relay_cancel(g.r);
	st = helper_ended(&g);
	assert_false(st.failed);
	assert_int_equal(rig_finish(&g, &err), MIG_E_CANCELLED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_peer_gone),
		cmocka_unit_test(test_recv_peer_error),
		cmocka_unit_test(test_cancel_is_not_a_failure),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
