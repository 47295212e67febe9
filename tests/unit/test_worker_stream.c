/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which failure a stream reports when both libxl and the relay failed. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mig/error.h"
#include "mig/relay.h"
#include "relocd.h"

static struct mig_err
relay_err(int code)
{
	struct mig_err	e;

	mig_seterr(&e, code, "relay");
	return e;
}

/* What the relay had published when the operation was seen to end. */
static struct mig_relay_stats
stats(bool failed, bool peer_word)
{
	struct mig_relay_stats	st = { 0 };

	st.failed = failed;
	st.peer_word = peer_word;
	return st;
}

/* worker_stream_cause() says want for each of the codes. */
static void
judged(const struct mig_relay_stats *st, const int *codes, size_t n,
    int want)
{
	struct mig_err	e;
	size_t		i;

	for (i = 0; i < n; i++) {
		e = relay_err(codes[i]);
		assert_int_equal(worker_stream_cause(st, &e), want);
	}
}
#define JUDGED(st, codes, want)	\
	judged(st, codes, sizeof(codes) / sizeof(codes[0]), want)

/* The peer or the connection went first: libxl only echoes it. */
static void
test_connection_failures_are_the_cause(void **state)
{
	static const int codes[] = {
		MIG_E_EOF, MIG_E_IO, MIG_E_TLS, MIG_E_TIMEOUT, MIG_E_PROTO
	};
	struct mig_relay_stats	st = stats(true, false);

	JUDGED(&st, codes, 1);
}

/* The peer said why it stopped (its ERROR or CANCEL frame), whatever the
 * code it gave: that is the cause on this side too. */
static void
test_peer_word_is_the_cause(void **state)
{
	static const int codes[] = {
		MIG_E_HV, MIG_E_CANCELLED, MIG_E_NOMEM, MIG_E_CORRUPT
	};
	struct mig_relay_stats	st = stats(true, true);

	JUDGED(&st, codes, 1);
}

/* A relay that had not failed on its own when the operation ended (our
 * cancel, or the EOF of a stream libxl cut short) tells nothing libxl
 * did not. */
static void
test_relay_ending_later_is_not(void **state)
{
	struct mig_relay_stats	st = stats(false, false);
	struct mig_err		e = relay_err(MIG_E_EOF);

	assert_int_equal(worker_stream_cause(&st, &e), 0);
	e = relay_err(MIG_E_IO);
	assert_int_equal(worker_stream_cause(&st, &e), 0);
}

/* Stream faults of its own keep libxl's account, even first. */
static void
test_other_codes_are_not(void **state)
{
	static const int codes[] = {
		MIG_E_CANCELLED, MIG_E_CORRUPT, MIG_E_TRUNC, MIG_E_NOMEM,
		MIG_E_HV, MIG_E_TOOBIG
	};
	struct mig_relay_stats	st = stats(true, false);

	JUDGED(&st, codes, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connection_failures_are_the_cause),
		cmocka_unit_test(test_peer_word_is_the_cause),
		cmocka_unit_test(test_relay_ending_later_is_not),
		cmocka_unit_test(test_other_codes_are_not),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
