/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The gate: what a connection to a relocation port passes before it costs
 * a process.  The parent holds it (an fd and an event) while
 *  - relocation_hosts_allow admits its address, or its name: a name is
 *    looked up without blocking (dns.c), and only when some pattern could
 *    match a name at all; an address no pattern can admit is refused here;
 *  - the peer sends the start of the conversation: the preamble on the
 *    plain port, the whole first TLS record (the ClientHello) on the TLS
 *    port, read with MSG_PEEK so that the worker still sees every byte.
 * A peer that closes, stays silent or sends something else gets nothing.
 *
 * Then it gets a worker, within budgets that keep unauthenticated peers
 * from holding what a real migration needs: workers that have not finished
 * the TLS handshake, preamble and HELLO (max_preauth in all,
 * max_preauth_per_host from one address, each for at most
 * preauth_timeout seconds) are counted apart from authenticated ones
 * (max_incoming plus a slack), and silent connections are capped per
 * address (max_pending_per_host) under the global RELOCD_PENDING_MAX.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/acl.h"
#include "mig/log.h"
#include "mig/proto.h"
#include "mig/tls.h"
#include "relocd.h"

/* Authenticated incoming workers at once: the jobs allowed, plus room for
 * peers that ask a question (QUERY) or are refused at RESERVE. */
#define INCOMING_SLACK	8
/* TLS record header: type, version (2), length (2) */
#define TLS_HDR_LEN		5
#define TLS_RECORD_MAX		(16384 + 2048)	/* TLSCiphertext's limit */

/* host:port, as mig_conn names a peer (IPv4-mapped IPv6 as IPv4). */
static void
peer_string(const struct sockaddr_storage *ss, const char *host, char *buf,
    size_t buflen)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;
	unsigned			 port;

	port = ntohs(ss->ss_family == AF_INET ? sin->sin_port :
	    sin6->sin6_port);
	snprintf(buf, buflen, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u",
	    host, port);
}

void
pending_free(struct pending *p)
{
	struct relocd	*rd = p->rd;

	TAILQ_REMOVE(&rd->pending, p, entry);
	rd->npending--;
	if (p->dns != NULL)
		dns_check_cancel(p->dns);
	if (p->ev != NULL)
		event_free(p->ev);
	if (p->fd != -1)
		close(p->fd);
	free(p);
}

void
pending_flush(struct relocd *rd)
{
	struct pending	*p;

	while ((p = TAILQ_FIRST(&rd->pending)) != NULL)
		pending_free(p);
}

static size_t
pending_from(struct relocd *rd, const char *host)
{
	struct pending	*p;
	size_t		 n = 0;

	TAILQ_FOREACH(p, &rd->pending, entry)
		n += strcmp(p->host, host) == 0;
	return n;
}

static size_t
preauth_from(struct relocd *rd, const char *host)
{
	struct job	*j;
	size_t		 n = 0;

	TAILQ_FOREACH(j, &rd->jobs, entry)
		n += j->preauth && strcmp(j->host, host) == 0;
	return n;
}

/* A worker's peer finished its TLS handshake, preamble and HELLO: it
 * leaves the pre-authentication budget for the authenticated one. */
void
gate_authenticated(struct job *j)
{
	struct relocd	*rd = j->rd;

	if (!j->preauth)
		return;
	j->preauth = 0;
	rd->npreauth--;
	rd->nworkers_in++;
	gate_wake(rd);
}

/* Closes p, with a line (rate-limited per host): "VERB connection from
 * PEER: WHY". */
static void
gate_close(struct pending *p, const char *verb, const char *why)
{
	ratelog(p->host, "%s connection from %s: %s", verb, p->peer, why);
	pending_free(p);
}

/* The budgets a new incoming worker must fit in; NULL when it does. */
static const char *
gate_budget(struct relocd *rd, const char *host, char *why, size_t size)
{
	const struct relocd_conf	*c = &rd->conf;

	if (rd->nworkers_in >= c->max_incoming + INCOMING_SLACK)
		snprintf(why, size, "%zu incoming jobs already (max_incoming "
		    "%u)", rd->nworkers_in, c->max_incoming);
	else if (rd->npreauth >= c->max_preauth)
		snprintf(why, size, "%zu peers authenticating already "
		    "(max_preauth %u)", rd->npreauth, c->max_preauth);
	else if (preauth_from(rd, host) >= c->max_preauth_per_host)
		snprintf(why, size, "%u peers from %s authenticating already "
		    "(max_preauth_per_host)", c->max_preauth_per_host, host);
	else
		return NULL;
	return why;
}

/*
 * How much of the opening the peer has sent: 1 all of it, 0 not yet, -1
 * closed or not our protocol (why says which).  Peeked, not read.
 */
static int
gate_opening(struct pending *p, char *why, size_t size)
{
	static uint8_t		buf[TLS_HDR_LEN + TLS_RECORD_MAX];
	struct mig_preamble	pre;
	struct mig_err		err;
	size_t			want;
	ssize_t			n;

	n = recv(p->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == -1) {
		snprintf(why, size, "%s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		snprintf(why, size, "closed before it sent %s",
		    p->tls ? "a TLS ClientHello" : "the preamble");
		return -1;
	}
	if (!p->tls) {
		if ((size_t)n < MIG_PREAMBLE_LEN)
			return 0;
		/* A version we do not speak is the worker's to answer:
		 * it says which it speaks. */
		if (mig_preamble_decode(buf, &pre, &err) == -1 &&
		    err.code == MIG_E_PROTO) {
			snprintf(why, size, "%s", err.msg);
			return -1;
		}
		return 1;
	}
	if (mig_tls_sniff(buf, n, p->peer, &err) == -1) {
		snprintf(why, size, "%s", err.msg);
		return -1;
	}
	if ((size_t)n < TLS_HDR_LEN)
		return 0;
	want = TLS_HDR_LEN + ((size_t)buf[3] << 8 | buf[4]);
	if (buf[1] != 3 || want > sizeof(buf)) {
		snprintf(why, size, "not a TLS record (version %u.%u, %zu "
		    "bytes)", buf[1], buf[2], want - TLS_HDR_LEN);
		return -1;
	}
	return (size_t)n >= want;
}

static void gate_watch(struct pending *);

/* The worker for p, if the budgets have room; 0 (and why) if not. */
static int
gate_spawn(struct pending *p, char *why, size_t size)
{
	struct relocd	*rd = p->rd;
	struct mig_err	 err;

	if (gate_budget(rd, p->host, why, size) != NULL)
		return 0;
	/* The worker owns the socket from here, whatever happens. */
	if (job_spawn_in(rd, p->fd, p->tls, p->peer, p->host, &err) == NULL)
		mig_log_warnx("connection from %s: %s", p->peer, err.msg);
	p->fd = -1;
	pending_free(p);
	return 1;
}

/*
 * A worker left the pre-authentication budget, or ended: connections that
 * have sent their opening and wait for room get it, first come first.
 */
void
gate_wake(struct relocd *rd)
{
	struct pending	*p, *next;
	char		 why[256];

	for (p = TAILQ_FIRST(&rd->pending); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->waiting)
			(void)gate_spawn(p, why, sizeof(why));
	}
}

/*
 * The peer sent something, closed, or its time is up.  One that has sent
 * its opening while the budgets are full waits for room (gate_wake) until
 * its deadline, still costing no process.
 */
static void
on_opening(evutil_socket_t fd, short ev, void *arg)
{
	struct pending	*p = arg;
	char		 why[256];
	int		 rc;

	if (p->dns != NULL) {		/* its name is being confirmed */
		if (mig_now_ms() < p->deadline_ms)
			gate_watch(p);
		else
			gate_close(p, "refused", "its name was not confirmed "
			    "in time");
		return;
	}
	if ((rc = gate_opening(p, why, sizeof(why))) == -1) {
		gate_close(p, "closed", why);
		return;
	}
	if (rc == 1 && gate_spawn(p, why, sizeof(why)))
		return;
	if (mig_now_ms() < p->deadline_ms) {
		p->waiting = rc;
		gate_watch(p);
		return;
	}
	if (rc == 0)
		snprintf(why, sizeof(why), "%s not received in %d seconds",
		    p->tls ? "TLS ClientHello" : "preamble",
		    RELOCD_HELLO_TIMEOUT);
	gate_close(p, "closed", why);
}

/*
 * Waits for more of the opening, until the deadline.  Edge-triggered:
 * peeked bytes stay in the socket, and a level-triggered wait would fire
 * again at once for a peer that sent half a preamble.
 */
static void
gate_watch(struct pending *p)
{
	uint64_t	now = mig_now_ms(), left;
	struct timeval	tv;

	left = p->deadline_ms > now ? p->deadline_ms - now : 0;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	if (p->ev == NULL && (p->ev = event_new(p->rd->base, p->fd,
	    EV_READ | EV_ET, on_opening, p)) == NULL) {
		mig_log_warnx("connection from %s: cannot watch it", p->peer);
		pending_free(p);
		return;
	}
	if (event_add(p->ev, &tv) == -1) {
		mig_log_warnx("connection from %s: cannot watch it", p->peer);
		pending_free(p);
	}
}

/* The answer about the peer's name. */
static void
on_name(void *arg, const char *name, const char *why)
{
	struct pending	*p = arg;
	char		 text[512];
	const char	*n = name;

	p->dns = NULL;
	if (n != NULL && mig_acl_check_names(p->rd->acl, &n, 1)) {
		mig_log_debug("connection from %s (%s) admitted by name", p->peer,
		    name);
		/* What it sent meanwhile was an edge gate_watch saw already. */
		on_opening(p->fd, 0, p);
		return;
	}
	if (name != NULL)
		snprintf(text, sizeof(text), "%s (%s) refused: no host-allow "
		    "pattern matches", p->host, name);
	else
		snprintf(text, sizeof(text), "%s refused: no host-allow "
		    "pattern matches (%s)", p->host, why);
	gate_close(p, "refused", text);
}

void
gate_admit(struct relocd *rd, int fd, int tls,
    const struct sockaddr_storage *ss, unsigned len)
{
	const struct relocd_conf	*c = &rd->conf;
	struct pending			*p;
	char				 peer[80], host[RELOCD_HOST_MAX];
	char				 why[256];

	if (mig_acl_host((const struct sockaddr *)ss, len, host,
	    sizeof(host)) == -1) {
		mig_log_warnx("connection of address family %d refused: not IP",
		    ss->ss_family);
		close(fd);
		return;
	}
	peer_string(ss, host, peer, sizeof(peer));
	if (rd->npending >= RELOCD_PENDING_MAX ||
	    pending_from(rd, host) >= c->max_pending_per_host) {
		ratelog(host, "closed connection from %s: %s", peer,
		    rd->npending >= RELOCD_PENDING_MAX ? "too many "
		    "connections have not finished their preamble" :
		    "max_pending_per_host connections from this host have "
		    "not finished their preamble");
		close(fd);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		mig_log_warn("connection from %s", peer);
		close(fd);
		return;
	}
	p->fd = fd;
	p->tls = tls;
	p->rd = rd;
	p->deadline_ms = mig_now_ms() + RELOCD_HELLO_TIMEOUT * 1000;
	snprintf(p->peer, sizeof(p->peer), "%s", peer);
	snprintf(p->host, sizeof(p->host), "%s", host);
	TAILQ_INSERT_TAIL(&rd->pending, p, entry);
	rd->npending++;
	/* By address first; a name only when a pattern could match one,
	 * and never by blocking the loop. */
	if (mig_acl_check(rd->acl, (const struct sockaddr *)ss, len, why,
	    sizeof(why))) {
		gate_watch(p);
		return;
	}
	if (!mig_acl_names_possible(rd->acl)) {
		if (mig_acl_count(rd->acl) > 0)
			snprintf(why, sizeof(why), "%s refused: no host-allow "
			    "pattern matches (and none could match a name, so "
			    "none was looked up)", host);
		gate_close(p, "refused", why);
		return;
	}
	/* Watched meanwhile, for its deadline. */
	if ((p->dns = dns_check(rd, ss, on_name, p)) == NULL)
		gate_close(p, "refused", "its name cannot be looked up");
	else
		gate_watch(p);
}
