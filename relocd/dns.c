/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A peer's name for relocation_hosts_allow, found without blocking the
 * parent's loop: the reverse name of its address (the hosts file first,
 * as the C library's "files dns" order has it, then a PTR query), kept
 * only if it resolves forward to that same address (libevent's evdns, which
 * reads the hosts file too), and never an address literal -- the rules of
 * mig_acl_check (acl.h), which blocks.  Each query has a short timeout and
 * one attempt: a peer whose DNS is slow waits a little, then is refused.
 *
 * The answer always comes from the loop, never from inside dns_check(),
 * so that its caller may free what the callback frees.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "mig/acl.h"
#include "mig/log.h"
#include "relocd.h"

#define DNS_TIMEOUT	"2"	/* seconds per query */
#define HOSTS_FILE	"/etc/hosts"

struct dns_check {
	struct relocd				*rd;
	char					 host[RELOCD_HOST_MAX];
	char					 name[NI_MAXHOST];
	int					 named;
	const char				*why;
	dns_done_fn				*done;	/* NULL: cancelled */
	void					*arg;
	struct evdns_request			*rev;
	struct evdns_getaddrinfo_request	*fwd;
	int					 fwd_busy;
	struct event				*finish;
};

int
dns_start(struct relocd *rd, struct mig_err *err)
{
	/* An empty or unreadable /etc/resolv.conf fails evdns's own setup:
	 * then names come from the hosts file alone. */
	if ((rd->dns = evdns_base_new(rd->base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL) {
		if ((rd->dns = evdns_base_new(rd->base,
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL)
			return mig_seterr(err, MIG_E_NOMEM, "resolver");
		/* NULL would load only libevent's localhost lines: a name
		 * from the hosts file would then be looked up forward in
		 * DNS, with no server to answer, until the peer's time is
		 * up. */
		(void)evdns_base_load_hosts(rd->dns, HOSTS_FILE);
	}
	if (evdns_base_count_nameservers(rd->dns) == 0)
		mig_log_info("no name server in /etc/resolv.conf: peers' "
		    "names come from %s only", HOSTS_FILE);
	if (evdns_base_set_option(rd->dns, "timeout:", DNS_TIMEOUT) == -1 ||
	    evdns_base_set_option(rd->dns, "attempts:", "1") == -1)
		return mig_seterr(err, MIG_E_INVAL, "resolver options");
	return 0;
}

/* After pending_flush: every check is cancelled, and its callback runs
 * (with the requests failed) while the base goes. */
void
dns_stop(struct relocd *rd)
{
	if (rd->dns != NULL)
		evdns_base_free(rd->dns, 1);
	rd->dns = NULL;
}

static void
dns_free(struct dns_check *dc)
{
	if (dc->finish != NULL)
		event_free(dc->finish);
	free(dc);
}

static void
on_finish(evutil_socket_t fd, short ev, void *arg)
{
	struct dns_check	*dc = arg;

	if (dc->done != NULL)
		dc->done(dc->arg, dc->named ? dc->name : NULL, dc->why);
	dns_free(dc);
}

static void
dns_answer(struct dns_check *dc, int named, const char *why)
{
	dc->named = named;
	dc->why = why;
	event_active(dc->finish, 0, 0);
}

static int
is_literal(const char *name)
{
	struct in6_addr	a;

	return inet_pton(AF_INET, name, &a) == 1 ||
	    inet_pton(AF_INET6, name, &a) == 1;
}

static void
on_forward(int rc, struct evutil_addrinfo *res, void *arg)
{
	struct dns_check	*dc = arg;
	struct evutil_addrinfo	*ai;
	char			 h[RELOCD_HOST_MAX];
	int			 same = 0;

	dc->fwd = NULL;
	dc->fwd_busy = 0;
	if (dc->done == NULL) {		/* cancelled */
		if (res != NULL)
			evutil_freeaddrinfo(res);
		dns_free(dc);
		return;
	}
	for (ai = rc == 0 ? res : NULL; ai != NULL && !same; ai = ai->ai_next)
		same = mig_acl_host(ai->ai_addr, ai->ai_addrlen, h,
		    sizeof(h)) == 0 && strcmp(h, dc->host) == 0;
	if (res != NULL)
		evutil_freeaddrinfo(res);
	dns_answer(dc, same, same ? NULL : "its reverse name does not "
	    "resolve back to it");
}

static void
dns_forward(struct dns_check *dc)
{
	struct evutil_addrinfo			 hints;
	struct evdns_getaddrinfo_request	*req;

	if (is_literal(dc->name)) {
		dns_answer(dc, 0, "its reverse name is an address");
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* The callback may run before this returns (a hosts file entry);
	 * the request is only ours to cancel while it has not. */
	dc->fwd_busy = 1;
	req = evdns_getaddrinfo(dc->rd->dns, dc->name, NULL, &hints,
	    on_forward, dc);
	if (dc->fwd_busy)
		dc->fwd = req;
}

static void
on_reverse(int result, char type, int count, int ttl, void *addrs, void *arg)
{
	struct dns_check	*dc = arg;

	dc->rev = NULL;
	if (dc->done == NULL) {
		dns_free(dc);
		return;
	}
	if (result != DNS_ERR_NONE || type != DNS_PTR || count < 1) {
		dns_answer(dc, 0, result == DNS_ERR_TIMEOUT ? "its reverse "
		    "name did not come in time" : "it has no reverse name");
		return;
	}
	snprintf(dc->name, sizeof(dc->name), "%s", *(const char **)addrs);
	dns_forward(dc);
}

/* The first name the hosts file gives host, as getnameinfo() would. */
static int
hosts_reverse(const char *host, char *name, size_t size)
{
	char		 line[1024], canon[RELOCD_HOST_MAX], *addr, *n, *save;
	unsigned char	 a[sizeof(struct in6_addr)];
	FILE		*f;
	int		 af, found = 0;

	if ((f = fopen(HOSTS_FILE, "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "#\n")] = '\0';
		if ((addr = strtok_r(line, " \t", &save)) == NULL ||
		    (n = strtok_r(NULL, " \t", &save)) == NULL)
			continue;
		af = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
		if (inet_pton(af, addr, a) != 1 ||
		    inet_ntop(af, a, canon, sizeof(canon)) == NULL)
			continue;
		if (strcmp(canon, host) == 0) {
			snprintf(name, size, "%s", n);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

struct dns_check *
dns_check(struct relocd *rd, const struct sockaddr_storage *ss,
    dns_done_fn *done, void *arg)
{
	struct dns_check	*dc;
	struct in_addr		 a4;
	struct in6_addr		 a6;

	if (rd->dns == NULL || (dc = calloc(1, sizeof(*dc))) == NULL)
		return NULL;
	dc->rd = rd;
	dc->done = done;
	dc->arg = arg;
	if (mig_acl_host((const struct sockaddr *)ss, sizeof(*ss), dc->host,
	    sizeof(dc->host)) == -1 || (dc->finish = event_new(rd->base, -1,
	    0, on_finish, dc)) == NULL) {
		dns_free(dc);
		return NULL;
	}
	if (hosts_reverse(dc->host, dc->name, sizeof(dc->name))) {
		dns_forward(dc);
		return dc;
	}
	if (evdns_base_count_nameservers(rd->dns) == 0) {
		dns_answer(dc, 0, "it has no name in " HOSTS_FILE " and no "
		    "name server is configured");
		return dc;
	}
	if (inet_pton(AF_INET, dc->host, &a4) == 1)
		dc->rev = evdns_base_resolve_reverse(rd->dns, &a4, 0,
		    on_reverse, dc);
	else if (inet_pton(AF_INET6, dc->host, &a6) == 1)
		dc->rev = evdns_base_resolve_reverse_ipv6(rd->dns, &a6, 0,
		    on_reverse, dc);
	if (dc->rev == NULL) {
		dns_free(dc);
		return NULL;
	}
	return dc;
}

/* The caller no longer wants the answer: the check ends as soon as the
 * request it waits for (if any) says it was cancelled. */
void
dns_check_cancel(struct dns_check *dc)
{
	struct evdns_request			*rev = dc->rev;
	struct evdns_getaddrinfo_request	*fwd = dc->fwd;

	dc->done = NULL;
	if (rev != NULL)
		evdns_cancel_request(dc->rd->dns, rev);
	else if (fwd != NULL)
		evdns_getaddrinfo_cancel(fwd);
	else {
		/* Its answer may be on its way through the loop. */
		event_del(dc->finish);
		dns_free(dc);
	}
}
