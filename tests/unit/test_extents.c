/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd/extents.c: the ranges a write tracker reports, merged in
 * order, refused out of order, clipped to a disk's size.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "extents.h"

static void
adjacent_ranges_merge(void **state)
{
	struct extents	e = { 0 };

	(void)state;
	assert_int_equal(extents_add(&e, 0, 4096), 0);
	assert_int_equal(extents_add(&e, 4096, 4096), 0);
	assert_int_equal(extents_add(&e, 65536, 512), 0);
	assert_int_equal(extents_add(&e, 70000, 0), 0);	/* nothing */
	assert_int_equal(e.n, 2);
	assert_int_equal(e.x[0].off, 0);
	assert_int_equal(e.x[0].len, 8192);
	assert_int_equal(e.x[1].off, 65536);
	assert_int_equal(e.bytes, 8192 + 512);
	extents_free(&e);
	assert_null(e.x);
	assert_int_equal(e.bytes, 0);
}

static void
out_of_order_refused_list_unchanged(void **state)
{
	struct extents	e = { 0 };

	(void)state;
	assert_int_equal(extents_add(&e, 8192, 4096), 0);
	errno = 0;
	assert_int_equal(extents_add(&e, 4096, 4096), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(extents_add(&e, 10000, 10), -1);	/* overlaps */
	assert_int_equal(extents_add(&e, UINT64_MAX - 1, 4), -1);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.bytes, 4096);
	extents_free(&e);
}

static void
grows_past_first_allocation(void **state)
{
	struct extents	e = { 0 };
	uint64_t	i;

	(void)state;
	for (i = 0; i < 1000; i++)
		assert_int_equal(extents_add(&e, i * 8192, 4096), 0);
	assert_int_equal(e.n, 1000);
	assert_int_equal(e.x[999].off, 999 * 8192);
	assert_int_equal(e.bytes, 1000 * 4096);
	extents_free(&e);
}

static void
clip_to_disk_size(void **state)
{
	struct extents	e = { 0 };

	(void)state;
	assert_int_equal(extents_add(&e, 0, 65536), 0);
	assert_int_equal(extents_add(&e, 131072, 65536), 0);
	assert_int_equal(extents_add(&e, 262144, 65536), 0);
	extents_clip(&e, 150000);	/* a last block past the end */
	assert_int_equal(e.n, 2);
	assert_int_equal(e.x[1].len, 150000 - 131072);
	assert_int_equal(e.bytes, 65536 + 150000 - 131072);
	extents_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(adjacent_ranges_merge),
		cmocka_unit_test(out_of_order_refused_list_unchanged),
		cmocka_unit_test(grows_past_first_allocation),
		cmocka_unit_test(clip_to_disk_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
