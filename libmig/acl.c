/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/acl.h"

/* A PTR name resolving to more addresses than this is not worth confirming. */
#define ACL_MAXFWD	32

struct mig_acl {
	size_t			 n;
	regex_t			*re;
	char			**src;		/* patterns as written, for messages */
	struct mig_acl_resolver	 res;
	int			 nodns;
};

static int
sys_reverse(const struct sockaddr *sa, socklen_t salen, char *name,
    size_t namelen, void *arg)
{
	return getnameinfo(sa, salen, name, namelen, NULL, 0,
	    NI_NAMEREQD) == 0 ? 0 : -1;
}

static int
sys_forward(const char *name, struct sockaddr_storage *out, size_t max,
    void *arg)
{
	struct addrinfo	 hints, *res, *ai;
	size_t		 n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(*out))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(&out[n], ai->ai_addr, ai->ai_addrlen);
		n++;
	}
	freeaddrinfo(res);
	return (int)n;
}

static const struct mig_acl_resolver sys_resolver = {
	.reverse = sys_reverse,
	.forward = sys_forward,
};

struct mig_acl *
mig_acl_new(const char *const *patterns, size_t n, struct mig_err *err)
{
	struct mig_acl	*acl;
	char		 ebuf[128];
	size_t		 i;
	int		 rc;

	if ((acl = calloc(1, sizeof(*acl))) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "host-allow list");
		return NULL;
	}
	acl->res = sys_resolver;
	if (n == 0)
		return acl;
	acl->re = calloc(n, sizeof(*acl->re));
	acl->src = calloc(n, sizeof(*acl->src));
	if (acl->re == NULL || acl->src == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "host-allow list");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if ((acl->src[i] = strdup(patterns[i])) == NULL) {
			mig_seterrno(err, MIG_E_NOMEM, "host-allow list");
			goto fail;
		}
		/*
		 * Anchoring is done at match time (acl_match), not by
		 * wrapping the text as ^(pattern)$: a pattern holding a
		 * stray ')', which ERE takes literally, would close the
		 * wrapper's group early and leave an unanchored alternative
		 * ("x)|(.*" becomes "^(x)|(.*)$").
		 */
		rc = regcomp(&acl->re[i], patterns[i], REG_EXTENDED | REG_ICASE);
		if (rc != 0) {
			regerror(rc, &acl->re[i], ebuf, sizeof(ebuf));
			mig_seterr(err, MIG_E_INVAL,
			    "bad allow pattern '%s': %s", patterns[i], ebuf);
			free(acl->src[i]);
			acl->src[i] = NULL;
			goto fail;
		}
		acl->n++;
	}
	return acl;
fail:
	mig_acl_free(acl);
	return NULL;
}

void
mig_acl_free(struct mig_acl *acl)
{
	size_t	i;

	if (acl == NULL)
		return;
	for (i = 0; i < acl->n; i++) {
		regfree(&acl->re[i]);
		free(acl->src[i]);
	}
	free(acl->re);
	free(acl->src);
	free(acl);
}

void
mig_acl_set_resolver(struct mig_acl *acl, const struct mig_acl_resolver *res)
{
	acl->res = res != NULL ? *res : sys_resolver;
}

void
mig_acl_set_nodns(struct mig_acl *acl, int nodns)
{
	acl->nodns = nodns;
}

size_t
mig_acl_count(const struct mig_acl *acl)
{
	return acl->n;
}

/*
 * The pattern that matches all of s, or NULL.  POSIX regexec reports the
 * leftmost match and, of those, the longest; so when any match spans the
 * whole string, the one reported does: checking its bounds is the same as
 * matching ^(pattern)$.
 */
static const char *
acl_match(const struct mig_acl *acl, const char *s)
{
	regmatch_t	m;
	size_t		i, len = strlen(s);

	for (i = 0; i < acl->n; i++) {
		if (regexec(&acl->re[i], s, 1, &m, 0) == 0 &&
		    m.rm_so == 0 && (size_t)m.rm_eo == len)
			return acl->src[i];
	}
	return NULL;
}

/*
 * Copy an address into out with IPv4-mapped IPv6 turned into plain IPv4 and
 * the port cleared, so that equal hosts compare equal; optionally print it.
 * Returns the length of the normalised address, or 0 for a family we do not
 * handle.
 */
static socklen_t
acl_normalize(const struct sockaddr *sa, socklen_t salen,
    struct sockaddr_storage *out, char *str, size_t strsz)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)out;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)out;
	const void		*addr;
	socklen_t		 len;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && salen >= sizeof(*sin)) {
		memcpy(sin, sa, sizeof(*sin));
		sin->sin_port = 0;
		addr = &sin->sin_addr;
		len = sizeof(*sin);
	} else if (sa->sa_family == AF_INET6 && salen >= sizeof(*sin6)) {
		memcpy(sin6, sa, sizeof(*sin6));
		sin6->sin6_port = 0;
		sin6->sin6_flowinfo = 0;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			struct in_addr	a4;

			memcpy(&a4, &sin6->sin6_addr.s6_addr[12], sizeof(a4));
			memset(out, 0, sizeof(*out));
			sin->sin_family = AF_INET;
			sin->sin_addr = a4;
			addr = &sin->sin_addr;
			len = sizeof(*sin);
		} else {
			addr = &sin6->sin6_addr;
			len = sizeof(*sin6);
		}
	} else
		return 0;
	if (str != NULL &&
	    inet_ntop(out->ss_family, addr, str, strsz) == NULL)
		return 0;
	return len;
}

static int
acl_same_host(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6	*a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return memcmp(&a6->sin6_addr, &b6->sin6_addr,
	    sizeof(a6->sin6_addr)) == 0;
}

static int
acl_is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

static int
acl_is_literal(const char *name)
{
	struct in6_addr	a;

	return inet_pton(AF_INET, name, &a) == 1 ||
	    inet_pton(AF_INET6, name, &a) == 1;
}

/*
 * The reverse name of peer, kept in name only if it resolves forward to a
 * list that contains peer.  Returns 1 with a confirmed name, 0 without;
 * *unconfirmed is set when a PTR name existed but failed confirmation.
 */
static int
acl_confirmed_name(const struct mig_acl *acl,
    const struct sockaddr_storage *peer, socklen_t peerlen, char *name,
    size_t namelen, int *unconfirmed)
{
	struct sockaddr_storage	fwd[ACL_MAXFWD], norm;
	int			i, n;

	*unconfirmed = 0;
	name[0] = '\0';
	if (acl->res.reverse((const struct sockaddr *)peer, peerlen, name,
	    namelen, acl->res.arg) != 0 || name[0] == '\0') {
		name[0] = '\0';
		return 0;
	}
	name[namelen - 1] = '\0';
	*unconfirmed = 1;
	if (acl_is_literal(name))
		return 0;
	n = acl->res.forward(name, fwd, ACL_MAXFWD, acl->res.arg);
	for (i = 0; i < n && i < ACL_MAXFWD; i++) {
		if (acl_normalize((struct sockaddr *)&fwd[i], sizeof(fwd[i]),
		    &norm, NULL, 0) != 0 && acl_same_host(&norm, peer)) {
			*unconfirmed = 0;
			return 1;
		}
	}
	return 0;
}

int
mig_acl_check(const struct mig_acl *acl, const struct sockaddr *sa,
    socklen_t salen, char *why, size_t whylen)
{
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	char			 addr[INET6_ADDRSTRLEN], name[NI_MAXHOST];
	const char		*pat;
	int			 unconfirmed;
	char			 dummy[1];

	if (why == NULL || whylen == 0) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	if ((peerlen = acl_normalize(sa, salen, &peer, addr,
	    sizeof(addr))) == 0) {
		snprintf(why, whylen, "peer of address family %d refused: "
		    "not an IP address", sa->sa_family);
		return 0;
	}
	if (acl->n == 0) {
		if (acl_is_loopback(&peer)) {
			snprintf(why, whylen, "%s admitted: loopback "
			    "(no host-allow list configured)", addr);
			return 1;
		}
		snprintf(why, whylen, "%s refused: not loopback, and no "
		    "host-allow list is configured", addr);
		return 0;
	}
	if ((pat = acl_match(acl, addr)) != NULL) {
		snprintf(why, whylen, "%s admitted by pattern '%s'", addr, pat);
		return 1;
	}
	if (acl->nodns) {
		snprintf(why, whylen, "%s refused: no host-allow pattern "
		    "matches (name lookups disabled)", addr);
		return 0;
	}
	if (acl_confirmed_name(acl, &peer, peerlen, name, sizeof(name),
	    &unconfirmed)) {
		if ((pat = acl_match(acl, name)) != NULL) {
			snprintf(why, whylen, "%s (%s) admitted by pattern "
			    "'%s'", addr, name, pat);
			return 1;
		}
		snprintf(why, whylen, "%s (%s) refused: no host-allow "
		    "pattern matches", addr, name);
	} else if (unconfirmed)
		snprintf(why, whylen, "%s refused: no host-allow pattern "
		    "matches (reverse name %s ignored: it does not resolve "
		    "back to %s)", addr, name, addr);
	else
		snprintf(why, whylen, "%s refused: no host-allow pattern "
		    "matches (no reverse name)", addr);
	return 0;
}

int
mig_acl_check_names(const struct mig_acl *acl, const char *const *names,
    size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && acl_match(acl, names[i]) != NULL)
			return 1;
	return 0;
}
