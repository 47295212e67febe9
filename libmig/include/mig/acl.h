/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host-allow and peer-name access lists.
 *
 * An ACL is a list of POSIX extended regular expressions, compiled once when
 * the configuration is loaded (a bad pattern is an error naming it).  The same
 * object serves two settings:
 *
 *  relocation-hosts-allow  mig_acl_check(): a peer is admitted when a pattern
 *	matches its address string or its forward-confirmed reverse-DNS name.
 *	- The address string is what inet_ntop(3) prints: IPv4 dotted quad,
 *	  IPv6 in canonical compressed form ("::1", "fe80::1").  An IPv4-mapped
 *	  IPv6 peer (::ffff:a.b.c.d, seen on dual-stack listeners) is treated
 *	  as the IPv4 address a.b.c.d, for matching and for the default.
 *	- The name is used only if it is forward-confirmed: the PTR name of the
 *	  address must resolve (getaddrinfo) back to a list containing the
 *	  address.  A name that does not, or that is itself an address literal,
 *	  is ignored, so whoever controls the reverse zone of an address cannot
 *	  claim an arbitrary name.  DNS can be switched off entirely
 *	  (mig_acl_set_nodns), and the resolver replaced (tests).
 *	- An empty list admits loopback peers only (127.0.0.0/8 and ::1).
 *
 *  tls-peers-allow  mig_acl_check_names(): admitted when a pattern matches
 *	any one of the names given (the peer certificate's subject CN and each
 *	subjectAltName DNS and IP entry).  An empty list admits no name; a
 *	program that wants "any certificate the CA signed" passes no ACL.
 *
 * Every pattern is ANCHORED: it must match the whole string, as if written
 * ^(pattern)$, so "10.0.0.1" does not admit 10.0.0.12 and "host" does not
 * admit evilhost.example.  (The check is on the match bounds, not by
 * rewriting the text, so a stray ')' cannot escape the anchors.)  Remember to escape dots: "10.0.0.1" also matches
 * "10a0b0c1", harmless for addresses, not for names ("10\.0\.0\.1").
 * Matching ignores case (DNS names are case-insensitive).
 *
 * Differences from xend's xend-relocation-hosts-allow, on purpose:
 *  - xend used Python re.match(), anchored at the start only: "^10\.0\.0\.1"
 *    or "10.0.0.1" admitted 10.0.0.12, and "host" admitted "hostile.example".
 *  - xend trusted socket.getfqdn(), i.e. the unconfirmed reverse name.
 *  - xend's empty setting admitted every host; ours admits loopback only.
 *  - xend's patterns were case-sensitive Python syntax; ours are POSIX ERE
 *    (no \d, no (?:...), no lazy quantifiers), case-insensitive.
 *
 * Name lookups block: call mig_acl_check() where blocking for the resolver's
 * timeout is acceptable (a worker, not the event loop), or disable DNS.
 */
#ifndef MIG_ACL_H
#define MIG_ACL_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>

#include "mig/error.h"

struct mig_acl;

/*
 * Name lookups, replaceable so tests need no DNS.  reverse() writes the PTR
 * name of an address into name (NUL-terminated) and returns 0, or -1 if it
 * has none.  forward() stores up to max addresses of a name into out and
 * returns how many, or -1.  Ports in either are ignored.
 */
struct mig_acl_resolver {
	int	(*reverse)(const struct sockaddr *, socklen_t, char *name,
		    size_t namelen, void *arg);
	int	(*forward)(const char *name, struct sockaddr_storage *out,
		    size_t max, void *arg);
	void	*arg;
};

struct mig_acl	*mig_acl_new(const char *const *patterns, size_t n,
		    struct mig_err *);
void		 mig_acl_free(struct mig_acl *);
/* NULL restores the system resolver (getnameinfo/getaddrinfo). */
void		 mig_acl_set_resolver(struct mig_acl *,
		    const struct mig_acl_resolver *);
/* Non-zero: match addresses only, never look up names. */
void		 mig_acl_set_nodns(struct mig_acl *, int);
size_t		 mig_acl_count(const struct mig_acl *);

/*
 * 1 if the peer is admitted, 0 if not.  why (may be NULL) receives one line
 * naming the address, the confirmed name if any, and the pattern that
 * matched or the reason for refusal.
 */
int		 mig_acl_check(const struct mig_acl *, const struct sockaddr *,
		    socklen_t, char *why, size_t whylen);
/* 1 if any of the n names matches any pattern, 0 if none does. */
int		 mig_acl_check_names(const struct mig_acl *,
		    const char *const *names, size_t n);

#endif
