/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relay-pipe: libmig's relay between stdin/stdout and a TCP or TLS
 * connection, for bench/transport.
 *
 *   relay-pipe send --host H --port P [--tls --pki DIR] [--zstd] [--raw]
 *                   [--sha256] [--hop] [--level N] [--bw RATE] [--chunk BYTES]
 *                   [--tls13-suites LIST]
 *                   [--xen [--no-xl-header]] [-v]
 *   relay-pipe recv --port P [--bind ADDR] [--tls --pki DIR] [--sha256] [--hop]
 *                   [--sandbox] [--raw] [--xen [--no-xl-header]] [-v]
 *
 * The relay thread reads stdin (send) or writes stdout (recv) itself: the
 * program before or after it in the pipeline plays libxl-save-helper,
 * which in relocd writes straight into the relay's socketpair, so the hop
 * count is relocd's.  With --hop the main thread copies stdin into a
 * socketpair (or from it to stdout) as an extra hop, to measure one.  Nothing else is in between: no
 * preamble or handshake, only the data path.  --xen parses the input as a
 * Xen stream (pages counted, and checked at the far end); without it the
 * bytes are opaque.  STREAM_END carries XXH3-128, as between two relocd;
 * --sha256 (on both ends) measures the SHA-256 fallback.  --tls13-suites
 * LIST overrides libmig's TLS 1.3 suite order (to measure a cipher; relocd
 * has no such knob).  --sandbox (recv) keeps the connection in a child
 * process that relays it to a socketpair (mig_conn_pipe), the relay
 * reading the other end: relocd's receiving side when TLS stays in its
 * pre-authentication sandbox.  --raw is the direct stream through TLS in
 * user space: the sender's relay in MIG_RELAY_SEND_RAW mode (no frames,
 * no digest), the receiver no relay at all: its main thread splices the
 * connection's socket (the sandbox's socketpair with --sandbox) into
 * stdout, where the next program reads it as libxl's restore reads the
 * socket it is lent (one kernel copy more than relocd, where libxl reads
 * the socketpair itself).  RATE is bytes/s with an optional k, M or G (powers
 * of 1000).  PKI DIR holds ca.pem, server.pem/.key and client.pem/.key.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/conn.h"
#include "mig/relay.h"
#include "mig/tls.h"

#define COPY_CHUNK	(1024 * 1024)
#define TIMEOUT_MS	30000

struct opts {
	int		 send;
	const char	*host;
	const char	*bind;
	const char	*port;
	const char	*pki;
	const char	*suites;
	int		 tls;
	int		 zstd;
	int		 level;
	uint64_t	 bw;
	size_t		 chunk;
	unsigned	 flags;
	int		 verbose;
	int		 hop;
	int		 sandbox;
	int		 raw;
};

static void
usage(void)
{
	fprintf(stderr, "usage: relay-pipe send --host H --port P [--tls "
	    "--pki DIR] [--zstd] [--sha256] [--hop] [--level N]\n"
	    "                  [--bw RATE] [--chunk BYTES] [--tls13-suites "
	    "LIST] [--raw]\n"
	    "                  [--xen [--no-xl-header]] [-v]\n"
	    "       relay-pipe recv --port P [--bind ADDR] [--tls --pki DIR] "
	    "[--sha256] [--hop] [--sandbox] [--raw]\n"
	    "                  [--xen [--no-xl-header]] [-v]\n");
	exit(2);
}

static uint64_t
parse_rate(const char *s)
{
	char		*end;
	uint64_t	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		usage();
	switch (*end) {
	case 'k': case 'K': v *= 1000; end++; break;
	case 'M': v *= 1000000; end++; break;
	case 'G': v *= 1000000000; end++; break;
	}
	if (*end != '\0')
		usage();
	return v;
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	int	i;

	memset(o, 0, sizeof(*o));
	/* relocd's default between two relocd: XXH3-128 in STREAM_END */
	o->flags = MIG_RELAY_F_NO_PARSE | MIG_RELAY_F_XXH3;
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "send") == 0)
		o->send = 1;
	else if (strcmp(argv[1], "recv") != 0)
		usage();
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--tls") == 0)
			o->tls = 1;
		else if (strcmp(a, "--zstd") == 0)
			o->zstd = 1;
		else if (strcmp(a, "--sha256") == 0)
			o->flags &= ~MIG_RELAY_F_XXH3;
		else if (strcmp(a, "--xen") == 0)
			o->flags &= ~MIG_RELAY_F_NO_PARSE;
		else if (strcmp(a, "--no-xl-header") == 0)
			o->flags |= MIG_RELAY_F_NO_XL_HEADER;
		else if (strcmp(a, "--hop") == 0)
			o->hop = 1;
		else if (strcmp(a, "--sandbox") == 0 && !o->send)
			o->sandbox = 1;
		else if (strcmp(a, "--raw") == 0)
			o->raw = 1;
		else if (strcmp(a, "-v") == 0)
			o->verbose = 1;
		else if (v == NULL)
			usage();
		else if (strcmp(a, "--host") == 0)
			o->host = argv[++i];
		else if (strcmp(a, "--bind") == 0)
			o->bind = argv[++i];
		else if (strcmp(a, "--port") == 0)
			o->port = argv[++i];
		else if (strcmp(a, "--pki") == 0)
			o->pki = argv[++i];
		else if (strcmp(a, "--tls13-suites") == 0)
			o->suites = argv[++i];
		else if (strcmp(a, "--level") == 0)
			o->level = atoi(argv[++i]);
		else if (strcmp(a, "--bw") == 0)
			o->bw = parse_rate(argv[++i]);
		else if (strcmp(a, "--chunk") == 0)
			o->chunk = parse_rate(argv[++i]);
		else
			usage();
	}
	if (o->port == NULL || (o->send && o->host == NULL) ||
	    (o->tls && o->pki == NULL))
		usage();
	if (o->zstd)
		o->flags |= MIG_RELAY_F_ZSTD;
}

static void
die(const char *what, const struct mig_err *err)
{
	fprintf(stderr, "relay-pipe: %s: %s\n", what, err->msg);
	exit(1);
}

static SSL_CTX *
tls_ctx(const struct opts *o, struct mig_err *err)
{
	static char		cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];
	struct mig_tls_conf	tc;
	const char		*who = o->send ? "client" : "server";

	snprintf(cert, sizeof(cert), "%s/%s.pem", o->pki, who);
	snprintf(key, sizeof(key), "%s/%s.key", o->pki, who);
	snprintf(ca, sizeof(ca), "%s/ca.pem", o->pki);
	memset(&tc, 0, sizeof(tc));
	tc.cert_file = cert;
	tc.key_file = key;
	tc.ca_file = ca;
	tc.ktls = getenv("RELAY_PIPE_KTLS") != NULL;
	return o->send ? mig_tls_client_ctx(&tc, err) :
	    mig_tls_server_ctx(&tc, err);
}

static struct mig_conn *
open_conn(const struct opts *o, SSL_CTX **ctx, struct mig_err *err)
{
	struct mig_conn	*c;
	struct pollfd	 pfd;
	int		 lfd;

	if (o->send) {
		if ((c = mig_conn_connect(o->host, o->port, TIMEOUT_MS,
		    err)) == NULL)
			die("connect", err);
	} else {
		if ((lfd = mig_conn_listen(o->bind ? o->bind : "127.0.0.1",
		    o->port, 1, 0, err)) == -1)
			die("listen", err);
		pfd.fd = lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) != 1 ||
		    (c = mig_conn_accept_fd(lfd, err)) == NULL)
			die("accept", err);
		close(lfd);
	}
	if (!o->tls)
		return c;
	if ((*ctx = tls_ctx(o, err)) == NULL)
		die("TLS context", err);
	/* Measurement only: relocd uses libmig's suite policy as it is. */
	if (o->suites != NULL && SSL_CTX_set_ciphersuites(*ctx,
	    o->suites) != 1) {
		fprintf(stderr, "relay-pipe: bad TLS 1.3 suites %s\n",
		    o->suites);
		exit(2);
	}
	if ((o->send ? mig_conn_tls_client(c, *ctx, o->host, TIMEOUT_MS,
	    err) : mig_conn_tls_server(c, *ctx, TIMEOUT_MS, err)) == -1)
		die("TLS handshake", err);
	return c;
}

/*
 * --sandbox: the connection goes to a child that relays it to one end of
 * a socketpair, as relocd's sandbox does; the other end is returned, and
 * *pid is the child, waited for at the end so that its work is timed.
 */
static struct mig_conn *
sandbox_relay(struct mig_conn *c, pid_t *pid, struct mig_err *err)
{
	int	sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	    sv) == -1) {
		mig_seterrno(err, MIG_E_IO, "socketpair");
		die("sandbox", err);
	}
	if ((*pid = fork()) == -1) {
		mig_seterrno(err, MIG_E_IO, "fork");
		die("sandbox", err);
	}
	if (*pid == 0) {
		close(sv[1]);
		if (mig_conn_pipe(c, sv[0], TIMEOUT_MS, err) == -1)
			die("sandbox relay", err);
		_exit(0);
	}
	close(sv[0]);
	mig_conn_close(c);		/* the child's now */
	return mig_conn_new(sv[1], err);
}

/* As libxl-save-helper would: one copy of the data into the socket. */
static int
copy(int in, int out)
{
	static char	buf[COPY_CHUNK];
	ssize_t		n, w, off;
	int		can_splice = 1;

	for (;;) {
		if (can_splice) {
			n = splice(in, NULL, out, NULL, COPY_CHUNK,
			    SPLICE_F_MOVE | SPLICE_F_MORE);
			if (n > 0)
				continue;
			if (n == 0)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno != EINVAL)
				return -1;
			can_splice = 0;	/* neither end is a pipe */
		}
		if ((n = read(in, buf, sizeof(buf))) == 0)
			return 0;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (off = 0; off < n; off += w)
			if ((w = write(out, buf + off, n - off)) == -1) {
				if (errno != EINTR)
					return -1;
				w = 0;
			}
	}
}

/* recv --raw: the connection's socket spliced into stdout, for a reader
 * that plays libxl's restore reading the socket it is lent (byte_path.c). */
static int
recv_raw(struct mig_conn *conn, pid_t sandbox)
{
	struct mig_err	err;
	int		fd, fl, ok, wst;

	if ((fd = mig_conn_stream_fd(conn, &err)) == -1)
		die("raw", &err);
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		perror("relay-pipe: raw");
		return 1;
	}
	if (!(ok = copy(fd, STDOUT_FILENO) == 0))
		perror("relay-pipe: raw copy");
	close(STDOUT_FILENO);
	mig_conn_close(conn);
	if (sandbox > 0 && (waitpid(sandbox, &wst, 0) == -1 ||
	    !WIFEXITED(wst) || WEXITSTATUS(wst) != 0)) {
		fprintf(stderr, "relay-pipe: the sandbox relay failed\n");
		ok = 0;
	}
	return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct opts		 o;
	struct mig_err		 err;
	struct mig_conn		*conn;
	struct mig_relay_conf	 rc;
	struct mig_relay	*r;
	struct mig_relay_stats	 st;
	SSL_CTX			*ctx = NULL;
	int			 sv[2] = { -1, -1 }, copy_rc = 0, saved = 0;
	int			 ok, wst;
	pid_t			 sandbox = -1;

	parse_opts(argc, argv, &o);
	conn = open_conn(&o, &ctx, &err);
	if (o.sandbox && (conn = sandbox_relay(conn, &sandbox, &err)) == NULL)
		die("sandbox", &err);
	if (o.raw && !o.send)
		return recv_raw(conn, sandbox);
	if (o.hop && mig_relay_socketpair(sv, &err) == -1)
		die("socketpair", &err);
	memset(&rc, 0, sizeof(rc));
	rc.dir = o.raw ? MIG_RELAY_SEND_RAW : o.send ? MIG_RELAY_SEND :
	    MIG_RELAY_RECV;
	rc.flags = o.raw ? o.flags & ~MIG_RELAY_F_XXH3 : o.flags;
	rc.local_fd = o.hop ? sv[1] : o.send ? STDIN_FILENO : STDOUT_FILENO;
	rc.conn = conn;
	rc.file_fd = -1;
	rc.zstd_level = o.level;
	rc.bw_limit = o.bw;
	rc.chunk = o.chunk;
	if ((r = mig_relay_start(&rc, &err)) == NULL)
		die("relay", &err);
	if (o.hop) {
		copy_rc = o.send ? copy(STDIN_FILENO, sv[0]) :
		    copy(sv[0], STDOUT_FILENO);
		saved = errno;
		close(sv[0]);	/* the sender's EOF, as libxl's end closes */
	}
	ok = mig_relay_join(r, &st, &err) == 0;
	if (!o.hop && !o.send)
		close(STDOUT_FILENO);	/* a pipe has no shutdown(2) */
	if (!ok)
		fprintf(stderr, "relay-pipe: %s\n", err.msg);
	if (copy_rc == -1 && ok) {
		errno = saved;
		perror("relay-pipe: copy");
		ok = 0;
	}
	if (o.verbose)
		fprintf(stderr, "relay-pipe: local %" PRIu64 " stream %"
		    PRIu64 " wire %" PRIu64 " frames %" PRIu64 " records %"
		    PRIu64 " pages %" PRIu64 " libxl end %d\n",
		    st.local_bytes, st.stream_bytes, st.wire_bytes, st.frames,
		    st.records, st.pages, st.libxl_end);
	if (o.send && ok)
		(void)mig_conn_shutdown(conn, mig_deadline(TIMEOUT_MS),
		    NULL);
	mig_conn_close(conn);
	if (sandbox > 0 && (waitpid(sandbox, &wst, 0) == -1 ||
	    !WIFEXITED(wst) || WEXITSTATUS(wst) != 0)) {
		fprintf(stderr, "relay-pipe: the sandbox relay failed\n");
		ok = 0;
	}
	if (o.hop)
		close(sv[1]);
	SSL_CTX_free(ctx);
	return ok ? 0 : 1;
}
