/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "relocd.h"

static const uint8_t	uuid_a[16] = { 1 }, uuid_b[16] = { 2 },
			uuid_c[16] = { 3 }, nil[16];

static void
test_two_reservations_race_for_memory(void **state)
{
	struct ledger	*l = ledger_new(4);
	uint64_t	 a, b;

	/* 1 GiB free: the first 768 MiB fits, the second does not, although
	 * each alone would. */
	assert_int_equal(ledger_reserve(l, 1048576, 786432, "a", uuid_a, 60,
	    1000, &a), LEDGER_OK);
	assert_int_equal(ledger_reserve(l, 1048576, 786432, "b", uuid_b, 60,
	    1000, &b), LEDGER_NO_MEMORY);
	assert_true(ledger_held_kib(l, 1000) == 786432);
	/* Released, the memory is there for the next one. */
	ledger_release(l, a);
	assert_int_equal(ledger_reserve(l, 1048576, 786432, "b", uuid_b, 60,
	    1000, &b), LEDGER_OK);
	assert_true(a != b);
	ledger_free(l);
}

static void
test_expiry_and_hold(void **state)
{
	struct ledger	*l = ledger_new(4);
	uint64_t	 a, b;

	assert_int_equal(ledger_reserve(l, 1000, 400, "a", uuid_a, 10, 0, &a),
	    LEDGER_OK);
	assert_int_equal(ledger_reserve(l, 1000, 400, "b", uuid_b, 10, 0, &b),
	    LEDGER_OK);
	assert_int_equal(ledger_hold(l, b, "b", uuid_b, 0), 0);
	assert_int_equal(ledger_count(l, 9999), 2);
	/* At its ttl the unheld reservation lapses; the held one stays. */
	assert_int_equal(ledger_count(l, 10000), 1);
	assert_true(ledger_held_kib(l, 1000000) == 400);
	assert_int_equal(ledger_hold(l, a, "a", uuid_a, 1000000), -1);
	ledger_free(l);
}

static void
test_clashes_and_limit(void **state)
{
	struct ledger	*l = ledger_new(2);
	uint64_t	 id;

	assert_int_equal(ledger_reserve(l, 1 << 20, 1, "web", uuid_a, 60, 0,
	    &id), LEDGER_OK);
	assert_int_equal(ledger_reserve(l, 1 << 20, 1, "web", uuid_b, 60, 0,
	    &id), LEDGER_NAME_CLASH);
	assert_int_equal(ledger_reserve(l, 1 << 20, 1, "db", uuid_a, 60, 0,
	    &id), LEDGER_UUID_CLASH);
	/* A nil uuid clashes with nothing. */
	assert_int_equal(ledger_reserve(l, 1 << 20, 1, "x", nil, 60, 0, &id),
	    LEDGER_OK);
	assert_int_equal(ledger_reserve(l, 1 << 20, 1, "y", uuid_c, 60, 0,
	    &id), LEDGER_FULL);
	assert_string_equal(ledger_refusal_text(LEDGER_FULL),
	    "too many incoming migrations");
	ledger_free(l);
}

static void
test_free_memory_below_held(void **state)
{
	struct ledger	*l = ledger_new(4);
	uint64_t	 id;

	assert_int_equal(ledger_reserve(l, 1000, 900, "a", uuid_a, 60, 0, &id),
	    LEDGER_OK);
	/* The hypervisor's figure fell (the restore allocates): no
	 * underflow, just a refusal. */
	assert_int_equal(ledger_reserve(l, 500, 1, "b", uuid_b, 60, 0, &id),
	    LEDGER_NO_MEMORY);
	ledger_free(l);
}

/* Lapsed at its ttl, a reservation cannot be held even before a purge. */
static void
test_hold_after_ttl(void **state)
{
	struct ledger	*l = ledger_new(4);
	uint64_t	 a;

	assert_int_equal(ledger_reserve(l, 1000, 400, "a", uuid_a, 10, 0, &a),
	    LEDGER_OK);
	assert_int_equal(ledger_hold(l, a, "a", uuid_a, 10000), -1);
	ledger_free(l);
}

/*
 * A restart is a new ledger: the ids it hands out must not be the ones a
 * source may still hold from before (a counter from 1 would repeat them).
 */
static void
test_ids_do_not_repeat_after_restart(void **state)
{
	struct ledger	*l;
	uint64_t	 before[8], id;
	char		 name[8];
	int		 i, k, run;

	l = ledger_new(8);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		assert_int_equal(ledger_reserve(l, 1 << 20, 1, name, nil, 60,
		    0, &before[i]), LEDGER_OK);
		assert_true(before[i] != 0);
	}
	ledger_free(l);
	for (run = 0; run < 4; run++) {
		l = ledger_new(8);
		for (i = 0; i < 8; i++) {
			snprintf(name, sizeof(name), "d%d", i);
			assert_int_equal(ledger_reserve(l, 1 << 20, 1, name,
			    nil, 60, 0, &id), LEDGER_OK);
			assert_true(id != 0);
			for (k = 0; k < 8; k++)
				assert_true(id != before[k]);
		}
		ledger_free(l);
	}
}

/*
 * A hold names the reservation by id and by the domain it was made for:
 * the right id with another name or uuid, or a stale id with the right
 * name, is refused, and the reservation still lapses at its ttl.
 */
static void
test_hold_checks_the_domain(void **state)
{
	struct ledger	*l = ledger_new(4);
	uint64_t	 a, b;

	assert_int_equal(ledger_reserve(l, 1 << 20, 1, "web", uuid_a, 10, 0,
	    &a), LEDGER_OK);
	assert_int_equal(ledger_reserve(l, 1 << 20, 1, "db", uuid_b, 10, 0,
	    &b), LEDGER_OK);
	assert_int_equal(ledger_hold(l, a, "db", uuid_a, 0), -1);
	assert_int_equal(ledger_hold(l, a, "web", uuid_b, 0), -1);
	assert_int_equal(ledger_hold(l, a, "web", nil, 0), -1);
	assert_int_equal(ledger_hold(l, a + b + 1, "web", uuid_a, 0), -1);
	assert_int_equal(ledger_hold(l, b, "web", uuid_a, 0), -1);
	/* None of those held it: it lapses. */
	assert_int_equal(ledger_count(l, 10000), 0);

	assert_int_equal(ledger_reserve(l, 1 << 20, 1, "web", uuid_a, 10, 0,
	    &a), LEDGER_OK);
	assert_int_equal(ledger_hold(l, a, "web", uuid_a, 0), 0);
	assert_int_equal(ledger_count(l, 10000), 1);
	/* A restore reserves with a nil uuid, and holds with it. */
	assert_int_equal(ledger_reserve(l, 1 << 20, 1, "img", nil, 10, 0, &b),
	    LEDGER_OK);
	assert_int_equal(ledger_hold(l, b, "img", nil, 0), 0);
	assert_string_equal(ledger_refusal_text(LEDGER_NOT_HELD),
	    "no such reservation for that domain (lapsed, or made before "
	    "relocd restarted)");
	ledger_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_reservations_race_for_memory),
		cmocka_unit_test(test_expiry_and_hold),
		cmocka_unit_test(test_clashes_and_limit),
		cmocka_unit_test(test_free_memory_below_held),
		cmocka_unit_test(test_hold_after_ttl),
		cmocka_unit_test(test_ids_do_not_repeat_after_restart),
		cmocka_unit_test(test_hold_checks_the_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
