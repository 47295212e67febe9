/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc tunnel HOST xl [...] migrate-receive [...]: the transport that
 * lets stock xl send to a relocd receiver.  "xl migrate -s 'xl-reloc
 * tunnel' DOMAIN HOST" runs
 *
 *	exec xl-reloc tunnel HOST xl [-t] [-T] [-v...]
 *	    migrate-receive [-e] [-d] [-p]
 *
 * (Xen 4.17's xl_migrate.c) and speaks its migrate protocol over our stdin
 * and stdout.  We connect to relocd on HOST, switch the connection to xl
 * mode (XL_TUNNEL, doc/protocol.md section 8) and copy bytes both ways.
 *
 * xl's protocol carries no reasons, so xl alone can only say that the
 * receiver failed.  relocd's reason, when it refuses or fails before xl's
 * "ready" (and it offers MIG_FEAT_XL_REASONS), comes to us as a frame that
 * never reaches xl: we print it on stderr, which xl leaves on its terminal.
 */
#include <sys/utsname.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mig/proto.h"
#include "reloc.h"
#include "mig/tls.h"
#include "mig/xlcompat.h"
#include "xl-reloc.h"

#define TUNNEL_TIMEOUT_MS	30000	/* connect, handshakes, first answer */
#define PUMP_BUF		65536
#define XL_PEEK			8	/* "xl migra": banner, not frame */

/* The words xl puts after HOST; only -d and -p reach the receiver. */
static int
parse_rune(int argc, char **argv, struct tunnel_args *a, struct mig_err *err)
{
	int		 i = 0;
	bool		 receive = false;
	const char	*p;

	if (argc < 2 || strcmp(argv[0], "xl") != 0)
		return mig_seterr(err, MIG_E_INVAL, "tunnel: expected 'xl ... "
		    "migrate-receive' after HOST (xl migrate -s \"xl-reloc "
		    "tunnel\" writes it)");
	for (i = 1; i < argc; i++) {
		if (!receive && strcmp(argv[i], "migrate-receive") == 0) {
			receive = true;
			continue;
		}
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			return mig_seterr(err, MIG_E_INVAL, "tunnel: "
			    "unexpected argument '%s'", argv[i]);
		for (p = argv[i] + 1; *p != '\0'; p++) {
			/* Before migrate-receive: xl's own -t, -T, -v. */
			if (!receive && (*p == 't' || *p == 'T' || *p == 'v'))
				continue;
			if (receive && *p == 'e')	/* xl's terminal only */
				continue;
			if (receive && *p == 'd')
				a->xlflags |= MIG_XLT_F_DEBUG;
			else if (receive && *p == 'p')
				a->xlflags |= MIG_XLT_F_PAUSED;
			else
				return mig_seterr(err, MIG_E_INVAL,
				    "tunnel: xl option '-%c' is not "
				    "supported", *p);
		}
	}
	if (!receive)
		return mig_seterr(err, MIG_E_INVAL, "tunnel: no "
		    "'migrate-receive' after 'xl'");
	return 0;
}

int
tunnel_take_name(void *args, const char *name, struct mig_err *err)
{
	struct tunnel_args	*a = args;

	if (strlen(name) > MIG_NAME_MAX ||
	    mig_name_valid(name, strlen(name), NULL) == -1)
		return mig_seterr(err, MIG_E_INVAL, "tunnel: bad domain name "
		    "'%s'", name);
	snprintf(a->name, sizeof(a->name), "%s", name);
	return 0;
}

int
tunnel_parse(const struct xr_cmd *self, int argc, char **argv,
    struct tunnel_args *a, struct mig_err *err)
{
	int	i;

	memset(a, 0, sizeof(*a));
	if ((i = args_parse(self, argc, argv, a, &a->help, err)) == -1)
		return -1;
	if (a->help)
		return 0;
	if (i >= argc)
		return mig_seterr(err, MIG_E_INVAL, "tunnel: expected HOST");
	a->host = argv[i];
	if (mig_hostname_valid(a->host, strlen(a->host), NULL) == -1)
		return mig_seterr(err, MIG_E_INVAL, "tunnel: bad host '%s'",
		    a->host);
	return parse_rune(argc - i - 1, argv + i + 1, a, err);
}

static void
our_hello(struct mig_msg *m)
{
	struct utsname	u;
	long		ps = sysconf(_SC_PAGESIZE);

	memset(m, 0, sizeof(*m));
	m->type = MIG_MSG_HELLO;
	snprintf(m->u.hello.version, sizeof(m->u.hello.version),
	    "xl-reloc %s", PACKAGE_VERSION);
	if (gethostname(m->u.hello.hostname, sizeof(m->u.hello.hostname) - 1)
	    == -1 || mig_hostname_valid(m->u.hello.hostname,
	    strlen(m->u.hello.hostname), NULL) == -1)
		snprintf(m->u.hello.hostname, sizeof(m->u.hello.hostname),
		    "localhost");
	/* The tunnel sends no domain itself: xl does, through it. */
	snprintf(m->u.hello.arch, sizeof(m->u.hello.arch), "%.*s",
	    MIG_ARCH_MAX, uname(&u) == 0 ? u.machine : "x86_64");
	m->u.hello.page_size = ps > 0 ? (uint32_t)ps : 4096;
	m->u.hello.features = MIG_FEAT_XL_TUNNEL;
	m->u.hello.max_data_frame = MIG_FRAME_DATA_MAX;
}

static int
send_msg(struct mig_conn *c, const struct mig_msg *m, uint64_t dl,
    struct mig_err *err)
{
	uint8_t	buf[1024];
	size_t	len;

	if (mig_msg_encode(m, buf, sizeof(buf), &len, err) == -1)
		return -1;
	return mig_conn_write_all(c, buf, len, dl, err);
}

/* Reads a whole frame after its 8 header bytes; buf holds the body. */
static int
read_frame(struct mig_conn *c, const uint8_t hdrb[MIG_FRAME_HDR_LEN],
    struct mig_msg *m, uint8_t *buf, size_t cap, uint64_t dl,
    struct mig_err *err)
{
	struct mig_frame_hdr	hdr;

	if (mig_frame_hdr_decode(hdrb, &hdr, err) == -1)
		return -1;
	if (hdr.len > cap)
		return mig_seterr(err, MIG_E_TOOBIG, "%s frame of %u bytes",
		    mig_msg_name(hdr.type), hdr.len);
	if (mig_conn_read_full(c, buf, hdr.len, dl, err) == -1)
		return -1;
	if (!mig_msg_known(hdr.type)) {
		memset(m, 0, sizeof(*m));
		m->type = hdr.type;	/* optional and unknown: skipped */
		return 0;
	}
	return mig_msg_decode(&hdr, buf, m, err);
}

/*
 * relocd's REFUSED or ERROR: its text, made safe for xl's terminal
 * (printable, bounded), in err and the exit status; -1 for another frame.
 */
static int
tunnel_reply(const struct mig_msg *m, struct tunnel_args *a,
    struct mig_err *err)
{
	char	text[MIG_TEXT_MAX + 1];

	switch (m->type) {
	case MIG_MSG_REFUSED:
		mig_text_set(text, m->u.refused.text);
		mig_seterr(err, MIG_E_DENIED, "%s: %s",
		    mig_refuse_reason_name(m->u.refused.reason), text);
		a->reply = m->type;
		return CTL_ST_REFUSED;
	case MIG_MSG_ERROR:
		mig_text_set(text, m->u.error.text);
		mig_seterr(err, m->u.error.code > MIG_OK &&
		    m->u.error.code < MIG_E__MAX ? m->u.error.code :
		    MIG_E_PROTO, "%s", text);
		a->reply = m->type;
		return CTL_ST_FAILED;
	default:
		return -1;
	}
}

int
tunnel_handshake(struct mig_conn *c, struct tunnel_args *a, int out,
    struct mig_err *err)
{
	uint64_t	dl = mig_deadline(TUNNEL_TIMEOUT_MS);
	uint8_t		pre[MIG_PREAMBLE_LEN], hdr[MIG_FRAME_HDR_LEN];
	uint8_t		body[4096];
	struct mig_preamble pp;
	struct mig_msg	m;
	int		st;

	mig_preamble_encode(pre);
	our_hello(&m);
	if (mig_conn_write_all(c, pre, sizeof(pre), dl, err) == -1 ||
	    send_msg(c, &m, dl, err) == -1 ||
	    mig_conn_read_full(c, pre, sizeof(pre), dl, err) == -1 ||
	    mig_preamble_decode(pre, &pp, err) == -1 ||
	    mig_conn_read_full(c, hdr, sizeof(hdr), dl, err) == -1 ||
	    read_frame(c, hdr, &m, body, sizeof(body), dl, err) == -1)
		/* relocd tells a host it does not admit nothing. */
		return mig_greeting_refusal(err, errno, mig_conn_peer(c)) ?
		    CTL_ST_REFUSED : CTL_ST_FAILED;
	if (m.type != MIG_MSG_HELLO) {
		mig_seterr(err, MIG_E_PROTO, "expected HELLO, got %s",
		    mig_msg_name(m.type));
		return CTL_ST_FAILED;
	}
	if ((m.u.hello.features & MIG_FEAT_XL_TUNNEL) == 0) {
		mig_seterr(err, MIG_E_NOTSUP, "relocd on %s does not accept xl "
		    "tunnels", m.u.hello.hostname);
		return CTL_ST_REFUSED;
	}
	/* An older relocd refuses flags it does not know. */
	a->reasons = !a->no_reasons &&
	    (m.u.hello.features & MIG_FEAT_XL_REASONS) != 0;
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_XL_TUNNEL;
	m.u.xl_tunnel.flags = a->xlflags |
	    (a->reasons ? MIG_XLT_F_REASONS : 0);
	snprintf(m.u.xl_tunnel.name, sizeof(m.u.xl_tunnel.name), "%s",
	    a->name);
	if (send_msg(c, &m, dl, err) == -1)
		return CTL_ST_FAILED;
	for (;;) {
		if (mig_conn_read_full(c, hdr, XL_PEEK, dl, err) == -1)
			return CTL_ST_FAILED;
		/* As a frame header these bytes announce a length no decoder
		 * accepts, so the two readings cannot be confused. */
		if (memcmp(hdr, MIG_XL_BANNER, XL_PEEK) == 0)
			break;
		if (read_frame(c, hdr, &m, body, sizeof(body), dl, err) == -1)
			return CTL_ST_FAILED;
		if ((st = tunnel_reply(&m, a, err)) != -1)
			return st;
		if (mig_msg_mandatory(m.type)) {
			mig_seterr(err, MIG_E_PROTO, "unexpected %s after "
			    "XL_TUNNEL", mig_msg_name(m.type));
			return CTL_ST_FAILED;
		}
	}
	/* xl checks the whole banner itself: pass on what we have read. */
	if (write(out, hdr, XL_PEEK) != XL_PEEK) {
		mig_seterrno(err, MIG_E_IO, "writing to xl");
		return CTL_ST_FAILED;
	}
	return CTL_ST_OK;
}

static int
write_out(int fd, const uint8_t *p, size_t len, struct mig_err *err)
{
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	ssize_t		n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n == -1 && errno == EAGAIN)
			(void)poll(&pfd, 1, -1);
		else if (n == -1 && errno != EINTR)
			return mig_seterrno(err, MIG_E_IO, "writing to xl");
	}
	return 0;
}

/*
 * relocd's first bytes after the banner, in head: xl's "ready" (passed on,
 * and from then on everything is xl's), or the frame that says why relocd
 * stopped.  The two cannot be confused: "domain r" as a frame header
 * announces a body no decoder accepts.  An exit status.
 */
static int
tunnel_watch(struct mig_conn *c, struct tunnel_args *a,
    const uint8_t head[MIG_FRAME_HDR_LEN], int out, struct mig_err *err)
{
	uint8_t		 body[4096];
	struct mig_msg	 m;
	const uint8_t	*ready;
	size_t		 len;
	int		 st;

	ready = mig_xl_msg_bytes(MIG_XL_MSG_READY, &len);
	if (memcmp(head, ready, MIG_FRAME_HDR_LEN) == 0)
		return write_out(out, head, MIG_FRAME_HDR_LEN, err) == -1 ?
		    CTL_ST_FAILED : CTL_ST_OK;
	if (read_frame(c, head, &m, body, sizeof(body),
	    mig_deadline(TUNNEL_TIMEOUT_MS), err) == -1)
		return CTL_ST_FAILED;
	if ((st = tunnel_reply(&m, a, err)) != -1)
		return st;
	mig_seterr(err, MIG_E_PROTO, "relocd sent %s where xl's ready "
	    "message was due", mig_msg_name(m.type));
	return CTL_ST_FAILED;
}

int
tunnel_pump(struct mig_conn *c, struct tunnel_args *a, int in, int out,
    struct mig_err *err)
{
	const struct mig_io	forever = MIG_IO_INIT;
	uint8_t			buf[PUMP_BUF], head[MIG_FRAME_HDR_LEN];
	bool			in_open = true, watch = a->reasons;
	size_t			nhead = 0, banner = MIG_XL_BANNER_LEN - XL_PEEK;
	ssize_t			n;
	int			ready, st;

	/* Ends when relocd closes: nothing xl sends after that can arrive. */
	for (;;) {
		if ((ready = mig_conn_wait(c, in_open ? in : -1, &forever,
		    err)) == -1)
			return CTL_ST_FAILED;
		if ((ready & MIG_READY_CONN) && watch && banner == 0) {
			/* Held back from xl until we know what they are. */
			n = mig_conn_read_some(c, head + nhead, sizeof(head) -
			    nhead, mig_deadline(TUNNEL_TIMEOUT_MS), err);
			if (n == -1)
				return CTL_ST_FAILED;
			if (n == 0)	/* closed without a word, as before */
				return write_out(out, head, nhead, err) == -1 ?
				    CTL_ST_FAILED : CTL_ST_OK;
			if ((nhead += (size_t)n) < sizeof(head))
				continue;
			watch = false;
			if ((st = tunnel_watch(c, a, head, out, err)) !=
			    CTL_ST_OK)
				return st;
		} else if (ready & MIG_READY_CONN) {
			/* While watching, the rest of the banner first. */
			n = mig_conn_read_some(c, buf, watch ? banner :
			    sizeof(buf), mig_deadline(TUNNEL_TIMEOUT_MS),
			    err);
			if (n == -1)
				return CTL_ST_FAILED;
			if (n == 0)
				return CTL_ST_OK;
			if (write_out(out, buf, (size_t)n, err) == -1)
				return CTL_ST_FAILED;
			if (watch)
				banner -= (size_t)n;
		}
		if (in_open && (ready & MIG_READY_FD)) {
			n = read(in, buf, sizeof(buf));
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n == -1) {
				mig_seterrno(err, MIG_E_IO, "reading from xl");
				return CTL_ST_FAILED;
			}
			if (n == 0) {
				in_open = false;
				if (mig_conn_shutdown(c,
				    mig_deadline(TUNNEL_TIMEOUT_MS),
				    err) == -1)
					return CTL_ST_FAILED;
			} else if (mig_conn_write_all(c, buf, (size_t)n, 0,
			    err) == -1)
				return CTL_ST_FAILED;
		}
	}
}

static struct mig_conn *
tunnel_connect(const struct xr_global *g, const struct tunnel_args *a,
    struct mig_err *err)
{
	struct relocd_conf	 conf;
	struct mig_tls_conf	 tc;
	struct mig_conn		*c;
	SSL_CTX			*ctx = NULL;
	char			 port[8];

	if (client_conf(g, &conf, err) != CTL_ST_OK)
		return NULL;
	if (!a->plain && conf.tls_ca == NULL) {
		mig_seterr(err, MIG_E_INVAL, "TLS needs tls_ca (and tls_cert, "
		    "tls_key) in %s; or use --plain", g->conf);
		config_free(&conf);
		return NULL;
	}
	if (!a->plain) {
		memset(&tc, 0, sizeof(tc));
		tc.cert_file = conf.tls_cert;
		tc.key_file = conf.tls_key;
		tc.ca_file = conf.tls_ca;
		tc.crl_file = conf.tls_crl;
		ctx = mig_tls_client_ctx(&tc, err);
		config_free(&conf);
		if (ctx == NULL)
			return NULL;
	} else
		config_free(&conf);
	snprintf(port, sizeof(port), "%u", a->port != 0 ? a->port :
	    a->plain ? RELOCD_PORT : RELOCD_TLS_PORT);
	if ((c = mig_conn_connect(a->host, port, TUNNEL_TIMEOUT_MS, err)) ==
	    NULL || ctx == NULL) {
		if (c == NULL)
			mig_connect_hint(err, ctx != NULL);
		SSL_CTX_free(ctx);
		return c;
	}
	if (mig_conn_tls_client(c, ctx, a->host, TUNNEL_TIMEOUT_MS, err) ==
	    -1) {
		mig_connect_hint(err, true);
		mig_conn_close(c);
		c = NULL;
	}
	SSL_CTX_free(ctx);
	return c;
}

int
cmd_tunnel(const struct xr_cmd *self, const struct xr_global *g, int argc,
    char **argv)
{
	struct tunnel_args	 a;
	struct mig_conn		*c;
	struct mig_err		 err;
	int			 st;

	if ((st = cmd_parsed(self, tunnel_parse(self, argc, argv, &a, &err),
	    &a.help, &err)) != -1)
		return st;
	if ((c = tunnel_connect(g, &a, &err)) == NULL) {
		fprintf(stderr, "xl-reloc: tunnel to %s: %s\n", a.host,
		    err.msg);
		/* A handshake the target failed is its refusal too. */
		return err.code == MIG_E_TLS ? CTL_ST_REFUSED :
		    ctl_status_of(&err, 0);
	}
	if ((st = tunnel_handshake(c, &a, STDOUT_FILENO, &err)) == CTL_ST_OK)
		st = tunnel_pump(c, &a, STDIN_FILENO, STDOUT_FILENO, &err);
	/* xl's user sees this: xl says only that the transport failed. */
	if (a.reply != 0)
		fprintf(stderr, "xl-reloc tunnel: %s %s: %s\n", a.host,
		    a.reply == MIG_MSG_REFUSED ? "refused" : "failed",
		    err.msg);
	else if (st != CTL_ST_OK)
		fprintf(stderr, "xl-reloc: tunnel to %s: %s\n", a.host,
		    err.msg);
	mig_conn_close(c);
	return st;
}
