/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pre-authentication sandbox, as OpenSSH's privilege separation: an
 * incoming worker does not speak to its peer until the peer has proved
 * who it is.  It re-executes relocd as "-W preauth" with the socket,
 * which takes the key and the configuration while still root, gives up
 * everything else (sandbox.c), and only then runs the TLS handshake, the
 * certificate checks (tls_peers_allow, CRL), the preamble and the HELLOs,
 * the worker's HELLO text coming from the worker.  It answers the worker
 * with one message on a SOCK_SEQPACKET pair: the outcome, the peer's
 * HELLO and certificate, and with success one descriptor, the connection
 * as the worker is to use it:
 *  - the socket itself (SCM_RIGHTS), on the plain port, and on the TLS
 *    port when the kernel took both directions of the session (tls_ktls,
 *    kernel's tls module) and OpenSSL holds no byte it read past the
 *    HELLO: the sandbox then exits;
 *  - else one end of a socketpair, the sandbox staying as the TLS relay
 *    for the rest of the connection (mig_conn_pipe) with the session key,
 *    which the worker never holds.
 * The worker logs which, per connection.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/acl.h"
#include "mig/conn.h"
#include "mig/fdpass.h"
#include "mig/log.h"
#include "mig/proto.h"
#include "mig/tls.h"
#include "preauth.h"
#include "relocd.h"

/* How long the relay has, once one side has closed, for the other. */
#define PREAUTH_LINGER_MS	10000
/* What the worker allows beyond preauth_timeout for the answer itself. */
#define PREAUTH_SLACK_MS	2000

static const char *const handoff_names[] = {
	[HANDOFF_SOCKET] = "plain socket handed over",
	[HANDOFF_KTLS] = "kernel TLS socket handed over",
	[HANDOFF_RELAY] = "TLS kept in the sandbox, which relays it to the "
	    "worker over a socketpair",
};

/* ---- the sandbox ("relocd -W preauth") ---- */

static void
preauth_answer(int sock, struct preauth_answer *a, uint16_t status,
    const struct mig_err *err, int fd)
{
	struct mig_err	e2;

	a->status = status;
	if (err != NULL)
		a->err = *err;
	a->uid = (uint32_t)getuid();
	if (mig_fd_send(sock, a, sizeof(*a), fd, &e2) == -1)
		mig_log_warnx("%s", e2.msg);
}

/* Everything it needs from root: the configuration, the TLS context with
 * the key, the worker's HELLO.  *ctx is NULL for the plain port. */
static int
preauth_prepare(struct worker *w, struct preauth_request *rq, SSL_CTX **ctx,
    struct mig_acl **peers, struct mig_err *err)
{
	struct mig_tls_conf	tc;
	int			fd;

	config_defaults(&w->conf);
	if (config_load(w->conf_path, &w->conf, err) == -1)
		return -1;
	if (mig_fd_recv(w->pipe, rq, sizeof(*rq), &fd,
	    mig_deadline(PREAUTH_SLACK_MS), err) == -1)
		return -1;
	if (fd != -1) {
		close(fd);
		return mig_seterr(err, MIG_E_PROTO, "the worker sent a "
		    "descriptor with its HELLO");
	}
	if (rq->hello.type != MIG_MSG_HELLO)
		return mig_seterr(err, MIG_E_PROTO, "the worker sent %s, not "
		    "its HELLO", mig_msg_name(rq->hello.type));
	if (!w->tls)
		return 0;
	config_tls(&w->conf, &tc);
	/* The context borrows the ACL: both live until the process ends. */
	if (w->conf.tls_peers_allow.n > 0 && (*peers = mig_acl_new(
	    (const char *const *)w->conf.tls_peers_allow.v,
	    w->conf.tls_peers_allow.n, err)) == NULL)
		return -1;
	tc.peers_allow = *peers;
	return (*ctx = mig_tls_server_ctx(&tc, err)) == NULL ? -1 : 0;
}

/*
 * The peer's handshake, certificate, preamble and HELLO, in the sandbox;
 * *st says how it failed.
 */
static int
preauth_talk(struct mig_conn *conn, SSL_CTX *ctx,
    const struct preauth_request *rq, struct preauth_answer *a, uint16_t *st,
    struct mig_err *err)
{
	uint64_t		 now = mig_now_ms();
	struct peer_buf		*buf;
	struct mig_msg		 them;
	size_t			 len;
	int			 rc;

	*st = CTL_ST_REFUSED;
	if (ctx != NULL) {
		/* 0 would mean no limit: a passed deadline is 1 ms. */
		if (mig_conn_tls_server(conn, ctx, rq->deadline > now ?
		    (int)(rq->deadline - now) : 1, err) == -1)
			return -1;
		(void)mig_conn_peer_cert(conn, a->subject, sizeof(a->subject),
		    a->fpr, sizeof(a->fpr));
	}
	*st = CTL_ST_FAILED;
	if ((buf = malloc(sizeof(*buf))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "buffer");
	rc = peer_open(conn, &rq->hello, buf, &them, rq->deadline, err);
	free(buf);
	/* As a frame: the worker trusts no struct of ours, it decodes. */
	if (rc == 0 && (rc = mig_msg_encode(&them, a->hello, sizeof(a->hello),
	    &len, err)) == 0)
		a->hello_len = (uint32_t)len;
	return rc;
}

int
preauth_child(struct worker *w)
{
	struct preauth_answer	*a;
	struct mig_conn		*conn = NULL;
	struct mig_acl		*peers = NULL;
	struct preauth_request	 rq;
	struct mig_err		 err;
	SSL_CTX			*ctx = NULL;
	uint16_t		 st = CTL_ST_FAILED;
	int			 sp[2] = { -1, -1 }, fd, rc = 1;

	static char		 name[48];

	snprintf(name, sizeof(name), "job %" PRIu64 " sandbox", w->job);
	mig_log_procname(name);
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		mig_log_warn("sandbox");
		return 1;
	}
	if (preauth_prepare(w, &rq, &ctx, &peers, &err) == -1 ||
	    (ctx != NULL && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, sp) == -1 && mig_seterrno(&err, MIG_E_IO,
	    "socketpair") == -1) ||
	    sandbox_enter(&w->conf, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		preauth_answer(w->pipe, a, CTL_ST_FAILED, &err, -1);
		goto out;
	}
	if ((conn = mig_conn_new(w->conn_fd, &err)) == NULL) {
		preauth_answer(w->pipe, a, CTL_ST_FAILED, &err, -1);
		goto out;
	}
	w->conn_fd = -1;
	if (w->peer != NULL)
		mig_conn_set_peer(conn, w->peer);
	if (preauth_talk(conn, ctx, &rq, a, &st, &err) == -1) {
		preauth_answer(w->pipe, a, st, &err, -1);
		goto out;
	}
	if ((fd = mig_conn_handoff(conn, &a->ktls, &err)) != -1) {
		a->handoff = a->ktls != 0 ? HANDOFF_KTLS : HANDOFF_SOCKET;
		preauth_answer(w->pipe, a, CTL_ST_OK, NULL, fd);
		close(fd);
		rc = 0;
		goto out;
	}
	a->handoff = HANDOFF_RELAY;
	preauth_answer(w->pipe, a, CTL_ST_OK, NULL, sp[1]);
	close(sp[1]);
	sp[1] = -1;
	if (mig_conn_pipe(conn, sp[0], PREAUTH_LINGER_MS, &err) == -1)
		mig_log_debug("relay: %s", err.msg);
	else
		rc = 0;
out:
	if (sp[0] != -1)
		close(sp[0]);
	if (sp[1] != -1)
		close(sp[1]);
	mig_conn_close(conn);
	SSL_CTX_free(ctx);
	mig_acl_free(peers);
	config_free(&w->conf);
	free(a);
	return rc;
}

/* ---- the worker's side ---- */

/* "relocd -W preauth ..." with the worker's own options, the answer's
 * socket on fd 3 and the connection on fd 4, nothing else open. */
static pid_t
preauth_spawn(struct worker *w, int sock, struct mig_err *err)
{
	char	 self[PATH_MAX], **argv;
	ssize_t	 n;
	pid_t	 pid;
	int	 argc, i;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return mig_seterrno(err, MIG_E_IO, "/proc/self/exe");
	self[n] = '\0';
	for (argc = 0; w->argv[argc] != NULL; argc++)
		;
	if ((argv = calloc(argc + 1, sizeof(*argv))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "sandbox");
	for (i = 0; i < argc; i++)
		argv[i] = w->argv[i];
	argv[2] = "preauth";	/* in place of the worker's kind */
	switch (pid = fork()) {
	case -1:
		mig_seterrno(err, MIG_E_IO, "sandbox: fork");
		break;
	case 0:
		if (dup2(sock, RELOCD_WORKER_FD_PIPE) == -1 ||
		    dup2(w->conn_fd, RELOCD_WORKER_FD_CONN) == -1)
			_exit(126);
		/* Nothing of the worker's (hypervisor, journal) goes along. */
		(void)closefrom(RELOCD_WORKER_FD_CONN + 1);
		execv(self, argv);
		_exit(127);
	}
	free(argv);
	return pid;
}

/*
 * The end of a sandbox: reaped at once when it is ending anyway (wait),
 * else only if it has.  A relay ends by itself within PREAUTH_LINGER_MS of
 * the worker closing its end (it waits for the peer's close, so that our
 * last frame is not lost to a reset); the worker does not wait for it, so
 * that the job's lock and slot go with the job, and init reaps it.
 */
void
preauth_end(pid_t pid, int wait)
{
	if (pid > 0)
		(void)waitpid(pid, NULL, wait ? 0 : WNOHANG);
}

static void
preauth_note(struct worker *w, const struct preauth_answer *a,
    struct mig_conn *conn)
{
	if (a->subject[0] != '\0') {
		mig_log_field("PEER_CERT", "%s SHA256:%s", a->subject, a->fpr);
		mig_log_info("%s presented certificate %s, SHA256 %s",
		    mig_conn_peer(conn), a->subject, a->fpr);
	}
	mig_log_field("HANDOFF", "%s", a->handoff == HANDOFF_KTLS ? "ktls" :
	    a->handoff == HANDOFF_RELAY ? "relay" : "socket");
	mig_log_info("connection from %s authenticated in the sandbox (uid "
	    "%" PRIu32 "): %s", mig_conn_peer(conn), a->uid,
	    handoff_names[a->handoff]);
	(void)w;
}

/*
 * The peer authenticated, in the sandbox: *conn as the worker uses it,
 * *them the peer's HELLO, *pid the sandbox when it stays as the relay
 * (preauth_end() after the connection is closed).  Else the status
 * (CTL_ST_REFUSED: it never proved who it is) and err.
 */
int
preauth_open(struct worker *w, const struct mig_msg *us, struct mig_msg *them,
    struct mig_conn **conn, pid_t *pid, struct mig_err *err)
{
	struct preauth_answer	*a;
	struct preauth_request	 rq;
	int			 sv[2], fd = -1, st = CTL_ST_FAILED;

	*conn = NULL;
	*pid = 0;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "sandbox");
		return CTL_ST_FAILED;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		mig_seterrno(err, MIG_E_IO, "sandbox: socketpair");
		goto out;
	}
	*pid = preauth_spawn(w, sv[1], err);
	close(sv[1]);
	/* The socket is the sandbox's now.  The worker's copy is kept, only
	 * for its TCP_INFO counters (byte_path_sandbox), if the sandbox
	 * stays as the relay; nothing here reads or writes it. */
	if (*pid == -1) {
		*pid = 0;
		goto out_sock;
	}
	memset(&rq, 0, sizeof(rq));
	rq.hello = *us;
	rq.deadline = mig_deadline((int)w->conf.preauth_timeout * 1000);
	if (mig_fd_send(sv[0], &rq, sizeof(rq), -1, err) == -1 ||
	    mig_fd_recv(sv[0], a, sizeof(*a), &fd, rq.deadline +
	    PREAUTH_SLACK_MS, err) == -1) {
		mig_seterr(err, err->code, "sandbox: %s", err->msg);
		goto out_sock;
	}
	if (a->status != CTL_ST_OK || fd == -1) {
		/* Its reason, as a string, and a status a job can end in. */
		st = a->status == CTL_ST_REFUSED ? CTL_ST_REFUSED :
		    CTL_ST_FAILED;
		a->err.msg[sizeof(a->err.msg) - 1] = '\0';
		mig_seterr(err, a->err.code > MIG_OK && a->err.code <
		    MIG_E__MAX ? a->err.code : MIG_E_PROTO, "%s",
		    a->status == CTL_ST_OK ? "sandbox: an answer without a "
		    "connection" : a->err.msg);
		goto out_sock;
	}
	if (preauth_answer_check(w->tls, a, fd, them, err) == -1)
		goto out_sock;
	*conn = mig_conn_new(fd, err);		/* takes fd, whatever happens */
	fd = -1;
	if (*conn == NULL)
		goto out_sock;
	if (w->peer != NULL)
		mig_conn_set_peer(*conn, w->peer);
	if (a->handoff == HANDOFF_KTLS)
		mig_conn_adopt_ktls(*conn, a->ktls);
	preauth_note(w, a, *conn);
	st = CTL_ST_OK;
out_sock:
	close(sv[0]);
out:
	if (fd != -1)
		close(fd);
	if (st != CTL_ST_OK || a->handoff != HANDOFF_RELAY ||
	    fcntl(w->conn_fd, F_SETFD, FD_CLOEXEC) == -1) {
		close(w->conn_fd);
		w->conn_fd = -1;
	}
	/* Only a relay outlives the answer. */
	if (*pid > 0 && (st != CTL_ST_OK || a->handoff != HANDOFF_RELAY)) {
		if (st != CTL_ST_OK)
			kill(*pid, SIGKILL);
		preauth_end(*pid, 1);
		*pid = 0;
	}
	free(a);
	return st;
}
