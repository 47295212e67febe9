/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relocation ports: what they accept goes to the gate (gate.c), which
 * decides whether, and when, a connection gets a worker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/conn.h"
#include "mig/log.h"
#include "relocd.h"

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
		gate_admit(l->rd, fd, l->tls, &ss, len);
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
