/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relocation ports.  A connection is admitted by relocation_hosts_allow
 * before a single byte is read from it, then held here, costing one
 * descriptor and one event, until the peer speaks; only then does it get a
 * worker process.  So a crowd of idle or half-open connections cannot use
 * up processes, and each is closed, with a log line saying why, when it
 * stays silent too long.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/acl.h"
#include "mig/conn.h"
#include "mig/log.h"
#include "relocd.h"

/* Incoming workers at once: the jobs allowed, plus room for peers that are
 * still saying hello (each is bounded by the peer timeout). */
#define INCOMING_SLACK	8

static void
peer_string(const struct sockaddr_storage *ss, socklen_t len, char *buf,
    size_t buflen)
{
	char	host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, buflen, "unknown");
		return;
	}
	snprintf(buf, buflen, ss->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, serv);
}

void
pending_free(struct pending *p)
{
	struct relocd	*rd = p->rd;

	TAILQ_REMOVE(&rd->pending, p, entry);
	rd->npending--;
	if (p->ev != NULL)
		event_free(p->ev);
	if (p->fd != -1)
		close(p->fd);
	free(p);
}

/* The peer spoke (or went silent for too long). */
static void
on_pending(evutil_socket_t fd, short ev, void *arg)
{
	struct pending	*p = arg;
	struct relocd	*rd = p->rd;
	struct mig_err	 err;
	int		 flags;

	if (ev & EV_TIMEOUT) {
		mig_log_info("closed connection from %s: nothing received in %d "
		    "seconds", p->peer, RELOCD_HELLO_TIMEOUT);
		pending_free(p);
		return;
	}
	if (rd->nworkers_in >= rd->conf.max_incoming + INCOMING_SLACK) {
		mig_log_info("closed connection from %s: %zu incoming jobs already "
		    "(max_incoming %u)", p->peer, rd->nworkers_in,
		    rd->conf.max_incoming);
		pending_free(p);
		return;
	}
	flags = (p->tls ? WORKER_TLS : 0) |
	    (p->acl_recheck ? WORKER_ACL_RECHECK : 0);
	/* The worker owns the socket from here, whatever happens. */
	if (job_spawn(rd, CTL_JOB_MIGRATE_IN, p->fd, flags, NULL, NULL,
	    &err) == NULL)
		mig_log_warnx("connection from %s: %s", p->peer, err.msg);
	p->fd = -1;
	pending_free(p);
}

static void
admit(struct listener *l, int fd, struct sockaddr_storage *ss, socklen_t len)
{
	struct relocd	*rd = l->rd;
	struct pending	*p;
	struct timeval	 tv = { RELOCD_HELLO_TIMEOUT, 0 };
	char		 peer[80], why[256];
	int		 recheck = 0;

	peer_string(ss, len, peer, sizeof(peer));
	/* By address only: the event loop must not wait for DNS.  A peer
	 * refused by address but allowed by name is admitted by its worker,
	 * which may block on the resolver. */
	if (!mig_acl_check(rd->acl, (struct sockaddr *)ss, len, why,
	    sizeof(why))) {
		if (mig_acl_count(rd->acl) == 0) {
			mig_log_info("refused connection from %s: %s", peer, why);
			close(fd);
			return;
		}
		recheck = 1;
	}
	if (rd->npending >= RELOCD_PENDING_MAX) {
		mig_log_info("closed connection from %s: %d connections waiting "
		    "to speak already", peer, RELOCD_PENDING_MAX);
		close(fd);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		mig_log_warn("connection from %s", peer);
		close(fd);
		return;
	}
	p->fd = fd;
	p->tls = l->tls;
	p->acl_recheck = recheck;
	p->rd = rd;
	snprintf(p->peer, sizeof(p->peer), "%s", peer);
	TAILQ_INSERT_TAIL(&rd->pending, p, entry);
	rd->npending++;
	if ((p->ev = event_new(rd->base, fd, EV_READ, on_pending, p)) == NULL ||
	    event_add(p->ev, &tv) == -1) {
		mig_log_warnx("connection from %s: cannot watch it", peer);
		pending_free(p);
	}
}

static void
on_accept(evutil_socket_t lfd, short ev, void *arg)
{
	struct listener		*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, i;

	/* A few at a time, so one busy port cannot starve the rest. */
	for (i = 0; i < 16; i++) {
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				mig_log_warn("accept on %s", l->addr);
			return;
		}
		admit(l, fd, &ss, len);
	}
}

static int
listen_one(struct relocd *rd, const char *addr, unsigned port, int tls,
    struct mig_err *err)
{
	struct listener	*l;
	char		 portstr[8];
	int		 fd;

	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((fd = mig_conn_listen(addr, portstr, 128, 0, err)) == -1)
		return -1;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		close(fd);
		return mig_seterrno(err, MIG_E_NOMEM, "listener");
	}
	l->fd = fd;
	l->tls = tls;
	l->rd = rd;
	snprintf(l->addr, sizeof(l->addr), "%s port %u%s",
	    addr != NULL ? addr : "*", port, tls ? " (TLS)" : "");
	TAILQ_INSERT_TAIL(&rd->listeners, l, entry);
	if ((l->ev = event_new(rd->base, fd, EV_READ | EV_PERSIST, on_accept,
	    l)) == NULL || event_add(l->ev, NULL) == -1)
		return mig_seterr(err, MIG_E_IO, "cannot watch %s", l->addr);
	mig_log_info("listening on %s", l->addr);
	return 0;
}

/* Whether relocation_hosts_allow admits only this host (empty: yes). */
static bool
allow_loopback_only(const struct strlist *l)
{
	static const char *const lo[] = { "127\\.0\\.0\\.1", "127.0.0.1",
	    "::1", "localhost" };
	size_t	i, j;

	for (i = 0; i < l->n; i++) {
		for (j = 0; j < sizeof(lo) / sizeof(lo[0]); j++)
			if (strcmp(l->v[i], lo[j]) == 0)
				break;
		if (j == sizeof(lo) / sizeof(lo[0]))
			return false;
	}
	return true;
}

/* What an operator must not miss: settings that give peers more than
 * the defaults do. */
static void
listen_warn(const struct relocd_conf *c)
{
	if (c->plain_enabled && !allow_loopback_only(&c->hosts_allow))
		mig_log_warnx("WARNING: relocation_server is on and "
		    "relocation_hosts_allow admits other hosts: they reach "
		    "port %u without a certificate, guest memory crosses the "
		    "network in the clear, and anyone on the path can take "
		    "over a migration; use TLS (relocation_ssl_server)",
		    c->plain_port);
	if (!c->plain_enabled && !c->tls_enabled)
		mig_log_info("no relocation port (relocation_server and "
		    "relocation_ssl_server are off): this host sends, saves "
		    "and restores, and receives nothing");
	if (!c->recv.enabled)
		mig_log_warnx("WARNING: receive_policy is off: every admitted "
		    "peer can have this host open any disk, run any hotplug "
		    "script and pass through any device, as root");
}

int
listen_start(struct relocd *rd, struct mig_err *err)
{
	const struct relocd_conf	*c = &rd->conf;
	size_t				 i, n = c->listen.n ? c->listen.n : 1;

	listen_warn(c);
	for (i = 0; i < n; i++) {
		const char *a = c->listen.n ? c->listen.v[i] : NULL;

		if (c->plain_enabled &&
		    listen_one(rd, a, c->plain_port, 0, err) == -1)
			goto fail;
		if (c->tls_enabled &&
		    listen_one(rd, a, c->tls_port, 1, err) == -1)
			goto fail;
	}
	return 0;
 fail:
	listen_stop(rd);
	return -1;
}

/* Closes the ports; connections already accepted stay (a reload must
 * not drop a peer in the middle of saying hello). */
void
listen_stop(struct relocd *rd)
{
	struct listener	*l;

	while ((l = TAILQ_FIRST(&rd->listeners)) != NULL) {
		TAILQ_REMOVE(&rd->listeners, l, entry);
		if (l->ev != NULL)
			event_free(l->ev);
		close(l->fd);
		free(l);
	}
}

void
pending_flush(struct relocd *rd)
{
	struct pending	*p;

	while ((p = TAILQ_FIRST(&rd->pending)) != NULL)
		pending_free(p);
}
