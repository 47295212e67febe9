/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd/track_file.c, an image file's write tracker: a take reports the
 * blocks whose contents differ from what was last shown to it as
 * sent, the short last block included, until they are sent; a block
 * written back to what it held before it was sent is still reported;
 * a piece shown to it off a block's start is forgotten, never trusted.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mig/error.h"
#include "mig/proto.h"
#include "storage_track.h"

#define BLK	TRACK_BLOCK_MIN		/* a small disk's */
#define SIZE	(5 * BLK + 1024)	/* a short last block */

struct fx {
	char		 path[64];
	int		 fd;
	uint8_t		*data;		/* what the file holds */
	struct track	*t;
	struct extents	 x;
};

static void
put(struct fx *f, uint64_t off, int byte, size_t len)
{
	memset(f->data + off, byte, len);
	assert_int_equal(pwrite(f->fd, f->data + off, len, (off_t)off),
	    (ssize_t)len);
}

/* What a pass sends: block-aligned pieces of what the file holds. */
static void
sent(struct fx *f, uint64_t off, uint64_t len)
{
	track_saw(f->t, off, f->data + off, (size_t)len);
}

static void
take(struct fx *f)
{
	struct mig_err	err;

	if (track_take(f->t, &f->x, &err) == -1)
		fail_msg("take: %s", err.msg);
}

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));
	struct mig_err	 err;

	assert_non_null(f);
	strcpy(f->path, "/tmp/test_track_file.XXXXXX");
	assert_true((f->fd = mkstemp(f->path)) != -1);
	assert_non_null(f->data = malloc(SIZE));
	put(f, 0, 'a', SIZE);
	if (track_start(MIG_DISK_FILE, f->path, SIZE, "/nonexistent", NULL,
	    &f->t, &err) == -1)
		fail_msg("start: %s", err.msg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	track_stop(&f->t);
	track_stop(&f->t);	/* idempotent */
	extents_free(&f->x);
	unlink(f->path);
	close(f->fd);
	free(f->data);
	free(f);
	return 0;
}

static void
unsent_blocks_are_reported(void **state)
{
	struct fx	*f = *state;

	sent(f, 0, 2 * BLK);		/* pass 0 cut short */
	take(f);
	assert_int_equal(f->x.n, 1);
	assert_int_equal(f->x.x[0].off, 2 * BLK);
	assert_int_equal(f->x.x[0].len, SIZE - 2 * BLK);
	assert_int_equal(f->x.bytes, SIZE - 2 * BLK);
}

static void
written_blocks_until_sent(void **state)
{
	struct fx	*f = *state;

	sent(f, 0, SIZE);
	take(f);
	assert_int_equal(f->x.n, 0);
	put(f, 2 * BLK + 100, 'b', 10);
	put(f, 5 * BLK + 1000, 'c', 24);	/* the short last block */
	take(f);
	assert_int_equal(f->x.n, 2);
	assert_int_equal(f->x.x[0].off, 2 * BLK);
	assert_int_equal(f->x.x[0].len, BLK);
	assert_int_equal(f->x.x[1].off, 5 * BLK);
	assert_int_equal(f->x.x[1].len, 1024);
	take(f);			/* not sent yet: still there */
	assert_int_equal(f->x.n, 2);
	sent(f, 2 * BLK, BLK);
	sent(f, 5 * BLK, 1024);
	take(f);
	assert_int_equal(f->x.n, 0);
}

static void
written_back_still_resent(void **state)
{
	struct fx	*f = *state;

	sent(f, 0, SIZE);
	put(f, BLK, 'z', BLK);		/* read by the pass as 'a'... */
	put(f, BLK, 'a', BLK);		/* ...and back: nothing to resend */
	take(f);
	assert_int_equal(f->x.n, 0);
	put(f, BLK, 'z', BLK);
	sent(f, BLK, BLK);		/* a pass sends 'z' */
	put(f, BLK, 'a', BLK);		/* then the guest writes 'a' back */
	take(f);
	assert_int_equal(f->x.n, 1);
	assert_int_equal(f->x.x[0].off, BLK);
}

static void
misaligned_piece_forgotten(void **state)
{
	struct fx	*f = *state;

	sent(f, 0, SIZE);
	sent(f, BLK + 512, BLK);	/* touches blocks 1 and 2 */
	take(f);
	assert_int_equal(f->x.n, 1);
	assert_int_equal(f->x.x[0].off, BLK);
	assert_int_equal(f->x.x[0].len, 2 * BLK);
}

static void
shrunk_file_fails(void **state)
{
	struct fx	*f = *state;
	struct mig_err	 err;

	sent(f, 0, SIZE);
	assert_int_equal(ftruncate(f->fd, 3 * BLK), 0);
	assert_int_equal(track_take(f->t, &f->x, &err), -1);
	assert_non_null(strstr(err.msg, "shrank"));
	assert_int_equal(f->x.n, 0);
}

/* 4 KiB blocks up to 4 GiB, then doubling to stay within a million,
 * never past a reader's piece. */
static void
block_sizes(void **state)
{
	(void)state;
	assert_int_equal(track_block(16 << 20), 4096);
	assert_int_equal(track_block(4ull << 30), 4096);
	assert_int_equal(track_block((4ull << 30) + 4096), 8192);
	assert_int_equal(track_block(64ull << 30), 65536);
	assert_int_equal(track_block(1ull << 50), TRACK_PIECE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(unsent_blocks_are_reported,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(written_blocks_until_sent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(written_back_still_resent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(misaligned_piece_forgotten,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(shrunk_file_fails, setup,
		    teardown),
		cmocka_unit_test(block_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
