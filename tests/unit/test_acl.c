/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mig/acl.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * A fake DNS: each entry maps an address to a PTR name, and a name to the
 * addresses it resolves to.  Lookups are counted so a test can see that
 * DNS was (not) consulted.
 */
struct fake_rr {
	const char	*addr;		/* PTR owner, or NULL */
	const char	*ptr;
	const char	*name;		/* A/AAAA owner, or NULL */
	const char	*fwd[2];
};

static const struct fake_rr fake_dns[] = {
	/* confirmed both ways */
	{ "192.0.2.10", "host.example", "host.example", { "192.0.2.10" } },
	{ "2001:db8::10", "v6host.example", "v6host.example",
	    { "2001:db8::10", "192.0.2.99" } },
	/* PTR claims a trusted name, which resolves elsewhere */
	{ "198.51.100.66", "host.trusted.example", "host.trusted.example",
	    { "192.0.2.20" } },
	/* PTR that is itself an address literal */
	{ "198.51.100.77", "192.0.2.10", NULL, { NULL } },
	/* a name that could match an unanchored "host" pattern */
	{ "192.0.2.30", "evilhost.example", "evilhost.example",
	    { "192.0.2.30" } },
};

static int	lookups;

static int
fake_parse(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return sizeof(*sin6);
	}
	fail_msg("bad test address %s", s);
	return 0;
}

static int
fake_reverse(const struct sockaddr *sa, socklen_t len, char *name,
    size_t namelen, void *arg)
{
	char	a[INET6_ADDRSTRLEN];
	size_t	i;

	lookups++;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    a, sizeof(a));
	else
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof(a));
	for (i = 0; i < NELEM(fake_dns); i++)
		if (fake_dns[i].addr != NULL &&
		    strcmp(fake_dns[i].addr, a) == 0) {
			snprintf(name, namelen, "%s", fake_dns[i].ptr);
			return 0;
		}
	return -1;
}

static int
fake_forward(const char *name, struct sockaddr_storage *out, size_t max,
    void *arg)
{
	size_t	i, j, n = 0;

	lookups++;
	for (i = 0; i < NELEM(fake_dns); i++) {
		if (fake_dns[i].name == NULL ||
		    strcmp(fake_dns[i].name, name) != 0)
			continue;
		for (j = 0; j < 2 && fake_dns[i].fwd[j] != NULL && n < max; j++)
			fake_parse(fake_dns[i].fwd[j], &out[n++]);
		return (int)n;
	}
	return -1;
}

static const struct mig_acl_resolver fake_resolver = {
	fake_reverse, fake_forward, NULL
};

static struct mig_acl *
acl_with(const char *const *pats, size_t n)
{
	struct mig_err	 err;
	struct mig_acl	*acl;

	acl = mig_acl_new(pats, n, &err);
	if (acl == NULL)
		fail_msg("mig_acl_new: %s", err.msg);
	mig_acl_set_resolver(acl, &fake_resolver);
	return acl;
}

/* Check addr (text, IPv4 or IPv6) against acl with port 8002. */
static int
check(const struct mig_acl *acl, const char *addr, char *why, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sl;

	sl = fake_parse(addr, &ss);
	((struct sockaddr_in *)&ss)->sin_port = htons(8002);
	return mig_acl_check(acl, (struct sockaddr *)&ss, sl, why, len);
}

static void
test_ipv4(void **state)
{
	const char	*pats[] = { "10\\.0\\.0\\.[0-9]+", "192\\.0\\.2\\.1" };
	struct mig_acl	*acl = acl_with(pats, NELEM(pats));
	char		 why[256];

	mig_acl_set_nodns(acl, 1);
	assert_int_equal(check(acl, "10.0.0.7", why, sizeof(why)), 1);
	assert_non_null(strstr(why, "10.0.0.7"));
	assert_non_null(strstr(why, "10\\.0\\.0\\.[0-9]+"));
	assert_int_equal(check(acl, "10.0.1.7", why, sizeof(why)), 0);
	assert_non_null(strstr(why, "10.0.1.7"));
	assert_int_equal(check(acl, "192.0.2.1", NULL, 0), 1);
	mig_acl_free(acl);
}

static void
test_anchoring(void **state)
{
	const char	*pats[] = { "10.0.0.1", "host" };
	const char	*stray[] = { "x)|(.*", "x)" };
	const char	*alt[] = { "a|ab", "(a|ab)(c|bcd)" };
	struct mig_acl	*acl = acl_with(pats, NELEM(pats));
	char		 why[256];

	assert_int_equal(check(acl, "10.0.0.1", why, sizeof(why)), 1);
	assert_int_equal(check(acl, "10.0.0.12", why, sizeof(why)), 0);
	assert_int_equal(check(acl, "110.0.0.1", why, sizeof(why)), 0);
	/* 192.0.2.30's confirmed name is evilhost.example */
	assert_int_equal(check(acl, "192.0.2.30", why, sizeof(why)), 0);
	assert_non_null(strstr(why, "evilhost.example"));
	assert_true(mig_acl_check_names(acl, (const char *[]){ "host" }, 1));
	assert_true(mig_acl_check_names(acl, (const char *[]){ "HOST" }, 1));
	assert_false(mig_acl_check_names(acl,
	    (const char *[]){ "evilhost.example" }, 1));
	assert_false(mig_acl_check_names(acl,
	    (const char *[]){ "hostile" }, 1));
	mig_acl_free(acl);

	/* A stray ')' cannot break out of the anchoring: wrapped as
	 * ^(x)|(.*)$ this would admit anything; on its own it is invalid. */
	assert_null(mig_acl_new(stray, 1, NULL));
	acl = acl_with(stray + 1, 1);
	assert_false(mig_acl_check_names(acl,
	    (const char *[]){ "anything" }, 1));
	assert_false(mig_acl_check_names(acl, (const char *[]){ "x" }, 1));
	assert_true(mig_acl_check_names(acl, (const char *[]){ "x)" }, 1));
	mig_acl_free(acl);

	/* Whole-string matching relies on leftmost-longest: an alternative
	 * that matches a prefix first must not hide the full match. */
	acl = acl_with(alt, NELEM(alt));
	assert_true(mig_acl_check_names(acl, (const char *[]){ "ab" }, 1));
	assert_true(mig_acl_check_names(acl, (const char *[]){ "abcd" }, 1));
	assert_false(mig_acl_check_names(acl, (const char *[]){ "abc d" }, 1));
	mig_acl_free(acl);
}

static void
test_ipv6_and_mapped(void **state)
{
	const char	*pats[] = { "2001:db8::[0-9a-f]+", "192\\.0\\.2\\.5" };
	struct mig_acl	*acl = acl_with(pats, NELEM(pats));
	char		 why[256];

	mig_acl_set_nodns(acl, 1);
	/* inet_ntop's compressed form is what patterns see */
	assert_int_equal(check(acl, "2001:0db8:0:0:0:0:0:00ab", why,
	    sizeof(why)), 1);
	assert_non_null(strstr(why, "2001:db8::ab"));
	/* case-insensitive */
	assert_int_equal(check(acl, "2001:db8::AB", NULL, 0), 1);
	assert_int_equal(check(acl, "2001:db9::1", NULL, 0), 0);
	/* a mapped IPv4 peer is its IPv4 address */
	assert_int_equal(check(acl, "::ffff:192.0.2.5", why, sizeof(why)), 1);
	assert_non_null(strstr(why, "192.0.2.5 admitted"));
	assert_int_equal(check(acl, "::ffff:192.0.2.6", why, sizeof(why)), 0);
	assert_null(strstr(why, "ffff"));
	mig_acl_free(acl);
}

static void
test_default_loopback(void **state)
{
	struct mig_acl	*acl = acl_with(NULL, 0);
	char		 why[256];

	lookups = 0;
	assert_int_equal(mig_acl_count(acl), 0);
	assert_int_equal(check(acl, "127.0.0.1", why, sizeof(why)), 1);
	assert_int_equal(check(acl, "127.3.4.5", NULL, 0), 1);
	assert_int_equal(check(acl, "::1", NULL, 0), 1);
	assert_int_equal(check(acl, "::ffff:127.0.0.1", NULL, 0), 1);
	assert_int_equal(check(acl, "192.0.2.10", why, sizeof(why)), 0);
	assert_non_null(strstr(why, "no host-allow list"));
	assert_int_equal(check(acl, "::2", NULL, 0), 0);
	assert_int_equal(check(acl, "128.0.0.1", NULL, 0), 0);
	assert_int_equal(lookups, 0);
	/* no name is admitted by an empty list */
	assert_false(mig_acl_check_names(acl,
	    (const char *[]){ "localhost" }, 1));
	mig_acl_free(acl);
}

static void
test_names_confirmed(void **state)
{
	const char	*pats[] = { "host\\.example", "v6host\\.example",
	    ".*\\.trusted\\.example" };
	struct mig_acl	*acl = acl_with(pats, NELEM(pats));
	char		 why[256];

	assert_int_equal(check(acl, "192.0.2.10", why, sizeof(why)), 1);
	assert_non_null(strstr(why, "192.0.2.10 (host.example)"));
	assert_int_equal(check(acl, "2001:db8::10", why, sizeof(why)), 1);
	assert_non_null(strstr(why, "v6host.example"));
	/* the PTR name is not confirmed by its forward lookup */
	assert_int_equal(check(acl, "198.51.100.66", why, sizeof(why)), 0);
	assert_non_null(strstr(why, "host.trusted.example ignored"));
	/* no PTR */
	assert_int_equal(check(acl, "203.0.113.1", why, sizeof(why)), 0);
	assert_non_null(strstr(why, "no reverse name"));

	/* without DNS, names are never looked up */
	lookups = 0;
	mig_acl_set_nodns(acl, 1);
	assert_int_equal(check(acl, "192.0.2.10", why, sizeof(why)), 0);
	assert_int_equal(lookups, 0);
	mig_acl_free(acl);
}

static void
test_ptr_literal_ignored(void **state)
{
	const char	*pats[] = { "192\\.0\\.2\\.10" };
	struct mig_acl	*acl = acl_with(pats, NELEM(pats));
	char		 why[256];

	/* 198.51.100.77's PTR says "192.0.2.10": an address is not a name */
	assert_int_equal(check(acl, "198.51.100.77", why, sizeof(why)), 0);
	assert_non_null(strstr(why, "ignored"));
	mig_acl_free(acl);
}

static void
test_bad_regex(void **state)
{
	const char	*pats[] = { "ok\\.example", "bad[" };
	struct mig_err	 err;

	assert_null(mig_acl_new(pats, NELEM(pats), &err));
	assert_int_equal(err.code, MIG_E_INVAL);
	assert_non_null(strstr(err.msg, "'bad['"));
	/* and regerror's reason follows */
	assert_true(strlen(err.msg) > strlen("bad allow pattern 'bad[': "));
}

static void
test_peers_allow_names(void **state)
{
	const char	*pats[] = { "relocd-[a-z]+", "192\\.0\\.2\\.1" };
	struct mig_acl	*acl = acl_with(pats, NELEM(pats));
	const char	*good[] = { "intruder", "relocd-client" };
	const char	*ip[] = { "192.0.2.1" };
	const char	*bad[] = { "intruder", "x.relocd-client",
	    "relocd-client.evil" };

	assert_true(mig_acl_check_names(acl, good, NELEM(good)));
	assert_true(mig_acl_check_names(acl, ip, NELEM(ip)));
	assert_false(mig_acl_check_names(acl, bad, NELEM(bad)));
	assert_false(mig_acl_check_names(acl, NULL, 0));
	mig_acl_free(acl);
}

static void
test_not_ip(void **state)
{
	const char		*pats[] = { ".*" };
	struct mig_acl		*acl = acl_with(pats, NELEM(pats));
	struct sockaddr_storage	 ss;
	char			 why[128];

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_int_equal(mig_acl_check(acl, (struct sockaddr *)&ss,
	    sizeof(ss), why, sizeof(why)), 0);
	assert_non_null(strstr(why, "not an IP address"));
	/* a truncated IPv6 address is refused, not read past its end */
	ss.ss_family = AF_INET6;
	assert_int_equal(mig_acl_check(acl, (struct sockaddr *)&ss,
	    sizeof(struct sockaddr_in), NULL, 0), 0);
	mig_acl_free(acl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_anchoring),
		cmocka_unit_test(test_ipv6_and_mapped),
		cmocka_unit_test(test_default_loopback),
		cmocka_unit_test(test_names_confirmed),
		cmocka_unit_test(test_ptr_literal_ignored),
		cmocka_unit_test(test_bad_regex),
		cmocka_unit_test(test_peers_allow_names),
		cmocka_unit_test(test_not_ip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
