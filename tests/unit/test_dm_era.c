/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd/dm_era_text.c and the kernel-free part of dm_era.c: the journal
 * record (written, read back, refused when cut short or altered), what
 * era_invalidate prints turned into byte ranges (block to byte, merged,
 * clipped to the device's size; anything malformed refused with the list
 * left empty), dmsetup status's era, and dm_era_recover on records it
 * must not touch or cannot read.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dm_era.h"
#include "dm_era_int.h"

#define KB	1024u

static void
record_round_trip(void **state)
{
	static struct era_rec	r, back;
	char			buf[ERA_TABLE_MAX + 512], why[128];
	int			n;

	(void)state;
	snprintf(r.name, sizeof(r.name), "vga-wdisk");
	snprintf(r.table, sizeof(r.table), "0 65536 linear 7:0 2048\n"
	    "65536 65536 linear 7:1 4096\n");
	n = era_rec_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "relocd-dm-era 1\nname vga-wdisk\n"
	    "table 0 65536 linear 7:0 2048\n"
	    "table 65536 65536 linear 7:1 4096\nend\n");
	assert_int_equal(era_rec_parse(buf, &back, why, sizeof(why)), 0);
	assert_string_equal(back.name, r.name);
	assert_string_equal(back.table, r.table);
}

static void
record_refused_when_it_cannot_be_one(void **state)
{
	static struct era_rec	r;
	char			buf[ERA_TABLE_MAX + 512];

	(void)state;
	snprintf(r.table, sizeof(r.table), "0 8 linear 7:0 0\n");
	snprintf(r.name, sizeof(r.name), "vg/lv");
	assert_int_equal(era_rec_format(&r, buf, sizeof(buf)), -1);
	snprintf(r.name, sizeof(r.name), "-lv");
	assert_int_equal(era_rec_format(&r, buf, sizeof(buf)), -1);
	memset(r.name, 'a', sizeof(r.name) - 1);	/* no room for suffixes */
	r.name[sizeof(r.name) - 1] = '\0';
	assert_int_equal(era_rec_format(&r, buf, sizeof(buf)), -1);
	snprintf(r.name, sizeof(r.name), "vg-lv");
	snprintf(r.table, sizeof(r.table), "0 8 linear 7:0 0");	/* no \n */
	assert_int_equal(era_rec_format(&r, buf, sizeof(buf)), -1);
	snprintf(r.table, sizeof(r.table), "0 8 linear\t7:0 0\n");
	assert_int_equal(era_rec_format(&r, buf, sizeof(buf)), -1);
	r.table[0] = '\0';
	assert_int_equal(era_rec_format(&r, buf, sizeof(buf)), -1);
	snprintf(r.table, sizeof(r.table), "0 8 linear 7:0 0\n");
	assert_int_equal(era_rec_format(&r, buf, 20), -1);	/* too small */
}

static void
record_cut_short_or_altered_refused(void **state)
{
	static struct era_rec	r;
	char			why[128];
	size_t			i;
	const char *bad[] = {
		"",
		"relocd-dm-era 1\nname vg-lv\ntable 0 8 linear 7:0 0\n",
		"relocd-dm-era 1\nname vg-lv\ntable 0 8 linear 7:0 0\nend",
		"relocd-dm-era 2\nname vg-lv\ntable 0 8 linear 7:0 0\nend\n",
		"relocd-dm-era 1\nname vg/lv\ntable 0 8 linear 7:0 0\nend\n",
		"relocd-dm-era 1\nname \ntable 0 8 linear 7:0 0\nend\n",
		"relocd-dm-era 1\nname vg-lv\nend\n",
		"relocd-dm-era 1\nname vg-lv\ntable \nend\n",
		"relocd-dm-era 1\nname vg-lv\ntable 0 8 linear 7:0 0\nx\nend\n",
		"relocd-dm-era 1\nname vg-lv\ntable 0 8 linear 7:0 0\nend\nmore\n",
		"relocd-dm-era 1\nname vg-lv\ntable 0 8 linear\x01 7:0 0\nend\n",
	};

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(era_rec_parse(bad[i], &r, why, sizeof(why)),
		    -1);
		assert_true(why[0] != '\0');
	}
}

static void
table_target_types(void **state)
{
	(void)state;
	assert_true(era_table_has("0 131072 era 7:2 253:3 128\n", "era"));
	assert_true(era_table_has("0 8 linear 7:0 0\n8 8 era 1:1 2:2 8\n",
	    "era"));
	assert_false(era_table_has("0 131072 linear 7:0 2048\n", "era"));
	assert_false(era_table_has("0 8 eraX 7:0 0\n", "era"));
	assert_false(era_table_has("", "era"));
}

/* --- era_invalidate's output ---------------------------------------- */

static void
expect_ranges(const struct extents *e, const uint64_t *want, size_t n)
{
	size_t	i;

	assert_int_equal(e->n, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(e->x[i].off, want[2 * i]);
		assert_int_equal(e->x[i].len, want[2 * i + 1]);
	}
}

static void
blocks_to_bytes_merged(void **state)
{
	struct extents	e = { 0 };
	char		why[128];
	/* era_invalidate 0.9 writes `end = "E"' */
	const char	*xml = "<blocks>\n"
	    "  <block block=\"3\"/>\n"
	    "  <range begin=\"10\" end = \"13\"/>\n"
	    "  <block block=\"13\"/>\n"
	    "  <range begin=\"20\" end=\"22\"/>\n"
	    "</blocks>\n";
	const uint64_t	want[] = { 3 * 64 * KB, 64 * KB, 10 * 64 * KB,
	    4 * 64 * KB, 20 * 64 * KB, 2 * 64 * KB };

	(void)state;
	assert_int_equal(era_blocks_parse(xml, 64 * KB, 64ull << 20, &e, why,
	    sizeof(why)), 0);
	expect_ranges(&e, want, 3);
	assert_int_equal(e.bytes, 7 * 64 * KB);
	extents_free(&e);
}

static void
blocks_empty_lists(void **state)
{
	struct extents	e = { 0 };
	char		why[128];

	(void)state;
	assert_int_equal(era_blocks_parse("<blocks>\n</blocks>\n", 4096,
	    1 << 20, &e, why, sizeof(why)), 0);
	assert_int_equal(e.n, 0);
	assert_int_equal(era_blocks_parse("<blocks/>", 4096, 1 << 20, &e, why,
	    sizeof(why)), 0);
	assert_int_equal(e.n, 0);
}

static void
last_block_clipped_to_size(void **state)
{
	struct extents	e = { 0 };
	char		why[128];
	uint64_t	size = 10 * 64 * KB + 512;	/* 11 blocks, last short */
	const uint64_t	want[] = { 9 * 64 * KB, 64 * KB + 512 };

	(void)state;
	assert_int_equal(era_blocks_parse("<blocks><range begin=\"9\" "
	    "end=\"11\"/></blocks>", 64 * KB, size, &e, why, sizeof(why)), 0);
	expect_ranges(&e, want, 1);
	assert_int_equal(e.bytes, 64 * KB + 512);
	extents_free(&e);
	/* block 11 would be past the end */
	assert_int_equal(era_blocks_parse("<blocks><block block=\"11\"/>"
	    "</blocks>", 64 * KB, size, &e, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "past"));
	assert_int_equal(e.n, 0);
}

static void
malformed_output_refused_list_empty(void **state)
{
	struct extents	e = { 0 };
	char		why[128];
	size_t		i;
	const char *bad[] = {
		"",
		"no xml",
		"<blocks>",					/* cut short */
		"<blocks><block block=\"1\"/>",
		"<blocks><block block=\"x\"/></blocks>",
		"<blocks><block block=\"-1\"/></blocks>",
		"<blocks><block block=\"+1\"/></blocks>",
		"<blocks><block block=\"1\"></blocks>",		/* not empty */
		"<blocks><block block=1/></blocks>",		/* no quotes */
		"<blocks><blockblock=\"1\"/></blocks>",
		"<blocks><block begin=\"1\"/></blocks>",
		"<blocks><block block=\"4294967296\"/></blocks>",
		"<blocks><block block=\"99999999999999999999999\"/></blocks>",
		"<blocks><range begin=\"5\" end=\"5\"/></blocks>",	/* empty */
		"<blocks><range begin=\"6\" end=\"5\"/></blocks>",
		"<blocks><range begin=\"5\"/></blocks>",
		"<blocks><item block=\"1\"/></blocks>",
		"<blocks><blocks></blocks></blocks>",
		"<blocks><block block=\"5\"/><block block=\"2\"/></blocks>",
		"<blocks><range begin=\"1\" end=\"4\"/><block block=\"3\"/>"
		    "</blocks>",				/* overlap */
		"<blocks></blocks> trailing",
		"<blocks/><blocks/>",
	};

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (era_blocks_parse(bad[i], 4096, 1ull << 40, &e, why,
		    sizeof(why)) != -1)
			fail_msg("accepted `%s'", bad[i]);
		assert_true(why[0] != '\0');
		assert_int_equal(e.n, 0);
		assert_int_equal(e.bytes, 0);
	}
	/* a list to fill that is not empty is the caller's error */
	assert_int_equal(extents_add(&e, 0, 4096), 0);
	assert_int_equal(era_blocks_parse("<blocks/>", 4096, 1 << 20, &e, why,
	    sizeof(why)), -1);
	extents_free(&e);
}

static void
status_era(void **state)
{
	uint32_t	era = 0;
	char		why[128];

	(void)state;
	assert_int_equal(era_status_parse("0 131072 era 8 47/2304 3 -\n", &era,
	    why, sizeof(why)), 0);
	assert_int_equal(era, 3);
	assert_int_equal(era_status_parse("0 131072 era 8 47/2304 12 1\n",
	    &era, why, sizeof(why)), 0);
	assert_int_equal(era, 12);
	assert_int_equal(era_status_parse("0 131072 era Fail\n", &era, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "failed"));
	assert_int_equal(era_status_parse("0 131072 linear\n", &era, why,
	    sizeof(why)), -1);
	assert_int_equal(era_status_parse("0 131072 era 8 47/2304 x -\n", &era,
	    why, sizeof(why)), -1);
	assert_int_equal(era_status_parse("0 131072 era 8 47/2304 3 - 9\n",
	    &era, why, sizeof(why)), -1);
	assert_int_equal(era_status_parse("0 131072 era 8 47/2304 4294967296 -",
	    &era, why, sizeof(why)), -1);
}

/* --- dm_era_recover, where it must not run dmsetup -------------------- */

static void
put_file(const char *dir, const char *name, const char *text)
{
	char	path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/dm-era/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static int
exists(const char *dir, const char *name)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/dm-era/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void
recover_spares_live_and_orphans_go(void **state)
{
	char		dir[] = "/tmp/test_dm_era.XXXXXX", path[PATH_MAX];
	const char	*rec = "relocd-dm-era 1\nname vg-lv\n"
	    "table 0 8 linear 7:0 0\nend\n";
	struct mig_err	err;
	int		fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* no dm-era directory: nothing to do */
	assert_int_equal(dm_era_recover(dir, &err), 0);
	snprintf(path, sizeof(path), "%s/dm-era", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	/* a record its process still holds: not ours to touch */
	put_file(dir, "rec.vg-lv", rec);
	put_file(dir, "meta.vg-lv", "");
	snprintf(path, sizeof(path), "%s/dm-era/rec.vg-lv", dir);
	assert_true((fd = open(path, O_RDONLY)) != -1);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	/* orphans: a record never renamed into place, metadata whose record
	 * is gone */
	put_file(dir, "tmp.vg-other", "relocd-dm-era 1\n");
	put_file(dir, "meta.vg-gone", "");
	put_file(dir, "unrelated", "");
	/* flock is per open file: a second open in this process is another
	 * holder, as a recovering process would be */
	assert_int_equal(dm_era_recover(dir, &err), 0);
	assert_true(exists(dir, "rec.vg-lv"));
	assert_true(exists(dir, "meta.vg-lv"));
	assert_false(exists(dir, "tmp.vg-other"));
	assert_false(exists(dir, "meta.vg-gone"));
	assert_true(exists(dir, "unrelated"));
	close(fd);
	/* a record that cannot be read is an error naming it, left there */
	put_file(dir, "rec.vg-lv", "relocd-dm-era 1\nname vg-lv\n");
	assert_int_equal(dm_era_recover(dir, &err), -1);
	assert_non_null(strstr(err.msg, "rec.vg-lv"));
	assert_non_null(strstr(err.msg, "cut short"));
	assert_true(exists(dir, "rec.vg-lv"));
	/* clean up */
	snprintf(path, sizeof(path), "%s/dm-era/rec.vg-lv", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dm-era/meta.vg-lv", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dm-era/unrelated", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dm-era", dir);
	rmdir(path);
	rmdir(dir);
}

static void
attach_refuses_what_is_not_a_volume(void **state)
{
	struct dm_era	*e = (void *)1;
	struct mig_err	 err;

	(void)state;
	assert_int_equal(dm_era_attach("/dev/null", 0, "/tmp", &e, &err), -1);
	assert_null(e);
	assert_non_null(strstr(err.msg, "/dev/null is not a block device"));
	assert_int_equal(dm_era_attach("/dev/null", 1000, "/tmp", &e, &err),
	    -1);
	assert_non_null(strstr(err.msg, "multiple of 4 KiB"));
	assert_int_equal(dm_era_attach("/nonexistent", 0, "/tmp", &e, &err),
	    -1);
	assert_int_equal(dm_era_detach(NULL, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(record_round_trip),
		cmocka_unit_test(record_refused_when_it_cannot_be_one),
		cmocka_unit_test(record_cut_short_or_altered_refused),
		cmocka_unit_test(table_target_types),
		cmocka_unit_test(blocks_to_bytes_merged),
		cmocka_unit_test(blocks_empty_lists),
		cmocka_unit_test(last_block_clipped_to_size),
		cmocka_unit_test(malformed_output_refused_list_empty),
		cmocka_unit_test(status_era),
		cmocka_unit_test(recover_spares_live_and_orphans_go),
		cmocka_unit_test(attach_refuses_what_is_not_a_volume),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
