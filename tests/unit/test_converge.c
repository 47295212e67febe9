/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The max-downtime rule (relocd/converge.c): a history of expected
 * downtimes, one per round, in; the action of each round out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "relocd.h"

#define N	CONVERGE_ROUNDS

/* Feeds the pre-copy rounds, then the stop-and-copy round if final is
 * not 0; writes each round's action into out. */
static void
feed(struct converge *c, const uint32_t *ms, size_t n, uint32_t final,
    enum converge_action *out)
{
	size_t	i;

	for (i = 0; i < n; i++)
		out[i] = converge_round(c, ms[i], false);
	if (final != 0)
		out[n] = converge_round(c, final, true);
}

static void
no_limit_never_acts(void **state)
{
	struct converge		c;
	const uint32_t		ms[] = { 5000, 5000, 5000, 5000 };
	enum converge_action	a[5];
	size_t			i;

	converge_init(&c, 0, N, true, true);
	feed(&c, ms, 4, 5000, a);
	for (i = 0; i < 5; i++)
		assert_int_equal(a[i], CONV_NONE);
	assert_int_equal(c.step, 0);
}

static void
within_limit_never_acts(void **state)
{
	struct converge		c;
	const uint32_t		ms[] = { 300, 300, 299, 1 };
	enum converge_action	a[5];
	size_t			i;

	converge_init(&c, 300, N, true, true);
	feed(&c, ms, 4, 300, a);
	for (i = 0; i < 5; i++)
		assert_int_equal(a[i], CONV_NONE);
}

/* No estimate yet (no rate measured) is neither over nor under. */
static void
unknown_estimate_is_ignored(void **state)
{
	struct converge	c;

	converge_init(&c, 100, 2, false, true);
	assert_int_equal(converge_round(&c, 500, false), CONV_NONE);
	assert_int_equal(converge_round(&c, 0, false), CONV_NONE);
	assert_int_equal(c.over, 1);
	assert_int_equal(converge_round(&c, 500, false), CONV_ABORT);
}

/* Auto-converge: N rounds over, then one step per round still over. */
static void
throttles_step_by_step(void **state)
{
	struct converge		c;
	const uint32_t		ms[] = { 900, 900, 800, 700, 600 };
	enum converge_action	a[6];

	converge_init(&c, 200, 2, true, false);
	feed(&c, ms, 5, 0, a);
	assert_int_equal(a[0], CONV_NONE);
	assert_int_equal(a[1], CONV_THROTTLE);
	assert_int_equal(a[2], CONV_THROTTLE);
	assert_int_equal(a[3], CONV_THROTTLE);
	/* No step left and no abort asked: carry on. */
	assert_int_equal(a[4], CONV_NONE);
	assert_int_equal(c.step, CONVERGE_STEPS);
}

/* A round within the limit starts the count again; a throttle already
 * taken stays (the cap is restored only at the end). */
static void
a_good_round_resets_the_count(void **state)
{
	struct converge	c;

	converge_init(&c, 200, 3, true, true);
	assert_int_equal(converge_round(&c, 900, false), CONV_NONE);
	assert_int_equal(converge_round(&c, 900, false), CONV_NONE);
	assert_int_equal(converge_round(&c, 100, false), CONV_NONE);
	assert_int_equal(c.over, 0);
	assert_int_equal(converge_round(&c, 900, false), CONV_NONE);
	assert_int_equal(converge_round(&c, 900, false), CONV_NONE);
	assert_int_equal(converge_round(&c, 900, false), CONV_THROTTLE);
	assert_int_equal(c.step, 1);
	assert_int_equal(converge_round(&c, 150, false), CONV_NONE);
	assert_int_equal(c.step, 1);
	/* Throttled already: the next round over steps at once. */
	assert_int_equal(converge_round(&c, 900, false), CONV_THROTTLE);
	assert_int_equal(c.step, 2);
}

/* downtime-abort without auto-converge: abort after N rounds over. */
static void
aborts_without_auto_converge(void **state)
{
	struct converge		c;
	const uint32_t		ms[] = { 900, 900 };
	enum converge_action	a[3];

	converge_init(&c, 200, 2, false, true);
	feed(&c, ms, 2, 0, a);
	assert_int_equal(a[0], CONV_NONE);
	assert_int_equal(a[1], CONV_ABORT);
	assert_int_equal(c.step, 0);
}

/* Both: the steps first, abort once they are spent. */
static void
aborts_after_the_last_step(void **state)
{
	struct converge		c;
	const uint32_t		ms[] = { 900, 900, 900, 900, 900 };
	enum converge_action	a[6];

	converge_init(&c, 200, 2, true, true);
	feed(&c, ms, 5, 0, a);
	assert_int_equal(a[1], CONV_THROTTLE);
	assert_int_equal(a[2], CONV_THROTTLE);
	assert_int_equal(a[3], CONV_THROTTLE);
	assert_int_equal(a[4], CONV_ABORT);
}

/* libxenguest stops after five rounds whatever is left: the
 * stop-and-copy round is the last chance to refuse the downtime. */
static void
final_round_aborts_when_still_over(void **state)
{
	struct converge		c;
	const uint32_t		ms[] = { 900, 900, 900, 900 };
	enum converge_action	a[5];

	converge_init(&c, 200, 2, true, true);
	feed(&c, ms, 4, 900, a);
	assert_int_equal(a[3], CONV_THROTTLE);
	assert_int_equal(a[4], CONV_ABORT);

	/* ... but not when the throttle worked, */
	converge_init(&c, 200, 2, true, true);
	feed(&c, ms, 4, 150, a);
	assert_int_equal(a[4], CONV_NONE);

	/* nor without downtime-abort, */
	converge_init(&c, 200, 2, true, false);
	feed(&c, ms, 4, 900, a);
	assert_int_equal(a[4], CONV_NONE);

	/* nor on a first round over (the rule wants N in a row). */
	converge_init(&c, 200, 2, false, true);
	assert_int_equal(converge_round(&c, 100, false), CONV_NONE);
	assert_int_equal(converge_round(&c, 900, true), CONV_NONE);
}

static void
one_round_acts_at_once(void **state)
{
	struct converge	c;

	converge_init(&c, 200, 1, true, false);
	assert_int_equal(converge_round(&c, 201, false), CONV_THROTTLE);
	converge_init(&c, 200, 0, false, true);	/* 0 means 1 */
	assert_int_equal(converge_round(&c, 201, false), CONV_ABORT);
}

static void
caps(void **state)
{
	/* Uncapped: a share of all the vcpus. */
	assert_int_equal(converge_cap(0, 1, 1), 50);
	assert_int_equal(converge_cap(0, 1, 2), 25);
	assert_int_equal(converge_cap(0, 1, 3), 10);
	assert_int_equal(converge_cap(0, 4, 1), 200);
	assert_int_equal(converge_cap(0, 0, 1), 50);
	/* Capped already: a share of that cap, never 0 ("no cap"). */
	assert_int_equal(converge_cap(80, 4, 1), 40);
	assert_int_equal(converge_cap(80, 4, 3), 8);
	assert_int_equal(converge_cap(5, 1, 3), 1);
	/* Step 0 is the guest's own; past the last is the last. */
	assert_int_equal(converge_cap(80, 1, 0), 80);
	assert_int_equal(converge_cap(0, 1, 9), 10);
}

/* The figure the rule judges: pages at the wire rate, a compressed
 * stream's pages at the size compression has been giving them. */
static void
expected_downtime(void **state)
{
	struct worker	w;

	memset(&w, 0, sizeof(w));
	w.page_size = 4096;
	assert_int_equal(worker_downtime_ms(&w, 1000), 0);	/* no rate yet */
	w.rate = 4096 * 1000;			/* 1000 pages a second */
	assert_int_equal(worker_downtime_ms(&w, 1000), 1000);
	assert_int_equal(worker_downtime_ms(&w, 0), 0);
	assert_int_equal(worker_downtime_ms(&w, 1), 1);
	w.bytes_stream = 10 * 1048576;
	w.bytes_wire = 1048576;			/* zstd: a tenth */
	assert_int_equal(worker_downtime_ms(&w, 1000), 100);
	/* Credit's backlog: 4 MiB of stream not yet at the target's libxl,
	 * priced like the pages (a tenth on the wire). */
	w.bytes_queued = 4 * 1048576;
	assert_int_equal(worker_downtime_ms(&w, 1000), 202);
	assert_int_equal(worker_downtime_ms(&w, 0), 102);
	w.bytes_queued = 0;
	w.rate = 1;
	assert_int_equal(worker_downtime_ms(&w, UINT64_MAX / 8192),
	    UINT32_MAX);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(no_limit_never_acts),
		cmocka_unit_test(within_limit_never_acts),
		cmocka_unit_test(unknown_estimate_is_ignored),
		cmocka_unit_test(throttles_step_by_step),
		cmocka_unit_test(a_good_round_resets_the_count),
		cmocka_unit_test(aborts_without_auto_converge),
		cmocka_unit_test(aborts_after_the_last_step),
		cmocka_unit_test(final_round_aborts_when_still_over),
		cmocka_unit_test(one_round_acts_at_once),
		cmocka_unit_test(caps),
		cmocka_unit_test(expected_downtime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
