/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker's check of its sandbox's answer (preauth_check.c): a sandbox
 * a peer took over may lie in every field; the worker takes a well-formed
 * answer and refuses the rest, with a reason, never reading past a field.
 */
#include <sys/socket.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mig/conn.h"
#include "preauth.h"

static int	sv[2];		/* a socket that carries no kernel TLS */

/* A good answer: the relay's, with a HELLO from "peer". */
static void
answer(struct preauth_answer *a)
{
	struct mig_msg	m;
	struct mig_err	err;
	size_t		len;

	memset(a, 0, sizeof(*a));
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_HELLO;
	snprintf(m.u.hello.version, sizeof(m.u.hello.version), "relocd test");
	snprintf(m.u.hello.hostname, sizeof(m.u.hello.hostname), "peer");
	snprintf(m.u.hello.arch, sizeof(m.u.hello.arch), "x86_64");
	m.u.hello.xen_major = 4;
	m.u.hello.xen_minor = 17;
	m.u.hello.page_size = 4096;
	m.u.hello.max_data_frame = MIG_FRAME_DATA_MAX;
	if (mig_msg_encode(&m, a->hello, sizeof(a->hello), &len, &err) == -1)
		fail_msg("%s", err.msg);
	a->hello_len = (uint32_t)len;
	a->handoff = HANDOFF_RELAY;
	snprintf(a->subject, sizeof(a->subject), "CN=peer");
}

static void
refused(int tls, struct preauth_answer *a, int fd, const char *why)
{
	struct mig_msg	them;
	struct mig_err	err;

	assert_int_equal(preauth_answer_check(tls, a, fd, &them, &err), -1);
	if (strstr(err.msg, why) == NULL)
		fail_msg("want \"%s\", got \"%s\"", why, err.msg);
}

static void
test_good(void **state)
{
	struct preauth_answer	a;
	struct mig_msg		them;
	struct mig_err		err;
	answer(&a);
	assert_int_equal(preauth_answer_check(1, &a, sv[0], &them, &err), 0);
	assert_int_equal(them.type, MIG_MSG_HELLO);
	assert_string_equal(them.u.hello.hostname, "peer");
	/* plain port: the socket itself */
	a.handoff = HANDOFF_SOCKET;
	assert_int_equal(preauth_answer_check(0, &a, sv[0], &them, &err), 0);
}

static void
test_lies(void **state)
{
	struct preauth_answer	a;
	struct mig_msg		m;
	struct mig_err		err;
	size_t			len;
	/* a bare socket on the TLS port; a relay on the plain one */
	answer(&a);
	a.handoff = HANDOFF_SOCKET;
	refused(1, &a, sv[0], "handoff 0 on the TLS port");
	answer(&a);
	refused(0, &a, sv[0], "handoff 2 on the plain port");
	answer(&a);
	a.handoff = 7;
	refused(1, &a, sv[0], "handoff 7");
	/* kernel TLS on a socket the kernel says carries none */
	answer(&a);
	a.handoff = HANDOFF_KTLS;
	a.ktls = MIG_KTLS_TX | MIG_KTLS_RX;
	refused(1, &a, sv[0], "a kernel TLS socket that is none");
	a.ktls = MIG_KTLS_TX;
	refused(1, &a, sv[0], "a kernel TLS socket that is none");
	/* the HELLO: too long, cut, trailing bytes, garbage, not a HELLO */
	answer(&a);
	a.hello_len = sizeof(a.hello) + 1;
	refused(1, &a, sv[0], "no HELLO");
	answer(&a);
	a.hello_len -= 1;
	refused(1, &a, sv[0], "no HELLO");
	answer(&a);
	a.hello_len += 1;
	refused(1, &a, sv[0], "no HELLO");
	answer(&a);
	memset(a.hello, 0xff, sizeof(a.hello));
	refused(1, &a, sv[0], "no HELLO");
	answer(&a);
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_PING;
	assert_int_equal(mig_msg_encode(&m, a.hello, sizeof(a.hello), &len,
	    &err), 0);
	a.hello_len = (uint32_t)len;
	refused(1, &a, sv[0], "no HELLO");
}

static void
test_strings_bounded(void **state)
{
	struct preauth_answer	a;
	struct mig_msg		them;
	struct mig_err		err;
	answer(&a);
	memset(a.subject, 'x', sizeof(a.subject));
	memset(a.fpr, 'y', sizeof(a.fpr));
	assert_int_equal(preauth_answer_check(1, &a, sv[0], &them, &err), 0);
	assert_int_equal(strlen(a.subject), sizeof(a.subject) - 1);
	assert_int_equal(strlen(a.fpr), sizeof(a.fpr) - 1);
}

static int
setup(void **state)
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

static int
teardown(void **state)
{
	close(sv[0]);
	close(sv[1]);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_lies),
		cmocka_unit_test(test_strings_bounded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
